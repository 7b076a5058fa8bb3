#!/usr/bin/env bash
# What the adversarial check (#14) found, second part: subscriptions and
# account managers across organisations, role and organisation combinations,
# an organisation's tier and calendar, CR/LF in addresses and URLs, long
# notes, requests to private addresses (SSRF) and what is kept of a reply,
# what customers read of the commitments and the letter's escaping. (What a
# customer's timeline numbers and counts: tests/http/replies.sh.)
# usage: tests/http/harden2.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink
set -u
KW=${1:?usage: harden2.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink}
SINK=${2:?usage: harden2.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink}
SMTP=${3:?usage: harden2.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-04-30T09:00:00+08:00
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"harden"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
DAY='[["00:00","24:00"]]'
ALWAYS='{"tz":"Asia/Shanghai","week":{"mon":'$DAY',"tue":'$DAY',"wed":'$DAY',"thu":'$DAY',"fri":'$DAY',"sat":'$DAY',"sun":'$DAY'}}'
req POST /api/v1/calendars "{\"name\":\"office\",${ALWAYS:1}" "$ADMIN"
is "(a stored calendar)" 201
req POST /api/v1/commitments '{"name":"Hard","version":"1","effective_from":"2026-01-01T00:00:00+08:00",
 "calendars":{"always":'"$ALWAYS"'},"levels":[{"id":"L2","label":"<img src=x onerror=alert(1)>"}],"tiers":["standard","vip"],
 "organisations":["Acme","Beta"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]},
            {"id":"callback","start":"closed","stop":["callback_done"]}],
 "targets":[{"id":"beta-only","when":{"organisation":"Beta"},"response":"1h"},
            {"id":"<img src=x onerror=alert(1)>","calendar":"always","response":"1h","callback":"1h"}],
 "compensation":{"rules":[{"when":{"organisation":"Beta"},"metric":"response","credit":{"amount":100}}]}}' "$ADMIN"
is "(a commitment naming two organisations)" 201
req POST /api/v1/orgs '{"name":"Acme","tier":"vip","calendar":"office"}' "$ADMIN"
is "an organisation with a known tier and a stored calendar" 201
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Beta","tier":"standard"}' "$ADMIN"
BETA=$(jq -r .id "$TMP/body")

# --- 13: an organisation's tier and calendar, and roles with organisations and teams ---
req POST /api/v1/orgs '{"name":"Gamma","tier":"gold"}' "$ADMIN"
is "a tier the commitment does not list is refused" 400 '.pointer == "/tier" and (.detail | contains("gold"))'
req POST /api/v1/orgs '{"name":"Gamma","calendar":"nowhere"}' "$ADMIN"
is "a calendar that is neither stored nor the commitment's is refused" 400 \
    '.pointer == "/calendar" and (.detail | contains("nowhere"))'
req POST /api/v1/orgs '{"name":"Gamma","calendar":"always"}' "$ADMIN"
is "the commitment's own calendar is fine" 201
req POST /api/v1/teams '{"name":"Desk"}' "$ADMIN"
TEAM=$(jq -r .id "$TMP/body")
user() { req POST /api/v1/users "$1" "$ADMIN"; }
user "{\"email\":\"agent@x.example\",\"name\":\"A\",\"role\":\"agent\",\"password\":\"password1\",\"org_id\":$ACME}"
is "an agent is not in a customer organisation" 400 '.pointer == "/org_id"'
user "{\"email\":\"mgr@x.example\",\"name\":\"M\",\"role\":\"manager\",\"password\":\"password1\",\"org_id\":$ACME}"
is "nor is a manager" 400 '.pointer == "/org_id"'
user "{\"email\":\"c@acme.example\",\"name\":\"C\",\"role\":\"customer\",\"password\":\"password1\",\"org_id\":$ACME,\"team_id\":$TEAM}"
is "a customer is in no team of the provider" 400 '.pointer == "/team_id"'
user "{\"email\":\"agent@x.example\",\"name\":\"A\",\"role\":\"agent\",\"password\":\"password1\",\"team_id\":$TEAM}"
is "an agent in a team" 201
AGENT_ID=$(jq -r .id "$TMP/body")
user "{\"email\":\"c@acme.example\",\"name\":\"C\",\"role\":\"customer\",\"password\":\"password1\",\"org_id\":$ACME}"
is "a customer of Acme" 201
CUST_A=$(jq -r .id "$TMP/body")
user "{\"email\":\"c@beta.example\",\"name\":\"B\",\"role\":\"customer\",\"password\":\"password1\",\"org_id\":$BETA}"
CUST_B=$(jq -r .id "$TMP/body")

