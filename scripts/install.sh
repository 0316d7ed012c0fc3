#!/usr/bin/env bash
# Installs ledge on a device as a systemd service, or removes it.
#
#   scripts/install.sh [--binary FILE|DIR] [--root DIR] [--no-start]
#   scripts/install.sh --uninstall [--purge] [--root DIR]
#
# FILE is a release executable (dist/ledge-x86_64-linux, dist/ledge-aarch64-linux), DIR the
# bundle (dist/ledge, whose ledge.js then runs with the `deno` on the PATH). Default: the
# executable of this machine if it exists, else dist/ledge. The executable goes to
# /usr/local/lib/ledge/ledge, a directory the daemon may write (self-update swaps the file there
# and keeps the previous one), linked from /usr/local/bin/ledge; the bundle goes to
# /usr/local/lib/ledge/bundle (its Deno dir: /var/cache/ledge). --root
# installs into a directory (a root file system being built) instead of /, and never starts
# anything; an executable of another architecture then runs its `init` under LEDGE_EXEC_PREFIX
# (e.g. qemu-user). The config is written once by `ledge init` and kept on reinstall; --purge
# deletes /etc/ledge and the state in /var/lib/ledge too.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
root=/
binary=""
start=1
uninstall=0
purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?--binary needs a file}; shift 2 ;;
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --no-start) start=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
root=${root%/}
[ "$root" = "" ] || [ "$root" = "/" ] && on_host=1 || on_host=0
[ "$on_host" = 1 ] || start=0
if [ "$(id -u)" != 0 ]; then echo "install.sh: must run as root" >&2; exit 1; fi

bin_path=/usr/local/bin/ledge
lib_dir=/usr/local/lib/ledge
exec_path=$bin_path
unit_path=/etc/systemd/system/ledge.service
systemd_active=0
if [ "$on_host" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemd_active=1
fi

if [ "$uninstall" = 1 ]; then
  if [ "$systemd_active" = 1 ]; then
    systemctl disable --now ledge.service 2>/dev/null || true
  fi
  rm -f "$root$unit_path" "$root$bin_path"
  rm -rf "${root:?}$lib_dir" "${root:?}/var/cache/ledge"
  [ "$systemd_active" = 1 ] && systemctl daemon-reload
  if [ "$purge" = 1 ]; then
    rm -rf "${root:?}/etc/ledge" "${root:?}/var/lib/ledge"
    echo "install.sh: ledge removed, with its config and state"
  else
    echo "install.sh: ledge removed; kept /etc/ledge and /var/lib/ledge (--purge deletes them)"
  fi
  exit 0
fi

if [ -z "$binary" ]; then
  arch=$(uname -m)
  if [ -f "$here/dist/ledge-$arch-linux" ]; then binary="$here/dist/ledge-$arch-linux"; else binary="$here/dist/ledge"; fi
fi
binary=${binary%/}
case "$binary" in
  *.js) echo "install.sh: $binary: the bundle is a directory now (dist/ledge, 'deno task bundle')" >&2; exit 2 ;;
esac
if [ ! -f "$binary" ] && [ ! -f "$binary/ledge.js" ]; then
  echo "install.sh: no binary at $binary: build one with 'deno task release' or 'deno task bundle'" >&2
  exit 1
fi

