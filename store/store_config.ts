/** Where the daemon keeps the message store and how the config sets it up. */
import { join } from "node:path";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { StoreOptions } from "./store_types.ts";

/** Path of the message store inside the state dir (where hub/mod.ts opens it). */
export const MESSAGE_STORE_FILE = "hub/queues.db";

/** The message store's path: `<state dir>/hub/queues.db`. */
export function messageStorePath(stateDir: string): string {
  return join(stateDir, MESSAGE_STORE_FILE);
}

/**
 * Store options from config `[hub.store]`: the per-queue bound `max_size_bytes` and the
 * free-space floor `min_free_bytes`. (Its
 * `time_to_live_secs` is per message; pass it to `resolveTtlSeconds` as `configTtlSeconds`.)
 *
 * @example
 * ```ts
 * const store = openMessageStore(messageStorePath(ctx.stateDir), storeOptionsFromConfig(ctx.config, ctx.logger));
 * ```
 */
export function storeOptionsFromConfig(config: Config, logger?: Logger): StoreOptions {
  return {
    maxSizeBytes: config.hub.store.max_size_bytes,
    minFreeBytes: config.hub.store.min_free_bytes,
    ...(logger ? { logger: logger.child("store") } : {}),
  };
}
