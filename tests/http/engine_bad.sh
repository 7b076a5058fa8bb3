#!/usr/bin/env bash
# A ticket whose firing makes SQLite roll the whole transaction back (here a
# trigger that raises ROLLBACK for it): its unit fails as a whole, the
# engine fires that unit's tickets one at a time, the bad one is set aside
# for a minute and the others fire; once it is fixed it fires too.
# usage: tests/http/engine_bad.sh PATH/TO/keepword
set -u
KW=${1:?usage: engine_bad.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }
# fired T: the log says ticket T fired (5 s at most)
fired() {
    for _ in $(seq 1 50); do
        grep -q "event=fired ticket=$1 " "$TMP/log" && return 0
        sleep 0.1
    done
    return 1
}

at 2026-04-30T17:00:00+08:00
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"engine test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme","tier":"vip"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
OFFICE='{"tz":"Asia/Shanghai","week":{"mon":[["09:00","18:00"]],"tue":[["09:00","18:00"]],"wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]],"sat":[],"sun":[]}}'
req POST /api/v1/commitments '{"name":"Engine","version":"1","effective_from":"2026-01-01T00:00:00+08:00",
 "calendars":{"office":'"$OFFICE"'},"levels":["L2"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"],"warn_at":[50]}],
 "targets":[{"calendar":"office","response":"2h"}]}' "$ADMIN"
is "a commitment" 201
T=()
for i in 1 2 3; do
    req POST /api/v1/tickets "{\"title\":\"Printer $i\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
    is "ticket $i" 201
    T+=("$(jq -r .id "$TMP/body")")
done
BAD=${T[1]}
sql "CREATE TRIGGER bad_ticket BEFORE INSERT ON events WHEN NEW.ticket_id = $BAD
     BEGIN SELECT RAISE(ROLLBACK, 'bad ticket'); END" || exit 1

# all three warnings fall due at 18:00:01: one unit, which fails as a whole
at 2026-04-30T18:00:01+08:00
for _ in $(seq 1 50); do grep -q "event=fire.failed tickets=" "$TMP/log" && break; sleep 0.1; done
grep -q "event=fire.failed tickets=.*bad ticket" "$TMP/log"
check "the unit with the bad ticket fails as a whole" $? "($(grep engine "$TMP/log" | tail -5))"
! grep -q "event=fired" "$TMP/log"
check "and nothing of it is committed" $? "($(grep fired "$TMP/log"))"
# its tickets come back 5 s later, one per unit
at 2026-04-30T18:00:10+08:00
fired "${T[0]}" && fired "${T[2]}"
check "the good tickets fire one at a time" $? "($(grep engine "$TMP/log" | tail -8))"
grep -q "event=fire.failed ticket=$BAD set_aside_s=60 " "$TMP/log"
check "the bad one is set aside for a minute" $? "($(grep engine "$TMP/log" | tail -8))"
[ "$(sql "SELECT count(*) FROM events WHERE ticket_id = $BAD")" = 1 ]
check "nothing of the bad ticket's firing is stored" $? "($(sql "SELECT type FROM events WHERE ticket_id = $BAD"))"
sql "DROP TRIGGER bad_ticket" || exit 1
at 2026-04-30T18:01:20+08:00
fired "$BAD"
check "fixed, and let go after the minute, it fires" $? "($(grep engine "$TMP/log" | tail -8))"
[ "$(grep -c "event=fired ticket=" "$TMP/log")" = 3 ]
check "each ticket fired once" $? "($(grep "event=fired" "$TMP/log"))"

# A firing that fails without losing the transaction (the statement
# aborts): the unit's tickets are first fired under one savepoint, which is
# undone, then each in its own: the others fire in that same unit, the bad
# one fails alone and is tried again 5 s later (created after office hours,
# their warnings fall due with the first tickets' breaches, at 10:00:01).
U=()
for i in 4 5 6; do
    req POST /api/v1/tickets "{\"title\":\"Printer $i\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
    is "ticket $i" 201
    U+=("$(jq -r .id "$TMP/body")")
done
SOFT=${U[1]}
sql "CREATE TRIGGER soft_ticket BEFORE INSERT ON events WHEN NEW.ticket_id = $SOFT
     AND NEW.type = 'sla_warning' BEGIN SELECT RAISE(ABORT, 'soft ticket'); END" || exit 1
at 2026-05-01T10:00:05+08:00
fired "${U[0]}" && fired "${U[2]}"
check "the others of a unit with a failing ticket fire" $? "($(grep engine "$TMP/log" | tail -8))"
for _ in $(seq 1 50); do grep -q "event=fire.failed ticket=$SOFT error=.*soft ticket" "$TMP/log" && break; sleep 0.1; done
grep -q "event=fire.failed ticket=$SOFT error=.*soft ticket" "$TMP/log"
check "the failing one fails alone" $? "($(grep engine "$TMP/log" | tail -8))"
[ "$(sql "SELECT count(*) FROM events WHERE ticket_id = $SOFT AND type = 'sla_warning'")" = 0 ]
check "nothing of its firing is stored" $? "($(sql "SELECT type FROM events WHERE ticket_id = $SOFT"))"
sql "DROP TRIGGER soft_ticket" || exit 1
at 2026-05-01T10:00:20+08:00
fired "$SOFT"
check "fixed, it fires at the next try" $? "($(grep engine "$TMP/log" | tail -8))"
for t in "${U[@]}"; do
    [ "$(grep -c "event=fired ticket=$t " "$TMP/log")" = 1 ] &&
        [ "$(sql "SELECT count(*) FROM events WHERE ticket_id = $t AND type = 'sla_warning'")" = 1 ]
    check "ticket $t fired once, one warning stored" $? "($(grep "ticket=$t " "$TMP/log"))"
done
serve_stop
finish
