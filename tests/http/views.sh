#!/usr/bin/env bash
# Saved views, sorted lists and bulk changes over HTTP against `keepword
# serve --demo`: a person keeps views of the ticket list (name, filters,
# columns, sort), shares them with a team; who sees, changes and deletes
# which; every check of a view's filters, columns and sort; the list
# sorted by any column either way, paged; and one call that assigns,
# moves or changes the level of many tickets, each ticket with its own
# events, a refused ticket reported and the others done.
# usage: tests/http/views.sh PATH/TO/keepword
set -u
KW=${1:?usage: views.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo
MGR=$(login manager@keepword.demo keepword-demo)
EMMA=$(login emma.clarke@keepword.demo keepword-demo)
LINA=$(login li.na@keepword.demo keepword-demo)   # agent, team 1
ZHANG=$(login zhang.wei@keepword.demo keepword-demo) # agent, team 1
TOM=$(login tom@keepword.demo keepword-demo)     # agent, team 2
CUST=$(login it@huaxin.demo keepword-demo)
uid() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq .id; }
LINA_ID=$(uid "$LINA")
TOM_ID=$(uid "$TOM")
MGR_ID=$(uid "$MGR")
TEAMS=$(curl -s "$B/api/v1/teams" -H "Authorization: Bearer $MGR")
T1=$(jq '.teams[0].id' <<<"$TEAMS")
T2=$(jq '.teams[1].id' <<<"$TEAMS")

