/**
 * Container engines for integration tests: which ones this machine has (as `Requirement`s for
 * `serviceTest`), local test images built from Debian's static busybox (nothing is pulled), and
 * cleanup by label.
 *
 * @example
 * ```ts
 * for (const engine of ENGINES) {
 *   serviceTest(`my feature works on ${engine.name}`, [engine.requirement], async () => {
 *     const image = await testImage(engine, { name: "probe", files: { "/hello.txt": "hi" } });
 *     await engineCli(engine, ["run", "--rm", image, "cat", "/hello.txt"]);
 *   });
 * }
 * ```
 */
import { createHash } from "node:crypto";
import { commandAvailable, type Requirement, socketAnswers } from "./_services.ts";

/** An engine the tests may use. */
export interface TestEngine {
  name: "podman" | "docker";
  /** Its Docker-compatible API socket. */
  socketPath: string;
  /** Available when both the API answers and the command line tool is installed. */
  requirement: Requirement;
}

/** A test image: busybox plus the given files. */
export interface ImageSpec {
  /** Image name under `localhost/ledge-test/`. */
  name: string;
  /** Files to add: container path → text, or `{copyFrom}` a host file; `mode` defaults to 0755. */
  files?: Record<string, string | { copyFrom: string; mode?: number }>;
  /** Also carry the host's `node` binary and the libraries `ldd` lists for it (at /usr/bin/node). */
  node?: boolean;
}

const BUSYBOX = "/bin/busybox";
const APPLETS = [
  "sh",
  "cat",
  "echo",
  "env",
  "printenv",
  "sleep",
  "ls",
  "kill",
  "ps",
  "wget",
  "nc",
  "test",
  "true",
  "false",
  "mkdir",
  "touch",
  "date",
  "grep",
  "head",
  "tail",
  "printf",
  "id",
];

function dockerSocket(): string {
  const host = Deno.env.get("DOCKER_HOST");
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/run/docker.sock";
}

async function engine(name: "podman" | "docker", socketPath: string): Promise<TestEngine> {
  const api = await socketAnswers(`${name} API`, socketPath);
  const cli = await commandAvailable(name);
  const missing = [api.missing, cli.missing].filter((m) => m !== undefined);
  return {
    name,
    socketPath,
    requirement: { what: name, missing: missing.length > 0 ? missing.join(", ") : undefined },
  };
}

/** Podman (at /run/podman/podman.sock) and Docker (DOCKER_HOST or /run/docker.sock), reachable or not. */
export const ENGINES: readonly TestEngine[] = [
  await engine("podman", "/run/podman/podman.sock"),
  await engine("docker", dockerSocket()),
];

/**
 * Runs the engine's command line tool against its socket; resolves with stdout.
 *
 * @throws with the tool's stderr when it fails.
 */
export async function engineCli(
  engine: TestEngine,
  args: string[],
  stdin?: Uint8Array,
): Promise<string> {
  const global = engine.name === "docker" ? ["-H", `unix://${engine.socketPath}`] : [];
  const child = new Deno.Command(engine.name, {
    args: [...global, ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(
      `Cannot run ${engine.name} ${args.join(" ")}: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

async function nodeFiles(): Promise<Record<string, { copyFrom: string }>> {
  const which = await new Deno.Command("sh", { args: ["-c", "command -v node"], stdout: "piped" })
    .output();
  const found = which.success ? new TextDecoder().decode(which.stdout).trim() : "/usr/bin/node";
  const node = await Deno.realPath(found);
  const { stdout } = await new Deno.Command("ldd", { args: [node] }).output();
  const files: Record<string, { copyFrom: string }> = { "/usr/bin/node": { copyFrom: node } };
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const linked = line.match(/=>\s+(\/\S+)/)?.[1] ?? line.match(/^\s*(\/\S+)\s+\(/)?.[1];
    if (linked) files[linked] = { copyFrom: await Deno.realPath(linked) };
  }
  return files;
}

async function fingerprint(files: ImageSpec["files"]): Promise<string> {
  const hash = createHash("sha256");
  for (const [path, source] of Object.entries(files ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(path);
    if (typeof source === "string") hash.update(`text:${source}`);
    else {
      const info = await Deno.stat(source.copyFrom);
      hash.update(
        `file:${source.copyFrom}:${info.size}:${info.mtime?.getTime()}:${source.mode ?? 0o755}`,
      );
    }
  }
  return hash.digest("hex").slice(0, 12);
}

async function buildRootfs(dir: string, files: NonNullable<ImageSpec["files"]>): Promise<void> {
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await Deno.mkdir(`${dir}/tmp`, { recursive: true, mode: 0o1777 });
  await Deno.copyFile(BUSYBOX, `${dir}/bin/busybox`);
  for (const applet of APPLETS) await Deno.symlink("busybox", `${dir}/bin/${applet}`);
  for (const [path, source] of Object.entries(files)) {
    const target = `${dir}${path}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    if (typeof source === "string") await Deno.writeTextFile(target, source, { mode: 0o755 });
    else await Deno.copyFile(source.copyFrom, target);
    await Deno.chmod(target, typeof source === "string" ? 0o755 : source.mode ?? 0o755);
  }
}

const built = new Map<string, Promise<string>>();

/**
 * The image for `spec` on `engine`, built once (its tag is a hash of its content, so an image
 * left by an earlier run is reused): `tar -C rootfs -c . | <engine> import - localhost/ledge-test/NAME:TAG`.
 *
 * @returns the image reference.
 */
export function testImage(engine: TestEngine, spec: ImageSpec): Promise<string> {
  const key = `${engine.name}:${JSON.stringify(spec)}`;
  let image = built.get(key);
  if (!image) {
    image = (async () => {
      const files = { ...(spec.node ? await nodeFiles() : {}), ...spec.files };
      const reference = `localhost/ledge-test/${spec.name}:${await fingerprint({
        ...files,
        [BUSYBOX]: { copyFrom: BUSYBOX },
      })}`;
      const exists = await engineCli(engine, ["image", "inspect", reference]).then(
        () => true,
        () => false,
      );
      if (exists) return reference;
      const dir = await Deno.makeTempDir({ prefix: "ledge-image-" });
      try {
        await buildRootfs(dir, files);
        const { stdout, success, stderr } = await new Deno.Command("tar", {
          args: ["-C", dir, "-c", "."],
          stdout: "piped",
          stderr: "piped",
        }).output();
        if (!success) throw new Error(`Cannot tar ${dir}: ${new TextDecoder().decode(stderr)}`);
        await engineCli(engine, ["import", "-", reference], stdout);
        return reference;
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    })();
    built.set(key, image);
    image.catch(() => built.delete(key));
  }
  return image;
}

/** Removes every container (running or not) that carries `label` (`key=value`). */
export async function removeContainersLabelled(engine: TestEngine, label: string): Promise<void> {
  const ids = (await engineCli(engine, ["ps", "-aq", "--filter", `label=${label}`])).split(/\s+/)
    .filter(Boolean);
  if (ids.length > 0) await engineCli(engine, ["rm", "-f", ...ids]);
}
