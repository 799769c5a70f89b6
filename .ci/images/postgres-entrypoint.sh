#!/bin/sh
# Stand-in for the official postgres image: same env contract (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB),
# same "postgres -c k=v" command form, pg_isready on PATH.
set -eu
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
[ "${1:-}" = "postgres" ] && shift

mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp); printf '%s' "${POSTGRES_PASSWORD:-postgres}" > "$pwfile"; chown postgres "$pwfile"
  su postgres -s /bin/sh -c "initdb -D '$PGDATA' --username='$user' --pwfile='$pwfile' --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8" >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  if [ "$db" != "postgres" ]; then
    su postgres -s /bin/sh -c "postgres --single -D '$PGDATA' postgres" >/dev/null <<SQL
CREATE DATABASE "$db" OWNER "$user";
SQL
  fi
fi
exec su postgres -s /bin/sh -c 'exec postgres -D "$PGDATA" "$@"' -- sh "$@"
