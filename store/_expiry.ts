/**
 * What the store tracks per queue so that its purge needs no index on the expiry: a floor
 * below which nothing expires, and whether rows expire in delivery order. Private to store/.
 */
import type { EndpointState } from "./_endpoint_state.ts";

/** Records that a row (priority, expiry) was enqueued to `state`, after all rows before it. */
export function noteExpiry(
  state: EndpointState,
  priority: number,
  expiresAtMs: number | null,
): void {
  const order = state.expiryOrder;
  if (order === null) return;
  const at = expiresAtMs ?? Infinity;
  const latest = order.get(priority);
  if (latest === undefined || at > latest) order.set(priority, at);
  else if (at < latest) state.expiryOrder = null;
}
