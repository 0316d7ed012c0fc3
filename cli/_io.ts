/**
 * Where the command line writes. No dependencies: `main` (mod.ts) loads nothing else before it
 * knows which path it takes, so a process resolves its npm packages once.
 */

/** Where the command line writes; tests capture it. */
export interface CliIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const encoder = new TextEncoder();
/** stdout and stderr. */
export const DEFAULT_IO: CliIo = {
  writeOut: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
  writeErr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
};
