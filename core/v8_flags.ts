/**
 * The V8 flags the daemon is launched with: a 1 MB semi-space, and an old-generation limit that
 * also makes V8 grow the heap by ~1.6x instead of 4x between collections (RSS with 100 modules
 * ~195 -> ~150 MB, after load ~450 -> ~250 MB, same CPU per message; bench/broker.ts). 1 MB rather
 * than 2: idle RSS -0.7 MB after the idle collection, -1.8 before, with the same CPU per message
 * (256 B, 16 KiB, 5,000 msg/s) and p99 at 5,000 msg/s within run-to-run noise (alternated A/B).
 * `--expose-gc` lets daemon/idle_collector.ts run a full collection when the daemon goes quiet.
 * The scripts read this line (scripts/_daemon_flags.sh), so it stays one line of this form.
 */
export const DAEMON_V8_FLAGS = "--max-semi-space-size=1,--max-old-space-size=1024,--expose-gc";
