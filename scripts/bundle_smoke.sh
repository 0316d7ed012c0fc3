#!/usr/bin/env bash
# Builds the bundle dist/ledge (entry ledge.js and its chunks) and proves it runs from a copy in
# an empty directory with nothing beside it, a lazily loaded chunk (the CLI's program) included.
set -euo pipefail
cd "$(dirname "$0")/.."
deno task --quiet bundle >/dev/null
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
cp -R dist/ledge "$empty/ledge"
out=$(cd "$empty" && HOME="$empty" DENO_DIR="$empty/.deno" deno run --allow-all --no-config ledge/ledge.js version)
echo "$out" | grep -q '^ledge [0-9]' || { echo "bundle_smoke.sh: unexpected output: $out" >&2; exit 1; }
echo "bundle_smoke.sh: ok: $out ($(du -sh dist/ledge | cut -f1), $(ls dist/ledge | wc -l) files)"
