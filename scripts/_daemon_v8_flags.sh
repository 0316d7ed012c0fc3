# The daemon's V8 flags, read from core/v8_flags.ts (their one source) without Deno, so that
# install.sh can read them on a device that has only the release executable.
#   source scripts/_daemon_v8_flags.sh; flags=$(daemon_v8_flags "$repo_root")
daemon_v8_flags() {
  local flags
  flags=$(sed -n 's/^export const DAEMON_V8_FLAGS = "\([^"]*\)";$/\1/p' "$1/core/v8_flags.ts")
  if [ -z "$flags" ]; then
    echo "Cannot read DAEMON_V8_FLAGS from $1/core/v8_flags.ts" >&2
    return 1
  fi
  printf '%s\n' "$flags"
}
