#!/usr/bin/env bash
# The signed Merkle log and service receipts (docs/receipts.md): the key
# made at init, checkpoints, inclusion and consistency proofs, receipts
# that verify offline and fail on one changed byte naming where, a
# customer's receipt without internal notes, `keepword verify` naming a
# damaged leaf, node or checkpoint, a rewritten log caught by a checkpoint
# kept from before, and a second server key refused.
# usage: tests/http/proof.sh PATH/TO/keepword
set -u
KW=${1:?usage: proof.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
CTYPE=

# the log's key: beside the SQLite file, or where --log-key says (PostgreSQL)
if [ -n "${KW_TEST_DB:-}" ]; then LOGKEY=$TMP/kw.log-key; else LOGKEY=$TMP/kw.db.log-key; fi
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >"$TMP/out" || exit 1
grep -q "log key $LOGKEY made: keepword/" "$TMP/out"
check "init makes the log key and prints its verifier key" $? "$(cat "$TMP/out")"
[ "$(stat -c %a "$LOGKEY")" = 600 ]
check "the private key file is readable by its owner only" $?
"$KW" log key "${DB_ARGS[@]}" >"$TMP/key"
check "keepword log key" $?
KEY=$(cat "$TMP/key")

serve_start --checkpoint-every 1
req GET /api/v1/log/key
is "the public key is public" 200 ".key == \"$KEY\" and .algorithm == \"ed25519\" and (.key | startswith(\"keepword/\"))"
ADMIN=$(login admin@localhost correct-horse)
req GET /api/v1/log/checkpoint "" "$ADMIN"
is "an empty log has no checkpoint" 404
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Other"}' "$ADMIN"
OTHER=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"cu@acme.example\",\"name\":\"Cu\",\"role\":\"customer\",\"org_id\":$ACME,\"password\":\"cu-password\"}" "$ADMIN"
req POST /api/v1/users "{\"email\":\"ot@other.example\",\"name\":\"Ot\",\"role\":\"customer\",\"org_id\":$OTHER,\"password\":\"ot-password\"}" "$ADMIN"
CU=$(login cu@acme.example cu-password)
OT=$(login ot@other.example ot-password)
req POST /api/v1/tickets "{\"org_id\":$ACME,\"title\":\"printer on fire\",\"level\":\"L2\"}" "$CU"
T=$(jq -r .id "$TMP/body")
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"looking into it"}' "$ADMIN"
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"toner vendor to blame","internal":true}' "$ADMIN"
is "an internal note" 201

req GET /api/v1/log/checkpoint "" "$ADMIN"
[ "$CODE" = 200 ] && [[ "$CTYPE" == text/plain* ]] && head -1 "$TMP/body" | grep -qx "${KEY%%+*}"
check "a signed checkpoint (C2SP signed note) of the log" $? "$CODE $CTYPE $(cat "$TMP/body")"
req GET /api/v1/log/checkpoint
is "checkpoints need a login" 401

# --- a staff receipt verifies offline, with the key as text or as a file ---
req GET "/api/v1/tickets/$T/receipt" "" "$ADMIN"
is "a receipt" 200 ".format == \"keepword-receipt/1\" and .ticket == $T and (.events | length) == 4 and .key == \"$KEY\" and .tree_size >= 4"
cp "$TMP/body" "$TMP/staff.json"
"$KW" receipt verify "$TMP/staff.json" --key "$KEY" >"$TMP/out" 2>"$TMP/err"
check "the receipt verifies offline" $? "$(cat "$TMP/err")"
grep -q "receipt verified: ticket $T, 4 events" "$TMP/out"
check "and says what it verified" $? "$(cat "$TMP/out")"
"$KW" receipt verify "$TMP/staff.json" --key "$TMP/key" >/dev/null 2>&1
check "the key may be given as a file" $?

