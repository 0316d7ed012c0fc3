#!/usr/bin/env bash
# Compiles ledge into one binary per target with `deno compile`.
#   scripts/compile.sh [TARGET ...]     (default: the host's target)
# Each target needs the `denort` runtime of that target. Deno downloads it when it can; where it
# cannot (no access to Deno's download server), name a local one:
#   DENORT_BIN_<TARGET> (dashes as underscores, e.g. DENORT_BIN_aarch64_unknown_linux_gnu), or
#   DENORT_BIN for the host's own target.
# Output: dist/ledge-<TARGET>.
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(deno eval --quiet 'console.log(Deno.build.target)')
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("$host")

# The daemon reads/writes its state dir, listens and connects (hub, engine sockets), reads its
# environment and host facts, and runs process modules; it never needs FFI or dynamic imports.
permissions=(--allow-read --allow-write --allow-net --allow-env --allow-run --allow-sys)
# V8 heap settings of the daemon (the same in scripts/install.sh and bench/broker.ts): a 1 MB
# semi-space instead of up to 16 MB (see core/v8_flags.ts for 1 against 2), and an old-generation limit, which also makes V8 grow
# the heap by ~1.6x instead of 4x between collections. Measured (bench/broker.ts): RSS with 100
# modules ~195 -> ~150 MB, after load ~450 -> ~250 MB, at the same CPU time per message.
# --expose-gc: daemon/idle_collector.ts gives the heap back when the daemon goes quiet.
# Keep in step with core/v8_flags.ts.
v8_flags=(--v8-flags=--max-semi-space-size=1,--max-old-space-size=1024,--expose-gc)

mkdir -p dist
status=0
for target in "${targets[@]}"; do
  var="DENORT_BIN_${target//-/_}"
  denort="${!var:-}"
  if [ -z "$denort" ] && [ "$target" = "$host" ]; then denort="${DENORT_BIN:-}"; fi
  out="dist/ledge-$target"
  log=$(mktemp)
  if DENORT_BIN="$denort" deno compile --quiet --no-check "${permissions[@]}" "${v8_flags[@]}" \
    --target "$target" --output "$out" main.ts >"$log" 2>&1; then
    echo "compiled $out ($(du -h "$out" | cut -f1))"
  else
    if [ -z "$denort" ]; then
      echo "Cannot compile for $target: its denort runtime could not be downloaded; set $var (or DENORT_BIN for the host target) to a local denort binary" >&2
    else
      echo "Cannot compile for $target with denort $denort: $(tail -n 1 "$log")" >&2
    fi
    status=1
  fi
  rm -f "$log"
done
exit $status
