#!/bin/sh
# ledge @@VERSION@@ for @@TARGET@@: a self-extracting executable built by scripts/release.sh.
# After this script come the Deno runtime and the bundle (ledge/: entry ledge.js and its chunks),
# as a gzip-compressed tar whose sha256 is below. The first start unpacks them once into a
# directory named by that checksum (under the state dir for root, the user's cache otherwise;
# LEDGE_RUNTIME_DIR overrides), later starts use it.
# LEDGE_EXEC_PREFIX: words put before the runtime's path (a testing aid, e.g.
#   LEDGE_EXEC_PREFIX="qemu-aarch64-static -L /usr/aarch64-linux-gnu" for arm64 on x86 with no
#   binfmt_misc).
# `run` is supervised: exit code 75 of the daemon restarts this file (a new version after a
# self-update, same process id), and while "<this file>.update" exists a new version is on trial:
# if it exits, or is not confirmed in time, the previous file is put back and started.
LEDGE_VERSION="@@VERSION@@"
LEDGE_TARGET="@@TARGET@@"
LEDGE_PAYLOAD_SHA256="@@SHA256@@"
LEDGE_PAYLOAD_OFFSET=@@OFFSET@@
LEDGE_V8_FLAGS="@@V8FLAGS@@"
LEDGE_PERMISSIONS="@@PERMISSIONS@@"
EXIT_RESTART=75
TRIAL_ATTEMPTS=3

fail() {
  echo "ledge: $*" >&2
  exit 1
}

# The file itself, symlinks resolved: a self-update replaces it and keeps the previous one beside it.
self=$(readlink -f "$0" 2>/dev/null) || self=$0
case $self in
  /*) ;;
  *) self="$(pwd)/${self#./}" ;;
esac

if [ -n "${LEDGE_RUNTIME_DIR:-}" ]; then
  base=$LEDGE_RUNTIME_DIR
elif [ "$(id -u)" = 0 ]; then
  base=${LEDGE_HOME:-/var/lib/ledge}/runtime
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
  base=$XDG_CACHE_HOME/ledge/runtime
elif [ -n "${HOME:-}" ]; then
  base=$HOME/.cache/ledge/runtime
else
  fail "cannot choose where to unpack the runtime: set HOME or LEDGE_RUNTIME_DIR"
fi
runtime=$base/$LEDGE_VERSION-$(echo "$LEDGE_PAYLOAD_SHA256" | cut -c1-16)

# Unpacks the payload into a private temp dir while hashing it in the same pass, and renames the
# dir into place only if the checksum matched: a concurrent first start renames its own copy or
# finds this one, and never sees a half-written dir.
unpack() {
  umask 077
  mkdir -p "$base" || fail "cannot create $base"
  tmp=$(mktemp -d "$base/.unpack.XXXXXX") || fail "cannot create a temp dir in $base"
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkfifo "$tmp/payload"
  sha256sum <"$tmp/payload" >"$tmp/sum" 2>/dev/null &
  hashing=$!
  mkdir "$tmp/rt"
  tail -c "+$LEDGE_PAYLOAD_OFFSET" "$self" | tee "$tmp/payload" | gzip -dc 2>/dev/null |
    tar -x -f - -C "$tmp/rt" 2>/dev/null
  unpacked=$?
  wait "$hashing"
  sum=$(cut -d' ' -f1 <"$tmp/sum")
  if [ "$unpacked" != 0 ]; then
    # A failed tar also cuts the hashing short: read the payload once more to tell which it was.
    sum=$(tail -c "+$LEDGE_PAYLOAD_OFFSET" "$self" | sha256sum | cut -d' ' -f1)
    [ "$sum" != "$LEDGE_PAYLOAD_SHA256" ] || fail "cannot unpack $self into $base (disk full?)"
  fi
  if [ "$sum" != "$LEDGE_PAYLOAD_SHA256" ]; then
    fail "$self is damaged (checksum mismatch: expected $LEDGE_PAYLOAD_SHA256, got ${sum:-nothing}); copy it again"
  fi
  if mv -T "$tmp/rt" "$runtime" 2>/dev/null; then
    warm_up
  else
    [ -d "$runtime" ] || fail "cannot create $runtime"
  fi
  rm -rf "$tmp"
  trap - EXIT INT TERM
}

# Deno's analysis of the bundle's modules, written once into the runtime's Deno dir by a
# throwaway process (~0.2 s): a daemon that has to make it holds ~50 MB more for as long as it
# runs (measured idle 112-114 MB on a first start without it, 60-62 MB with it). Best effort.
warm_up() {
  # shellcheck disable=SC2086
  ${LEDGE_EXEC_PREFIX:-} "$runtime/deno" cache --quiet --no-config "$runtime/ledge/ledge.js" \
    >/dev/null 2>&1 || true
}

export LEDGE_EXECUTABLE="$self"
export LEDGE_RUNTIME="$runtime"
export DENO_DIR="$runtime/cache"
export DENO_NO_UPDATE_CHECK=1
export DENO_NO_PACKAGE_JSON=1

[ -d "$runtime" ] || unpack

# The verb, past the global --config option: only `run` is supervised.
verb=
skip=
for arg in "$@"; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case $arg in
    -c | --config) skip=1 ;;
    -*) ;;
    *) verb=$arg; break ;;
  esac
done

# No V8 code cache: measured idle 60.4-60.6 MB without, 61.7-62.5 with one (12 s after ready),
# for ~50 ms more to start.
deno_args="run --quiet --no-config --no-prompt --no-code-cache $LEDGE_PERMISSIONS --v8-flags=$LEDGE_V8_FLAGS"
# shellcheck disable=SC2086 # LEDGE_EXEC_PREFIX and deno_args are lists of words
[ "$verb" = run ] || exec ${LEDGE_EXEC_PREFIX:-} "$runtime/deno" $deno_args "$runtime/ledge/ledge.js" "$@"

# `run`: this shell stays as the daemon's parent (one small process) so that the daemon can be
# restarted in place, and a new version on trial can be rolled back even if it dies at once.
export LEDGE_LAUNCHER=1
marker="$self.update"

field() { sed -n "s/^$1=//p" "$marker" 2>/dev/null | head -n 1; }

# Puts the previous file back, records why, and starts it in this same process.
rollback() {
  reason=$1
  shift
  {
    echo "result=rolled-back"
    echo "version=$(field to_version)"
    echo "from_version=$(field from_version)"
    echo "reason=$reason"
    echo "at=$(date +%s)"
  } >"$self.update-result.tmp" && mv -f "$self.update-result.tmp" "$self.update-result"
  echo "ledge: update to $(field to_version) rolled back: $reason" >&2
  if [ -f "$self.previous" ]; then
    ln -f "$self" "$self.failed" 2>/dev/null || cp -f "$self" "$self.failed"
    mv -f "$self.previous" "$self" || fail "cannot put $self.previous back in place of $self"
  fi
  rm -f "$marker"
  exec "$self" "$@"
}

on_trial=
if [ -f "$marker" ] && [ "$(field to_sha256)" = "$LEDGE_PAYLOAD_SHA256" ]; then
  on_trial=1
  attempts=$(($(field attempts) + 0))
  [ "$attempts" -lt "$TRIAL_ATTEMPTS" ] || rollback "not confirmed after $attempts starts" "$@"
  sed "s/^attempts=.*/attempts=$((attempts + 1))/" "$marker" >"$marker.tmp" &&
    mv -f "$marker.tmp" "$marker"
