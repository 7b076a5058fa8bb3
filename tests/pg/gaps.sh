#!/bin/sh
# gaps.sh - list the functions of src/store/store.h that the PostgreSQL
# backend (src/store/pg/) does not define yet: called on a PostgreSQL store,
# each answers KW_STORE "kw_store_x is not implemented on PostgreSQL yet"
# (scripts/store-dispatch.sh). Fails when the list cannot be made, or when
# src/store/pg/ defines a kw_store_ function that store.h does not declare
# (it would never be called).
set -eu
cd "$(dirname "$0")/../.."
missing=$(sh scripts/store-dispatch.sh --missing src/store/store.h src/store/pg/*.c)
declared=$(grep -o 'kw_store_[a-z0-9_]* *(' src/store/store.h | tr -d ' (' | sort -u)
[ -n "$declared" ] || { echo "gaps.sh: no functions found in store.h" >&2; exit 1; }
status=0
defined=$(grep -ho '^[a-z][^(]* kw_store_[a-z0-9_]*(' src/store/pg/*.c | grep -v '^static' |
    grep -o 'kw_store_[a-z0-9_]*' || true)
for f in $defined; do
    if ! printf '%s\n' "$declared" | grep -qx "$f"; then
        echo "gaps.sh: src/store/pg/ defines $f, which store.h does not declare" >&2
        status=1
    fi
done
total=$(printf '%s\n' "$declared" | wc -l)
n=$(printf '%s\n' "$missing" | grep -c . || true)
echo "PostgreSQL backend: $((total - n)) of $total store.h functions implemented; missing:"
printf '%s\n' "$missing" | sed 's/^/  /'
exit "$status"
