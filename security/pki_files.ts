/**
 * Files of the PKI under `<state>/pki/`: the directory is 0700, keys are 0600, every write is
 * atomic (temp file, fsync, rename) so a crash never leaves half a key. Reading errors name the
 * file: a corrupt file is reported, never replaced.
 */
import { importPrivateKeyPem, type KeyPair, pemBlocks } from "./keys.ts";
import { Certificate } from "./certificate.ts";

/** A PKI file that exists but cannot be used. Nothing is overwritten when this is thrown. */
export class PkiFileError extends Error {
  override name = "PkiFileError";
  /** The offending file. */
  readonly path: string;
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Cannot load ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** Creates `dir` 0700 (or tightens it), naming the directory when it cannot. */
export async function preparePrivateDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot create ${dir}: ${reason}`, { cause: error });
  }
}

/** Whether `path` exists (any error other than NotFound is thrown, naming the file). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new PkiFileError(path, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new PkiFileError(path, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}

/** Parses every CERTIFICATE block of `text`; `source` names it in errors. */
export function parseCertificates(text: string, source: string): Certificate[] {
  let blocks;
  try {
    blocks = pemBlocks(text).filter((block) => block.label === "CERTIFICATE");
  } catch (error) {
    throw new PkiFileError(source, (error as Error).message, { cause: error });
  }
  if (blocks.length === 0) throw new PkiFileError(source, "no CERTIFICATE block");
  return blocks.map((block, i) => {
    try {
      return new Certificate(block.der);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new PkiFileError(source, `certificate ${i + 1} is not valid DER (${reason})`, {
        cause: error,
      });
    }
  });
}

/** Reads the certificates of a PEM file. */
export async function readCertificates(path: string): Promise<Certificate[]> {
  return parseCertificates(await readText(path), path);
}

/** Reads a private key PEM file. */
export async function readPrivateKey(path: string): Promise<KeyPair> {
  const text = await readText(path);
  try {
    return importPrivateKeyPem(text);
  } catch (error) {
    throw new PkiFileError(path, (error as Error).message, { cause: error });
  }
}
