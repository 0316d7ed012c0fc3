#!/usr/bin/env bash
# Builds the quickstart's module image for devices with a container engine, without pulling
# anything: a root file system with busybox, this machine's node binary and the libraries it
# links, and the two modules with their npm dependencies, imported as one image.
#
#   bash examples/quickstart/build_image.sh [podman|docker]
#
# Then: deno task start --containers   (deploys deployment.containers.json)
# IMAGE overrides the tag (default localhost/ledge-quickstart/modules:1.0).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${IMAGE:-localhost/ledge-quickstart/modules:1.0}
engine=${1:-}
if [ -z "$engine" ]; then
  if command -v podman >/dev/null; then engine=podman; elif command -v docker >/dev/null; then engine=docker; else
    echo "build_image.sh: neither podman nor docker is installed" >&2; exit 1; fi
fi
case "$engine" in podman|docker) ;; *) echo "build_image.sh: engine: expected podman or docker, got \"$engine\"" >&2; exit 2 ;; esac
command -v node >/dev/null || { echo "build_image.sh: node is not installed (the image carries this machine's node)" >&2; exit 1; }
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "build_image.sh: busybox is not installed (apt-get install busybox-static)" >&2; exit 1; }

if [ ! -f "$here/node_modules/azure-iot-device/package.json" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/app" "$root/etc"
chmod 1777 "$root/tmp"
cp "$(readlink -f "$busybox")" "$root/bin/busybox"
for applet in sh cat ls env sleep ps; do ln -s busybox "$root/bin/$applet"; done
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"

node=$(readlink -f "$(command -v node)")
install -D -m 0755 "$node" "$root/usr/bin/node"
# The dynamic loader and every library node links, at the paths ldd shows.
for lib in $(ldd "$node" | grep -o '/[^ )]*'); do
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
cp -r "$here/sensor.cjs" "$here/filter.cjs" "$here/hub_address.cjs" "$here/package.json" \
  "$here/node_modules" "$root/app/"

previous=$("$engine" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
tar -C "$root" -c . | "$engine" import \
  --change 'WORKDIR /app' \
  --change 'CMD ["/usr/bin/node", "--require", "/app/hub_address.cjs", "/app/sensor.cjs"]' \
  - "$image" >/dev/null
# The image this tag named before is left untagged: removed unless a container still uses it.
current=$("$engine" image inspect --format '{{.Id}}' "$image")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  "$engine" image rm "$previous" >/dev/null 2>&1 || true
fi
echo "built $image with $engine"
