/**
 * The V8 flags the daemon is launched with: a 2 MB young generation, and an old-generation limit
 * that also makes V8 grow the heap by ~1.6× instead of 4× between collections (RSS with 100
 * modules ~195 → ~150 MB, after load ~450 → ~250 MB, same CPU per message; bench/broker.ts).
 * `--expose-gc` lets daemon/idle_collector.ts run a full collection when the daemon goes quiet.
 * scripts/compile.sh and scripts/install.sh carry the same string for the binary and the bundle.
 */
export const DAEMON_V8_FLAGS = "--max-semi-space-size=2,--max-old-space-size=1024,--expose-gc";
