#!/usr/bin/env bash
# Run a command with TT_TEST_CATALOG_URL pointing at a local PostgreSQL server.
# Installs (apt-get) and starts PostgreSQL when run as root and it is missing.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "PostgreSQL missing: sudo apt-get install postgresql" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 30); do pg_isready -q && break; sleep 1; done
su postgres -c "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname='talktrack_test'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE talktrack_test LOGIN PASSWORD 'talktrack_test'\""
# CREATEDB: tests that run servers on the catalog (tests/test_scale.py) make a database of their own.
su postgres -c "psql -qc \"ALTER ROLE talktrack_test CREATEDB\"" >/dev/null
su postgres -c "psql -qtc \"SELECT 1 FROM pg_database WHERE datname='talktrack_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O talktrack_test talktrack_test"
export TT_TEST_CATALOG_URL="postgresql+psycopg://talktrack_test:talktrack_test@localhost/talktrack_test"
exec "$@"
