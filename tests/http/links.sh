#!/usr/bin/env bash
# Links and merges over HTTP against `keepword serve --demo`: staff link
# two tickets (duplicate of: directed; related: both ways) and unlink them,
# each an event on both tickets; customers see a link only between two of
# their own organisation's tickets (never another's id or title); merging a
# duplicate moves its comments (public and internal, authors and times kept)
# and files onto the original, adds its watchers, closes it with a pointer
# and stops its clocks; every refusal.
# usage: tests/http/links.sh PATH/TO/keepword
set -u
KW=${1:?usage: links.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo
MGR=$(login manager@keepword.demo keepword-demo)
ZHANG=$(login zhang.wei@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)
me() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq "$2"; }
CUST_ID=$(me "$CUST" .id)
ZHANG_ID=$(me "$ZHANG" .id)
new_ticket() { # TITLE TOKEN
    req POST /api/v1/tickets "{\"title\":\"$1\",\"level\":\"L3\"}" "$2"
    jq .id "$TMP/body"
}
A=$(new_ticket "打印机卡纸 (original)" "$CUST")
D=$(new_ticket "printer jams again (duplicate)" "$CUST")
R=$(new_ticket "toner order" "$CUST")
X=$(new_ticket "东方 VPN down" "$OTHER")

# --- linking ---
req POST "/api/v1/tickets/$D/links" "{\"ticket\":$A,\"link\":\"duplicate_of\",\"reason\":\"same jam\"}" "$ZHANG"
is "an agent marks a duplicate" 201 \
    ".links == [{\"ticket\":$A,\"link\":\"duplicate_of\",\"title\":\"打印机卡纸 (original)\",\"state\":\"registered\",
       \"org_id\":.links[0].org_id,\"at\":.links[0].at,\"by\":$ZHANG_ID}] and .merged_into == null"
