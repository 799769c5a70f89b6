#!/usr/bin/env bash
# The stand-in images the tests use when no registry is reachable; names match .ci/run's exports.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh" orders-standin/postgres:15 postgresql-15 "$here/postgres-entrypoint.sh" /usr/lib/postgresql/15/bin &
"$here/build.sh" orders-standin/redis:7 redis-server "$here/redis-entrypoint.sh" &
"$here/build.sh" orders-standin/monitoring:bookworm \
  prometheus,prometheus-alertmanager,prometheus-postgres-exporter,prometheus-redis-exporter,prometheus-blackbox-exporter,ca-certificates \
  "$here/monitoring-entrypoint.sh" &
wait -n && wait -n && wait -n
