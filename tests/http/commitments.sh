#!/usr/bin/env bash
# The commitment editor's server side over HTTP against `keepword serve
# --demo`: POST /api/v1/commitments/{id}/diff says what publishing a draft
# would change against a version (targets old -> new for whom, rules,
# levels, metrics, vocabulary values, other members), checks the draft as a
# publication would and writes nothing; who may ask; and what a customer
# reads of the version in force (the letter of their organisation).
# usage: tests/http/commitments.sh PATH/TO/keepword
set -u
KW=${1:?usage: commitments.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --demo
MGR=$(login manager@keepword.demo keepword-demo)
AGENT=$(login li.na@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
ID=$(curl -s "$B/api/v1/commitments" -H "Authorization: Bearer $MGR" | jq -r .in_force)
curl -s "$B/api/v1/commitments/$ID" -H "Authorization: Bearer $MGR" >"$TMP/doc.json"
COUNT=$(curl -s "$B/api/v1/commitments" -H "Authorization: Bearer $MGR" | jq '.commitments | length')
# draft FILTER: the version in force edited by a jq filter, as a new version
draft() { jq -c "(.version = \"next\") | $1" "$TMP/doc.json"; }

req POST "/api/v1/commitments/$ID/diff" "$(draft .)" "$MGR"
is "an unchanged draft changes nothing" 200 \
    ".from.id == $ID and .to.version == \"next\" and .changes == [] and .other == []"

req POST "/api/v1/commitments/$ID/diff" "$(draft '.targets[0].response = "10m"')" "$MGR"
is "a target edited in the table: old -> new, for whom" 200 \
    '.changes == [{"change":"target_changed","rule":{"index":0,"id":"L1","when":{"level":["L1"]}},
      "metric":"response","old":{"target":900,"calendar":"24x7"},"new":{"target":600,"calendar":"24x7"}}]'

req POST "/api/v1/commitments/$ID/diff" "$(draft '.targets[0].response = "15m" | .targets[0].resolution = "60m"')" "$MGR"
is "the same targets written otherwise are no change" 200 '.changes == []'

req POST "/api/v1/commitments/$ID/diff" \
    "$(draft '.targets = [{"id":"vip-phone","when":{"tier":"vip","channel":["phone"]},"calendar":"24x7","response":"5m"}] + .targets[1:]')" "$MGR"
is "a rule added and one removed, with their targets" 200 \
    '(.changes | map(.change)) == ["rule_added","rule_removed"]
     and .changes[0].rule == {"index":0,"id":"vip-phone","when":{"tier":["vip"],"channel":["phone"]}}
     and .changes[0].targets == {"response":{"target":300,"calendar":"24x7"}}
     and .changes[1].rule.id == "L1" and .changes[1].targets.resolution.target == 3600'

req POST "/api/v1/commitments/$ID/diff" \
    "$(draft '.levels += [{"id":"L5","label":{"zh":"五级","en":"L5 note"}}] | .levels[0].label.en = "L1 critical"
              | .metrics[0].warn_at = [80] | .escalations = []')" "$MGR"
is "levels added and relabelled, a metric's warnings, other members by name" 200 \
    '(.changes | map(.change)) == ["level_relabeled","level_added","metric_changed"]
     and .changes[0].old.en == "L1 severe" and .changes[0].new.en == "L1 critical"
     and .changes[1].level == {"id":"L5","label":{"zh":"五级","en":"L5 note"}}
     and .changes[2].field == "warn_at" and .changes[2].new == [80]
     and (.other | index("escalations")) != null'

req POST "/api/v1/commitments/$ID/diff" "$(draft '.targets[0].when.level = "L9"')" "$MGR"
is "a draft with an unknown level is refused with its pointer" 400 \
    '.pointer == "/targets/0/when/level/0" and (.detail | test("L9"))'
req POST "/api/v1/commitments/$ID/diff" "$(draft '.calendars.office = "no-such-calendar"')" "$MGR"
is "a draft naming a calendar that is not stored is refused" 400 '.pointer == "/calendars/office"'
req POST "/api/v1/commitments/$ID/diff" '[1]' "$MGR"
is "a body that is not an object is refused" 400
req POST "/api/v1/commitments/999999/diff" "$(draft .)" "$MGR"
is "against a commitment that does not exist: 404" 404
req POST "/api/v1/commitments/$ID/diff" "$(draft .)" "$AGENT"
is "an agent may not ask" 403
req POST "/api/v1/commitments/$ID/diff" "$(draft .)" "$CUST"
is "nor may a customer" 403
req GET "/api/v1/commitments/$ID/diff" "" "$MGR"
is "GET is not a method of the diff" 405
req GET /api/v1/commitments "" "$MGR"
is "a diff publishes nothing" 200 ".commitments | length == $COUNT"

# --- what the customer reads: the letter of the version in force ---
req GET /api/v1/commitments "" "$CUST"
is "a customer is told which version is in force" 200 ".in_force == $ID"
req GET "/api/v1/commitments/$ID/letter?lang=en&format=html" "" "$CUST"
is "and reads its letter in English" 200
grep -q "response" "$TMP/body"
check "the English letter is in English" $?
req GET "/api/v1/commitments/$ID/letter?lang=zh&format=html" "" "$CUST"
is "and in Chinese" 200
grep -q "响应" "$TMP/body"
check "the Chinese letter is in Chinese" $?

serve_stop
finish
