#!/usr/bin/env bash
# Installs and configures what ledge's tests and benchmarks need on a Debian 12 machine:
# Podman (runc, ulimits), Docker (no iptables, no bridge), mosquitto, openssl, busybox-static,
# python3-grpcio, qemu-user-static with the arm64 libraries, Chromium (the console's browser
# tests), and Deno from npm.
# Idempotent; needs root. See ../shared/environment.md for why each setting is there.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "setup_debian.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
packages=(
  podman runc docker.io mosquitto mosquitto-clients openssl busybox-static python3-grpcio
  qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross libstdc++6-arm64-cross curl
  iproute2 systemd strace docker-registry apache2-utils chromium fonts-dejavu-core
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# crun fails on these machines (cgroups in hybrid mode) and the default ulimits cannot be set.
mkdir -p /etc/containers
cat >/etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF

if ! command -v deno >/dev/null || ! deno --version | grep -q '^deno 2\.9\.6'; then
  npm install -g deno@2.9.6 >/dev/null 2>&1
fi
echo "setup_debian.sh: done ($(deno --version | head -n 1))"