# The daemon's permissions and V8 flags, as the release executable has them.
source "$here/scripts/_daemon_flags.sh"
permissions=$DAEMON_PERMISSIONS
v8_flags="--v8-flags=$(daemon_v8_flags "$here")"
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system"
unit_cache=""
if [ -d "$binary" ]; then
  # The bundle, copied whole beside the old one and swapped in, so no chunk of it is left.
  install -d -m 0755 "$root$lib_dir"
  rm -rf "$root$lib_dir/bundle.tmp"
  cp -R "$binary" "$root$lib_dir/bundle.tmp"
  chmod 0755 "$root$lib_dir/bundle.tmp"
  chmod 0644 "$root$lib_dir"/bundle.tmp/*
  rm -rf "$root$lib_dir/bundle" "$root$lib_dir/ledge.js"
  mv "$root$lib_dir/bundle.tmp" "$root$lib_dir/bundle"
  rm -f "$root$bin_path" "$root$lib_dir/ledge"
  cat >"$root$bin_path" <<WRAPPER
#!/bin/sh
# ledge, as the bundle run by Deno (installed by scripts/install.sh).
exec deno run --quiet --no-config --no-code-cache $permissions $v8_flags $lib_dir/bundle/ledge.js "\$@"
WRAPPER
  chmod 0755 "$root$bin_path"
  run_ledge=(deno run --quiet --no-config --allow-all "$binary/ledge.js")
  # The service's Deno dir, where it may write (ProtectHome hides root's ~/.cache): a start with no
  # analysis of the bundle's modules to read holds ~50 MB more for as long as it runs (idle 118 MB,
  # not 66). On this machine it is written below, before the first start.
  unit_cache=$'\nEnvironment=DENO_DIR=/var/cache/ledge/deno\nCacheDirectory=ledge\nCacheDirectoryMode=0700'
else
  install -d -m 0755 "$root$lib_dir"
  rm -rf "$root$lib_dir/bundle" "$root$lib_dir/ledge.js"
  install -m 0755 "$binary" "$root$lib_dir/ledge.tmp"
  mv -f "$root$lib_dir/ledge.tmp" "$root$lib_dir/ledge"
  ln -sfn ../lib/ledge/ledge "$root$bin_path"
  exec_path=$lib_dir/ledge
  run_ledge=("$root$lib_dir/ledge")
  if [ "$on_host" = 0 ]; then
    # The executable unpacks its runtime for `init` into a throwaway dir, not this machine's.
    unpack_dir=$(mktemp -d)
    trap 'rm -rf "$unpack_dir"' EXIT
    run_ledge=(env "LEDGE_RUNTIME_DIR=$unpack_dir" "${run_ledge[@]}")
  fi
fi

# The group whose members may read the config; the daemon itself runs as root (it drives the
# container engine and binds 443/8883) inside the sandbox of the unit below.
if ! grep -q '^ledge:' "$root/etc/group" 2>/dev/null; then
  if [ "$on_host" = 1 ]; then groupadd --system ledge; else groupadd --system --prefix "$root" ledge; fi
fi
install -d -m 0750 -g "$(grep '^ledge:' "$root/etc/group" | cut -d: -f3)" "$root/etc/ledge"
install -d -m 0700 "$root/var/lib/ledge"

config=/etc/ledge/config.toml
if [ ! -f "$root$config" ]; then
  env -u LEDGE_HOME -u LEDGE_CONFIG "${run_ledge[@]}" init --config "$root$config" \
    --state-dir /var/lib/ledge >/dev/null
  chgrp ledge "$root$config" 2>/dev/null || chgrp "$(grep '^ledge:' "$root/etc/group" | cut -d: -f3)" "$root$config"
  chmod 0640 "$root$config"
fi

read_write=/var/lib/ledge
[ "$exec_path" = "$bin_path" ] || read_write="/var/lib/ledge $lib_dir"
cat >"$root$unit_path" <<UNIT
[Unit]
Description=ledge edge runtime (modules, local IoT Hub-compatible broker, workload identity)
Documentation=https://github.com/ledge-edge/ledge
Wants=network-online.target
After=network-online.target podman.socket docker.service

[Service]
Type=exec
Environment=LEDGE_CONFIG=$config
ExecStart=$exec_path run --log-format json
Restart=on-failure
RestartSec=5s
# 75: restart now (a compiled binary after a self-update; the executable's launcher restarts
# itself in place).
RestartForceExitStatus=75
SuccessExitStatus=75
KillSignal=SIGTERM
# SIGTERM to the main process only (the launcher passes it on once); SIGKILL to all on timeout.
KillMode=mixed
TimeoutStopSec=20s
UMask=0077
LimitNOFILE=65536
StateDirectory=ledge
StateDirectoryMode=0700$unit_cache
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$read_write
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$root$unit_path"

if [ -n "$unit_cache" ] && [ "$on_host" = 1 ]; then
  install -d -m 0700 /var/cache/ledge
  DENO_DIR=/var/cache/ledge/deno deno cache --quiet --no-config "$lib_dir/bundle/ledge.js" || true
fi
if [ "$systemd_active" = 1 ]; then
  systemctl daemon-reload
  if [ "$start" = 1 ]; then systemctl enable --now ledge.service; else systemctl enable ledge.service; fi
fi
echo "install.sh: installed $bin_path, $unit_path, $config${root:+ under $root}"