# --- 9: CR/LF and other controls in addresses and URLs ---
user '{"email":"x@acme.example\r\nRCPT TO:<spy@evil.example>","name":"X","role":"agent","password":"password1"}'
is "CR/LF in an e-mail address is refused" 400 '.pointer == "/email"'
for e in 'a b@acme.example' 'a@b@acme.example' '@acme.example' 'a@' 'a@-acme.example' 'a@acme..example' '<a@acme.example>' 'a,b@acme.example'; do
    user "{\"email\":\"$e\",\"name\":\"X\",\"role\":\"agent\",\"password\":\"password1\"}"
    is "\"$e\" is no address" 400 '.pointer == "/email"'
done
user '{"email":"li.na+desk@mail.acme-corp.example","name":"L","role":"agent","password":"password1"}'
is "a plain address with + and - is one" 201
req POST /api/v1/endpoints '{"name":"x","url":"http://hooks.example/a\r\nX-Injected: 1"}' "$ADMIN"
is "CR/LF in a webhook URL is refused" 400 '.pointer == "/url"'
req POST /api/v1/endpoints '{"name":"x","url":"http://hooks.example/a b"}' "$ADMIN"
is "a space in a URL is refused" 400 '.pointer == "/url"'
req POST /api/v1/endpoints '{"name":"x","kind":"email","url":"smtp://mail.example/?from=desk@x.example\r\nRSET&to=a@x.example"}' "$ADMIN"
is "CR/LF in an SMTP endpoint's sender is refused" 400 '.pointer == "/url"'
req POST /api/v1/endpoints '{"name":"x","kind":"email","url":"smtp://mail.example/?from=desk@x.example&to=a@x.example,b@x.example>\r\nDATA"}' "$ADMIN"
is "and in its recipients" 400 '.pointer == "/url"'
req POST /api/v1/endpoints '{"name":"x","kind":"email","url":"smtp://mail.example/?from=desk@x.example&to=not-an-address"}' "$ADMIN"
is "a recipient that is no address is refused" 400 '.pointer == "/url" and (.detail | contains("not-an-address"))'
req POST /api/v1/endpoints '{"name":"mail","kind":"email","url":"smtp://mail.example/?from=desk@x.example&to=a@x.example,b@x.example"}' "$ADMIN"
is "a good SMTP endpoint" 201
MAIL_EP=$(jq -r .id "$TMP/body")
req PATCH "/api/v1/endpoints/$MAIL_EP" '{"url":"smtp://mail.example/?from=desk@x.example%0d%0aRSET&to=a@x.example"}' "$ADMIN"
is "an encoded CR/LF in an address is no address either" 400 '.pointer == "/url"'

