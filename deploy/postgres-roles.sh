#!/bin/sh
# Run once by the postgres image when its volume is first initialised
# (/docker-entrypoint-initdb.d): the two roles the app uses, neither a superuser.
#   workshop_owner  owns the database and its tables; runs migrations (compose `migrate`)
#   workshop_app    the web app and the worker; owns nothing, granted by `grant_app_role`
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$OWNER_DB_PASSWORD" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE workshop_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE workshop_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
    PASSWORD :'app_password';
ALTER DATABASE workshop OWNER TO workshop_owner;
ALTER SCHEMA public OWNER TO workshop_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
