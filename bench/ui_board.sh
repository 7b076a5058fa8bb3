#!/usr/bin/env bash
# ui_board.sh - the live board with 5,000 open tickets in headless chromium:
# the demo plus 5,000 tickets made with kwload on 127.0.0.1, then
# bench/ui_board.js measures the first render and the countdown ticks.
# usage: bench/ui_board.sh PATH/TO/keepword PATH/TO/kwload
set -eu
kw=${1:?usage: ui_board.sh PATH/TO/keepword PATH/TO/kwload}
load=${2:?usage: ui_board.sh PATH/TO/keepword PATH/TO/kwload}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ ! -d "$here/../tests/e2e/node_modules/playwright-core" ]; then
    (cd "$here/../tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi
bench_serve "$kw" "$tmp/kw.db" "$tmp/log" --demo
token=$(curl -s -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
    -d '{"email":"manager@keepword.demo","password":"keepword-demo"}' | jq -r .token)
"$load" --port "$port" --token "$token" --mode create --clients 8 --requests 5000 --org 1 >/dev/null
BASE_URL="http://127.0.0.1:$port" node "$here/ui_board.js"