# --- 5: subscriptions and account managers stay inside an organisation ---
req POST /api/v1/subscriptions "{\"user_id\":$CUST_A,\"endpoint_id\":$MAIL_EP,\"org_id\":$BETA}" "$ADMIN"
is "Acme's customer cannot be subscribed to Beta's tickets" 403 '.pointer == "/org_id"'
req POST /api/v1/subscriptions "{\"user_id\":$CUST_A,\"endpoint_id\":$MAIL_EP}" "$ADMIN"
is "without org_id a customer's subscription is to their own organisation" 201 ".org_id == $ACME"
req POST /api/v1/subscriptions "{\"user_id\":$CUST_A,\"endpoint_id\":$MAIL_EP,\"org_id\":$ACME,\"team_id\":$TEAM}" "$ADMIN"
is "nor to a team of the provider" 400 '.pointer == "/team_id"'
req POST /api/v1/orgs "{\"name\":\"Delta\",\"account_manager_id\":$CUST_B}" "$ADMIN"
is "a customer is no account manager" 400 '.pointer == "/account_manager_id"'
req POST /api/v1/orgs "{\"name\":\"Delta\",\"account_manager_id\":$AGENT_ID}" "$ADMIN"
is "a member of staff is" 201

# --- 11: what customers read of the commitments ---
COMMITMENT=$(curl -s "$B/api/v1/commitments" -H "Authorization: Bearer $ADMIN" | jq -r .in_force)
req POST /api/v1/commitments '{"name":"Hard","version":"2","effective_from":"2027-01-01T00:00:00+08:00",
 "calendars":{"always":'"$ALWAYS"'},"levels":["L2"],"metrics":[{"id":"response","start":"created","stop":["first_response"]}],
 "targets":[{"calendar":"always","response":"30m"}]}' "$ADMIN"
is "(next year's version)" 201
NEXT=$(jq -r .id "$TMP/body")
CA=$(login c@acme.example password1)
CB=$(login c@beta.example password1)
req GET /api/v1/commitments "" "$ADMIN"
is "staff see every version" 200 '(.commitments | length) == 2'
req GET /api/v1/commitments "" "$CA"
is "a customer sees the one in force" 200 "[.commitments[].id] == [$COMMITMENT] and .in_force == $COMMITMENT"
req GET "/api/v1/commitments/$NEXT" "" "$CA"
is "and not next year's, which none of their tickets follows" 404
req GET "/api/v1/commitments/$COMMITMENT" "" "$CA"
is "Acme's customer reads no other organisation's name or rules" 200 \
    'has("organisations") == false and ([.targets[].id] | index("beta-only") == null) and (tostring | contains("Beta") | not)
     and has("compensation") == false'
req GET "/api/v1/commitments/$COMMITMENT" "" "$CB"
is "Beta's customer reads the rule for Beta, and nothing of Acme" 200 \
    '([.targets[] | select(.id == "beta-only") | .when.organisation] == ["Beta"]) and (tostring | contains("Acme") | not)
     and .compensation.rules[0].when.organisation == "Beta"'
req GET "/api/v1/commitments/$COMMITMENT" "" "$ADMIN"
is "staff read the whole document" 200 '.organisations == ["Acme","Beta"] and (.targets | length) == 2'
for f in md html; do
    curl -s "$B/api/v1/commitments/$COMMITMENT/letter?lang=en&format=$f" -H "Authorization: Bearer $CA" >"$TMP/letter"
    ! grep -q "Beta" "$TMP/letter" && grep -q "Hard" "$TMP/letter"
    check "Acme's letter ($f) does not name Beta" $? "($(head -c 300 "$TMP/letter"))"
done
curl -s "$B/api/v1/commitments/$COMMITMENT/letter?lang=en&format=md" -H "Authorization: Bearer $ADMIN" >"$TMP/letter"
! grep -q "<img" "$TMP/letter" && grep -q "&lt;img" "$TMP/letter"
check "the Markdown letter passes no raw HTML" $? "($(grep -n "img" "$TMP/letter" | head -3))"