# --- saved views ---
req POST /api/v1/views '{"name":"我的 L1","filters":{"view":"mine","level":"L1"},"columns":["id","title","due"],"sort":"-due"}' "$LINA"
is "an agent saves a view of their own" 201 \
    ".name == \"我的 L1\" and .owner_id == $LINA_ID and .team_id == null and .shared == false
     and .filters == {\"view\":\"mine\",\"level\":\"L1\"} and .columns == [\"id\",\"title\",\"due\"]
     and .sort == \"-due\" and .editable == true"
V_OWN=$(jq .id "$TMP/body")
req GET "/api/v1/views/$V_OWN" "" "$LINA"
is "and reads it back" 200 ".id == $V_OWN and .filters.level == \"L1\""
req POST /api/v1/views '{"name":"我的 L1"}' "$LINA"
is "a second view of the same name is refused" 409 '.pointer == "/name"'
req POST /api/v1/views '{"name":"我的 L1"}' "$ZHANG"
is "another person may use the name" 201 '.filters == {} and .columns == [] and .sort == null'
V_ZHANG=$(jq .id "$TMP/body")
req POST /api/v1/views "{\"name\":\"Team breached\",\"team_id\":$T1,\"filters\":{\"view\":\"breached\"}}" "$LINA"
is "an agent shares a view with their own team" 201 ".team_id == $T1 and .shared == true"
V_TEAM1=$(jq .id "$TMP/body")
req POST /api/v1/views "{\"name\":\"Not mine to share\",\"team_id\":$T2}" "$LINA"
is "but not with another team" 403 '.pointer == "/team_id"'
req POST /api/v1/views "{\"name\":\"Intl unassigned\",\"team_id\":$T2,\"filters\":{\"view\":\"unassigned\",\"team_id\":$T2}}" "$MGR"
is "a manager shares a view with any team" 201 ".team_id == $T2 and .owner_id == $MGR_ID"
V_TEAM2=$(jq .id "$TMP/body")

req GET /api/v1/views "" "$ZHANG"
is "a team-mate sees their own and their team's views" 200 \
    "([.views[].id] | sort) == ([$V_ZHANG, $V_TEAM1] | sort)"
req GET /api/v1/views "" "$ZHANG"
is "a shared view is not theirs to change" 200 ".views[] | select(.id == $V_TEAM1) | .editable == false"
req GET /api/v1/views "" "$TOM"
is "the other team sees only what is shared with them" 200 "[.views[].id] == [$V_TEAM2]"
req GET "/api/v1/views/$V_OWN" "" "$TOM"
is "someone else's own view is 404" 404 '.detail == "no such view"'
req GET /api/v1/views "" "$EMMA"
is "a manager sees every shared view" 200 \
    "([.views[].id] | sort) == ([$V_TEAM1, $V_TEAM2] | sort) and all(.views[]; .editable)"
req GET /api/v1/views "" "$CUST"
is "customers keep no views" 403 '.detail | contains("provider")'
req POST /api/v1/views '{"name":"x"}' "$CUST"
is "nor save one" 403
req GET /api/v1/views ""
is "without a login" 401

# --- changing and deleting ---
req PATCH "/api/v1/views/$V_OWN" '{"sort":"title","columns":["title","state"]}' "$LINA"
is "the owner changes the sort and columns; the rest is kept" 200 \
    '.sort == "title" and .columns == ["title","state"] and .name == "我的 L1" and .filters.view == "mine"'
req PATCH "/api/v1/views/$V_OWN" '{"sort":null}' "$LINA"
is "null sort: the list's default" 200 '.sort == null'
req PATCH "/api/v1/views/$V_TEAM1" '{"name":"Hijacked"}' "$ZHANG"
is "a team-mate cannot change a shared view" 403 '.detail | contains("owner")'
req PATCH "/api/v1/views/$V_TEAM1" '{"name":"Team 1 breached"}' "$EMMA"
is "a manager can" 200 ".name == \"Team 1 breached\" and .owner_id == $LINA_ID"
req PATCH "/api/v1/views/$V_TEAM1" '{"team_id":null}' "$LINA"
is "the owner stops sharing it" 200 '.shared == false and .team_id == null'
req GET "/api/v1/views/$V_TEAM1" "" "$ZHANG"
is "and the team no longer sees it" 404
req PATCH "/api/v1/views/$V_OWN" '{"name":"Team breached"}' "$ZHANG"
is "another's own view is 404 to change" 404
req DELETE "/api/v1/views/$V_OWN" "" "$TOM"
is "and to delete" 404
req DELETE "/api/v1/views/$V_TEAM2" "" "$TOM"
is "a shared view is not the team's to delete" 403
req DELETE "/api/v1/views/$V_ZHANG" "" "$ZHANG"
is "the owner deletes a view" 204
req GET "/api/v1/views/$V_ZHANG" "" "$ZHANG"
is "it is gone" 404
req DELETE "/api/v1/views/$V_ZHANG" "" "$ZHANG"
is "deleting it again" 404
req DELETE /api/v1/views/999999 "" "$MGR"
is "an unknown view" 404 '.detail == "no such view"'

# --- bad input: clear problems, nothing saved ---
bad() { # NAME BODY POINTER
    req POST /api/v1/views "$2" "$TOM"
    is "$1" 400 ".pointer == \"$3\""
}
bad "no name" '{"filters":{}}' /name
bad "a blank name" '{"name":"   "}' /name
bad "a name too long" "{\"name\":\"$(printf 'x%.0s' $(seq 81))\"}" /name
bad "filters not an object" '{"name":"a","filters":[]}' /filters
bad "an unknown filter" '{"name":"a","filters":{"colour":"red"}}' /filters/colour
bad "an unknown built-in view" '{"name":"a","filters":{"view":"someday"}}' /filters/view
bad "an assignee that is no id" '{"name":"a","filters":{"assignee_id":"someone"}}' /filters/assignee_id
bad "an org that is no id" '{"name":"a","filters":{"org_id":-3}}' /filters/org_id
bad "breached neither true nor false" '{"name":"a","filters":{"breached":"yes"}}' /filters/breached
bad "an unknown state" '{"name":"a","filters":{"state":"sleeping"}}' /filters/state
bad "a filter value that is no string" '{"name":"a","filters":{"level":1}}' /filters/level
bad "columns not an array" '{"name":"a","columns":"id"}' /columns
bad "an unknown column" '{"name":"a","columns":["id","colour"]}' /columns/1
bad "a column twice" '{"name":"a","columns":["id","id"]}' /columns/1
bad "an unknown sort" '{"name":"a","sort":"colour"}' /sort
bad "a sort that is no string" '{"name":"a","sort":3}' /sort
bad "an unknown member" '{"name":"a","owner_id":1}' /owner_id
req POST /api/v1/views "{\"name\":\"a\",\"team_id\":999}" "$MGR"
is "an unknown team" 404 '.pointer == "/team_id"'
req POST /api/v1/views '{"name":"a"' "$TOM"
is "broken JSON" 400
req GET /api/v1/views "" "$TOM"
is "none of them was saved" 200 "[.views[].id] == [$V_TEAM2]"
for i in $(seq 1 50); do
    curl -s -o /dev/null -X POST "$B/api/v1/views" -H "Authorization: Bearer $TOM" \
        -H "Content-Type: application/json" -d "{\"name\":\"v$i\"}"
done
req POST /api/v1/views '{"name":"one too many"}' "$TOM"
is "at most 50 views per person" 409 '.detail | contains("50")'

# --- the list sorted by any column, either way, paged ---
q() { req GET "/api/v1/tickets?$1" "" "$2"; }
ALL=$(curl -s "$B/api/v1/tickets?state=open&limit=500" -H "Authorization: Bearer $MGR")
q "state=open&sort=title&limit=500" "$MGR"
is "by title" 200 "[.tickets[].title] == ($ALL | [.tickets[].title] | sort)"
q "state=open&sort=-title&limit=500" "$MGR"
is "by title, descending" 200 "[.tickets[].title] == ($ALL | [.tickets[].title] | sort | reverse)"
q "state=open&sort=-id&limit=500" "$MGR"
is "newest first" 200 "[.tickets[].id] == ($ALL | [.tickets[].id] | sort | reverse)"
q "state=open&sort=level&limit=500" "$MGR"
is "by level, then id" 200 "[.tickets[] | [.level, .id]] == ($ALL | [.tickets[] | [.level, .id]] | sort)"
q "sort=-updated&limit=500" "$MGR"
is "by last change, newest first" 200 "[.tickets[].updated_at] == ([.tickets[].updated_at] | sort | reverse)"
q "state=open&sort=title&limit=3" "$MGR"
is "a page of three" 200 '(.tickets | length) == 3 and .next == 3'
P1=$(jq -c '[.tickets[].id]' "$TMP/body")
q "state=open&sort=title&limit=3&after=3" "$MGR"
is "the next page follows on" 200 \
    "[.tickets[].id] == ($ALL | [.tickets[] | [.title, .id]] | sort | .[3:6] | map(.[1])) and ([.tickets[].id] - $P1) == [.tickets[].id]"
q "sort=colour" "$MGR"
is "an unknown sort" 400 '.detail | contains("updated")'
q "sort=-relevance" "$MGR"
is "relevance is a search's" 400
q "q=printer&sort=title" "$MGR"
is "a search keeps its order of relevance" 400 '.detail | contains("relevance")'
q "sort=title&after=x" "$MGR"
is "a bad offset" 400
q "sort=-id&limit=500" "$CUST"
is "a customer's sorted list stays in their organisation" 200 \
    "([.tickets[].org_id] | unique) == [$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $CUST" | jq .org_id)]"

