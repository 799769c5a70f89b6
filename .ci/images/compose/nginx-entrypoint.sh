#!/bin/sh
# As the official nginx image's /docker-entrypoint.sh (without its template hooks): runs the command.
set -e
exec "$@"
