#!/usr/bin/env bash
# The small edges an adversarial check found: numbers in query parameters
# that overflow or carry signs and spaces, cursors that overflow, a query
# with thousands of parameters.
# usage: tests/http/edges.sh PATH/TO/keepword
set -u
KW=${1:?usage: edges.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start
ADMIN=$(login admin@localhost correct-horse)

for q in after=99999999999999999999 after=-99999999999999999999 after=+5 "after=%205" \
    after=5x after= limit=0 limit=1e3 "after=0x10"; do
    req GET "/api/v1/tickets?$q" "" "$ADMIN"
    is "?$q is refused" 400 '.detail | contains("expected a whole number")'
done
req GET "/api/v1/tickets?after=9223372036854775807" "" "$ADMIN"
is "the largest id is a number" 200 '.tickets == []'
for c in "99999999999999999999:1" "1:99999999999999999999" "1:+2" "1:-2" "x:1" ":1" "1:"; do
    req GET "/api/v1/tickets?sort=due&after=$c" "" "$ADMIN"
    is "a due cursor $c is refused" 400
done
req GET "/api/v1/tickets?sort=due&after=-:5" "" "$ADMIN"
is "a due cursor past the tickets without a due time" 200

# an encoded NUL does not cut a path or a value short
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
req POST /api/v1/tickets "{\"org_id\":$ORG,\"title\":\"one\",\"level\":\"L2\"}" "$ADMIN"
is "(a ticket)" 201
req GET /api/v1/tickets/1 "" "$ADMIN"
is "ticket 1 is there" 200
req GET /api/v1/tickets/1%00/events "" "$ADMIN"
is "/tickets/1%00/events is no ticket" 404
req GET /api/v1/tickets/1%00 "" "$ADMIN"
is "/tickets/1%00 neither" 404
req GET "/api/v1/tickets?state=registered%00x" "" "$ADMIN"
is "a value with an encoded NUL is not cut to its first part" 400
req GET "/api/v1/tickets/%31" "" "$ADMIN"
is "other percent-encoding still decodes" 200 '.id == 1'

# thousands of query parameters get an answer (libmicrohttpd alone would
# close the connection without one at about a thousand)
many() { seq 1 "$1" | sed 's/.*/p&=1/' | paste -sd '&'; }
req GET "/api/v1/tickets?$(many 256)" "" "$ADMIN"
is "256 query parameters are read (and the first unknown one named)" 400 '.parameter == "p1"'
for n in 257 1000 5000; do
    req GET "/api/v1/tickets?$(many $n)" "" "$ADMIN"
    is "$n query parameters are refused" 400 '.detail == "more than 256 query parameters"'
done
req POST "/api/v1/tickets?$(many 2000)" "{\"org_id\":$ORG,\"title\":\"two\",\"level\":\"L2\"}" "$ADMIN"
is "a create with 2000 query parameters is refused" 400
req GET /api/v1/tickets "" "$ADMIN"
is "and made nothing" 200 '.tickets | length == 1'
req GET /healthz
is "the server still answers" 200
serve_stop
finish
