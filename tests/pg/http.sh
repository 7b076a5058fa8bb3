#!/bin/sh
# http.sh SCRIPT KEEPWORD [ARG...] - run one HTTP test script (tests/http/SCRIPT.sh,
# given KEEPWORD and the ARGs)
# against PostgreSQL: under tests/pg/cluster.sh run (KW_PG_CONNINFO), with
# KW_TEST_DB set to the throw-away cluster's database, so that the script's
# init and serve use it (tests/http/lib.sh), and KW_TEST_SCHEMA to the
# PostgreSQL schema's version (its number of migrations).
set -eu
[ $# -ge 2 ] || { echo "usage: http.sh SCRIPT KEEPWORD [ARG...]" >&2; exit 2; }
[ -n "${KW_PG_CONNINFO:-}" ] || { echo "http.sh: run under tests/pg/cluster.sh run" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
KW_TEST_DB=$KW_PG_CONNINFO
KW_TEST_SCHEMA=$(find "$root/src/store/pg/migrations" -name '[0-9][0-9][0-9]-*.sql' | wc -l)
export KW_TEST_DB KW_TEST_SCHEMA
script=$1
shift
exec "$root/tests/http/$script.sh" "$@"
