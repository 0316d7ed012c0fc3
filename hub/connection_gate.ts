/**
 * The bound on the hub's open connections, counted from the moment a socket is accepted (before
 * TLS, before CONNECT), so sockets that never authenticate hold a slot like any other and cannot
 * pile up past `hub.max_connections`. Each admitted connection has until its deadline
 * (`hub.connect_timeout_seconds`) to be marked established (a CONNECT accepted, an HTTP request
 * read); one that is not is closed.
 */

/** What the gate needs of a socket: a way to close it and to learn that it closed. */
export interface GatedSocket {
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

/** An admitted connection. */
export interface GateTicket {
  /** The connection got past its handshake; its deadline no longer applies. */
  established(): void;
  /** The connection closed (also noticed through the socket's 'close'); idempotent. */
  release(): void;
}

/** Counters the gate keeps. */
export interface GateCounters {
  /** Connections refused because the bound was reached. */
  refused: number;
  /** Connections closed for not establishing in time. */
  timedOut: number;
}

/** Admits connections up to a bound. */
export class ConnectionGate {
  readonly counters: GateCounters = { refused: 0, timedOut: 0 };
  #open = 0;
  readonly #maxConnections: number;
  readonly #deadlineMs: number;
  readonly #onRefused: (reason: string) => void;

  constructor(
    options: {
      maxConnections: number;
      deadlineMs: number;
      /** Told why a connection was refused or closed (for a log line). */
      onRefused?: (reason: string) => void;
    },
  ) {
    this.#maxConnections = options.maxConnections;
    this.#deadlineMs = options.deadlineMs;
    this.#onRefused = options.onRefused ?? (() => {});
  }

  /** Connections open now. */
  get open(): number {
    return this.#open;
  }

  /** Admits `socket`, or destroys it and returns undefined when the bound is reached. */
  admit(socket: GatedSocket): GateTicket | undefined {
    if (this.#open >= this.#maxConnections) {
      this.counters.refused++;
      this.#onRefused(`hub.max_connections (${this.#maxConnections}) connections are open`);
      socket.destroy();
      return undefined;
    }
    this.#open++;
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
      timer = undefined;
      this.counters.timedOut++;
      this.#onRefused(`no CONNECT within hub.connect_timeout_seconds`);
      socket.destroy();
    }, this.#deadlineMs);
    const stopTimer = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    let released = false;
    const release = () => {
      stopTimer();
      if (released) return;
      released = true;
      this.#open--;
    };
    socket.once("close", release);
    return { established: stopTimer, release };
  }
}
