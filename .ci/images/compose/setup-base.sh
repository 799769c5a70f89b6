#!/bin/sh
# Run by build.sh on the compose base's root filesystem: the paths, users and links the official images have.
set -eu
root=$1
# prom/prometheus, prom/alertmanager: data directories owned by nobody (the images run as nobody).
mkdir -p "$root/prometheus" "$root/alertmanager" "$root/etc/alertmanager" "$root/etc/blackbox_exporter"
chown 65534:65534 "$root/prometheus" "$root/alertmanager"
# oliver006/redis_exporter keeps its binary at /redis_exporter.
ln -sf /usr/bin/prometheus-redis-exporter "$root/redis_exporter"
# nginx: only conf.d/*.conf is served (as in the official image), logs go to the container's output.
rm -f "$root/etc/nginx/sites-enabled/default"
ln -sf /dev/stdout "$root/var/log/nginx/access.log"
ln -sf /dev/stderr "$root/var/log/nginx/error.log"
# haproxy: the official image's configuration directory.
mkdir -p "$root/usr/local/etc/haproxy"
install -m 0755 "$(dirname "$0")/nginx-entrypoint.sh" "$root/docker-entrypoint.sh"
install -m 0755 "$(dirname "$0")/haproxy-entrypoint.sh" "$root/usr/local/bin/haproxy-entrypoint.sh"
