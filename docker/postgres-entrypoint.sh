#!/bin/sh
# First start: create the cluster in $PGDATA with the role and database `authify`, reachable with
# a password (scram-sha-256) from the compose network only. Then run the server in the foreground.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
NETWORK=${POSTGRES_ALLOW_NETWORK:-samenet}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "postgres-entrypoint: creating the cluster in $PGDATA"
    initdb -D "$PGDATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    cat >>"$PGDATA/pg_hba.conf" <<HBA
host authify authify $NETWORK scram-sha-256
HBA
    # Unix socket only while the role is made, so the health check stays red until it is done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    printf '%s\n' "CREATE ROLE authify LOGIN PASSWORD :'pw';" "CREATE DATABASE authify OWNER authify;" \
        | psql -v ON_ERROR_STOP=1 -v pw="$POSTGRES_PASSWORD" -U postgres -d postgres -q
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
