#!/usr/bin/env bash
# Contracts and the credit ledger over HTTP, on a fake clock: managers write
# contracts, agents read them, a customer reads only their own
# organisation's; a late clock that stops accrues its credit (0.5 % of the
# value per started wall hour, capped per ticket), an excluded overrun
# reason adjusts it to 0 and another reason back; manual adjustments (双签
# above the contract's limit: the same manager cannot approve), the
# customer's claim, settlement against an invoice and the deposit; the
# ledger's hash chain; every refusal.
# usage: tests/http/ledger.sh PATH/TO/keepword
set -u
KW=${1:?usage: ledger.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-03-02T09:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
MAY1=$(date -u -d 2026-05-01 +%s)
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
req POST /api/v1/tokens '{"label":"ledger test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Globex"}' "$ADMIN"
GLOBEX=$(jq -r .id "$TMP/body")
mkuser() { # EMAIL ROLE [ORG]
    local org=${3:+,\"org_id\":$3}
    req POST /api/v1/users "{\"email\":\"$1\",\"name\":\"${1%%@*}\",\"role\":\"$2\",\"password\":\"password-$2\"$org}" "$ADMIN"
    [ "$CODE" = 201 ] || echo "mkuser $1: $CODE $(cat "$TMP/body")" >&2
    req POST /api/v1/tokens '{"label":"t"}' "$(login "$1" "password-$2")"
    jq -r .token "$TMP/body"
}
MGR=$(mkuser mia@desk.example manager)
MGR2=$(mkuser max@desk.example manager)
AGENT=$(mkuser al@desk.example agent)
CUST=$(mkuser cy@acme.example customer "$ACME")
OTHER=$(mkuser ola@globex.example customer "$GLOBEX")

req POST /api/v1/commitments '{"name":"Credits","version":"1","effective_from":"2026-01-01T00:00:00Z",
 "calendars":{"always":{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}},
 "levels":["L1","L2"],
 "metrics":[{"id":"resolution","start":"created","stop":["resolved"]}],
 "targets":[{"calendar":"always","resolution":"1h"}],
 "compensation":{"rules":[
   {"when":{"level":"L1"},"metric":"resolution","credit":{"percent_per_hour":0.5,"hours":"wall","cap_per_ticket":{"percent":2}}},
   {"when":{"level":"L2"},"metric":"resolution","remedy":{"item":{"zh":"延长保修","en":"extended warranty"},"quantity":30,"unit":{"zh":"天","en":"days"}}}],
  "exclude_reasons":["customer","force_majeure"]}}' "$ADMIN"
is "a commitment with compensation" 201
COMMIT=$(jq -r .id "$TMP/body")

# --- contracts: who writes, who reads ---
C='{"org_id":'"$ACME"',"value":1000000,"currency":"CNY","period_start":"2026-01-01T00:00:00Z","period_end":"2027-01-01T00:00:00Z","billing":"monthly","commitment_id":'"$COMMIT"',"deposit_required":{"percent":10},"deposit_held":150000,"dual_approval_above":50000}'
req POST /api/v1/contracts "$C" "$AGENT"
is "agents do not write contracts" 403
req POST /api/v1/contracts "$C" "$CUST"
is "nor do customers" 403
req POST /api/v1/contracts "$C" "$MGR"
is "a manager adds a contract" 201 ".org_id == $ACME and .value == 1000000 and .currency == \"CNY\" and .billing == \"monthly\"
    and .deposit_required == {\"percent\":10} and .deposit_required_amount == 100000 and .deposit_held == 150000
    and .deposit_balance == 150000 and .deposit_short == false and .commitment_id == $COMMIT
    and .period_start == \"2026-01-01T00:00:00Z\" and .balance == {\"credits\":0,\"claimed\":0,\"settled\":0,\"owed\":0}"
K=$(jq -r .id "$TMP/body")
req POST /api/v1/contracts '{"org_id":'"$GLOBEX"',"value":500,"currency":"EUR","period_start":"2026-01-01T00:00:00Z","period_end":"2026-12-31T00:00:00Z","billing":"annual","deposit_required":{"amount":100}}' "$ADMIN"
is "an admin adds one, deposit as an amount" 201 '.deposit_required_amount == 100 and .deposit_short == true and .commitment_id == null and .dual_approval_above == 100000'
KG=$(jq -r .id "$TMP/body")
req GET /api/v1/contracts "" "$AGENT"
is "agents read every contract" 200 '(.contracts | length) == 2'
req GET /api/v1/contracts "" "$CUST"
is "a customer lists only their organisation's" 200 "(.contracts | length) == 1 and .contracts[0].id == $K"
req GET "/api/v1/contracts?org_id=$GLOBEX" "" "$CUST"
is "and may not ask for another's" 403
req GET "/api/v1/contracts/$KG" "" "$CUST"
is "another organisation's contract is 404 to a customer" 404
req GET "/api/v1/contracts/$KG/ledger" "" "$CUST"
is "and so is its ledger" 404
req PATCH "/api/v1/contracts/$KG" '{"deposit_held":100}' "$MGR"
is "a manager changes what is held" 200 '.deposit_held == 100 and .deposit_short == false and .currency == "EUR" and .billing == "annual"'
req PATCH "/api/v1/contracts/$KG" '{"org_id":'"$ACME"'}' "$MGR"
is "a contract stays with its organisation" 400 '.pointer == "/org_id"'
req PATCH "/api/v1/contracts/$KG" '{"value":1}' "$AGENT"
is "agents do not change contracts" 403

bad() { # NAME JSON-MEMBERS POINTER [CODE]
    req POST /api/v1/contracts "$(jq -c ". + $2" <<<"$C")" "$MGR"
    is "refused: $1" "${4:-400}" ".pointer == \"$3\""
}
bad "a value of 0" '{"value":0}' /value
bad "a negative value" '{"value":-5}' /value
bad "a fractional value" '{"value":1.5}' /value
bad "a lower-case currency" '{"currency":"cny"}' /currency
bad "a four-letter currency" '{"currency":"CNYX"}' /currency
bad "an end before the start" '{"period_end":"2025-01-01T00:00:00Z"}' /period_end
bad "weekly billing" '{"billing":"weekly"}' /billing
bad "a deposit as both" '{"deposit_required":{"percent":10,"amount":5}}' /deposit_required
bad "a deposit as neither" '{"deposit_required":{}}' /deposit_required
bad "a deposit over 100 %" '{"deposit_required":{"percent":101}}' /deposit_required/percent
bad "a negative deposit held" '{"deposit_held":-1}' /deposit_held
bad "an unknown member" '{"colour":"red"}' /colour
bad "an unknown organisation" '{"org_id":999999}' /org_id 404
bad "an unknown commitment" '{"commitment_id":999999}' /commitment_id 404
req POST /api/v1/contracts '{"org_id":'"$ACME"'}' "$MGR"
is "refused: the value missing" 400 '.pointer == "/value"'

# --- a late clock accrues ---
req POST /api/v1/tickets "{\"title\":\"Down\",\"level\":\"L1\",\"org_id\":$ACME}" "$ADMIN"
T=$(jq -r .id "$TMP/body")
at 2026-03-02T10:00:01Z
eventually "/api/v1/overruns?ticket_id=$T" "$ADMIN" '(.overruns | length) == 1'
is "the breach opens an overrun" 200 '(.overruns | length) == 1'
OV=$(jq -r '.overruns[0].id' "$TMP/body")
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "nothing accrues while the clock runs" 200 '.entries == []'
at 2026-03-02T11:30:00Z
req POST "/api/v1/tickets/$T/events" '{"type":"milestone","milestone":"resolved"}' "$ADMIN"
is "resolved 1 h 30 min late" 201
req GET "/api/v1/contracts/$K/ledger" "" "$CUST"
is "the customer sees the accrual: 2 started hours x 0.5 % of 1,000,000 = 10,000" 200 \
    ".entries | length == 1 and .[0].kind == \"accrual\" and .[0].amount == 10000 and .[0].ticket_id == $T
     and .[0].overrun_id == $OV and .[0].seq == 1 and .[0].body.hours == 2 and .[0].at == \"2026-03-02T11:30:00Z\"
     and (.[0].hash | length) == 64"
req GET "/api/v1/contracts/$K" "" "$CUST"
is "the balance owes it" 200 '.balance == {"credits":10000,"claimed":0,"settled":0,"owed":10000}'

# --- the overrun's reason changes: excluded, then not ---
req PATCH "/api/v1/overruns/$OV" '{"reason":"customer","note":"waited for the customer'"'"'s VPN"}' "$AGENT"
is "the reason is the customer's side" 200
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "an excluded reason adjusts the credit to 0" 200 \
    '.entries | length == 2 and .[1].kind == "adjustment" and .[1].amount == -10000 and .[1].body.status == "excluded"'
req PATCH "/api/v1/overruns/$OV" '{"reason":"technology","note":"a faulty switch"}' "$AGENT"
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "another reason restores it" 200 '.entries | length == 3 and .[2].kind == "adjustment" and .[2].amount == 10000'
req PATCH "/api/v1/overruns/$OV" '{"reason":"technology","note":"the same reason, reworded"}' "$AGENT"
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "the same reason again changes nothing" 200 '.entries | length == 3'

# --- the per-ticket cap: 2 % of 1,000,000 = 20,000 ---
req POST /api/v1/tickets "{\"title\":\"Down again\",\"level\":\"L1\",\"org_id\":$ACME}" "$ADMIN"
T2=$(jq -r .id "$TMP/body")
at 2026-03-02T17:30:00Z
eventually "/api/v1/overruns?ticket_id=$T2" "$ADMIN" '(.overruns | length) == 1'
req POST "/api/v1/tickets/$T2/events" '{"type":"milestone","milestone":"resolved"}' "$ADMIN"
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "5 started hours would be 25,000: capped at 20,000 per ticket" 200 \
    '.entries | length == 4 and .[3].amount == 20000 and .[3].body.raw == 25000 and .[3].body.status == "capped"'

# --- a remedy (L2) ---
req POST /api/v1/tickets "{\"title\":\"Slow\",\"level\":\"L2\",\"org_id\":$ACME}" "$ADMIN"
T3=$(jq -r .id "$TMP/body")
at 2026-03-02T18:31:00Z
eventually "/api/v1/overruns?ticket_id=$T3" "$ADMIN" '(.overruns | length) == 1'
req POST "/api/v1/tickets/$T3/events" '{"type":"milestone","milestone":"resolved"}' "$ADMIN"
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "an L2 overrun owes 30 days of extended warranty" 200 \
    '.entries | length == 5 and .[4].kind == "remedy" and .[4].quantity == 30 and .[4].amount == 0
     and .[4].body.item.en == "extended warranty"'

# --- manual adjustments and 双签 ---
req POST "/api/v1/contracts/$K/adjustments" '{"amount":-5000,"reason":"goodwill correction"}' "$MGR"
is "an adjustment within the limit is recorded at once" 201 '.status == "recorded"'
req POST "/api/v1/contracts/$K/adjustments" '{"amount":60000,"reason":"outage credit agreed"}' "$MGR"
is "above the limit it waits for a second manager" 202 '.status == "awaiting_second_manager"'
RQ=$(jq -r .request_id "$TMP/body")
req GET "/api/v1/adjustments" "" "$MGR2"
is "managers see what waits" 200 ".adjustments | length == 1 and .[0].id == $RQ and .[0].amount == 60000"
req POST "/api/v1/adjustments/$RQ/decision" '{"approve":true}' "$MGR"
is "the same manager cannot approve (双签)" 403 '.detail | test("second manager")'
req POST "/api/v1/adjustments/$RQ/decision" '{"approve":true}' "$AGENT"
is "nor can an agent" 403
req POST "/api/v1/adjustments/$RQ/decision" '{}' "$MGR2"
is "a decision says approve" 400 '.pointer == "/approve"'
req POST "/api/v1/adjustments/$RQ/decision" '{"approve":true}' "$MGR2"
is "a second manager approves" 200 '.status == "recorded"'
req POST "/api/v1/adjustments/$RQ/decision" '{"approve":false}' "$ADMIN"
is "decided once" 409
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "the approved entry names both" 200 '.entries | length == 7 and .[6].amount == 60000 and .[6].approved_by != null and .[6].actor != .[6].approved_by'
req POST "/api/v1/contracts/$K/adjustments" '{"amount":0,"reason":"x"}' "$MGR"
is "an adjustment of 0 is refused" 400 '.pointer == "/amount"'
req POST "/api/v1/contracts/$K/adjustments" '{"amount":100}' "$MGR"
is "an adjustment needs a reason" 400 '.pointer == "/reason"'
req POST "/api/v1/contracts/$K/adjustments" '{"amount":100,"reason":"x"}' "$AGENT"
is "agents do not adjust" 403
req POST "/api/v1/contracts/$K/adjustments" '{"amount":100,"reason":"x"}' "$CUST"
is "nor do customers" 403
req POST "/api/v1/contracts/999999/adjustments" '{"amount":100,"reason":"x"}' "$MGR"
is "an unknown contract is 404" 404

# credits now: 10,000 + 20,000 - 5,000 + 60,000 = 85,000
req GET "/api/v1/contracts/$K" "" "$CUST"
is "the balance" 200 '.balance == {"credits":85000,"claimed":0,"settled":0,"owed":85000}'

# --- the customer claims; settlement ---
req POST "/api/v1/contracts/$K/claims" '{"amount":90000}' "$CUST"
is "a claim above what is owed is refused" 400 '.pointer == "/amount" and (.detail | test("85000"))'
req POST "/api/v1/contracts/$K/claims" '{"amount":85000,"note":"March outages"}' "$CUST"
is "the customer claims what is owed" 201
req POST "/api/v1/contracts/$KG/claims" '{"amount":1}' "$CUST"
is "not under another organisation's contract" 404
req POST "/api/v1/contracts/$K/claims" '{"amount":1}' "$OTHER"
is "nor may another organisation's customer claim" 404
# a customer of another organisation reads nothing of this one's by id: 404
# (as for a contract that does not exist), never 403, which would say it exists
for path in "" /ledger /ledger/verify "/statement" "/statement?format=csv" "/statement?format=html" "/statement?format=pdf"; do
    req GET "/api/v1/contracts/$K$path" "" "$OTHER"
    is "another organisation's customer: GET /contracts/{id}$path is 404" 404 '.status == 404 and (.detail | test("Acme") | not)'
done
req GET "/api/v1/contracts?org_id=$ACME" "" "$OTHER"
is "nor lists its contracts" 403
req GET /api/v1/contracts "" "$OTHER"
is "and its own list holds only its own organisation's" 200 "[.contracts[].org_id] | all(. == $GLOBEX)"
req POST "/api/v1/contracts/$K/settlements" '{"amount":20000,"against":"invoice","invoice":"INV-2026-031"}' "$CUST"
is "customers do not settle" 403
req POST "/api/v1/contracts/$K/settlements" '{"amount":20000,"against":"invoice"}' "$MGR"
is "against an invoice, its number" 400 '.pointer == "/invoice"'
req POST "/api/v1/contracts/$K/settlements" '{"amount":20000,"against":"cash"}' "$MGR"
is "against invoice or deposit only" 400 '.pointer == "/against"'
req POST "/api/v1/contracts/$K/settlements" '{"amount":20000,"against":"invoice","invoice":"INV-2026-031"}' "$MGR"
is "settled against an invoice" 201
req POST /api/v1/endpoints '{"name":"account desk","url":"http://127.0.0.1:9/hook","events":["deposit_low"]}' "$ADMIN"
is "an endpoint for deposit alerts" 201
req POST "/api/v1/contracts/$K/settlements" '{"amount":65000,"against":"deposit"}' "$MGR"
is "settled from the deposit" 201
req GET /api/v1/outbox "" "$ADMIN"
is "the deposit falling short is a deposit_low notification" 200 \
    "[.notifications[] | select(.kind == \"deposit_low\")] | length == 1"
req GET "/api/v1/contracts/$K" "" "$CUST"
is "the deposit falls below what the contract requires" 200 \
    '.balance.owed == 0 and .deposit_balance == 85000 and .deposit_required_amount == 100000 and .deposit_short == true'
req POST "/api/v1/contracts/$K/settlements" '{"amount":1,"against":"deposit"}' "$MGR"
is "nothing more to settle" 400 '.pointer == "/amount"'

# --- the statement of March ---
req GET "/api/v1/contracts/$K/statement?at=2026-03-15" "" "$CUST"
is "the statement of the billing period (a month)" 200 '.period == {"from":"2026-03-01T00:00:00Z","to":"2026-04-01T00:00:00Z"}
    and .opening.credits == 0 and .in_period.credits == 85000 and .in_period.claimed == 85000 and .in_period.settled == 85000
    and .closing.owed == 0 and .closing.deposit_balance == 85000 and .closing.deposit_required == 100000 and (.entries | length) == 10'
req GET "/api/v1/contracts/$K/statement?at=2026-04-15" "" "$CUST"
is "April opens with March's sums and has no entries" 200 '.opening.credits == 85000 and .opening.settled == 85000 and .entries == [] and .closing.owed == 0'
curl -s "$B/api/v1/contracts/$K/statement?at=2026-03-15&format=csv" -H "Authorization: Bearer $CUST" >"$TMP/st.csv"
[ "$(wc -l <"$TMP/st.csv")" = 11 ] && head -1 "$TMP/st.csv" | grep -q '^seq,at,kind,amount_minor,currency' &&
    grep -q '^2,.*,adjustment,-10000,CNY,' "$TMP/st.csv"
check "the statement as CSV: a header and a row per entry" $? "($(head -3 "$TMP/st.csv"))"
req GET "/api/v1/contracts/$K/statement?at=2026-03-15&format=html&lang=en" "" "$CUST"
is "and as a printable page" 200
grep -q "Credit statement: Acme" "$TMP/body" && grep -q "850.00 CNY" "$TMP/body"
check "the page names the organisation and the sums" $?
# the accident level of each overrun, by its recorded loss (500,000.00 and more: major)
req PATCH "/api/v1/overruns/$OV" '{"loss":60000000}' "$MGR"
is "a manager records the loss of the first overrun" 200
req GET "/api/v1/contracts/$K/statement?at=2026-03-15" "" "$CUST"
is "the statement gives each overrun's loss and accident level" 200 \
    "[.entries[] | select(.overrun_id == $OV)] | length > 0 and all(.loss == 60000000 and .accident_level == \"major\")"
req GET "/api/v1/contracts/$K/statement?at=2026-03-15" "" "$CUST"
is "entries on no overrun have none" 200 '[.entries[] | select(.overrun_id == null)] | all(.loss == null and .accident_level == null)'
req GET "/api/v1/contracts/$K/statement?at=2026-03-15&format=csv" "" "$CUST"
head -1 "$TMP/body" | grep -q ',hash,loss_minor,accident_level' && grep -q ",60000000,major" "$TMP/body"
check "the CSV has the loss and the accident level" $? "($(head -2 "$TMP/body"))"
req GET "/api/v1/contracts/$K/statement?at=2026-03-15&format=html&lang=zh" "" "$CUST"
grep -q "事故等级" "$TMP/body" && grep -qF "重大事故 (损失 600000.00 CNY)" "$TMP/body"
check "the page shows it in Chinese" $? "($(grep -o '<td>[^<]*事故[^<]*</td>' "$TMP/body" | head -2))"
# the desk's own notes follow lang; a manager's reason stays as typed
[ "$(grep -o "超时原因已变更" "$TMP/body" | wc -l)" -eq 2 ] &&
    grep -qF "goodwill correction" "$TMP/body" && ! grep -qF "reason changed" "$TMP/body"
check "the Chinese page gives the reason changes in Chinese, a manager's reason as typed" $? "($(grep -o '超时[^<]*' "$TMP/body" | head -3))"
req GET "/api/v1/contracts/$K/statement?at=2026-03-15&format=html&lang=en" "" "$CUST"
grep -q "the overrun\(&#39;\|'\)s reason changed" "$TMP/body" && ! grep -qF "超时原因已变更" "$TMP/body"
check "the English page in English" $? "($(grep -o 'reason changed[^<]*' "$TMP/body" | head -2))"
req GET "/api/v1/contracts/$K/statement?at=2026-03-15&format=csv&lang=zh" "" "$CUST"
grep -qF '"超时原因已变更"' "$TMP/body" && head -1 "$TMP/body" | grep -q '^seq,at,kind'
check "the CSV with lang=zh: the notes in Chinese, the header as ever" $? "($(grep -o '超时[^"]*' "$TMP/body" | head -2))"
req GET "/api/v1/contracts/$K/statement?at=2026-03-15&format=csv" "" "$CUST"
grep -qF '"the overrun'"'"'s reason changed"' "$TMP/body"
check "the CSV without lang: English" $?
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "the entry itself keeps its hashed English note" 200 '[.entries[] | select(.body.note == "the overrun'"'"'s reason changed")] | length == 2'
req GET "/api/v1/contracts/$K/statement?at=2025-12-31" "" "$CUST"
is "a day outside the contract is refused" 400 '.pointer == "/at"'
req GET "/api/v1/contracts/$K/statement?at=March" "" "$CUST"
is "a day that is no date is refused" 400 '.pointer == "/at"'
curl -s -D "$TMP/st.h" "$B/api/v1/contracts/$K/statement?at=2026-03-15&format=pdf&lang=en" -H "Authorization: Bearer $CUST" >"$TMP/st.pdf"
grep -qi '^content-type: application/pdf' "$TMP/st.h" && grep -qi 'filename="statement-'"$K"'-2026-03-01-en.pdf"' "$TMP/st.h" &&
    pdftotext -layout "$TMP/st.pdf" "$TMP/st.txt"
check "the statement as PDF" $? "($(cat "$TMP/st.h"))"
grep -q "Credit statement: Acme" "$TMP/st.txt" && grep -q "Still owed at the end" "$TMP/st.txt" &&
    grep -q "850.00 CNY" "$TMP/st.txt" && grep -q "major accident (loss 600000.00 CNY)" "$TMP/st.txt" &&
    grep -q -- "-100.00 CNY" "$TMP/st.txt" && [ "$(grep -c "accrual" "$TMP/st.txt")" -ge 1 ]
check "the PDF has the sums, the entries and each overrun's accident level" $? "($(head -c 1500 "$TMP/st.txt"))"
curl -s "$B/api/v1/contracts/$K/statement?at=2026-03-15&format=pdf&lang=zh" -H "Authorization: Bearer $CUST" >"$TMP/st-zh.pdf"
pdftotext -layout "$TMP/st-zh.pdf" - | grep -q "重大事故 (损失 600000.00 CNY)" &&
    pdftotext "$TMP/st-zh.pdf" - | grep -q "赔付对账单"
check "and in Chinese" $?
req GET "/api/v1/contracts/$K/statement?format=xlsx" "" "$CUST"
is "formats are json, csv, html and pdf" 400 '.pointer == "/format"'
req GET "/api/v1/contracts/$KG/statement?format=pdf" "" "$CUST"
is "another organisation's statement is 404 in any format" 404
req GET "/api/v1/contracts/$KG/statement" "" "$CUST"
is "another organisation's statement is 404" 404

# --- the chain: consecutive seqs, and the Merkle log grew with each entry ---
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "every entry is in one chain" 200 '[.entries[].seq] == [range(1; (.entries | length) + 1)]'
sql "UPDATE ledger SET amount = 1 WHERE id = 1" 2>"$TMP/err"
grep -q "append-only" "$TMP/err"
check "the ledger refuses an UPDATE" $?
N=$(sql "SELECT count(*) FROM log_leaves WHERE kind = 'ledger'")
check "each entry is a leaf of the Merkle log" "$([ "$N" = 10 ]; echo $?)" "($N)"
req GET "/api/v1/contracts/$K/ledger/verify" "" "$MGR"
is "a manager checks the ledger chain: every entry matches" 200 \
    '.ok == true and .entries == 10 and (.head | test("^[0-9a-f]{64}$")) and .problem == null'
req GET "/api/v1/contracts/$K/ledger/verify" "" "$CUST"
is "so may the customer, for their own contract" 200 '.ok == true'
req GET "/api/v1/contracts/$KG/ledger/verify" "" "$CUST"
is "but not for another organisation's" 404
req GET "/api/v1/contracts/999999/ledger/verify" "" "$MGR"
is "an unknown contract is 404" 404

# --- a run still breached when March closes ---
at 2026-03-31T21:00:00Z
req POST /api/v1/tickets "{\"title\":\"Down over the month's end\",\"level\":\"L1\",\"org_id\":$ACME}" "$ADMIN"
T4=$(jq -r .id "$TMP/body")
at 2026-03-31T22:00:01Z
eventually "/api/v1/overruns?ticket_id=$T4" "$ADMIN" '(.overruns | length) == 1'
"$KW" credits close --db "$DB" --period 2026-04 --at 2026-04-01T00:30:00Z >"$TMP/out" 2>&1
[ $? = 1 ] && grep -q "after now" "$TMP/out"
check "a period that has not ended is not closed" $? "($(cat "$TMP/out"))"
"$KW" credits close --db "$DB" --period March >"$TMP/out" 2>&1
[ $? = 2 ] && grep -q "not a month" "$TMP/out"
check "--period is a month or a day" $? "($(cat "$TMP/out"))"
"$KW" credits close --db "$DB" --period 2026-03 --at 2026-04-01T00:30:00Z >"$TMP/out" 2>&1
grep -q "1 contract(s) closed, 1 ledger entries written" "$TMP/out"
check "closing March accrues the run still breached (the annual contract is not closed)" $? "($(cat "$TMP/out"))"
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "2 h late at the month's end: 10,000, in March" 200 \
    ".entries[-1] | .kind == \"accrual\" and .amount == 10000 and .ticket_id == $T4 and .at == \"2026-03-31T23:59:59Z\"
     and .body.period_close == \"2026-04-01T00:00:00Z\" and .body.hours == 2"
"$KW" credits close --db "$DB" --period 2026-03-31 --at 2026-04-01T00:30:00Z >"$TMP/out" 2>&1
grep -q ", 0 ledger entries written" "$TMP/out"
check "closing it again writes nothing" $? "($(cat "$TMP/out"))"
at 2026-04-01T01:30:00Z
req POST "/api/v1/tickets/$T4/events" '{"type":"milestone","milestone":"resolved"}' "$ADMIN"
req GET "/api/v1/contracts/$K/ledger" "" "$MGR"
is "the stop accrues the rest: 4 started hours = 20,000 in all" 200 \
    ".entries[-1] | .kind == \"accrual\" and .amount == 10000 and .ticket_id == $T4 and .body.owed == 20000 and .body.hours == 4"
"$KW" credits close --db "$DB" --help | grep -q "billing period"
check "credits close --help says what it does" $?

# --- the engine closes April itself when it ends: once, also across restarts ---
at 2026-04-30T22:00:00Z
req POST /api/v1/tickets "{\"title\":\"Down over April's end\",\"level\":\"L1\",\"org_id\":$ACME}" "$ADMIN"
T5=$(jq -r .id "$TMP/body")
at 2026-04-30T23:00:01Z
eventually "/api/v1/overruns?ticket_id=$T5" "$ADMIN" '(.overruns | length) == 1'
req GET "/api/v1/contracts/$K/ledger?limit=500" "" "$MGR"
is "nothing accrues while April lasts" 200 "[.entries[] | select(.ticket_id == $T5)] == []"
at 2026-05-01T00:02:00Z
eventually "/api/v1/contracts/$K/ledger?limit=500" "$MGR" "[.entries[] | select(.ticket_id == $T5)] | length == 1"
req GET "/api/v1/contracts/$K/ledger?limit=500" "" "$MGR"
is "April's end accrues the open run with no command run: 1 h late = 5,000 at April's last second" 200 \
    "[.entries[] | select(.ticket_id == $T5)] | length == 1 and (.[0] | .kind == \"accrual\" and .amount == 5000
     and .at == \"2026-04-30T23:59:59Z\" and .body.period_close == \"2026-05-01T00:00:00Z\" and .body.hours == 1)"
ROW=$(sql "SELECT count(*), max(closed_by), max(entries) FROM period_closes WHERE contract_id = $K AND period_end = $MAY1")
[[ "$ROW" == "1|"*":"*"|1" ]]
check "the close is recorded once, by the engine's node, with its entry" $? "($ROW)"
serve_stop
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
at 2026-05-01T00:10:00Z
"$KW" credits close --db "$DB" --period 2026-04 --at 2026-05-01T00:10:00Z >"$TMP/out" 2>&1
grep -q ", 0 ledger entries written" "$TMP/out"
check "closing April by hand afterwards writes nothing" $? "($(cat "$TMP/out"))"
req GET "/api/v1/contracts/$K/ledger?limit=500" "" "$MGR"
is "a restarted server does not close April again" 200 "[.entries[] | select(.ticket_id == $T5)] | length == 1"
N=$(sql "SELECT count(*) FROM period_closes WHERE contract_id = $K AND period_end = $MAY1")
check "and April has one close record" "$([ "$N" = 1 ]; echo $?)" "($N)"

# --- force majeure (不可抗力), excluded by the commitment, after the accrual ---
req GET "/api/v1/overruns?ticket_id=$T5" "" "$ADMIN"
OV5=$(jq -r '.overruns[0].id' "$TMP/body")
req PATCH "/api/v1/overruns/$OV5" '{"reason":"force_majeure","note":"the typhoon cut the fibre"}' "$AGENT"
is "force majeure is a reason staff record" 200
req GET "/api/v1/contracts/$K/ledger?limit=500" "" "$MGR"
is "the run is still open: April's accrual is brought to 0 at once by an adjustment line, the accrual kept" 200 \
    "[.entries[] | select(.ticket_id == $T5)] | length == 2 and .[0].amount == 5000 and .[0].kind == \"accrual\"
     and (.[1] | .kind == \"adjustment\" and .amount == -5000 and .body.status == \"excluded\" and .body.reason == \"force_majeure\"
          and .body.period_close == \"2026-05-01T00:00:00Z\" and .body.owed == 0 and .at == \"2026-05-01T00:10:00Z\")"
at 2026-05-01T00:20:00Z
req POST "/api/v1/tickets/$T5/events" '{"type":"milestone","milestone":"resolved"}' "$ADMIN"
req GET "/api/v1/contracts/$K/ledger?limit=500" "" "$MGR"
is "at its stop (1 h 20 min late), force majeure still owes nothing: a 0 line records the stop" 200 \
    "[.entries[] | select(.ticket_id == $T5)] | length == 3
     and (.[2] | .kind == \"accrual\" and .amount == 0 and .body.status == \"excluded\" and .body.period_close == null)"
req PATCH "/api/v1/overruns/$OV5" '{"reason":"technology","note":"it was the switch after all"}' "$AGENT"
req GET "/api/v1/contracts/$K/ledger?limit=500" "" "$MGR"
is "another reason after the stop: 2 started hours at 5,000 = 10,000, by an adjustment" 200 \
    "[.entries[] | select(.ticket_id == $T5)] | length == 4
     and (.[3] | .kind == \"adjustment\" and .amount == 10000 and .body.owed == 10000 and .body.hours == 2)"
req PATCH "/api/v1/overruns/$OV5" '{"reason":"act of god"}' "$AGENT"
is "a reason outside the list is refused, naming the list" 400 '.pointer == "/reason" and (.detail | test("force_majeure"))'

# --- a rewritten entry: the check names it ---
if [ -n "${KW_TEST_DB:-}" ]; then
    sql "ALTER TABLE ledger DISABLE TRIGGER ledger_no_update;
        UPDATE ledger SET body = body || ' ' WHERE seq = 3 AND org_id = $ACME"
else
    sql "DROP TRIGGER ledger_no_update;
        UPDATE ledger SET body = body || ' ' WHERE seq = 3 AND org_id = $ACME"
fi
req GET "/api/v1/contracts/$K/ledger/verify" "" "$MGR"
is "an entry rewritten in the database fails the check, which names it" 200 \
    '.ok == false and (.problem | test("entry [0-9]+ \\(seq 3\\) does not match its hash chain")) and .entries == 2'

serve_stop
finish