# --- 4: no requests to the server's own network unless the operator allows them ---
"$SINK" --out "$TMP/hooks" --answer "$TMP/answer" >"$TMP/sink.port" &
EXTRA_PIDS+=("$!")
"$SMTP" --out "$TMP/mail" >"$TMP/smtp.port" &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q listening "$TMP/sink.port" && grep -q listening "$TMP/smtp.port" && break; sleep 0.1; done
HPORT=$(awk '{print $2}' "$TMP/sink.port")
SPORT=$(awk '{print $2}' "$TMP/smtp.port")
hooks() { [ -f "$TMP/hooks" ] && wc -l <"$TMP/hooks" || echo 0; }
try_endpoint() { # NAME KIND URL: create it and send a test; the answer is the first attempt's
    req POST /api/v1/endpoints "{\"name\":\"$1\",\"kind\":\"$2\",\"url\":\"$3\",\"events\":[\"test\",\"overrun_notice\"]}" "$ADMIN"
    EP=$(jq -r .id "$TMP/body")
    req POST "/api/v1/endpoints/$EP/test" "" "$ADMIN"
}
try_endpoint loop webhook "http://127.0.0.1:$HPORT/hooks"
is "a webhook on loopback is refused, saying why" 200 \
    '.delivered == false and (.error | contains("127.0.0.1 (loopback)")) and (.error | contains("--allow-destination"))'
try_endpoint name webhook "http://localhost:$HPORT/hooks"
is "so is a name that resolves to loopback" 200 '.delivered == false and (.error | contains("loopback"))'
try_endpoint v6 webhook "http://[::1]:$HPORT/hooks"
is "and IPv6 loopback" 200 '.delivered == false and (.error | contains("::1 (loopback)"))'
try_endpoint hex webhook "http://0x7f000001:$HPORT/hooks"
is "and loopback written in hex" 200 '.delivered == false and (.error | contains("loopback"))'
try_endpoint mapped webhook "http://[::ffff:127.0.0.1]:$HPORT/hooks"
is "and IPv4-mapped IPv6" 200 '.delivered == false and (.error | contains("loopback"))'
try_endpoint meta webhook "http://169.254.169.254/latest/meta-data/"
is "and the cloud metadata address (link-local)" 200 '.delivered == false and (.error | contains("169.254.169.254 (link-local)"))'
try_endpoint private wecom "http://10.255.255.1/robot"
is "and a private network" 200 '.delivered == false and (.error | contains("(private)"))'
try_endpoint smtp email "smtp://127.0.0.1:$SPORT/?from=desk@x.example&to=ops@x.example"
is "and an SMTP server on loopback" 200 '.delivered == false and (.error | contains("loopback"))'
sleep 0.3
check "nothing reached the receivers" "$([ "$(hooks)" = 0 ] && [ ! -s "$TMP/mail" ]; echo $?)" "($(hooks) requests)"
serve_stop
"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 --allow-destination 10.0.0.0/33 >/dev/null 2>"$TMP/bad.err"
check "a bad --allow-destination is a usage error" "$([ $? = 2 ] && grep -q "prefix length" "$TMP/bad.err"; echo $?)" "($(cat "$TMP/bad.err"))"
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1/32,::1
try_endpoint loop2 webhook "http://127.0.0.1:$HPORT/hooks"
is "allowed by the operator, loopback is reached" 200 '.delivered == true'
LOOP_EP=$EP
try_endpoint v6b webhook "http://[::1]:$HPORT/hooks"
is "IPv6 loopback too when it is listed ((no receiver there: refused by the system, not by us)" 200 \
    '.delivered == false and (.error | contains("allow-destination") | not)'
try_endpoint private2 webhook "http://10.255.255.1/robot"
is "a network that is not listed stays refused" 200 '.delivered == false and (.error | contains("(private)"))'
# what is kept of an answer: a short, clean line, never the reply's body
printf '<html><body>internal admin page SECRET-%0600d</body></html>' 0 >"$TMP/answer"
try_endpoint robot wecom "http://127.0.0.1:$HPORT/cgi-bin/webhook/send?key=k"
is "a robot's non-JSON answer is not shown" 200 \
    '.delivered == false and (.error | contains("SECRET") | not) and (.error | length) < 200'
