#!/usr/bin/env bash
# Builds dist/ledge.js and proves it runs from an empty directory with nothing beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
deno task --quiet bundle >/dev/null
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
cp dist/ledge.js "$empty/"
out=$(cd "$empty" && HOME="$empty" DENO_DIR="$empty/.deno" deno run --allow-all --no-config ledge.js version)
echo "$out" | grep -q '^ledge [0-9]' || { echo "bundle_smoke.sh: unexpected output: $out" >&2; exit 1; }
echo "bundle_smoke.sh: ok: $out ($(du -h dist/ledge.js | cut -f1))"
