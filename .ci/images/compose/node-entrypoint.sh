#!/bin/sh
# As the official node image's: arguments that are not a command are node's.
set -e
if [ "${1#-}" != "$1" ] || ! command -v -- "$1" >/dev/null 2>&1; then set -- node "$@"; fi
exec "$@"
