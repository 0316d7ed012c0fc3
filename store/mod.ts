/**
 * The hub's durable message store: one queue per endpoint (`upstream`, `module/filter/input1`,
 * ...) in one SQLite file (`node:sqlite`, WAL mode).
 *
 * **Durability.** {@linkcode MessageStore.enqueue} resolves only once the message is committed
 * to every queue it was routed to and the WAL is fsynced (`synchronous: "FULL"`, the default), so
 * a message survives `kill -9` of the process and a power cut; the broker sends a QoS 1 PUBACK
 * only after that. SQLite runs with `synchronous=NORMAL` (it syncs before each checkpoint) and the
 * store itself calls fdatasync on the WAL after each commit, and the enqueues of that commit
 * resolve after it. The committed messages can be taken at once: the sync runs once the deliveries
 * the commit woke are written (a few microtask levels on). A delivery promises nothing about
 * durability, the PUBACK does; a message a power cut takes with its unsynced commit was never
 * acknowledged, so its sender sends it again. The syncs (the WAL's, and the body log's) run on the
 * event loop while the disk answers fast (a moving average of 10 ms, no single sync of 100 ms),
 * else on a thread of Deno's pool for 10 s (_sync_policy.ts; logged, and counted in
 * `commitCounters().syncs`). Through the pool a sync cost twice the CPU (the handoff and the loop's
 * wake-up), and the enqueues waited longer for it: on the loop, broker CPU per 256 B message went
 * 47-67 -> 36-42 us at saturation, 128-143 -> 113-129 at 5,000 msg/s (p99 11.6-16.4 -> 7.9-12.3
 * ms), and 97-153 -> 71-91 us per 16 KiB message (3 alternated pairs each, 2-core VM). A slow disk
 * holds the loop for a few syncs per 10 s at most.
 * Enqueues share commits (group commit): everything that arrives before the next turn of the event
 * loop, and during the previous commit's fsync, goes into one transaction and one fsync, up to
 * `maxBatchMessages` / `maxBatchBytes`, written with multi-row INSERTs (acks with multi-row
 * DELETEs), and all its enqueues return one promise. `commitWindowMs` can hold a commit open longer, but
 * measured it only lowers throughput at low concurrency.
 *
 * **Large bodies.** A body of 4 KiB or more goes to the body log beside the file
 * (`<path>-bodies/<first seq>.log`, 4 MiB segments written in seq order), its row keeping where;
 * the commit of its row waits for the fdatasync of the log (and of the directory, for a new
 * segment), so a durable row always has a durable body. Through SQLite a 16 KiB body cost about
 * twice the CPU (its pages written to the WAL, copied at the checkpoint, freed at the ack). A
 * segment goes once none of its messages is stored and that is durable; the last two are kept to
 * be written over, as SQLite reuses its WAL. A message that stays (a slow consumer) keeps its
 * whole segment, so past 32 MiB of segments large bodies go into the file again until segments
 * go. A message whose body is gone from the log (removed from outside) is dropped as if acked,
 * logged and counted in `dropped.lost`, so its queue goes on. `compatibleFormat` keeps the file
 * in the format the previous ledge reads (no body in the log) until
 * {@linkcode MessageStore.useCurrentFormat}: the daemon moves on once a self-update can no longer
 * roll back.
 *
 * **Delivery.** Each queue delivers by priority (lower number first), then arrival, at least
 * once: {@linkcode MessageStore.take} leases messages in memory (a second take skips them),
 * {@linkcode MessageStore.ack} deletes them (batched with the next commit, so an ack lost in a
 * crash means one redelivery, never a loss), {@linkcode MessageStore.release} returns them in
 * their original order. After a restart every unacked message is available again. A message
 * routed to several endpoints is stored once and referenced from each queue.
 *
 * **Expiry.** Each message-in-queue carries the TTL of its route, else the deployment's
 * `storeAndForwardConfiguration.timeToLiveSecs`, else config `hub.store.time_to_live_secs`
 * ({@linkcode resolveTtlSeconds}); negative means forever. An expired message is never returned
 * by `take`; a periodic purge deletes it, counts it in `dropped.expired`, logs the count, and gives
 * the freed pages back to the file system (incremental vacuum and a WAL checkpoint).
 *
 * **Bound, and what happens when it is reached.** Each endpoint queue holds at most
 * `maxSizeBytes` (body plus encoded properties, committed plus being committed). The policy is
 * to refuse new messages, never to drop queued ones: when a message does not fit one of its
 * target queues, `enqueue` rejects with {@linkcode StoreFullError} naming that endpoint and writes
 * the message to none of its targets, the refusal is counted in `dropped.full` and logged (once
 * per full episode), and the sender gets no PUBACK, so it sees the failure.
 *
 * **Full disk.** The store keeps `minFreeBytes` (default 16 MiB) free on its file system: a
 * message that would take it below (counting twice its size, for the WAL and the file, or its
 * body once when it goes to the body log) is
 * refused with {@linkcode StoreFullError} (`reason: "disk"`), counted in
 * `commitCounters().refusedDiskFull` and logged once per episode with what to do; acks, deletes,
 * checkpoints and the open always have that room. While it refuses, what a drain frees is given
 * back to the file system at once (incremental vacuum, a truncating checkpoint and the unused
 * segments of the body log, at most every 500 ms), so new messages are accepted again within a second of the drain. For a disk that
 * something else fills, `<path>-reserve` (`reserveBytes`, default 4 MiB) is deleted when a commit
 * or the open finds no room, and written again once there is. A file with its schema in place
 * opens without a single write, so the store opens on a full disk.
 *
 * **Failures.** A commit that fails (disk full, I/O error) rejects every enqueue of its batch with
 * an Error naming the file; SQLite rolls the transaction back, so the file stays consistent and
 * the next commit succeeds once there is room again. A WAL fsync that fails after its commit
 * rejects the commit's enqueues too (the senders get no PUBACK and send again), but their rows
 * are in the file and stay deliverable: at worst a message is delivered twice. A file that
 * cannot be opened, is not a database or fails its integrity check is reported with an Error
 * naming it, and is never deleted or rewritten.
 *
 * **Memory.** Per endpoint, totals and the keys of in-flight messages (not the messages: once
 * taken, a message is its taker's, and a release reads it from the file again), plus the messages
 * committed in this run that wait for delivery (at most 1,000 per endpoint and 2 MiB of bodies
 * over all endpoints), so that `take` of a consumer that keeps up reads nothing from the file; a
 * backlog beyond that, or from before a restart, is read from the file in delivery order.
 * Messages that `take` returns are shared with the store's memory: treat them as read-only.
 *
 * @example
 * ```ts
 * import { openMessageStore, resolveTtlSeconds } from "./store/mod.ts";
 *
 * const store = openMessageStore("/var/lib/ledge/messages.db", { maxSizeBytes: 1 << 30 });
 * const ttlSeconds = resolveTtlSeconds({ routeTtlSeconds: 0, configTtlSeconds: 7200 });
 * await store.enqueue(
 *   { body: new TextEncoder().encode("{}"), appProperties: {}, systemProperties: {} },
 *   [{ endpoint: "upstream", priority: 2000000000, ttlSeconds }],
 * );
 * const batch = store.take("upstream", 100);
 * store.ack("upstream", batch.map((queued) => queued.seq));
 * await store.close();
 * ```
 *
 * @module
 */
export { openMessageStore } from "./message_store.ts";
export type {
  CommitCounters,
  EnqueueTarget,
  MessageStore,
  QueuedMessage,
  QueueStats,
  StoreOptions,
} from "./store_types.ts";
export { StoreFullError } from "./store_full_error.ts";
export { MESSAGE_STORE_FILE, messageStorePath, storeOptionsFromConfig } from "./store_config.ts";
export type { IncomingMessage, StoredMessage } from "./stored_message.ts";
export { resolveTtlSeconds, type TtlSources } from "./ttl.ts";
