#!/usr/bin/env bash
# What the adversarial check (#14) found, second part: subscriptions and
# account managers across organisations, role and organisation combinations,
# an organisation's tier and calendar, CR/LF in addresses and URLs, long
# notes, requests to private addresses (SSRF) and what is kept of a reply,
# what customers read of the commitments, gap-free numbering of what a
# customer sees, and too many query parameters or headers.
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
 "calendars":{"always":'"$ALWAYS"'},"levels":["L2"],"tiers":["standard","vip"],
 "organisations":["Acme","Beta"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]},
            {"id":"callback","start":"closed","stop":["callback_done"]}],
 "targets":[{"id":"beta-only","when":{"organisation":"Beta"},"response":"1h"},
            {"id":"<img src=x onerror=alert(1)>","calendar":"always","response":"1h","callback":"1h"}]}' "$ADMIN"
is "(a commitment naming two organisations)" 201
COMMITMENT=$(jq -r .id "$TMP/body")
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

serve_stop
finish