# --- one changed byte anywhere fails, naming where ---
tamper() { # NAME JQ WANT-IN-MESSAGE
    jq "$2" "$TMP/staff.json" >"$TMP/bad.json"
    "$KW" receipt verify "$TMP/bad.json" --key "$KEY" >/dev/null 2>"$TMP/err"
    local rc=$?
    [ $rc -eq 1 ] && grep -q "$3" "$TMP/err"
    check "$1" $? "(exit $rc: $(cat "$TMP/err"))"
}
tamper "a changed event body is named" '.events[1].body |= sub("looking"; "Looking")' "event 2: its contents do not match its hash"
tamper "a changed event time is named" '.events[0].at |= (.[0:17] + (if .[17:19] == "00" then "01" else "00" end) + "Z")' "event 1: its contents do not match"
tamper "a changed proof is named" '.events[2].proof[0] |= ((if .[0:1] == "0" then "1" else "0" end) + .[1:])' "event 3: not in the signed log"
tamper "a wrong leaf index is named" '.events[3].leaf += 1' "event 4: not in the signed log"
tamper "a changed checkpoint fails its signature" '.checkpoint |= sub("\n(?<n>[0-9]+)\n"; "\n1\(.n)\n")' "the checkpoint's signature does not verify"
tamper "a dropped event breaks the chain" 'del(.events[1]) | .events[1].seq = 2' "event 2:"
tamper "a changed receipt hash is named" '.receipt_hash |= ((if .[0:1] == "0" then "1" else "0" end) + .[1:])' "receipt_hash does not match"
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/other.db" >/dev/null
OTHER_KEY=$("$KW" log key --db "$TMP/other.db")
"$KW" receipt verify "$TMP/staff.json" --key "$OTHER_KEY" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "no signature by key" "$TMP/err"
check "another server's key does not verify it" $? "$(cat "$TMP/err")"
"$KW" receipt verify "$TMP/staff.json" --key "not-a-key" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "keepword: --key:" "$TMP/err"
check "a malformed key is named" $? "$(cat "$TMP/err")"
"$KW" receipt verify "$TMP/nothing.json" --key "$KEY" >/dev/null 2>&1
[ $? -eq 1 ]
check "a missing receipt file fails" $?
"$KW" receipt verify "$TMP/staff.json" >/dev/null 2>&1
[ $? -eq 2 ]
check "no --key is a usage error" $?

# --- customers: their own tickets, without internal notes ---
req GET "/api/v1/tickets/$T/receipt" "" "$CU"
is "the customer's receipt leaves out the internal note" 200 '(.events | length) == 3 and ([.events[].body | test("toner")] | any | not)'
cp "$TMP/body" "$TMP/cust.json"
"$KW" receipt verify "$TMP/cust.json" --key "$KEY" >/dev/null 2>"$TMP/err"
check "and verifies all the same" $? "$(cat "$TMP/err")"
req GET "/api/v1/tickets/$T/receipt" "" "$OT"
is "another organisation's customer gets no receipt" 404
req GET "/api/v1/tickets/$T/receipt?format=html&lang=en" "" "$CU"
[ "$CODE" = 200 ] && [[ "$CTYPE" == text/html* ]] && grep -q "<svg" "$TMP/body" && grep -q "Service receipt" "$TMP/body" && ! grep -q toner "$TMP/body"
check "the printable receipt with its QR code" $? "$CODE $CTYPE"
req GET "/api/v1/tickets/$T/receipt?format=html&lang=zh" "" "$CU"
grep -q "电子服务凭证" "$TMP/body"
check "in Chinese" $?
req GET "/api/v1/tickets/$T/receipt?format=pdf" "" "$CU"
is "an unknown format is refused" 400 '.pointer == "/format"'
req GET "/api/v1/tickets/$T/receipt?lang=fr" "" "$CU"
is "an unknown language is refused" 400 '.pointer == "/lang"'

