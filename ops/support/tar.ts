/**
 * A POSIX ustar archive writer: enough for the support bundle's regular files and directories,
 * read by any `tar`. Names longer than 100 bytes use the ustar prefix field (up to 255).
 */

/** One file of an archive. */
export interface TarEntry {
  /** Path inside the archive, `/`-separated, no leading `/`. */
  path: string;
  /** File content; text is written as UTF-8. */
  data: Uint8Array | string;
  /** Unix mode bits (default 0o644). */
  mode?: number;
  /** Modification time (default: now). */
  mtime?: Date;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function splitName(path: string): { name: string; prefix: string } {
  if (encoder.encode(path).length <= 100) return { name: path, prefix: "" };
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) {
      return { name, prefix };
    }
  }
  throw new RangeError(`Cannot archive ${JSON.stringify(path)}: path too long for ustar`);
}

function header(entry: TarEntry, size: number): Uint8Array {
  if (entry.path === "" || entry.path.startsWith("/") || entry.path.split("/").includes("..")) {
    throw new RangeError(`Cannot archive ${JSON.stringify(entry.path)}: expected a relative path`);
  }
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => block.set(encoder.encode(text), offset);
  const { name, prefix } = splitName(entry.path);
  put(0, name);
  put(100, octal(entry.mode ?? 0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(Math.floor((entry.mtime ?? new Date()).getTime() / 1000), 12));
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  put(265, "root");
  put(297, "root");
  put(345, prefix);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/**
 * Builds an uncompressed tar archive of `entries`, in order.
 *
 * @example
 * ```ts
 * const tar = tarArchive([{ path: "bundle/version.json", data: "{}" }]);
 * ```
 * @throws {RangeError} for an absolute path, one with `..`, or one too long for ustar.
 */
export function tarArchive(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const data = typeof entry.data === "string" ? encoder.encode(entry.data) : entry.data;
    parts.push(header(entry, data.length), data);
    const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
