/** The hub's store queues the upstream connector drains. */

/** The queue the forwarder drains: the route table's endpoint key of `$upstream`. */
export const UPSTREAM_ENDPOINT = "$upstream";
/** The queue of messages the parent can never take. */
export const UPSTREAM_DEAD_LETTER_ENDPOINT = "$deadletter/$upstream";
