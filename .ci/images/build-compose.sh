#!/usr/bin/env bash
# Stand-ins for every image docker-compose.yml names, built from Debian packages and tagged with the official names
# (and the tags docker-compose.yml uses), so the compose file runs unchanged on a machine that reaches no registry.
# Each stand-in keeps what the compose file relies on: the entrypoint, the binary and data paths, the user, and the
# tools its healthcheck calls (wget, pg_isready, redis-cli). Grafana has no Debian package: its stand-in is a
# placeholder (compose/grafana-placeholder.sh) that answers the healthcheck only and says so in its log.
# Usage: build-compose.sh [COMPOSE_FILE]   (default: the repository's docker-compose.yml)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compose_file=${1:-$here/../../docker-compose.yml}

bash "$here/build-all.sh"

# The compose base: the Prometheus ecosystem, nginx, haproxy and wget from Debian.
"$here/build.sh" orders-standin/compose-base:bookworm \
  prometheus,prometheus-alertmanager,prometheus-postgres-exporter,prometheus-redis-exporter,prometheus-blackbox-exporter,ca-certificates,wget,nginx,haproxy \
  "$here/monitoring-entrypoint.sh" "" "$here/compose/setup-base.sh" &
# Node.js 24 is no Debian package: the node binary and npm this machine runs (both from the npm registry).
node_bin=$(readlink -f "$(command -v node)")
"$node_bin" --version | grep -q '^v24\.' || { echo "build-compose.sh: node 24 must be first on PATH" >&2; exit 1; }
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
NODE_BIN=$node_bin NPM_DIR=$npm_dir "$here/build.sh" orders-standin/node:24 ca-certificates \
  "$here/compose/node-entrypoint.sh" "" "$here/compose/setup-node.sh" &
# The Pushgateway apart from the base, so a base built before it was added to the stack is still used as it is.
"$here/build.sh" orders-standin/pushgateway:bookworm prometheus-pushgateway,ca-certificates,wget \
  "$here/monitoring-entrypoint.sh" &
wait -n && wait -n && wait -n

# The image metadata of each official image, keyed by repository (the tag is whatever docker-compose.yml says).
declare -A from recipe
from[postgres]=orders-standin/postgres:15
from[redis]=orders-standin/redis:7
from[node]=orders-standin/node:24
from[prom/pushgateway]=orders-standin/pushgateway:bookworm
recipe[prom/pushgateway]='USER nobody
EXPOSE 9091
ENTRYPOINT ["/bin/pushgateway"]'
recipe[node]='ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]'
for repo in prom/prometheus prom/alertmanager quay.io/prometheuscommunity/postgres-exporter oliver006/redis_exporter \
  prom/blackbox-exporter nginx haproxy grafana/grafana; do from[$repo]=orders-standin/compose-base:bookworm; done
placeholder=$(base64 -w0 "$here/compose/grafana-placeholder.sh")
recipe[grafana/grafana]="LABEL orders.placeholder=\"not a Grafana server: answers /api/health only\"
RUN echo $placeholder | base64 -d > /run.sh && chmod 0755 /run.sh && mkdir -p /var/lib/grafana
EXPOSE 3000
ENTRYPOINT [\"/run.sh\"]"
recipe[prom/prometheus]='USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
recipe[prom/alertmanager]='USER nobody
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]'
recipe[quay.io/prometheuscommunity/postgres-exporter]='USER nobody
EXPOSE 9187
ENTRYPOINT ["/bin/postgres_exporter"]'
recipe[oliver006/redis_exporter]='USER nobody
EXPOSE 9121
ENTRYPOINT ["/redis_exporter"]'
recipe[prom/blackbox-exporter]='USER nobody
EXPOSE 9115
ENTRYPOINT ["/bin/blackbox_exporter"]
CMD ["--config.file=/etc/blackbox_exporter/config.yml"]'
recipe[nginx]='EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]'
recipe[haproxy]='USER haproxy
STOPSIGNAL SIGUSR1
ENTRYPOINT ["/usr/local/bin/haproxy-entrypoint.sh"]
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'

# Every image the compose file names (all profiles) and every base image its builds start FROM, except the images
# it builds itself.
images=$(docker-compose -f "$compose_file" --profile seed config | python3 -c '
import os, re, sys, yaml
services = yaml.safe_load(sys.stdin)["services"].values()
names = {s["image"] for s in services if "image" in s}
for s in services:
    build = s.get("build")
    if build:
        with open(os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))) as dockerfile:
            names |= {m.group(1) for m in re.finditer(r"^FROM\s+(\S+)", dockerfile.read(), re.M)}
print("\n".join(sorted(names)))')
missing=()
for image in $images; do
  repo=${image%:*}
  case $repo in orders-service) continue ;; esac
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "image $image: present"; continue  # official or stand-in: kept
  fi
  [ -n "${from[$repo]:-}" ] || { missing+=("$image"); continue; }
  printf 'FROM %s\nLABEL orders.standin=true\n%s\n' "${from[$repo]}" "${recipe[$repo]:-}" \
    | docker build -q -t "$image" - >/tmp/build-compose-image.log 2>&1 || { cat /tmp/build-compose-image.log; exit 1; }
  echo "image $image: stand-in from ${from[$repo]}"
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-compose.sh: no stand-in recipe for: ${missing[*]}" >&2
  exit 1
fi
