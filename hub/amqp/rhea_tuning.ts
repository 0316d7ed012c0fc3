/**
 * Cheaper bodies for three of rhea's internals, applied once to the rhea the head loads (rhea
 * 3.0.5, pinned in deno.json; re-measure on an upgrade). rhea still encodes and decodes every
 * frame and message itself, byte for byte as before. Measured on the head's hot path (a
 * transfer decoded and a delivery encoded per routed message):
 *
 * - rhea's Writer zero-filled a fresh 1 KiB Buffer per message and per frame; it now takes an
 *   unfilled one from Buffer's pool;
 * - each string and binary it encoded was first copied into a temporary Buffer, then copied
 *   again; ASCII strings and binaries are now copied once;
 * - its `debug` loggers, off unless `DEBUG=rhea*`, still built an arguments array per call (a
 *   dozen calls per message, ~7% of the head's allocations): the ones that are off are no-ops;
 * - its decoder, its per-delivery session functions and the composites made per message and
 *   per frame: rhea_reader_tuning.ts, rhea_delivery_tuning.ts, rhea_composite_tuning.ts.
 */
import { Buffer } from "node:buffer";
import rhea from "rhea";
import rheaLog from "rhea/lib/log.js";
import rheaErrors from "rhea/lib/errors.js";
import rheaFrames from "rhea/lib/frames.js";
import rheaLinks from "rhea/lib/link.js";
import rheaSession from "rhea/lib/session.js";
import { type RheaComposites, tuneComposites } from "./rhea_composite_tuning.ts";
import { type RheaMessages, type RheaSession, tuneDeliveries } from "./rhea_delivery_tuning.ts";
import {
  type RheaReader,
  type RheaType,
  type RheaUnwrapping,
  tuneReader,
  tuneUnwrap,
} from "./rhea_reader_tuning.ts";

/** The parts of rhea's `types` module (not in its typings) this file replaces. */
interface RheaTypes {
  Writer: WriterConstructor;
  Reader: { prototype: RheaReader };
  by_code: Record<number, RheaType | undefined>;
}

interface WriterConstructor {
  new (buffer?: Buffer): RheaWriter;
  prototype: RheaWriter;
}

interface RheaWriter {
  buffer: Buffer;
  position: number;
  ensure(length: number): void;
  write_uint(value: number, width: number): void;
  write_variable_width(type: { width: number; encoding?: string }, value: unknown): void;
}

const tuned = new WeakSet<object>();
// Strings up to this length are checked and copied byte by byte; longer ones use Buffer.write.
const SHORT_STRING = 64;

/**
 * A Writer whose first buffer is not zero-filled: every byte up to its position is written
 * (sizes are back-filled over the bytes skipped for them), and only those leave.
 */
function writerConstructor(original: WriterConstructor): WriterConstructor {
  function Writer(this: RheaWriter, buffer?: Buffer) {
    this.buffer = buffer ?? Buffer.allocUnsafe(1024);
    this.position = 0;
  }
  Writer.prototype = original.prototype;
  return Writer as unknown as WriterConstructor;
}

/** Copies an ASCII string into `target` at `offset`; false (nothing meaningful written) if not ASCII. */
function writeAscii(target: Buffer, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return false;
    target[offset + i] = code;
  }
  return true;
}

/**
 * rhea's `write_variable_width` (a length, then the bytes) without the temporary Buffer: ASCII
 * strings (the same bytes as UTF-8 and as rhea's "ascii" symbols) and binaries are copied
 * straight into the writer's buffer; anything else takes rhea's own path.
 */
function variableWidthWriter(original: RheaWriter["write_variable_width"]) {
  return function (
    this: RheaWriter,
    type: { width: number; encoding?: string },
    value: unknown,
  ): void {
    if (typeof value === "string" && type.encoding !== undefined && value.length <= SHORT_STRING) {
      const start = this.position;
      this.write_uint(value.length, type.width);
      this.ensure(this.position + value.length);
      if (writeAscii(this.buffer, this.position, value)) {
        this.position += value.length;
        return;
      }
      this.position = start;
    } else if (value instanceof Uint8Array && type.encoding === undefined) {
      this.write_uint(value.byteLength, type.width);
      this.ensure(this.position + value.byteLength);
      this.buffer.set(value, this.position);
      this.position += value.byteLength;
      return;
    }
    original.call(this, type, value);
  };
}

/** rhea's loggers (`debug` instances): those not enabled by `DEBUG` become no-ops. */
type Logger = ((...args: unknown[]) => void) & { enabled?: boolean };

function silenceDisabledLoggers(loggers: Record<string, Logger>): void {
  for (const [name, logger] of Object.entries(loggers)) {
    if (typeof logger === "function" && !logger.enabled) loggers[name] = () => {};
  }
}

/** Applies the tuning to the rhea this process loaded; once. */
export function tuneRhea(): void {
  const types = rhea.types as unknown as RheaTypes;
  if (tuned.has(types)) return;
  tuned.add(types);
  const original = types.Writer;
  original.prototype.write_variable_width = variableWidthWriter(
    original.prototype.write_variable_width,
  );
  types.Writer = writerConstructor(original);
  silenceDisabledLoggers(rheaLog as Record<string, Logger>);
  tuneReader(types.Reader, types.by_code);
  tuneUnwrap(rhea.types as unknown as RheaUnwrapping);
  tuneDeliveries(
    rhea.message as unknown as RheaMessages,
    rheaSession as { prototype: RheaSession },
    rheaLinks.Sender,
  );
  tuneComposites({
    message: rhea.message,
    frames: rheaFrames,
    types: rhea.types,
    errors: rheaErrors,
  } as unknown as RheaComposites);
}
