#!/usr/bin/env bash
# Editing a ticket over HTTP against `keepword serve --demo` (PATCH
# /api/v1/tickets/{id}): staff change the title, description, category,
# region and requester; customers the title and description of their own
# organisation's requests while they are worked on; each change is one
# event in the hash chain with the value before and after; the new title
# and description are found by search; every refusal names its field.
# usage: tests/http/edit.sh PATH/TO/keepword
set -u
KW=${1:?usage: edit.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --demo
ADMIN=$(login admin@localhost correct-horse)
ZHANG=$(login zhang.wei@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)
me() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq "$2"; }
CUST_ID=$(me "$CUST" .id)
CUST_ORG=$(me "$CUST" .org_id)
OTHER_ID=$(me "$OTHER" .id)
ZHANG_ID=$(me "$ZHANG" .id)
req POST /api/v1/users "{\"email\":\"wu@huaxin.demo\",\"name\":\"吴敏\",\"role\":\"customer\",\"org_id\":$CUST_ORG,\"password\":\"password-wu\"}" "$ADMIN"
is "a second contact of the customer's organisation" 201
WU_ID=$(jq .id "$TMP/body")

req POST /api/v1/tickets '{"title":"打印机卡纸","description":"三楼的打印机","level":"L3","category":"technical"}' "$CUST"
is "the customer opens a request" 201
T=$(jq .id "$TMP/body")
EVENTS=$(jq .events "$TMP/body")
# a new ticket's text follows the edit's rules: the title one line, the
# description and comments tabs and line breaks but no other control
req POST /api/v1/tickets '{"title":"bell \u0007","level":"L3"}' "$CUST"
is "a control character in a new ticket's title" 400 '.pointer == "/title" and (.detail | test("control characters"))'
req POST /api/v1/tickets '{"title":"two\nlines","level":"L3"}' "$CUST"
is "a new ticket's title of two lines" 400 '.pointer == "/title" and (.detail | test("one line"))'
req POST /api/v1/tickets '{"title":"x","description":"esc \u001b[31m","level":"L3"}' "$CUST"
is "an escape in a new ticket's description" 400 '.pointer == "/description"'
req POST /api/v1/tickets '{"title":"x","description":"c1 \u0085","level":"L3"}' "$CUST"
is "a C1 control in a new ticket's description" 400 '.pointer == "/description"'
req POST /api/v1/tickets '{"title":"打印机卡纸 (2)","level":"L3"}' "$CUST"
is "another request" 201
T2=$(jq .id "$TMP/body")
req POST "/api/v1/tickets/$T2/events" '{"type":"comment","text":"bell \u0007"}' "$CUST"
is "a control character in a comment" 400 '.pointer == "/text" and (.detail | test("only tabs and line breaks"))'
req POST "/api/v1/tickets/$T2/events" '{"type":"comment","text":"第一行\n\tsecond line\r\n"}' "$CUST"
is "a comment keeps its tabs and line breaks" 201
req GET "/api/v1/tickets/$T2/events" "" "$CUST"
is "as written" 200 '[.events[] | select(.type == "comment")][-1].body.text == "第一行\n\tsecond line\r\n"'
last() { # the last event of ticket $1 as TOKEN $2 (in $TMP/last)
    req GET "/api/v1/tickets/$1/events" "" "$2"
    jq '.events[-1]' "$TMP/body" >"$TMP/last"
}

# --- staff edit every field ---
req PATCH "/api/v1/tickets/$T" '{"title":"Printer on 3F jams (打印机卡纸)","reason":"clearer title"}' "$ZHANG"
is "an agent corrects the title" 200 '.title == "Printer on 3F jams (打印机卡纸)"'
last "$T" "$ZHANG"
check "the edit is an event with before and after" "$(jq -e '.type == "edited" and .body.field == "title"
    and .body.from == "打印机卡纸" and .body.to == "Printer on 3F jams (打印机卡纸)" and .body.reason == "clearer title"' "$TMP/last" >/dev/null; echo $?)"
req PATCH "/api/v1/tickets/$T" "{\"description\":\"Paper jams on every second page.\nTray 2.\",\"category\":\"consultation\",\"region\":\"north\",\"requester_id\":$WU_ID}" "$ZHANG"
is "description, category, region and requester at once" 200 \
    ".category == \"consultation\" and .region == \"north\" and .requester_id == $WU_ID and .requester_name == \"吴敏\""
