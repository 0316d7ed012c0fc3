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

# The daemon's permissions and V8 flags (core/v8_flags.ts says what each one buys), baked in.
source scripts/_daemon_flags.sh
v8_flags=$(daemon_v8_flags .)

mkdir -p dist
status=0
for target in "${targets[@]}"; do
  var="DENORT_BIN_${target//-/_}"
  denort="${!var:-}"
  if [ -z "$denort" ] && [ "$target" = "$host" ]; then denort="${DENORT_BIN:-}"; fi
  out="dist/ledge-$target"
  log=$(mktemp)
  # shellcheck disable=SC2086 # DAEMON_PERMISSIONS is a list of words
  if DENORT_BIN="$denort" deno compile --quiet --no-check $DAEMON_PERMISSIONS "--v8-flags=$v8_flags" \
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