# --- proofs ---
req GET /api/v1/log/checkpoint "" "$ADMIN"
SIZE=$(sed -n 2p "$TMP/body")
req GET "/api/v1/log/proof/inclusion?leaf=0&size=$SIZE" "" "$CU"
is "an inclusion proof" 200 ".leaf == 0 and .size == $SIZE and (.path | length) >= 1 and (.leaf_hash | length) == 64"
req GET "/api/v1/log/proof/inclusion?size=$SIZE" "" "$CU"
is "an inclusion proof needs a leaf" 400 '.pointer == "/leaf"'
req GET "/api/v1/log/proof/inclusion?leaf=$SIZE&size=$SIZE" "" "$CU"
is "a leaf outside the tree is refused" 400 '.pointer == "/leaf"'
req GET "/api/v1/log/proof/inclusion?leaf=0&size=99999999" "" "$CU"
is "a tree larger than the log is refused" 422 '.pointer == "/size"'
req GET "/api/v1/log/proof/inclusion?leaf=x" "" "$CU"
is "a leaf that is not a number is refused" 400 '.pointer == "/leaf"'
req GET "/api/v1/log/proof/consistency?from=1&to=$SIZE" "" "$CU"
is "a consistency proof" 200 ".from == 1 and .to == $SIZE"
req GET "/api/v1/log/proof/consistency?from=0&to=$SIZE" "" "$CU"
is "consistency from 0 is refused" 400 '.pointer == "/from"'
req GET "/api/v1/log/proof/consistency?from=3&to=2" "" "$CU"
is "consistency backwards is refused" 400 '.pointer == "/from"'

# --- a checkpoint kept from before; the log grows; consistency holds ---
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"fixed, sorry"}' "$CU"
req GET "/api/v1/tickets/$T/receipt" "" "$CU"
is "a receipt covers the ticket's last event (signed on demand)" 200 '.events[-1].body | test("fixed")'
req GET /api/v1/log/checkpoint "" "$CU"
cp "$TMP/body" "$TMP/kept.cp"
OLD=$(sed -n 2p "$TMP/kept.cp")
req POST /api/v1/tickets "{\"org_id\":$ACME,\"title\":\"second\",\"level\":\"L3\"}" "$CU"
T2=$(jq -r .id "$TMP/body")
req GET "/api/v1/tickets/$T2/receipt?since=$OLD" "" "$CU"
is "a receipt with a consistency proof from the kept checkpoint" 200 ".consistency.from == $OLD and .tree_size > $OLD"
cp "$TMP/body" "$TMP/grown.json"
"$KW" receipt verify "$TMP/grown.json" --key "$KEY" --since "$TMP/kept.cp" >"$TMP/out" 2>"$TMP/err"
check "the log grew from the kept checkpoint without a change" $? "$(cat "$TMP/err")"
"$KW" receipt verify "$TMP/grown.json" --key "$KEY" --since "$TMP/staff.json" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "earlier checkpoint's signature does not verify" "$TMP/err"
check "a kept checkpoint that is not one is named" $? "$(cat "$TMP/err")"
req GET "/api/v1/tickets/$T/receipt?since=99999999" "" "$CU"
is "since past the log is refused" 422 '.pointer == "/since"'

# --- the receipt issued at closure: kept, listed, downloaded, verified ---
req POST /api/v1/tickets "{\"org_id\":$ACME,\"title\":\"closed one\",\"level\":\"L3\"}" "$CU"
T3=$(jq -r .id "$TMP/body")
req POST "/api/v1/tickets/$T3/events" '{"type":"comment","text":"secret workaround","internal":true}' "$ADMIN"
req POST "/api/v1/tickets/$T3/events" '{"type":"transition","to":"handling"}' "$ADMIN"
req POST "/api/v1/tickets/$T3/events" '{"type":"transition","to":"feedback"}' "$ADMIN"
req GET "/api/v1/tickets/$T3/receipts" "" "$CU"
is "an open ticket has no receipt from a closure" 200 ".ticket == $T3 and .receipts == []"
req POST "/api/v1/tickets/$T3/events" '{"type":"transition","to":"archived"}' "$CU"
is "the customer confirms: the ticket closes" 201 '.state == "archived"'
req GET "/api/v1/tickets/$T3/events" "" "$ADMIN"
CLOSE=$(jq '[.events[] | select(.type == "state")][-1].seq' "$TMP/body")
for _ in $(seq 1 100); do
    req GET "/api/v1/tickets/$T3/receipts" "" "$CU"
    jq -e '.receipts[0].status == "issued"' "$TMP/body" >/dev/null 2>&1 && break
    sleep 0.1
