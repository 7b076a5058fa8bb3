#!/usr/bin/env bash
# People and organisations over HTTP against `keepword serve --demo`: an
# admin edits a person (name, e-mail, role, team, skills, language, time
# zone), deactivates them (their sessions, API tokens and open live stream
# stop at once; nothing is deleted) and activates them again, resets a
# password; everyone edits their own name, language and time zone and
# changes their own password (with the current one); managers edit and
# deactivate organisations (tier, region, calendar, account manager checked
# against the commitment and the stored calendars). Every refusal: roles,
# other organisations, bad input.
# usage: tests/http/people.sh PATH/TO/keepword
set -u
KW=${1:?usage: people.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo
ADMIN=$(login admin@localhost correct-horse)
MGR=$(login manager@keepword.demo keepword-demo)
AGENT=$(login li.na@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)
uid() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq .id; }
ADMIN_ID=$(uid "$ADMIN")
AGENT_ID=$(uid "$AGENT")
CUST_ID=$(uid "$CUST")
MGR_ID=$(uid "$MGR")
OTHER_ID=$(uid "$OTHER")
CUST_ORG=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $CUST" | jq .org_id)
OTHER_ORG=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $OTHER" | jq .org_id)
TEAMS=$(curl -s "$B/api/v1/teams" -H "Authorization: Bearer $MGR")
TEAM2=$(jq '.teams[1].id' <<<"$TEAMS")

# --- reading a person ---
req GET "/api/v1/users/$AGENT_ID" "" "$MGR"
is "staff read a person, with language, zone and whether they are active" 200 \
    '.active == true and .deactivated_at == null and has("lang") and has("tz")'
req GET "/api/v1/users/$CUST_ID" "" "$CUST"
is "a customer reads themselves" 200
req GET "/api/v1/users/$OTHER_ID" "" "$CUST"
is "but not another organisation's people" 404
req GET "/api/v1/users/999999" "" "$ADMIN"
is "an unknown person is 404" 404 '.detail == "no such user"'

