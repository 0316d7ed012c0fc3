#!/usr/bin/env bash
# Builds one executable per target, dist/ledge-x86_64-linux and dist/ledge-aarch64-linux, that
# runs on Linux with no Deno installed.
#
#   scripts/release.sh [TARGET ...] [--out DIR] [--bundle FILE] [--set-version V] [--fast]
#
# TARGET: x86_64, aarch64 (default both). Where a denort of the target is at hand
# (DENORT_BIN_<triple>, or DENORT_BIN for the host's target, as for scripts/compile.sh) the file
# is `deno compile`'s output. Otherwise it is a self-extracting executable: scripts/launcher.sh,
# then the target's Deno (npm package @deno/linux-x64-glibc or @deno/linux-arm64-glibc, pinned
# below with its integrity) and the bundle (scripts/bundle.ts: the directory ledge/, entry
# ledge/ledge.js and its chunks) as a gzip-compressed tar with its sha256.
#   --bundle DIR      package this bundle directory instead of building dist/ledge
#   --set-version V   stamp version V into the bundle (pre-releases, tests)
#   --fast            gzip -1 instead of -6 (tests: ~3x faster, ~8% bigger)
#   --out DIR         write into DIR instead of dist/
set -euo pipefail
cd "$(dirname "$0")/.."

# The runtime's version follows the Deno the project is built and tested with.
DENO_VERSION=2.9.6
declare -A NPM_PACKAGE=([x86_64]=@deno/linux-x64-glibc [aarch64]=@deno/linux-arm64-glibc)
declare -A NPM_INTEGRITY=(
  [x86_64]=sha512-3md4TKLCuzsLDmfOoC5KN7NAZaxSVkMgm64vg6foD00JBADCpYS2/5QqXfzgnP5ZQz3iLP9vBQJtEgc116OAoQ==
  [aarch64]=sha512-poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==
)
declare -A TRIPLE=([x86_64]=x86_64-unknown-linux-gnu [aarch64]=aarch64-unknown-linux-gnu)

targets=()
out=dist
bundle=""
set_version=""
level=6
while [ $# -gt 0 ]; do
  case "$1" in
    x86_64 | aarch64) targets+=("$1"); shift ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --bundle) bundle=${2:?--bundle needs a directory}; shift 2 ;;
    --set-version) set_version=${2:?--set-version needs a version}; shift 2 ;;
    --fast) level=1; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release.sh: unknown argument '$1' (targets: x86_64 aarch64; see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64 aarch64)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "$bundle" ]; then
  # Built into dist/ledge too, unless the version is stamped (then it is not the tree's bundle).
  built="$out/ledge"
  [ -z "$set_version" ] || built="$work/ledge"
  deno run --allow-read --allow-write --allow-run --allow-env scripts/bundle.ts "$built"
  [ "$built" = "$work/ledge" ] || cp -R "$built" "$work/ledge"
else
  [ -f "$bundle/ledge.js" ] || {
    echo "release.sh: --bundle $bundle: not a bundle directory (no ledge.js in it)" >&2
    exit 2
  }
  cp -R "$bundle" "$work/ledge"
