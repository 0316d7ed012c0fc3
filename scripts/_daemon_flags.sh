# What every way of running the daemon gives it, in one place for the scripts (compile.sh,
# install.sh, release.sh, and through release.sh the launcher):
#   source scripts/_daemon_flags.sh; flags=$(daemon_v8_flags "$repo_root")
# DAEMON_PERMISSIONS: it reads/writes its state dir, listens and connects (hub, engine sockets),
# reads its environment and host facts, and runs process modules; never FFI or dynamic imports.
DAEMON_PERMISSIONS="--allow-read --allow-write --allow-net --allow-env --allow-run --allow-sys"

# The daemon's V8 flags, read from core/v8_flags.ts (their one source) without Deno, so that
# install.sh can read them on a device that has only the release executable.
daemon_v8_flags() {
  local flags
  flags=$(sed -n 's/^export const DAEMON_V8_FLAGS = "\([^"]*\)";$/\1/p' "$1/core/v8_flags.ts")
  if [ -z "$flags" ]; then
    echo "Cannot read DAEMON_V8_FLAGS from $1/core/v8_flags.ts" >&2
    return 1
  fi
  printf '%s\n' "$flags"
}