# --- bulk: assign, move, level ---
OPEN=$(curl -s "$B/api/v1/tickets?state=handling&limit=500" -H "Authorization: Bearer $MGR")
A=$(jq '.tickets[0].id' <<<"$OPEN")
Bt=$(jq '.tickets[1].id' <<<"$OPEN")
EV_A=$(jq '.tickets[0].events' <<<"$OPEN")
req POST /api/v1/tickets/bulk "{\"ids\":[$A,$Bt],\"assignee_id\":$TOM_ID,\"team_id\":$T2}" "$LINA"
is "an agent assigns two tickets at once" 200 \
    ".done == 2 and .refused == 0 and all(.results[]; .status == 200 and .assignee_id == $TOM_ID and .team_id == $T2)
     and [.results[].id] == [$A, $Bt]"
req GET "/api/v1/tickets/$A/events" "" "$MGR"
is "each ticket has its own assigned event" 200 \
    "[.events[] | select(.type == \"assigned\")] | last | .body.assignee_id == $TOM_ID"
req GET "/api/v1/tickets/$A/verify" "" "$MGR"
is "and its chain still verifies" 200 ".valid == true"
req POST /api/v1/tickets/bulk "{\"ids\":[$A,999999,$Bt],\"level\":\"L1\",\"reason\":\"bulk raise\"}" "$MGR"
is "an unknown ticket is reported and the others are done" 200 \
    ".done == 2 and .refused == 1 and .results[1] == {\"id\":999999,\"status\":404,\"code\":\"not_found\",\"detail\":\"no such ticket\"}
     and .results[0].level == \"L1\" and .results[2].level == \"L1\""