# --- an admin edits a person ---
req PATCH "/api/v1/users/$AGENT_ID" "{\"name\":\"李娜 (Lina)\",\"email\":\"lina@keepword.demo\",\"role\":\"manager\",\"team_id\":$TEAM2,\"skills\":[\"network\",\"printers\"],\"lang\":\"en\",\"tz\":\"Europe/Berlin\"}" "$ADMIN"
is "an admin edits every field of a person" 200 \
    ".name == \"李娜 (Lina)\" and .email == \"lina@keepword.demo\" and .role == \"manager\" and .team_id == $TEAM2
     and .skills == [\"network\",\"printers\"] and .lang == \"en\" and .tz == \"Europe/Berlin\""
req GET /api/v1/me "" "$AGENT"
is "the session goes on, with the new role" 200 '.role == "manager" and .email == "lina@keepword.demo"'
req PATCH "/api/v1/users/$AGENT_ID" '{"lang":null,"tz":null,"team_id":null,"role":"agent"}' "$ADMIN"
is "null clears language, zone and team" 200 '.lang == null and .tz == null and .team_id == null and .role == "agent"'
req PATCH "/api/v1/users/$AGENT_ID" '{"email":"manager@keepword.demo"}' "$ADMIN"
is "a taken e-mail is refused" 409 '.pointer == "/email"'
req PATCH "/api/v1/users/$AGENT_ID" '{"email":"no-at-sign"}' "$ADMIN"
is "an e-mail without @ is refused" 400 '.pointer == "/email"'
req PATCH "/api/v1/users/$AGENT_ID" '{"role":"customer"}' "$ADMIN"
is "staff do not become customers" 400 '.pointer == "/role"'
req PATCH "/api/v1/users/$CUST_ID" '{"role":"agent"}' "$ADMIN"
is "customers do not become staff" 400 '.pointer == "/role"'
req PATCH "/api/v1/users/$AGENT_ID" '{"role":"root"}' "$ADMIN"
is "an unknown role is refused" 400 '.pointer == "/role"'
req PATCH "/api/v1/users/$AGENT_ID" '{"lang":"fr"}' "$ADMIN"
is "a language other than zh or en is refused" 400 '.pointer == "/lang"'
req PATCH "/api/v1/users/$AGENT_ID" '{"tz":"Mars/Olympus"}' "$ADMIN"
is "an unknown time zone is refused" 400 '.pointer == "/tz" and (.detail | test("Asia/Shanghai"))'
req PATCH "/api/v1/users/$AGENT_ID" '{"tz":"../../etc/passwd"}' "$ADMIN"
is "a path is no time zone" 400 '.pointer == "/tz"'
req PATCH "/api/v1/users/$AGENT_ID" '{"team_id":999999}' "$ADMIN"
is "an unknown team is refused" 404 '.pointer == "/team_id"'
req PATCH "/api/v1/users/$CUST_ID" "{\"team_id\":$TEAM2}" "$ADMIN"
is "customers are in no team" 400 '.pointer == "/team_id"'
req PATCH "/api/v1/users/$AGENT_ID" '{"skills":["a","a"]}' "$ADMIN"
is "skills are listed once" 400 '.pointer == "/skills/1"'
req PATCH "/api/v1/users/$AGENT_ID" '{"name":"   "}' "$ADMIN"
is "a name of only spaces is refused" 400 '.pointer == "/name"'
req PATCH "/api/v1/users/$AGENT_ID" '{"active":"no"}' "$ADMIN"
is "active is true or false" 400 '.pointer == "/active"'
req PATCH "/api/v1/users/$AGENT_ID" '{"org_id":3}' "$ADMIN"
is "the organisation of a person is not edited" 400 '.pointer == "/org_id"'
req PATCH "/api/v1/users/999999" '{"name":"x"}' "$ADMIN"
is "an unknown person is 404" 404
req PATCH "/api/v1/users/$AGENT_ID" '{"name":"x"}' "$MGR"
is "a manager does not edit people" 403
req PATCH "/api/v1/users/$AGENT_ID" '{"name":"x"}' "$AGENT"
is "nor does the person themselves through /users" 403 '.detail | test("/api/v1/me")'
req PATCH "/api/v1/users/$CUST_ID" '{"name":"x"}' "$CUST"
is "nor a customer" 403
req PATCH "/api/v1/users/$ADMIN_ID" '{"active":false}' "$ADMIN"
is "an admin does not deactivate themselves" 409 '.pointer == "/active"'
req PATCH "/api/v1/users/$ADMIN_ID" '{"role":"agent"}' "$ADMIN"
is "nor give up their own role" 409 '.pointer == "/role"'
req PATCH "/api/v1/users/$AGENT_ID" '{"name":"x"}'
is "nobody without a login" 401

# --- one's own name, language, zone ---
req PATCH /api/v1/me '{"name":"王磊","lang":"zh","tz":"Asia/Shanghai"}' "$CUST"
is "a customer sets their own name, language and time zone" 200 '.name == "王磊" and .lang == "zh" and .tz == "Asia/Shanghai"'
req GET /api/v1/me "" "$CUST"
is "and /me says so" 200 '.lang == "zh" and .tz == "Asia/Shanghai"'
req PATCH /api/v1/me '{"role":"admin"}' "$CUST"
is "but not their role" 400 '.pointer == "/role"'
req PATCH /api/v1/me '{"email":"x@y.z"}' "$AGENT"
is "nor their e-mail" 400 '.pointer == "/email"'
req PATCH /api/v1/me '{"tz":"Nowhere/Land"}' "$AGENT"
is "a bad zone is refused" 400 '.pointer == "/tz"'
req PATCH /api/v1/me '{"lang":"de"}' "$AGENT"
is "a bad language is refused" 400 '.pointer == "/lang"'
req PATCH /api/v1/me 'not json' "$AGENT"
is "a body that is not JSON is refused" 400

# --- passwords ---
req POST /api/v1/me/password '{"current_password":"wrong-one","password":"a-new-password"}' "$OTHER"
is "the current password must be right" 403 '.pointer == "/current_password"'
req POST /api/v1/me/password '{"current_password":"keepword-demo","password":"short"}' "$OTHER"
is "the new password has rules" 400 '.pointer == "/password"'
req POST /api/v1/me/password '{"password":"a-new-password"}' "$OTHER"
is "the current password is required" 400 '.pointer == "/current_password"'
OTHER2=$(login ops@dongfang.demo keepword-demo)
req POST /api/v1/me/password '{"current_password":"keepword-demo","password":"a-new-password"}' "$OTHER"
is "a customer changes their own password" 204
req GET /api/v1/me "" "$OTHER"
is "the session that changed it goes on" 200
req GET /api/v1/me "" "$OTHER2"
is "their other sessions end" 401
[ "$(login ops@dongfang.demo keepword-demo)" = null ]
check "the old password no longer works" $?
[ "$(login ops@dongfang.demo a-new-password)" != null ]
check "the new one does" $?

req PATCH "/api/v1/users/$OTHER_ID" '{"password":"reset-by-admin"}' "$ADMIN"
is "an admin resets a password" 200
req GET /api/v1/me "" "$OTHER"
is "which ends the person's sessions" 401
[ "$(login ops@dongfang.demo reset-by-admin)" != null ]
check "and the reset password works" $?
req PATCH "/api/v1/users/$OTHER_ID" '{"password":"short"}' "$ADMIN"
is "a reset password has the same rules" 400 '.pointer == "/password"'

# --- deactivating a person ---
AGENT=$(login lina@keepword.demo keepword-demo)
req POST /api/v1/tokens '{"label":"monitoring"}' "$AGENT"
is "the agent has an API token" 201
APITOKEN=$(jq -r .token "$TMP/body")
req GET "/api/v1/tickets?limit=1" "" "$APITOKEN"
is "which works" 200
curl -s -N --max-time 10 -H "Authorization: Bearer $AGENT" "$B/api/v1/stream" >"$TMP/sse" &
SSE=$!
sleep 0.7
req PATCH "/api/v1/users/$AGENT_ID" '{"active":false}' "$ADMIN"
is "an admin deactivates the agent" 200 '.active == false and .deactivated_at != null'
# the stream has nothing to send: it ends because a session ended, not at
# its next change or its time limit (10 s)
start=$(date +%s)
wait $SSE
took=$(($(date +%s) - start))
[ "$took" -lt 5 ]
check "their open live stream ends at once, with nothing to send (${took} s)" $?
req GET /api/v1/me "" "$AGENT"
is "their session stops at once" 401
req GET "/api/v1/tickets?limit=1" "" "$APITOKEN"
is "and their API token" 401
R=$(curl -s -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"lina@keepword.demo","password":"keepword-demo"}')
jq -e '.status == 403 and (.detail | test("deactivated"))' <<<"$R" >/dev/null
check "they cannot log in, and are told why (only with the right password)" $? "($R)"
R=$(curl -s -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"lina@keepword.demo","password":"wrong-password"}')
jq -e '.status == 401 and .detail == "wrong e-mail or password"' <<<"$R" >/dev/null
check "a wrong password says no more than ever" $? "($R)"
req GET "/api/v1/users/$AGENT_ID" "" "$ADMIN"
is "nothing is deleted" 200 '.name == "李娜 (Lina)" and .active == false'
req GET "/api/v1/users?limit=500" "" "$ADMIN"
is "they are still listed, as deactivated" 200 "any(.users[]; .id == $AGENT_ID and .active == false)"
req PATCH "/api/v1/users/$AGENT_ID" '{"active":true}' "$ADMIN"
is "an admin activates them again" 200 '.active == true and .deactivated_at == null'
req GET "/api/v1/tickets?limit=1" "" "$APITOKEN"
is "their old API token stays revoked" 401
AGENT=$(login lina@keepword.demo keepword-demo)
[ "$AGENT" != null ]
check "and they log in again" $?

# --- organisations ---
CAL=$(curl -s "$B/api/v1/calendars" -H "Authorization: Bearer $MGR" | jq -r '.calendars[0].name')
req PATCH "/api/v1/orgs/$CUST_ORG" "{\"tier\":\"strategic\",\"region\":\"international\",\"calendar\":\"$CAL\",\"account_manager_id\":$MGR_ID,\"name\":\"华信科技（集团）\"}" "$MGR"
is "a manager edits an organisation" 200 \
    ".tier == \"strategic\" and .region == \"international\" and .calendar == \"$CAL\" and .account_manager_id == $MGR_ID
     and .name == \"华信科技（集团）\" and .active == true"
req PATCH "/api/v1/orgs/$CUST_ORG" '{"tier":"platinum"}' "$MGR"
is "a tier the commitment does not know is refused, naming those it does" 400 '.pointer == "/tier" and (.detail | test("vip"))'
req PATCH "/api/v1/orgs/$CUST_ORG" '{"region":"华东"}' "$MGR"
is "any region is fine while the commitment lists none (the demo's lists tiers only)" 200 '.region == "华东"'
req PATCH "/api/v1/orgs/$CUST_ORG" '{"calendar":"no-such-calendar"}' "$MGR"
is "and a calendar that is not stored" 400 '.pointer == "/calendar"'
req PATCH "/api/v1/orgs/$CUST_ORG" "{\"account_manager_id\":$CUST_ID}" "$MGR"
is "a customer is no account manager" 400 '.pointer == "/account_manager_id"'
req PATCH "/api/v1/orgs/$CUST_ORG" '{"account_manager_id":999999}' "$MGR"
is "nor is nobody" 400 '.pointer == "/account_manager_id"'
req PATCH "/api/v1/orgs/$CUST_ORG" "{\"name\":\"$(curl -s "$B/api/v1/orgs/$OTHER_ORG" -H "Authorization: Bearer $MGR" | jq -r .name)\"}" "$MGR"
is "a taken name is refused" 409 '.pointer == "/name"'
req PATCH "/api/v1/orgs/$CUST_ORG" '{"tier":null,"account_manager_id":null}' "$MGR"
is "null clears" 200 '.tier == null and .account_manager_id == null'
req PATCH "/api/v1/orgs/$CUST_ORG" '{"tier":"vip","contract":1}' "$MGR"
is "an unknown member is refused" 400 '.pointer == "/contract"'
req PATCH "/api/v1/orgs/999999" '{"tier":"vip"}' "$MGR"
is "an unknown organisation is 404" 404
req PATCH "/api/v1/orgs/$CUST_ORG" '{"tier":"vip"}' "$AGENT"
is "an agent does not edit organisations" 403
req PATCH "/api/v1/orgs/$CUST_ORG" '{"tier":"vip"}' "$CUST"
is "nor does a customer, even their own" 403

req PATCH "/api/v1/orgs/$CUST_ORG" '{"active":false}' "$MGR"
is "a manager deactivates an organisation" 200 '.active == false and .deactivated_at != null'
req GET /api/v1/me "" "$CUST"
is "its customers' sessions stop at once" 401
R=$(curl -s -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"it@huaxin.demo","password":"keepword-demo"}')
jq -e '.status == 403 and (.detail | test("organisation is deactivated"))' <<<"$R" >/dev/null
check "they cannot log in, and are told why" $? "($R)"
req POST /api/v1/tickets "{\"title\":\"电话报修\",\"level\":\"L3\",\"org_id\":$CUST_ORG}" "$MGR"
is "no new ticket is opened for it" 409 '.pointer == "/org_id"'
req GET "/api/v1/tickets?org_id=$CUST_ORG&limit=5" "" "$MGR"
is "its tickets are all still there" 200 '(.tickets | length) > 0'
req PATCH "/api/v1/orgs/$CUST_ORG" '{"active":true}' "$MGR"
is "and activated again" 200 '.active == true'
req GET /api/v1/me "" "$CUST"
is "whereupon its customers' sessions work again" 200

serve_stop
finish