req GET "/api/v1/tickets/$T/events" "" "$ZHANG"
is "one event per field that changed, in the chain" 200 \
    "[.events[-4:][] | .type] == [\"edited\",\"category\",\"region\",\"requester\"]
     and .events[-4].body == {\"field\":\"description\",\"from\":\"三楼的打印机\",\"to\":\"Paper jams on every second page.\nTray 2.\"}
     and .events[-3].body.from == \"technical\" and .events[-3].body.category == \"consultation\"
     and .events[-1].body == {\"requester_id\":$WU_ID,\"from\":$CUST_ID}"
req GET "/api/v1/tickets/$T/verify" "" "$ADMIN"
is "the chain verifies" 200 '.valid == true'
N=$(curl -s "$B/api/v1/tickets/$T" -H "Authorization: Bearer $ZHANG" | jq .events)
req PATCH "/api/v1/tickets/$T" '{"title":"Printer on 3F jams (打印机卡纸)","region":"north"}' "$ZHANG"
is "the same values again: no event" 200 ".events == $N"

# --- search finds the new texts ---
req GET "/api/v1/tickets?q=Tray%202" "" "$ZHANG"
is "the new description is searched" 200 "[.tickets[].id] | index($T) != null"
req GET "/api/v1/tickets?q=Printer%20on%203F" "" "$CUST"
is "the new title is searched (by the customer too)" 200 "[.tickets[].id] == [$T]"

# --- the customer: title and description only ---
req PATCH "/api/v1/tickets/$T" '{"description":"Paper jams on every page now.\tTray 2."}' "$CUST"
is "the customer rewrites the description" 200
last "$T" "$CUST"
check "and sees their edit in the timeline" "$(jq -e --argjson me "$CUST_ID" '.type == "edited" and .actor == $me and .body.field == "description"' "$TMP/last" >/dev/null; echo $?)"
req PATCH "/api/v1/tickets/$T" '{"category":"technical"}' "$CUST"
is "but not the category" 403 '.pointer == "/category"'
req PATCH "/api/v1/tickets/$T" "{\"requester_id\":$CUST_ID}" "$CUST"
is "nor the requester" 403 '.pointer == "/requester_id"'
req PATCH "/api/v1/tickets/$T" '{"level":"L1"}' "$CUST"
is "nor the level" 403 '.pointer == "/level"'
req PATCH "/api/v1/tickets/$T" '{"title":"mine now"}' "$OTHER"
is "another organisation's customer does not see it" 404
req PATCH "/api/v1/tickets/$T" '{}' "$CUST"
is "nothing to change" 400

# --- bad input, each named ---
req PATCH "/api/v1/tickets/$T" '{"title":"   "}' "$ZHANG"
is "a blank title" 400 '.pointer == "/title"'
req PATCH "/api/v1/tickets/$T" '{"title":"two\nlines"}' "$ZHANG"
is "a title of two lines" 400 '.pointer == "/title" and (.detail | test("control characters"))'
req PATCH "/api/v1/tickets/$T" '{"description":"bell \u0007"}' "$ZHANG"
is "a control character in the description" 400 '.pointer == "/description"'
req PATCH "/api/v1/tickets/$T" '{"description":"c1 \u0085"}' "$ZHANG"
is "a C1 control character" 400 '.pointer == "/description"'
LONG=$(printf 'x%.0s' $(seq 1 501))
req PATCH "/api/v1/tickets/$T" "{\"title\":\"$LONG\"}" "$ZHANG"
is "a title over 500 bytes" 400 '.pointer == "/title"'
req PATCH "/api/v1/tickets/$T" "$(printf '{"title":"bad \xff utf-8"}')" "$ZHANG"
is "a title that is not UTF-8" 400
req PATCH "/api/v1/tickets/$T" '{"category":"gardening"}' "$ZHANG"
is "a category the commitment does not know" 400 '.pointer == "/category"'
req PATCH "/api/v1/tickets/$T" '{"region":""}' "$ZHANG"
is "an empty region" 400 '.pointer == "/region"'
req PATCH "/api/v1/tickets/$T" "{\"requester_id\":$OTHER_ID}" "$ZHANG"
is "a requester of another organisation" 400 '.pointer == "/requester_id" and (.detail | test("not a customer of organisation"))'
req PATCH "/api/v1/tickets/$T" "{\"requester_id\":$ZHANG_ID}" "$ZHANG"
is "staff as the requester" 400 '.pointer == "/requester_id"'
req PATCH "/api/v1/tickets/$T" '{"title":7}' "$ZHANG"
is "a title that is not a string" 400 '.pointer == "/title"'
req PATCH "/api/v1/tickets/$T" '{"subject":"x"}' "$ZHANG"
is "an unknown member" 400 '.pointer == "/subject"'
req GET "/api/v1/tickets/$T" "" "$ZHANG"
is "nothing was lost by the refusals" 200 ".title == \"Printer on 3F jams (打印机卡纸)\" and .requester_id == $WU_ID"

# --- states: customers not once resolved, nobody once archived ---
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"handling"}' "$ZHANG"
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"feedback"}' "$ZHANG"
is "the agent proposes a resolution" 201 '.state == "feedback"'
req PATCH "/api/v1/tickets/$T" '{"title":"still broken"}' "$CUST"
is "the customer may not edit a resolved request" 409 '.pointer == "/title"'
req PATCH "/api/v1/tickets/$T" '{"title":"Printer on 3F jams: roller replaced"}' "$ZHANG"
is "staff may" 200
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"archived"}' "$CUST"
is "the customer confirms" 201 '.state == "archived"'
req PATCH "/api/v1/tickets/$T" '{"description":"rewritten"}' "$ZHANG"
is "nobody rewrites an archived ticket" 409
req PATCH "/api/v1/tickets/$T" '{"reason":"x"}' "$ZHANG"
is "a reason alone changes nothing" 200
[ "$EVENTS" -ge 1 ] || check "the created ticket had events" 1
req GET /api/v1/catalogue ""
is "the catalogue names the edit events in both languages" 200 \
    '[.events[] | select(.type == "edited" or .type == "region" or .type == "requester") | .label.zh, .label.en]
     == ["修改了区域","changed the region","编辑了工单","edited the ticket","更换了报告人","changed the requester"]
     and all(.events[]; (.label.zh | type) == "string" and (.label.en | type) == "string")'

serve_stop
finish
