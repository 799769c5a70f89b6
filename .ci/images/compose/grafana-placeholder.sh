#!/bin/sh
# Grafana placeholder (CI only): no Grafana server can run on a machine that reaches no image registry and has no
# Debian package of it. This answers the compose healthcheck (/api/health) and 503 for everything else, so
# docker-compose.yml and the README's walkthrough run unchanged; the dashboards themselves are checked by
# monitoring/test/dashboards.test.ts.
mkdir -p /var/lib/grafana /tmp/grafana-placeholder
cat > /tmp/grafana-placeholder/nginx.conf <<'CONF'
worker_processes 1;
pid /tmp/grafana-placeholder/nginx.pid;
error_log stderr;
events {}
http {
  access_log off;
  client_body_temp_path /tmp/grafana-placeholder;
  server {
    listen 3000;
    location = /api/health { default_type application/json; return 200 '{"database":"ok","placeholder":true}'; }
    location / { default_type text/plain; return 503 'Grafana placeholder: no Grafana server can run on this machine\n'; }
  }
}
CONF
echo "grafana placeholder: not a Grafana server (CI stand-in); /api/health only"
exec nginx -c /tmp/grafana-placeholder/nginx.conf -g 'daemon off;'
