#!/usr/bin/env bash
# Builds stand-ins for the official images from Debian packages, for machines that reach no image registry.
# Usage: build.sh NAME PACKAGES ENTRYPOINT_SCRIPT [EXTRA_PATH] [SETUP_SCRIPT]
# SETUP_SCRIPT, when given, is run with the root filesystem's path before it is imported (users, links, directories).
# Skips the build when NAME already exists.
set -euo pipefail
name=$1 packages=$2 entrypoint=$3 extra_path=${4:-} setup=${5:-}

if docker image inspect "$name" >/dev/null 2>&1; then
  echo "image $name: present"
  exit 0
fi

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb / && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d /tmp/standin-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "image $name: debootstrap bookworm ($packages) from $mirror"
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >/tmp/debootstrap-"${name//[\/:]/_}".log 2>&1 \
  || { tail -n 30 /tmp/debootstrap-"${name//[\/:]/_}".log; exit 1; }
install -m 0755 "$entrypoint" "$root/usr/local/bin/docker-entrypoint.sh"
# Official-image binary paths, for images whose containers name their binary as the entrypoint.
# (Debian's /bin is /usr/bin, so prometheus is already at /bin/prometheus.)
for pair in alertmanager:prometheus-alertmanager postgres_exporter:prometheus-postgres-exporter \
  redis_exporter:prometheus-redis-exporter blackbox_exporter:prometheus-blackbox-exporter \
  pushgateway:prometheus-pushgateway; do
  if [ -x "$root/usr/bin/${pair#*:}" ]; then ln -sf "${pair#*:}" "$root/usr/bin/${pair%%:*}"; fi
done
if [ -n "$setup" ]; then "$setup" "$root"; fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

path="${extra_path:+$extra_path:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
tar -C "$root" -c . | docker import \
  --change "ENV PATH=$path" \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  - "$name" >/dev/null
echo "image $name: built"
