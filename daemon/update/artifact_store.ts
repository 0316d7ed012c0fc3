/**
 * The artifacts a parent serves to the devices below it: `<state>/artifacts/ledge/<version>/
 * <target>/{ledge, descriptor.json}`. Publishing checks that the file matches its descriptor
 * (sha256, size); whose signature it carries is for each device to judge.
 */
import { hashingStream } from "./artifact_file.ts";
import { ArtifactDescriptor } from "./signature.ts";

/** A stored artifact. */
export interface StoredArtifact {
  descriptor: ArtifactDescriptor;
  /** The file itself. */
  path: string;
}

/** A file that does not match its descriptor. */
export class ArtifactMismatchError extends Error {
  override name = "ArtifactMismatchError";
}

/** The parent's artifact store. */
export class ArtifactStore {
  readonly #root: string;

  constructor(stateDir: string) {
    this.#root = `${stateDir}/artifacts/ledge`;
  }

  #dir(version: string, target: string): string {
    return `${this.#root}/${version}/${target}`;
  }

  /**
   * Stores `file` under its descriptor's version and target (replacing what was there).
   *
   * @throws {ArtifactMismatchError} when its sha256 or size differ from the descriptor's.
   */
  async publish(file: ReadableStream<Uint8Array>, descriptor: ArtifactDescriptor): Promise<void> {
    const parsed = ArtifactDescriptor.parse(descriptor);
    await Deno.mkdir(this.#root, { recursive: true, mode: 0o700 });
    const temp = await Deno.makeTempDir({ dir: this.#root, prefix: ".publish-" });
    try {
      const out = await Deno.open(`${temp}/ledge`, { write: true, create: true, mode: 0o644 });
      const hashing = hashingStream();
      await file.pipeThrough(hashing.stream).pipeTo(out.writable);
      const { sha256, size } = hashing.digest();
      if (sha256 !== parsed.sha256 || size !== parsed.size) {
        throw new ArtifactMismatchError(
          `Cannot publish ${parsed.version} for ${parsed.target}: the file (sha256 ${sha256}, ${size} bytes) is not the one its signature describes (${parsed.sha256}, ${parsed.size} bytes)`,
        );
      }
      await Deno.writeTextFile(`${temp}/descriptor.json`, JSON.stringify(parsed, null, 2) + "\n");
      const dir = this.#dir(parsed.version, parsed.target);
      await Deno.mkdir(`${this.#root}/${parsed.version}`, { recursive: true, mode: 0o700 });
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.rename(temp, dir);
    } finally {
      await Deno.remove(temp, { recursive: true }).catch(() => {});
    }
  }

  /** The artifact of `version` for `target`, if published here. */
  async get(version: string, target: string): Promise<StoredArtifact | undefined> {
    if (!/^[A-Za-z0-9.+-]{1,64}$/.test(version) || !/^[a-z0-9_-]{1,64}$/.test(target)) {
      return undefined;
    }
    const dir = this.#dir(version, target);
    try {
      const text = await Deno.readTextFile(`${dir}/descriptor.json`);
      return { descriptor: ArtifactDescriptor.parse(JSON.parse(text)), path: `${dir}/ledge` };
    } catch {
      return undefined;
    }
  }

  /** Every stored artifact's descriptor, by version then target. */
  async list(): Promise<ArtifactDescriptor[]> {
    const found: ArtifactDescriptor[] = [];
    const names = async (dir: string) => {
      try {
        return (await Array.fromAsync(Deno.readDir(dir)))
          .filter((entry) => entry.isDirectory && !entry.name.startsWith("."))
          .map((entry) => entry.name).sort();
      } catch {
        return [];
      }
    };
    for (const version of await names(this.#root)) {
      for (const target of await names(`${this.#root}/${version}`)) {
        const stored = await this.get(version, target);
        if (stored) found.push(stored.descriptor);
      }
    }
    return found;
  }
}
