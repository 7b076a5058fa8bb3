#!/usr/bin/env bash
# Logins under attack: JSON bodies only (a form elsewhere cannot post one),
# cookie sessions only from Keepword's own pages, failed logins throttled per
# e-mail and client address with a growing wait, the client's address taken
# from X-Forwarded-For only behind a trusted proxy.
# usage: tests/http/login.sh PATH/TO/keepword
set -u
KW=${1:?usage: login.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }
CTYPE=
# try EMAIL PASSWORD [FORWARDED-FOR]: one login, sets CODE (body in $TMP/body)
try() {
    local args=(-s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login"
        -H "Content-Type: application/json" --data-binary "{\"email\":\"$1\",\"password\":\"$2\"}")
    [ -n "${3:-}" ] && args+=(-H "X-Forwarded-For: $3")
    CODE=$(curl "${args[@]}")
}

at 2026-03-02T09:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1

# --- the proxy setting is checked at start ---
"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 --trusted-proxy 10.0.0.1/33 2>"$TMP/bad.err"
check "a bad --trusted-proxy stops the server" $((! $?))
grep -q 'prefix length must be 0 to 32' "$TMP/bad.err"
check "and says why" $? "$(cat "$TMP/bad.err")"
"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 --trusted-proxy not-an-address 2>"$TMP/bad.err"
grep -q '"not-an-address" is not an IP address' "$TMP/bad.err"
check "an address that is none is named" $? "$(cat "$TMP/bad.err")"

serve_start --fake-clock "$TMP/now" --trusted-proxy 127.0.0.1,10.0.0.0/8

# --- JSON bodies must say they are JSON ---
body='{"email":"admin@localhost","password":"correct-horse"}'
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" \
    -H "Content-Type: text/plain" --data-binary "$body")
is "a text/plain login is refused" 415 '.status == 415 and (.detail | contains("application/json"))'
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" -d "$body")
is "a form-encoded login is refused" 415
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" \
    -H "Content-Type:" --data-binary "$body")
is "a login without a Content-Type is refused" 415 '.detail | contains("no Content-Type")'
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" \
    -H "Content-Type: Application/JSON; charset=utf-8" --data-binary "$body")
is "application/json with a charset is JSON" 200
ADMIN=$(jq -r .token "$TMP/body")
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/orgs" -H "Authorization: Bearer $ADMIN" \
    -H "Content-Type: application/x-www-form-urlencoded" --data-binary '{"name":"Acme"}')
is "every JSON body needs it, not only the login" 415

# --- cookie sessions only from our own pages ---
cookie='{"email":"admin@localhost","password":"correct-horse","cookie":true}'
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" \
    -H "Content-Type: application/json" -H "Origin: http://evil.example" --data-binary "$cookie")
is "a cookie login posted from another site is refused" 403 '.detail | contains("own pages")'
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" \
    -H "Content-Type: application/json" -H "Sec-Fetch-Site: cross-site" --data-binary "$cookie")
is "so is one the browser marks cross-site" 403
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" \
    -H "Content-Type: application/json" -H "Origin: http://127.0.0.1:$PORT" \
    -H "Sec-Fetch-Site: same-origin" --data-binary "$cookie")
is "a cookie login from our own page works" 200 '.token_type == "cookie"'

# --- throttling per e-mail and address ---
req POST /api/v1/users '{"email":"carol@acme.example","name":"Carol","role":"agent","password":"password-carol"}' "$ADMIN"
is "a user to guess at" 201
for i in 1 2 3 4 5; do try carol@acme.example "guess-$i" 203.0.113.7; done
is "five wrong passwords are answered" 401
try carol@acme.example password-carol 203.0.113.7
is "then that address waits, even with the right one" 429 '.detail == "too many failed logins; try again in 10 s"'
try CAROL@Acme.Example password-carol 203.0.113.7
is "the e-mail's case does not make a new pair" 429
try carol@acme.example password-carol 198.51.100.9
is "the owner elsewhere still gets in" 200
try carol@acme.example password-carol "203.0.113.7, 10.1.2.3"
is "the client is the first address no trusted proxy vouches for" 429
try carol@acme.example password-carol "203.0.113.7, 192.0.2.1"
is "an untrusted hop in between is the client" 200
at 2026-03-02T09:00:11Z
try carol@acme.example guess-6 203.0.113.7
is "after the wait, one more try" 401
try carol@acme.example password-carol 203.0.113.7
is "and the next wait is twice as long" 429 '.detail == "too many failed logins; try again in 20 s"'
at 2026-03-02T09:00:32Z
try carol@acme.example password-carol 203.0.113.7
is "after it the right password works" 200
for i in 1 2 3 4 5; do try carol@acme.example "guess-$i" 203.0.113.7; done
is "a login starts the count afresh: five more are answered" 401
serve_stop

# --- without a trusted proxy, X-Forwarded-For is anyone's to write ---
serve_start --fake-clock "$TMP/now"
for i in 1 2 3 4 5; do try carol@acme.example "guess-$i" "192.0.2.$i"; done
try carol@acme.example password-carol 192.0.2.99
is "a forged X-Forwarded-For does not escape the throttle" 429
serve_stop
finish
