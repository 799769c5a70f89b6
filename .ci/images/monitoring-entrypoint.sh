#!/bin/sh
# Stand-in for the official Prometheus-ecosystem images: the binaries live where those images keep them
# (/bin/prometheus, /bin/alertmanager, /bin/postgres_exporter, /bin/redis_exporter, /bin/blackbox_exporter),
# and the container's entrypoint names which one to run.
exec "$@"