done
is "the server issues the closure's receipt after its next checkpoint, listed on the ticket" 200 \
    "(.receipts | length) == 1 and .receipts[0].seq == $CLOSE and .receipts[0].status == \"issued\"
     and (.receipts[0].receipt_hash | length) == 64 and .receipts[0].url == \"/api/v1/tickets/$T3/receipts?seq=$CLOSE\""
HASH=$(jq -r '.receipts[0].receipt_hash' "$TMP/body")
req POST "/api/v1/tickets/$T3/events" '{"type":"comment","text":"after the closure"}' "$ADMIN"
req GET "/api/v1/tickets/$T3/receipts?seq=$CLOSE" "" "$CU"
is "the customer downloads it" 200 ".format == \"keepword-receipt/1\" and .receipt_hash == \"$HASH\"
     and .events[-1].type == \"state\" and .events[-1].seq == $CLOSE
     and ([.events[].body | test(\"secret|after the closure\")] | any | not)"
cp "$TMP/body" "$TMP/closed.json"
[[ "$CTYPE" == application/json* ]]
check "as a JSON file" $? "$CTYPE"
"$KW" receipt verify "$TMP/closed.json" --key "$KEY" >"$TMP/out" 2>"$TMP/err"
check "the downloaded receipt verifies offline" $? "$(cat "$TMP/err")"
sed 's/closed one/closed onE/' "$TMP/closed.json" >"$TMP/closed-changed.json"
! cmp -s "$TMP/closed.json" "$TMP/closed-changed.json" &&
    ! "$KW" receipt verify "$TMP/closed-changed.json" --key "$KEY" >/dev/null 2>"$TMP/err" &&
    grep -q "event 1: its contents do not match its hash" "$TMP/err"
check "one changed byte of it fails, naming the event" $? "$(cat "$TMP/err")"
req GET "/api/v1/tickets/$T3/receipts?seq=$CLOSE" "" "$ADMIN"
cmp -s "$TMP/body" "$TMP/closed.json"
check "fetched again (by staff too): the same bytes" $?
req GET "/api/v1/tickets/$T3/receipts?seq=$CLOSE&format=html&lang=en" "" "$CU"
[ "$CODE" = 200 ] && grep -q "<svg" "$TMP/body" && grep -q "$HASH" "$TMP/body"
check "its printable page" $? "$CODE"
req GET "/api/v1/tickets/$T3/receipts?seq=1" "" "$CU"
is "no receipt at an event that did not close the ticket" 404 '.pointer == "/seq"'
req GET "/api/v1/tickets/$T3/receipts?seq=$CLOSE" "" "$OT"
is "another organisation's customer gets 404" 404
req GET "/api/v1/tickets/$T3/receipts" "" "$OT"
is "nor its list" 404
req GET "/api/v1/tickets/$T3/receipts?format=html" "" "$CU"
is "a format without seq is refused" 400 '.pointer == "/format"'
serve_stop

# --- keepword verify checks the log: leaves, nodes, checkpoints ---
# log_damage DB: damage the log of DB (the server stopped) one thing at a
# time, each left in place, and check that `keepword verify` names each
# (exit 1); DB's default key file (PATH.log-key) must not exist, so that
# verify without --log-key checks the checkpoints' roots only.
unguard() { # TABLE TRIGGER: let UPDATE through, as an operator with the file could
    if [ -n "${KW_TEST_DB:-}" ]; then echo "ALTER TABLE $1 DISABLE TRIGGER $2;"; else echo "DROP TRIGGER $2;"; fi
}
log_damage() {
    local DB=$1 rc
    damaged() { # NAME WANT [KEYED]: verify fails, one stderr line matching WANT
        if [ -n "${3:-}" ]; then
            "$KW" verify --db "$DB" --log-key "$LOGKEY" >"$TMP/out" 2>"$TMP/err"
        else
            "$KW" verify --db "$DB" >"$TMP/out" 2>"$TMP/err"
        fi
        rc=$?
        [ $rc -eq 1 ] && grep -Eq "^keepword: log: $2$" "$TMP/err"
        check "$1" $? "(exit $rc: $(cat "$TMP/err"))"
    }
    "$KW" verify --db "$DB" --log-key "$LOGKEY" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 0 ] && grep -Eq "^log: [0-9]+ leaves, [1-9][0-9]* checkpoints: intact$" "$TMP/out"
    check "verify: the log is intact, with the key" $? "(exit $rc: $(cat "$TMP/out" "$TMP/err"))"
    "$KW" verify --db "$DB" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 0 ] && grep -q "checkpoints: intact (roots only: no log key, signatures not checked)$" "$TMP/out"
    check "verify without the key checks roots only and says so" $? "(exit $rc: $(cat "$TMP/out" "$TMP/err"))"
    local size root other
    size=$(sql "SELECT max(size) FROM log_checkpoints")
    root=$(sql "SELECT note FROM log_checkpoints WHERE size = $size" | sed -n 3p)
    if [ "${root:0:1}" = A ]; then other=B${root:1}; else other=A${root:1}; fi
    sql "UPDATE log_checkpoints SET note = replace(note, '$root', '$other') WHERE size = $size"
    damaged "a checkpoint's altered root: its signature fails" "checkpoint of size $size signed at [^ ]+: .*signature.*" keyed
    damaged "and, without the key, its root" "checkpoint of size $size signed at [^ ]+: its root is not the root of the log's first $size leaves"
    sql "$(unguard log_nodes log_nodes_no_update) UPDATE log_nodes SET hash = (SELECT hash FROM log_nodes WHERE level = 1 AND idx = 1) WHERE level = 1 AND idx = 0"
    damaged "a tampered node is named" "node \(1, 0\) is not the hash of its leaves 0 to 1: damaged"
    sql "DELETE FROM log_nodes WHERE level = 2 AND idx = 0"
    damaged "a deleted node is named" "the log lacks node \(2, 0\): damaged"
    if [ -z "${KW_TEST_DB:-}" ]; then
        # a node whose place is not its own, as 041's rowid after a VACUUM
        # (048): proofs do not find it, nor does verify
        sql "UPDATE log_nodes SET place = place + 1 WHERE level = 3 AND idx = 0"
        damaged "a node out of its place is named" "the log lacks node \(3, 0\): damaged"
    fi
    sql "$(unguard log_leaves log_leaves_no_update) UPDATE log_leaves SET data = (SELECT data FROM log_leaves WHERE idx = 1) WHERE idx = 2"
    damaged "a tampered leaf is named with the record it names" "leaf 2 is not the hash of (event|audit entry|ledger entry) [0-9/]+: damaged"
    sql "$(unguard log_leaves log_leaves_no_delete) DELETE FROM log_leaves WHERE idx = 3"
    damaged "a deleted leaf is named" "the log lacks leaf 3: damaged \(not checked past it\)"
    grep -Eq "^keepword: log: (event [0-9]+/[0-9]+|audit entry [0-9]+|ledger entry [0-9]+/[0-9]+) has no leaf in the log$" "$TMP/err"
    check "and the record it held" $? "$(cat "$TMP/err")"
}
if [ -z "${KW_TEST_DB:-}" ]; then
    sqlite3 "$TMP/kw.db" ".backup '$TMP/damaged.db'"
    log_damage "$TMP/damaged.db"
fi

# --- a rewritten log, rebuilt and re-signed with the same key, is caught ---
# (SQLite only: the rewrite rebuilds the log by the SQLite backend's
# backfill, which PostgreSQL, never upgraded from a log-less schema, lacks)
if [ -z "${KW_TEST_DB:-}" ]; then
# The operator deletes the customer's "fixed, sorry" (the ticket's last
# event, so the chain stays valid and `keepword verify` passes), rebuilds
# the log and its checkpoints, and signs again with the same key.
sqlite3 "$TMP/kw.db" >"$TMP/out" 2>&1 <<SQL
DROP TRIGGER events_no_delete;
DELETE FROM events WHERE ticket_id = $T AND seq = (SELECT max(seq) FROM events WHERE ticket_id = $T);
UPDATE tickets SET last_seq = last_seq - 1, head_hash = (SELECT hash FROM events WHERE ticket_id = $T ORDER BY seq DESC LIMIT 1) WHERE id = $T;
DROP TRIGGER log_leaves_no_delete;
DELETE FROM log_leaves; DELETE FROM log_nodes; DELETE FROM log_checkpoints;
UPDATE log_meta SET v = 1 WHERE k = 'backfill';
SQL
check "the rewrite (set-up)" $? "$(cat "$TMP/out")"
mapfile -t T_ALL < <(sqlite3 "$TMP/kw.db" "SELECT id FROM tickets")
"$KW" verify --db "$TMP/kw.db" "${T_ALL[@]}" >/dev/null 2>&1
check "the tickets' hash chains alone do not show it" $?
"$KW" verify --db "$TMP/kw.db" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "^keepword: log: audit entry [0-9]* has no leaf in the log$" "$TMP/err"
check "the whole desk's verify finds the audit entries the rebuilt log lacks" $? "$(cat "$TMP/err")"
serve_start --checkpoint-every 1
CU=$(login cu@acme.example cu-password)
ADMIN=$(login admin@localhost correct-horse)
for i in 1 2 3; do req POST "/api/v1/tickets/$T2/events" "{\"type\":\"comment\",\"text\":\"more $i\"}" "$ADMIN"; done
req GET "/api/v1/tickets/$T2/receipt?since=$OLD" "" "$CU"
is "the rebuilt log still gives a receipt" 200
cp "$TMP/body" "$TMP/rewritten.json"
"$KW" receipt verify "$TMP/rewritten.json" --key "$KEY" >/dev/null 2>"$TMP/err"
check "which verifies on its own" $? "$(cat "$TMP/err")"
"$KW" receipt verify "$TMP/rewritten.json" --key "$KEY" --since "$TMP/kept.cp" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "the log was rewritten" "$TMP/err"
check "but not against the checkpoint the customer kept" $? "$(cat "$TMP/err")"
serve_stop
fi

# --- a second server key is refused ---
"$KW" serve --db "$DB" --listen 127.0.0.1:0 --log-key "$TMP/other.db.log-key" >/dev/null 2>"$TMP/err" &
wait $!
rc=$?
[ $rc -eq 1 ] && grep -q "a second server key is refused" "$TMP/err"
check "serve refuses a key that did not sign the log's checkpoints" $? "(exit $rc: $(cat "$TMP/err"))"
chmod 644 "$LOGKEY"
"$KW" serve "${DB_ARGS[@]}" --listen 127.0.0.1:0 >/dev/null 2>"$TMP/err" &
wait $!
rc=$?
[ $rc -eq 1 ] && grep -q "may be read by others: chmod 600" "$TMP/err"
check "serve refuses a key file others may read" $? "(exit $rc: $(cat "$TMP/err"))"
"$KW" serve "${DB_ARGS[@]}" --checkpoint-every 0 2>/dev/null
[ $? -eq 2 ]
check "--checkpoint-every 0 is a usage error" $?
if [ -n "${KW_TEST_DB:-}" ]; then # the database itself: the suite ends here
    chmod 600 "$LOGKEY"
    log_damage "$DB"
fi
finish
