#!/usr/bin/env bash
# Canned replies over HTTP against `keepword serve --demo`: admins,
# managers and a team's lead keep the team's replies in Chinese and English
# (unknown placeholders refused when saving); staff take one for a ticket,
# rendered in the requester's language (or the one asked for) with the
# ticket's fields filled in and times in the requester's zone; customers
# have no access; every refusal.
# usage: tests/http/canned.sh PATH/TO/keepword
set -u
KW=${1:?usage: canned.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo
MGR=$(login manager@keepword.demo keepword-demo)
ZHANG=$(login zhang.wei@keepword.demo keepword-demo)
TOM=$(login tom@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
me() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq "$2"; }
ZHANG_ID=$(me "$ZHANG" .id)
req GET /api/v1/teams "" "$MGR"
DESK=$(jq '.teams[] | select(.name == "国内服务台") | .id' "$TMP/body")
req POST /api/v1/teams "{\"name\":\"Printers\",\"lead_id\":$ZHANG_ID}" "$MGR"
is "a team an agent leads" 201
PRN=$(jq .id "$TMP/body")

# --- keeping replies ---
ZH='您好 {{requester.name}}，工单 #{{ticket.id}}「{{ticket.title}}」（{{ticket.level}}，{{ticket.state}}）已由{{team.name}}受理，预计 {{ticket.due}} 前答复。—— {{agent.name}}'
EN='Hello {{ requester.name }}, ticket #{{ticket.id}} "{{ticket.title}}" ({{ticket.level}}, {{ticket.state}}) is with {{team.name}} of {{org.name}}; resolution due {{due.resolution}}. {{assignee.name}} / {{agent.name}}'
body() { jq -nc --arg zh "$2" --arg en "$3" --argjson team "$1" --arg name "${4:-Acknowledge}" '{team_id:$team, name:$name, body_zh:$zh, body_en:$en}'; }
req POST /api/v1/canned "$(body "$DESK" "$ZH" "$EN")" "$MGR"
is "a manager saves the desk's reply" 201 \
    ".id > 0 and .team_id == $DESK and .team == \"国内服务台\" and .name == \"Acknowledge\" and (.body_en | contains(\"{{ requester.name }}\"))"
CID=$(jq .id "$TMP/body")
req POST /api/v1/canned "$(body "$PRN" "纸已补充。" "Paper refilled." "Paper")" "$ZHANG"
is "an agent saves a reply of the team they lead" 201 ".team_id == $PRN"
PAPER=$(jq .id "$TMP/body")
req POST /api/v1/canned "$(body "$DESK" "好" "ok" "Mine")" "$ZHANG"
is "but not another team's" 403 '.pointer == "/team_id" and (.detail | contains("lead"))'
req PATCH "/api/v1/canned/$CID" '{"name":"Hijack"}' "$ZHANG"
is "nor change one" 403
req PATCH "/api/v1/canned/$PAPER" "{\"team_id\":$DESK}" "$ZHANG"
is "nor move their own to another team" 403
req DELETE "/api/v1/canned/$CID" "" "$TOM"
is "nor delete one" 403
req POST /api/v1/canned "$(body "$DESK" "你好" "Hello")" "$CUST"
is "customers keep no replies" 403
req GET /api/v1/canned "" "$CUST"
is "nor read them" 403
req POST /api/v1/canned "$(body "$DESK" "您好 {{ticket.owner}}" "Hi" "Bad")" "$MGR"
is "an unknown placeholder is refused" 400 '.pointer == "/body_zh" and (.detail | contains("{{ticket.owner}}")) and (.detail | contains("ticket.title"))'
req POST /api/v1/canned "$(body "$DESK" "好" "Hi {{ticket.title" "Bad")" "$MGR"
is "an unclosed placeholder is refused" 400 '.pointer == "/body_en" and (.detail | contains("not closed"))'
req POST /api/v1/canned "$(body "$DESK" "  " "Hi" "Blank")" "$MGR"
is "a blank text is refused" 400 '.pointer == "/body_zh"'
req POST /api/v1/canned "$(body "$DESK" "好" "ok")" "$MGR"
is "one name per team" 409 '.pointer == "/name"'
req POST /api/v1/canned "$(body 99999 "好" "ok")" "$MGR"
is "an unknown team" 404 '.pointer == "/team_id"'
req POST /api/v1/canned "{\"team_id\":$DESK,\"name\":\"x\",\"body_zh\":\"好\"}" "$MGR"
is "both languages are needed" 400 '.pointer == "/body_en"'
req POST /api/v1/canned "$(body "$DESK" "$(head -c 8001 /dev/zero | tr '\0' a)" "ok" "Long")" "$MGR"
is "a text too long" 400 '.pointer == "/body_zh"'
req GET /api/v1/canned "" "$MGR"
is "nothing refused was kept" 200 \
    '(.canned | length) == 2 and (.placeholders | map(.name) | index("ticket.due")) != null'
req GET "/api/v1/canned?team_id=$PRN" "" "$TOM"
is "staff read every team's, or one team's" 200 ".canned == [.canned[0]] and .canned[0].id == $PAPER"
req PATCH "/api/v1/canned/$PAPER" '{"body_en":"Paper refilled in {{ticket.region}}."}' "$ZHANG"
is "the lead changes their team's reply; the rest stays" 200 \
    '.body_en == "Paper refilled in {{ticket.region}}." and .body_zh == "纸已补充。" and .name == "Paper"'
req PATCH "/api/v1/canned/$PAPER" '{"body_en":"{{nope}}"}' "$ZHANG"
is "a change is checked too" 400 '.pointer == "/body_en"'
req GET "/api/v1/canned/$PAPER" "" "$TOM"
is "and left it as it was" 200 '.body_en == "Paper refilled in {{ticket.region}}."'

# --- a reply for a ticket ---
req POST /api/v1/tickets '{"title":"打印机卡纸","level":"L2"}' "$CUST"
T=$(jq .id "$TMP/body")
req PATCH "/api/v1/tickets/$T" "{\"team_id\":$DESK,\"assignee_id\":$ZHANG_ID}" "$MGR"
is "the ticket goes to the desk and an agent" 200
req GET "/api/v1/tickets/$T/canned" "" "$TOM"
is "the ticket's page offers its team's replies first" 200 ".team_id == $DESK and [.canned[].id] == [$CID, $PAPER]"
req GET "/api/v1/tickets/$T/canned?reply=$CID" "" "$TOM"
is "rendered in the requester's language (none set: Chinese)" 200 \
    ".lang == \"zh\" and (.text | startswith(\"您好 赵磊，工单 #$T「打印机卡纸」（L2，\")) and (.text | contains(\"已由国内服务台受理\"))
     and (.text | endswith(\"—— Tom Becker\")) and (.text | contains(\"{{\") | not)"
curl -s -o /dev/null -X PATCH "$B/api/v1/me" -H "Authorization: Bearer $CUST" -H "Content-Type: application/json" \
    -d '{"lang":"en","tz":"Europe/London"}'
req GET "/api/v1/tickets/$T" "" "$TOM"
DUE=$(jq -r '[.clocks[] | select(.metric == "resolution")][0].deadline' "$TMP/body")
WANT=$(TZ=Europe/London date -d "$DUE" '+%Y-%m-%d %H:%M')
req GET "/api/v1/tickets/$T/canned?reply=$CID" "" "$TOM"
is "in the requester's language and zone once they set them" 200 \
    ".lang == \"en\" and .time_zone == \"Europe/London\" and (.text | startswith(\"Hello 赵磊, ticket #$T \\\"打印机卡纸\\\" (L2, \"))
     and (.text | contains(\"resolution due $WANT (Europe/London). 张伟 / Tom Becker\")) and (.text | contains(\"of 华信银行\"))"
req GET "/api/v1/tickets/$T/canned?reply=$CID&lang=zh" "" "$TOM"
is "or the language asked for" 200 '.lang == "zh" and (.text | startswith("您好"))'
req GET "/api/v1/tickets/$T/canned?reply=$CID&lang=fr" "" "$TOM"
is "only zh or en" 400 '.pointer == "/lang"'
req GET "/api/v1/tickets/$T/canned?reply=99999" "" "$TOM"
is "an unknown reply" 404 '.pointer == "/reply"'
req GET "/api/v1/tickets/$T/canned?reply=$CID" "" "$CUST"
is "customers take no canned replies" 403
req GET "/api/v1/tickets/99999/canned?reply=$CID" "" "$TOM"
is "an unknown ticket" 404

# --- deleting ---
req DELETE "/api/v1/canned/$PAPER" "" "$ZHANG"
is "the lead deletes their team's reply" 204
req GET "/api/v1/canned/$PAPER" "" "$ZHANG"
is "and it is gone" 404
req DELETE "/api/v1/canned/$PAPER" "" "$MGR"
is "deleting again" 404

finish
