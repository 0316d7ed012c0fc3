/**
 * Publishes the `$edgeAgent` reported properties: changes are coalesced (one build 50 ms after
 * the first change), published only when they differ from what was sent, written to the agent's
 * store for readers outside the daemon, and handed to every listener.
 */
import type { Logger } from "../core/log.ts";
import type { EdgeAgentReported } from "./reported.ts";
import type { AgentStore } from "./store.ts";

/** How long changes are gathered before one publication. */
const COALESCE_MS = 50;

/** Coalesces and publishes the reported properties. */
export class ReportedPublisher {
  readonly #build: () => EdgeAgentReported;
  readonly #logger: Logger;
  readonly #listeners = new Set<(reported: EdgeAgentReported) => void>();
  #store: AgentStore | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSent = "";
  #saving: Promise<void> = Promise.resolve();

  /** @param build makes the current reported properties. */
  constructor(build: () => EdgeAgentReported, logger: Logger) {
    this.#build = build;
    this.#logger = logger;
  }

  /** Where publications are also written (from start-up on). */
  set store(store: AgentStore | undefined) {
    this.#store = store;
  }

  /** Calls `listener` with each publication; returns the unsubscribe function. */
  subscribe(listener: (reported: EdgeAgentReported) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Something changed: publish soon. */
  schedule(): void {
    this.#timer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  /** Publishes now if anything changed since the last publication. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const current = this.#build();
    const text = JSON.stringify(current);
    if (text === this.#lastSent) return;
    this.#lastSent = text;
    const target = this.#store;
    if (target) {
      this.#saving = this.#saving.then(() => target.saveReported(current)).catch((error) =>
        this.#logger.warn("cannot save the reported properties", { error })
      );
    }
    for (const listener of this.#listeners) {
      try {
        listener(current);
      } catch (error) {
        this.#logger.error("a reported-properties listener failed", { error });
      }
    }
  }

  /** Publishes what is pending and waits for the writes to finish. */
  async close(): Promise<void> {
    this.flush();
    await this.#saving;
  }
}