fi
# core/version.ts's stamp, `ledge-version:` and the version, a string the minifier keeps: it must
# be in the bundle exactly once, or stamping could miss it or hit something else.
stamp='ledge-version:[A-Za-z0-9.+-]*'
stamps=$(cat "$work"/ledge/*.js | grep -o "$stamp" || true)
[ "$(echo "$stamps" | grep -c .)" = 1 ] || {
  echo "release.sh: the bundle must hold core/version.ts's stamp 'ledge-version:…' once;" \
    "found: $(echo "$stamps" | grep -c .)" >&2
  exit 1
}
version=${stamps#ledge-version:}
if [ -n "$set_version" ]; then
  case $set_version in
    *[!A-Za-z0-9.+-]*) echo "release.sh: --set-version '$set_version': use letters, digits, . + -" >&2; exit 2 ;;
  esac
  sed -i "s/$stamp/ledge-version:$set_version/" "$(grep -l "$stamp" "$work"/ledge/*.js)"
  version=$set_version
fi
source scripts/_daemon_flags.sh
v8_flags=$(daemon_v8_flags .)
host=$(deno eval --quiet 'console.log(Deno.build.target)')

# The target's Deno from npm, checked against the pinned integrity, cached in .cache/ (renamed
# into place whole, so concurrent builds share it safely).
fetch_runtime() {
  local arch=$1 cache=.cache/release/deno-$DENO_VERSION-$1 download integrity
  if [ ! -x "$cache/deno" ]; then
    mkdir -p .cache/release
    download=$(mktemp -d .cache/release/.download.XXXXXX)
    integrity=$(cd "$download" && npm pack --json --silent "${NPM_PACKAGE[$arch]}@$DENO_VERSION" |
      sed -n 's/.*"integrity": "\(.*\)".*/\1/p')
    if [ "$integrity" != "${NPM_INTEGRITY[$arch]}" ]; then
      echo "release.sh: ${NPM_PACKAGE[$arch]}@$DENO_VERSION has integrity '$integrity', expected ${NPM_INTEGRITY[$arch]}" >&2
      rm -rf "$download"
      exit 1
    fi
    (cd "$download" && tar xzf ./*.tgz package/deno && mv package/deno deno && rm -rf ./*.tgz package)
    chmod 0755 "$download/deno"
    mv -T "$download" "$cache" 2>/dev/null || rm -rf "$download"
  fi
  echo "$cache/deno"
}

self_extracting() {
  local arch=$1 output=$2 deno payload sum header size offset
  deno=$(fetch_runtime "$arch")
  payload="$work/payload-$arch.tar.gz"
  mkdir -p "$work/rt-$arch"
  cp "$deno" "$work/rt-$arch/deno"
  cp -R "$work/ledge" "$work/rt-$arch/ledge"
  chmod 0755 "$work/rt-$arch/deno" "$work/rt-$arch/ledge"
  chmod 0644 "$work/rt-$arch"/ledge/*
  tar -C "$work/rt-$arch" --owner=0 --group=0 --numeric-owner --sort=name -c deno ledge |
    gzip "-$level" -n >"$payload"
  sum=$(sha256sum "$payload" | cut -d' ' -f1)
  # The offset has a fixed width, so the header's length does not depend on it.
  header=$(sed -e "s|@@VERSION@@|$version|g" -e "s|@@TARGET@@|${TRIPLE[$arch]}|g" \
    -e "s|@@SHA256@@|$sum|g" -e "s|@@V8FLAGS@@|$v8_flags|g" \
    -e "s|@@PERMISSIONS@@|$DAEMON_PERMISSIONS|g" scripts/launcher.sh)
  size=$(printf '%s\nexit 1\n' "${header/@@OFFSET@@/0000000000}" | wc -c)
  offset=$(printf '%010d' $((size + 1)))
  { printf '%s\nexit 1\n' "${header/@@OFFSET@@/$offset}"; cat "$payload"; } >"$output.tmp"
  chmod 0755 "$output.tmp"
  mv -f "$output.tmp" "$output"
}

for arch in "${targets[@]}"; do
  triple=${TRIPLE[$arch]}
  output="$out/ledge-$arch-linux"
  var="DENORT_BIN_${triple//-/_}"
  denort="${!var:-}"
  if [ -z "$denort" ] && [ "$triple" = "$host" ]; then denort="${DENORT_BIN:-}"; fi
  begun=$(date +%s%N)
  if [ -n "$denort" ]; then
    # The entry's dynamic imports name its chunks, so deno compile embeds them; --include makes
    # sure of every file of the directory (measured: the same 33 files, 1.78 MB, either way). No
    # code cache, as the launcher runs it (scripts/launcher.sh says why).
    # shellcheck disable=SC2086 # DAEMON_PERMISSIONS is a list of words
    DENORT_BIN="$denort" deno compile --quiet --no-check --no-config --no-code-cache \
      $DAEMON_PERMISSIONS \
      "--v8-flags=$v8_flags" --target "$triple" --include "$work/ledge" --output "$output" \
      "$work/ledge/ledge.js"
    kind="deno compile"
  else
    self_extracting "$arch" "$output"
    kind="self-extracting, Deno $DENO_VERSION"
  fi
  ms=$((($(date +%s%N) - begun) / 1000000))
  echo "release.sh: $output ($kind, ledge $version, $(du -h "$output" | cut -f1), built in ${ms} ms)"
done
