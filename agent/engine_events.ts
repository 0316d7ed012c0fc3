/**
 * Watching a driver's events: every event wakes the loop (it re-reads the instances rather than
 * trusting the event). A dropped stream is re-subscribed with back-off, and each re-subscription
 * wakes the loop too, since events may have been missed meanwhile.
 */
import type { Logger } from "../core/log.ts";
import type { EngineDriver } from "./engine/driver.ts";
import { pause } from "./loop_wakeup.ts";

/** Options of {@linkcode watchEngineEvents}. */
export interface WatchOptions {
  /** Stops the watch. */
  signal: AbortSignal;
  /** Called for each event and after each re-subscription. */
  wake: () => void;
  logger: Logger;
  /** Longest wait between re-subscriptions (ms). */
  retryMaxMs: number;
}

/** Watches `driver` until `options.signal` aborts. */
export async function watchEngineEvents(
  driver: EngineDriver,
  options: WatchOptions,
): Promise<void> {
  const { signal, wake, logger } = options;
  let delay = 1000;
  let quiet = false;
  while (!signal.aborted) {
    try {
      for await (const _event of driver.events(signal)) {
        delay = 1000;
        quiet = false;
        wake();
      }
    } catch (error) {
      if (!quiet && !signal.aborted) {
        logger.debug("engine event stream dropped; re-subscribing", { error });
      }
      quiet = true;
    }
    if (signal.aborted) break;
    await pause(delay, signal);
    delay = Math.min(delay * 2, options.retryMaxMs);
    wake();
  }
}
