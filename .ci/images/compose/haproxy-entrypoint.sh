#!/bin/sh
# As the official haproxy image's: options are haproxy's, and haproxy runs in the foreground, master-worker.
set -e
if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi
if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi
exec "$@"
