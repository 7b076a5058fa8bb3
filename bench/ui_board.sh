#!/usr/bin/env bash
# ui_board.sh - the live board with 5,000 open tickets in headless chromium:
# the demo plus 5,000 tickets made with kwload on 127.0.0.1, then
# bench/ui_board.js measures the first render and the countdown ticks.
# usage: bench/ui_board.sh PATH/TO/keepword PATH/TO/kwload
set -eu
kw=${1:?usage: ui_board.sh PATH/TO/keepword PATH/TO/kwload}
load=${2:?usage: ui_board.sh PATH/TO/keepword PATH/TO/kwload}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
if [ ! -d "$here/../tests/e2e/node_modules/playwright-core" ]; then
    (cd "$here/../tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi
"$kw" serve --db "$tmp/kw.db" --listen 127.0.0.1:0 --demo 2>"$tmp/log" &
pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "the server did not start" >&2; cat "$tmp/log" >&2; exit 1; }
token=$(curl -s -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
    -d '{"email":"manager@keepword.demo","password":"keepword-demo"}' | jq -r .token)
"$load" --port "$port" --token "$token" --mode create --clients 8 --requests 5000 --org 1 >/dev/null
BASE_URL="http://127.0.0.1:$port" node "$here/ui_board.js"