req POST /api/v1/tickets/bulk "{\"ids\":[$A,$Bt],\"level\":\"L9\"}" "$MGR"
is "a level the commitment does not know: each refused, with its pointer" 200 \
    '.done == 0 and all(.results[]; .status == 400 and .pointer == "/level" and .code == "level_unknown")'
req POST /api/v1/tickets/bulk "{\"ids\":[$A],\"state\":\"feedback\",\"reason\":\"fixed\"}" "$MGR"
is "a move" 200 '.done == 1 and .results[0].state == "feedback"'
req GET "/api/v1/tickets/$A/events" "" "$MGR"
is "with its own state event and the implied milestone" 200 \
    '([.events[] | select(.type == "state")] | last | .body.state == "feedback")
     and ([.events[] | select(.type == "milestone")] | last | .body.milestone == "resolved")'
req POST /api/v1/tickets/bulk "{\"ids\":[$A,$Bt],\"state\":\"feedback\"}" "$MGR"
is "a ticket already there is not moved again" 200 '.done == 2'
req GET "/api/v1/tickets/$A" "" "$MGR"
is "so it has no second state event" 200 ".events > $EV_A"
EV_NOW=$(jq .events "$TMP/body")
req POST /api/v1/tickets/bulk "{\"ids\":[$A],\"state\":\"feedback\"}" "$MGR"
req GET "/api/v1/tickets/$A" "" "$MGR"
is "nothing written when nothing changes" 200 ".events == $EV_NOW"
ARCH=$(curl -s "$B/api/v1/tickets?state=archived&limit=1" -H "Authorization: Bearer $MGR" | jq '.tickets[0].id')
req POST /api/v1/tickets/bulk "{\"ids\":[$ARCH,$Bt],\"state\":\"analysing\"}" "$MGR"
is "a move the workflow does not allow is refused for that ticket" 200 \
    ".results[0].status == 409 and .results[0].pointer == \"/to\"
     and .results[0].code == \"move_not_allowed\" and .results[0].state == \"archived\""

bulk_bad() { # NAME BODY STATUS POINTER
    req POST /api/v1/tickets/bulk "$2" "$MGR"
    is "$1" "$3" ".pointer == \"$4\""
}
bulk_bad "no ids" '{"level":"L1"}' 400 /ids
bulk_bad "ids empty" '{"ids":[],"level":"L1"}' 400 /ids
bulk_bad "an id that is no id" "{\"ids\":[$A,\"x\"],\"level\":\"L1\"}" 400 /ids/1
bulk_bad "an id twice" "{\"ids\":[$A,$A],\"level\":\"L1\"}" 400 /ids/1
bulk_bad "more than 100 tickets" "{\"ids\":[$(seq -s, 1 101)],\"level\":\"L1\"}" 413 /ids
bulk_bad "an unknown state" "{\"ids\":[$A],\"state\":\"sleeping\"}" 400 /state
bulk_bad "an unknown member" "{\"ids\":[$A],\"colour\":\"red\"}" 400 /colour
req POST /api/v1/tickets/bulk "{\"ids\":[$A]}" "$MGR"
is "nothing to change" 400 '.detail | contains("nothing to change")'
req POST /api/v1/tickets/bulk "{\"ids\":[$A],\"assignee_id\":$(uid "$CUST")}" "$MGR"
is "a customer cannot be the assignee" 200 '.results[0].status == 400 and .results[0].pointer == "/assignee_id"'
req POST /api/v1/tickets/bulk "{\"ids\":[$A],\"level\":\"L1\"}" "$CUST"
is "customers make no bulk changes" 403 '.detail | contains("staff")'
req GET /api/v1/tickets/bulk "" "$MGR"
is "bulk is POST only" 405

finish
