#!/usr/bin/env bash
# Runs dist/ledge.js with the arm64 Deno (npm package @deno/linux-arm64-glibc) under qemu-user,
# from an empty directory. Needs qemu-user-static and the arm64 libc (scripts/setup_debian.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(deno eval --quiet 'console.log(Deno.version.deno)')
cache=${LEDGE_ARM64_CACHE:-.cache/arm64-deno-$version}
if [ ! -x "$cache/package/deno" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm pack --silent "@deno/linux-arm64-glibc@$version" >/dev/null && tar xzf ./*.tgz)
  chmod +x "$cache/package/deno"
fi
[ -f dist/ledge.js ] || deno task --quiet bundle >/dev/null
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
cp dist/ledge.js "$empty/"
deno_arm64=$(realpath "$cache/package/deno")
out=$(cd "$empty" && HOME="$empty" DENO_DIR="$empty/.deno" \
  qemu-aarch64-static -L /usr/aarch64-linux-gnu "$deno_arm64" run --allow-all --no-config ledge.js version)
echo "$out" | grep -q 'aarch64-unknown-linux-gnu' || { echo "arm64_smoke.sh: unexpected output: $out" >&2; exit 1; }
echo "arm64_smoke.sh: ok: $out"
