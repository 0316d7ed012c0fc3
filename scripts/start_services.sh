#!/usr/bin/env bash
# Starts the container engines' API services that the integration tests talk to:
# Podman's Docker-compatible service at /run/podman/podman.sock and dockerd at /run/docker.sock.
# Waits until both answer /_ping. Logs go to ${LEDGE_SERVICE_LOGS:-/tmp/ledge-services}.
set -euo pipefail
logs=${LEDGE_SERVICE_LOGS:-/tmp/ledge-services}
mkdir -p "$logs" /run/podman

ping() { curl -fsS --max-time 2 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

if ! ping /run/podman/podman.sock; then
  nohup podman system service --time=0 unix:///run/podman/podman.sock >"$logs/podman.log" 2>&1 &
fi
if ! ping /run/docker.sock; then
  nohup dockerd --host unix:///run/docker.sock --iptables=false --bridge=none >"$logs/dockerd.log" 2>&1 &
fi
for sock in /run/podman/podman.sock /run/docker.sock; do
  for _ in $(seq 1 60); do
    ping "$sock" && break
    sleep 0.5
  done
  if ! ping "$sock"; then
    echo "start_services.sh: $sock does not answer; see $logs" >&2
    exit 1
  fi
done
echo "start_services.sh: podman and docker APIs are up"