printf '{"errcode":93000,"errmsg":"invalid webhook url\\r\\nX-Leak: %0600d"}' 0 >"$TMP/answer"
req POST "/api/v1/endpoints/$EP/test" "" "$ADMIN"
is "a second test in the same second is a test of its own; a robot's error message is one short line" 200 \
    '.delivered == false and (.error | startswith("the robot refused: invalid webhook url"))
     and (.error | test("[\r\n]") | not) and (.error | length) < 200'
req GET "/api/v1/outbox?limit=100" "" "$ADMIN"
is "nor is it in the outbox" 200 '[.notifications[] | .last_error // "" | select(contains("SECRET"))] == []'
rm -f "$TMP/answer"
req DELETE "/api/v1/endpoints/$EP" "" "$ADMIN"

# --- 8: long notes, and Chinese ones, are told whole ---
req POST /api/v1/endpoints "{\"name\":\"notices\",\"kind\":\"email\",\"url\":\"smtp://127.0.0.1:$SPORT/?from=desk@x.example&to=ops@x.example&lang=en\",\"events\":[\"overrun_notice\"]}" "$ADMIN"
is "(an e-mail endpoint for overrun notices)" 201
req PATCH "/api/v1/endpoints/$LOOP_EP" '{"events":["overrun_notice"]}' "$ADMIN"
req POST /api/v1/tickets "{\"title\":\"Line down\",\"level\":\"L2\",\"org_id\":$ACME}" "$ADMIN"
T1=$(jq -r .id "$TMP/body")
req POST /api/v1/tickets "{\"title\":\"Line down again\",\"level\":\"L2\",\"org_id\":$ACME}" "$ADMIN"
T2=$(jq -r .id "$TMP/body")
at 2026-04-30T10:00:01+08:00
eventually "/api/v1/overruns?org_id=$ACME" "$ADMIN" '(.overruns | length) == 2'
is "(both response clocks are breached)" 200 '(.overruns | length) == 2'
OV1=$(jq -r ".overruns[] | select(.ticket_id == $T1) | .id" "$TMP/body")
OV2=$(jq -r ".overruns[] | select(.ticket_id == $T2) | .id" "$TMP/body")
YAN=$(printf '延%.0s' $(seq 1 310))
req PATCH "/api/v1/overruns/$OV1" "{\"reason\":\"third_party\",\"note\":\"$YAN\"}" "$ADMIN"
is "a note of 310 Chinese characters is taken" 200 '.state == "explained"'
req GET "/api/v1/tickets/$T1/events" "" "$ADMIN"
is "and told whole in both languages" 200 \
    "[.events[] | select(.type == \"overrun_explained\")][0].body.notice | (.zh | endswith(\"$YAN\")) and (.en | endswith(\"$YAN\"))"
LONG="The carrier cut the line at the exchange; $(printf 'x%.0s' $(seq 1 1500)) END-OF-NOTE"
req PATCH "/api/v1/overruns/$OV2" "{\"reason\":\"third_party\",\"note\":\"$LONG\"}" "$ADMIN"
is "a note over 1 KiB is taken" 200
req GET "/api/v1/tickets/$T2/events" "" "$ADMIN"
is "and the customer's notice has all of it" 200 \
    '[.events[] | select(.type == "overrun_explained")][0].body.notice | (.en | endswith("END-OF-NOTE")) and (.zh | endswith("END-OF-NOTE"))'
for _ in $(seq 1 50); do [ "$(grep -c 'END-OF-NOTE' "$TMP/mail" 2>/dev/null)" -ge 1 ] && break; sleep 0.1; done
grep 'END-OF-NOTE' "$TMP/mail" | jq -e '.data | contains("'"$(printf 'x%.0s' $(seq 1 1500))"' END-OF-NOTE")' >/dev/null
check "the notice e-mail has the whole note" $? "($(tail -c 300 "$TMP/mail"))"

serve_stop
finish
