#!/bin/sh
# Stand-in for the official redis image: accepts "redis-server [args]" and listens beyond loopback.
set -eu
[ "${1:-}" = "redis-server" ] && shift
exec redis-server --bind 0.0.0.0 --protected-mode no --save '' --appendonly no "$@"
