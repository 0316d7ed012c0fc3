#!/usr/bin/env bash
# Builds the release executables (deno task release) and runs each in a clean environment with
# no deno on the PATH: dist/ledge-x86_64-linux natively, dist/ledge-aarch64-linux under qemu-user
# through LEDGE_EXEC_PREFIX (no binfmt_misc on the CI machines). Prints sizes and start times.
set -euo pipefail
cd "$(dirname "$0")/.."
deno task --quiet release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/home"
for tool in sh id cut mkdir mktemp mkfifo sha256sum tail tee gzip tar mv rm sed head readlink setsid; do
  ln -s "$(command -v "$tool")" "$work/bin/$tool"
done

# Runs `$1 version` with nothing but HOME, PATH (no deno) and the given variables; prints ms.
timed_version() {
  local file=$1 expect=$2 began out
  shift 2
  began=$(date +%s%N)
  out=$(env -i HOME="$work/home" PATH="$work/bin" LEDGE_RUNTIME_DIR="$work/runtime" "$@" \
    "$file" version)
  echo "$out" | grep -q "$expect" || { echo "release_smoke.sh: $file printed: $out" >&2; return 1; }
  echo $((($(date +%s%N) - began) / 1000000))
}
first=$(timed_version dist/ledge-x86_64-linux x86_64-unknown-linux-gnu)
later=$(timed_version dist/ledge-x86_64-linux x86_64-unknown-linux-gnu)
echo "release_smoke.sh: x86_64 ok: $(du -h dist/ledge-x86_64-linux | cut -f1), version: first start ${first} ms, later ${later} ms"
qemu="LEDGE_EXEC_PREFIX=$(command -v qemu-aarch64-static) -L /usr/aarch64-linux-gnu"
arm=$(timed_version dist/ledge-aarch64-linux aarch64-unknown-linux-gnu "$qemu")
echo "release_smoke.sh: aarch64 ok under qemu-user: $(du -h dist/ledge-aarch64-linux | cut -f1), version: first start ${arm} ms (emulated)"
