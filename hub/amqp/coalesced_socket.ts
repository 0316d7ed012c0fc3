/**
 * The socket rhea writes to: rhea writes every frame with its own `write`, and each write on a
 * TLS socket (or a WebSocket) is a record (a message) and a syscall of its own. Here the frames
 * of one turn are gathered and leave in one write once the turn's work is done.
 */
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { afterMicrotasks, WRITE_LEVELS } from "../../core/microtasks.ts";

type Listener = (...args: unknown[]) => void;

/** A Duplex as rhea uses it, with writes of one turn coalesced. */
export class CoalescedSocket {
  readonly #pending: Uint8Array[] = [];
  readonly #listeners: [string, Listener][] = [];
  #scheduled = false;

  constructor(private readonly stream: Duplex, private readonly id: string) {}

  on(event: string, listener: Listener): this {
    this.#listeners.push([event, listener]);
    this.stream.on(event, listener);
    return this;
  }

  /** Removes only what rhea added (the hub's own listeners on the stream stay). */
  removeAllListeners(event: string): this {
    for (const [name, listener] of this.#listeners) {
      if (name === event) this.stream.off(name, listener);
    }
    return this;
  }

  write(chunk: Uint8Array): boolean {
    this.#pending.push(chunk);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // After the microtasks already queued: rhea's processing of this turn writes them all.
      afterMicrotasks(WRITE_LEVELS, () => this.#flush());
    }
    return true;
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.stream.destroyed) {
      this.#pending.length = 0;
      return;
    }
    const chunks = this.#pending.splice(0);
    this.stream.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  end(): void {
    this.#flush();
    this.stream.end();
  }

  destroy(): void {
    this.#pending.length = 0;
    this.stream.destroy();
  }

  get_id_string(): string {
    return this.id;
  }
}
