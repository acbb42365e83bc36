# PostgreSQL from Debian 12 for docker-compose.yml. The cluster lives in /var/lib/postgresql/data
# (the `pgdata` volume); on first start postgres-entrypoint.sh creates it with the role and
# database `authify` (password: $POSTGRES_PASSWORD). Runs as the `postgres` user.
FROM authify-base:bookworm
ARG PG_MAJOR=15
# No "main" cluster at install: the entrypoint makes its own in the volume.
RUN mkdir -p /etc/postgresql-common \
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-$PG_MAJOR \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
    && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
# SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
STOPSIGNAL SIGINT
CMD ["postgres-entrypoint"]