req GET "/api/v1/tickets/$A/links" "" "$ZHANG"
is "the original shows the other direction" 200 ".links[0].ticket == $D and .links[0].link == \"duplicated_by\""
req POST "/api/v1/tickets/$A/links" "{\"ticket\":$R,\"link\":\"related\"}" "$MGR"
is "a related link" 201 ".links | map(.link) | sort == [\"duplicated_by\", \"related\"]"
req GET "/api/v1/tickets/$R/links" "" "$MGR"
is "related goes both ways" 200 ".links == [.links[0]] and .links[0].ticket == $A and .links[0].link == \"related\""
req POST "/api/v1/tickets/$A/links" "{\"ticket\":$X,\"link\":\"related\"}" "$ZHANG"
is "staff may link two organisations' tickets" 201 '(.links | length) == 3'
req GET "/api/v1/tickets/$A/events" "" "$ZHANG"
is "each link is an event on the ticket" 200 \
    "[.events[] | select(.type == \"linked\") | .body] == [{\"ticket\":$D,\"link\":\"duplicated_by\",\"reason\":\"same jam\"},
      {\"ticket\":$R,\"link\":\"related\"},{\"ticket\":$X,\"link\":\"related\",\"cross_org\":true}]"
req GET "/api/v1/tickets/$X/events" "" "$ZHANG"
is "and on the other ticket" 200 "[.events[] | select(.type == \"linked\") | .body.ticket] == [$A]"

# --- what customers see ---
req GET "/api/v1/tickets/$A/links" "" "$CUST"
is "a customer sees links between their own tickets only" 200 \
    "(.links | map(.ticket) | sort) == ([$D, $R] | sort) and (tostring | contains(\"东方\") | not)"
req GET "/api/v1/tickets/$A/events" "" "$CUST"
is "and not the event naming the other organisation's ticket" 200 \
    "[.events[] | select(.type == \"linked\") | .body.ticket] == [$D, $R] and (tostring | contains(\"cross_org\") | not)"
req GET "/api/v1/tickets/$A" "" "$CUST"
is "the ticket's event count leaves it out too" 200 '.events == 3'
req GET "/api/v1/tickets/$X/links" "" "$OTHER"
is "the other organisation sees no link to the first" 200 '.links == []'
req GET "/api/v1/tickets/$X/events" "" "$OTHER"
is "nor its event" 200 '[.events[] | select(.type == "linked")] == []'
req GET "/api/v1/tickets/$A/links" "" "$OTHER"
is "another organisation's ticket's links are not found" 404

# --- refusals ---
req POST "/api/v1/tickets/$A/links" "{\"ticket\":$R,\"link\":\"related\"}" "$CUST"
is "customers do not link" 403
req POST "/api/v1/tickets/$A/links" "{\"ticket\":$A,\"link\":\"related\"}" "$ZHANG"
is "not to itself" 400 '.pointer == "/ticket" and (.detail | contains("itself"))'
req POST "/api/v1/tickets/$A/links" '{"ticket":999999,"link":"related"}' "$ZHANG"
is "not to an unknown ticket" 404 '.pointer == "/ticket" and (.detail | contains("999999"))'
req POST "/api/v1/tickets/$R/links" "{\"ticket\":$A,\"link\":\"duplicate_of\"}" "$ZHANG"
is "one link per pair, either way" 409 '.pointer == "/ticket" and (.detail | contains("linked already"))'
req POST "/api/v1/tickets/$A/links" "{\"ticket\":$R,\"link\":\"same_as\"}" "$ZHANG"
is "an unknown kind of link" 400 '.pointer == "/link" and (.detail | contains("duplicate_of"))'
req POST "/api/v1/tickets/$A/links" "{\"link\":\"related\"}" "$ZHANG"
is "a link needs the other ticket" 400 '.pointer == "/ticket"'
req POST "/api/v1/tickets/$A/links" "{\"ticket\":$R,\"link\":\"related\",\"colour\":1}" "$ZHANG"
is "an unknown member" 400 '.pointer == "/colour"'

# --- unlinking ---
req DELETE "/api/v1/tickets/$R/links?ticket=$A" "" "$ZHANG"
is "unlink from either end" 200 '.links == []'
req DELETE "/api/v1/tickets/$R/links?ticket=$A" "" "$ZHANG"
is "unlinking again: no such link" 404 '.pointer == "/ticket"'
req DELETE "/api/v1/tickets/$R/links" "" "$ZHANG"
is "unlink needs ?ticket" 400 '.pointer == "/ticket"'
req DELETE "/api/v1/tickets/$A/links?ticket=$X" "" "$CUST"
is "customers do not unlink" 403
req GET "/api/v1/tickets/$A/events" "" "$ZHANG"
is "the unlink is an event" 200 "[.events[] | select(.type == \"unlinked\") | .body] == [{\"ticket\":$R,\"link\":\"related\"}]"

# --- merging ---
req POST "/api/v1/tickets/$D/events" '{"type":"comment","text":"还是卡纸, second floor"}' "$CUST"
is "the customer comments on the duplicate" 201
req POST "/api/v1/tickets/$D/events" '{"type":"comment","text":"checked the roller","internal":true}' "$ZHANG"
is "an internal note on the duplicate" 201
printf 'jam photo' >"$TMP/jam.txt"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets/$D/attachments?name=jam.txt" \
    -H "Authorization: Bearer $CUST" -H "Content-Type: text/plain" --data-binary @"$TMP/jam.txt")
is "a file on the duplicate" 201
req POST "/api/v1/tickets/$D/watchers" "" "$ZHANG"
is "an agent watches the duplicate" 201
req GET "/api/v1/tickets/$D/events" "" "$ZHANG"
WRITTEN=$(jq -r '[.events[] | select(.type == "comment")][0].at' "$TMP/body")

req POST "/api/v1/tickets/$D/merge" "{\"into\":$A}" "$CUST"
is "customers do not merge" 403
req POST "/api/v1/tickets/$D/merge" "{\"into\":$D}" "$ZHANG"
is "not into itself" 400 '.pointer == "/into" and (.detail | contains("itself"))'
req POST "/api/v1/tickets/$D/merge" '{"into":999999}' "$ZHANG"
is "not into an unknown ticket" 404 '.pointer == "/into"'
req POST "/api/v1/tickets/$D/merge" "{\"into\":$X}" "$ZHANG"
is "not across organisations" 409 '.pointer == "/into" and (.detail | contains("another organisation"))'
req POST "/api/v1/tickets/$D/merge" '{}' "$ZHANG"
is "a merge needs into" 400 '.pointer == "/into"'
C=$(new_ticket "closed one" "$CUST")
for s in analysing handling feedback archived; do
    curl -s -o /dev/null -X POST "$B/api/v1/tickets/$C/events" -H "Authorization: Bearer $MGR" \
        -H "Content-Type: application/json" -d "{\"type\":\"transition\",\"to\":\"$s\"}"
done
req GET "/api/v1/tickets/$C" "" "$MGR"
is "a ticket closed the usual way" 200 '.state == "archived"'
req POST "/api/v1/tickets/$D/merge" "{\"into\":$C}" "$ZHANG"
is "not into a closed ticket" 409 '.pointer == "/into" and (.detail | contains("archived"))'
req POST "/api/v1/tickets/$C/merge" "{\"into\":$A}" "$ZHANG"
is "a closed ticket is not merged" 409 '(.detail | contains("archived"))'
req GET "/api/v1/tickets/$D" "" "$ZHANG"
is "nothing changed by the refusals" 200 '.state == "registered" and .merged_into == null'

req POST "/api/v1/tickets/$D/merge" "{\"into\":$A,\"reason\":\"same printer\"}" "$ZHANG"
is "an agent merges the duplicate into its original" 200 \
    ".ticket == $D and .merged_into == $A and .moved == {\"comments\":2,\"files\":1,\"watchers\":2}"
req GET "/api/v1/tickets/$D" "" "$CUST"
is "the duplicate is closed and points at the original" 200 ".state == \"archived\" and .merged_into == $A"
req GET "/api/v1/tickets/$D/events" "" "$ZHANG"
is "the duplicate's log ends with the merge and its closing" 200 \
    "[.events[-4:][] | .type] == [\"merged\", \"milestone\", \"milestone\", \"state\"] and .events[-4].body == {\"into\":$A,\"reason\":\"same printer\"}
     and [.events[-3,-2].body.milestone] == [\"first_response\", \"resolved\"]
     and .events[-1].body == {\"state\":\"archived\",\"from\":\"registered\",\"reason\":\"merged\"}"
req GET "/api/v1/tickets/$D/sla" "" "$ZHANG"
is "its clocks stopped" 200 '[.clocks[] | select(.status == "running" or .status == "paused" or .status == "breached")] == []'
req GET "/api/v1/tickets/$A/events" "" "$ZHANG"
is "the comments are on the original, with their authors and times, marked as moved" 200 \
    "[.events[] | select(.body.moved_from == $D) | {type, author: .body.author, internal: .body.internal}] ==
       [{\"type\":\"comment\",\"author\":$CUST_ID,\"internal\":false},{\"type\":\"comment\",\"author\":$ZHANG_ID,\"internal\":true},
        {\"type\":\"attachment\",\"author\":$CUST_ID,\"internal\":false}]
     and ([.events[] | select(.type == \"comment\" and .body.moved_from == $D)][0].body.written_at == \"$WRITTEN\")
     and (.events[-1] | .type == \"merged\" and .body == {\"from\":$D,\"comments\":2,\"files\":1,\"reason\":\"same printer\"})"
req GET "/api/v1/tickets/$A/events" "" "$CUST"
is "the customer sees the public comment and the file moved, not the note" 200 \
    "[.events[] | select(.body.moved_from == $D) | .type] == [\"comment\", \"attachment\"]"
req GET "/api/v1/tickets/$A/attachments" "" "$CUST"
AID=$(jq '.attachments[0].id' "$TMP/body")
is "the file is the original's now" 200 '(.attachments | length) == 1 and .attachments[0].name == "jam.txt"'
CODE=$(curl -s -o "$TMP/got" -w '%{http_code}' "$B/api/v1/attachments/$AID" -H "Authorization: Bearer $CUST")
cmp -s "$TMP/got" "$TMP/jam.txt"
check "and downloads with the same bytes" $? "(got $CODE)"
req GET "/api/v1/tickets/$A/watchers" "" "$ZHANG"
is "the duplicate's watcher and requester follow the original" 200 \
    "[.watchers[].user_id] | sort == ([$ZHANG_ID, $CUST_ID] | sort)"
req GET "/api/v1/tickets?q=second%20floor" "" "$ZHANG"
is "the moved comment is found on the original" 200 "[.tickets[].id] | index($A) != null"
req GET "/api/v1/tickets/$A/links" "" "$CUST"
is "the two are linked as merged" 200 "[.links[] | select(.ticket == $D) | .link] == [\"merged_from\"]"
req POST "/api/v1/tickets/$D/merge" "{\"into\":$R}" "$ZHANG"
is "a merged ticket is not merged again" 409 "(.detail | contains(\"merged into #$A already\"))"
req DELETE "/api/v1/tickets/$A/links?ticket=$D" "" "$ZHANG"
is "a merge is never undone" 409 '(.detail | contains("never undone"))'
req POST "/api/v1/tickets/$D/events" '{"type":"comment","text":"one more thing"}' "$CUST"
is "a merged duplicate takes no comment, and says where to write" 409 \
    "(.detail | contains(\"#$D was merged into #$A: comment on #$A\"))"
req POST "/api/v1/tickets/$D/events" '{"type":"comment","text":"a note","internal":true}' "$ZHANG"
is "nor a staff member's internal note" 409
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets/$D/attachments?name=more.txt" \
    -H "Authorization: Bearer $CUST" -H "Content-Type: text/plain" --data-binary @"$TMP/jam.txt")
is "nor a file, and it says where to attach it" 409 "(.detail | contains(\"#$D was merged into #$A: attach the file to #$A\"))"
req GET "/api/v1/tickets/$D/events" "" "$ZHANG"
is "nothing was added to the duplicate" 200 '.events[-1].type == "state"'
req POST "/api/v1/tickets/$D/events" '{"type":"reopen","reason":"not the same jam after all"}' "$ZHANG"
is "staff reopen the duplicate" 201
req POST "/api/v1/tickets/$D/events" '{"type":"comment","text":"a different jam"}' "$CUST"
is "reopened, it takes comments again" 201
req GET "/api/v1/tickets/$A/verify" "" "$ZHANG"
is "both chains verify" 200 '.valid == true'
req GET "/api/v1/tickets/$D/verify" "" "$ZHANG"
is "the duplicate's too" 200 '.valid == true'

finish