fi

stopping=
forward() {
  stopping=1
  kill "-$1" "$child" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP
# Its own session, so that a terminal's Ctrl-C reaches the daemon once (forwarded), not twice.
session=
command -v setsid >/dev/null 2>&1 && session=setsid
# shellcheck disable=SC2086
$session ${LEDGE_EXEC_PREFIX:-} "$runtime/deno" $deno_args "$runtime/ledge/ledge.js" "$@" &
child=$!
watchdog=
if [ -n "$on_trial" ]; then
  window=$(($(field window_seconds) + 0))
  [ "$window" -gt 0 ] || window=300
  (
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    trap - INT HUP
    sleep "$window" &
    nap=$!
    wait "$nap"
    if [ -f "$marker" ]; then
      echo "expired=1" >>"$marker"
      kill -TERM "$child" 2>/dev/null
    fi
  ) &
  watchdog=$!
fi
while :; do
  wait "$child"
  code=$?
  kill -0 "$child" 2>/dev/null || break
done
[ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null
# Still this version's trial (not confirmed, and no newer update swapped in meanwhile)?
if [ -n "$on_trial" ] && [ -z "$stopping" ] && [ "$(field to_sha256)" = "$LEDGE_PAYLOAD_SHA256" ]; then
  reason=$(field reason)
  if [ -z "$reason" ] && [ -n "$(field expired)" ]; then
    reason="not ready and connected within ${window}s"
  fi
  rollback "${reason:-exited with code $code before it was ready}" "$@"
fi
[ "$code" = "$EXIT_RESTART" ] && [ -z "$stopping" ] && exec "$self" "$@"
exit "$code"
