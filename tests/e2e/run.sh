#!/usr/bin/env bash
# Browser tests of the web UI: the real server with the demo data on a free
# loopback port, driven in headless Debian chromium by playwright-core
# (tests/e2e/ui.test.js, then phone.test.js: every page at 390 px,
# dashboard.test.js: the dashboard's figures against the API, pages.test.js:
# every page as each role, previews.test.js, search.test.js, loop.test.js and
# calendars.test.js, and on a fresh demo attachments.test.js: files and
# deactivation, and views.test.js, inbox.test.js, watchers.test.js and links.test.js: saved
# views, bulk changes, in-app notifications, watchers, links, merges and
# canned replies, and
# commitment_editor.test.js: the targets table, its diff and the customer's
# letter, and edit.test.js: editing a ticket, and channels.test.js: the
# mailbox and alert-source pages, and credits.test.js: the customer portal
# for credits). Installs
# playwright-core from the lock file when it is missing. Screenshots of each
# main page go to tests/e2e/screenshots/.
# usage: tests/e2e/run.sh PATH/TO/keepword
set -u
KW=${1:?usage: run.sh PATH/TO/keepword}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../http/lib.sh
. "$HERE/../http/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "FAIL: $CHROMIUM is missing (make deps installs Debian's chromium)"; exit 1; }
command -v node >/dev/null || { echo "FAIL: node is missing (make deps installs nodejs)"; exit 1; }
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || { echo "FAIL: npm ci"; exit 1; }
fi

serve_start --demo --allow-destination 127.0.0.1
mkdir -p "$HERE/screenshots"
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/ui.test.js"
rc=$?
check "the browser tests pass" $rc
# every page as each role at 390 px, in zh and en (tests/e2e/phone.test.js)
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/phone.test.js"
check "every page fits a 390 px phone in both languages" $?
# the dashboard: its figures against the API's, drill-downs, staff and a
# customer, zh and en, 390 px (tests/e2e/dashboard.test.js)
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/dashboard.test.js"
check "the dashboard shows the API's figures and drills down to their tickets" $?
# every page as each role in both languages, and the notification endpoints
# against a receiver (whsink, built beside keepword) that answers 200
"$(dirname "$KW")/whsink" --out "$TMP/hooks" >"$TMP/sink.port" &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q listening "$TMP/sink.port" && break; sleep 0.1; done
HOOK=http://127.0.0.1:$(awk '{print $2}' "$TMP/sink.port")/hooks
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" HOOK=$HOOK node "$HERE/pages.test.js"
check "the page tests pass" $?
# previews before saving (.ics import, rota): they change the demo's data, so last
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/previews.test.js"
rc=$?
check "the preview tests pass" $rc
# staff-logged tickets and search (tests/e2e/search.test.js): it logs tickets
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/search.test.js"
check "the search and new ticket tests pass" $?
# the call-back desk and a resolution closed without confirmation (it adds
# a commitment version: last)
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/loop.test.js"
check "the call-back desk and confirmation browser tests pass" $?
# the mailbox and alert-source pages (tests/e2e/channels.test.js): a test
# connection to a loopback port nobody listens on
DEAD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" DEAD_PORT=$DEAD_PORT node "$HERE/channels.test.js"
check "the mailbox and alert-source pages work in both languages" $?
serve_stop
# the Calendars page on a fresh demo (it saves calendar versions)
rm -f "$TMP"/kw.db*
serve_start --demo
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/calendars.test.js"
check "the calendar page's browser tests pass" $?
serve_stop
# attachments and deactivation in both languages, on a fresh demo (it
# uploads files and deactivates people)
rm -f "$TMP"/kw.db*
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --demo
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/attachments.test.js"
check "the attachment and people browser tests pass" $?
serve_stop
# saved views, sorted columns and bulk changes, then in-app notifications,
# on a fresh demo (they assign and move tickets)
rm -f "$TMP"/kw.db*
serve_start --demo
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/views.test.js"
check "the saved view and bulk change browser tests pass" $?
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/inbox.test.js"
check "the in-app notification browser tests pass" $?
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/watchers.test.js"
check "the watcher browser tests pass" $?
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/links.test.js"
check "the link, merge and canned reply browser tests pass" $?
serve_stop
# editing a ticket (title, description, category, requester) in both
# languages, on a fresh demo with the admin of `init` (it adds a customer)
rm -f "$TMP"/kw.db*
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --demo
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/edit.test.js"
check "the ticket editing browser tests pass" $?
serve_stop
# the commitment editor (targets table, JSON view, the diff before
# publishing) and the customer's letter, on a fresh demo (it publishes)
rm -f "$TMP"/kw.db*
serve_start --demo
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/commitment_editor.test.js"
check "the commitment editor's browser tests pass" $?
serve_stop
# the customer portal for credits (contract, ledger, statements, a claim,
# another organisation's contract, the receipt issued at closure), zh and
# en at 390 px, on a fresh demo (a manager credits a contract)
rm -f "$TMP"/kw.db*
serve_start --demo
BASE_URL=$B SHOTS="$HERE/screenshots" CHROMIUM="$CHROMIUM" node "$HERE/credits.test.js"
check "the customer portal's credit browser tests pass" $?
serve_stop
grep -q "ERROR\|runtime error" "$TMP/log" && { echo "FAIL: the server logged errors"; grep "ERROR\|runtime error" "$TMP/log" | head; fail=$((fail + 1)); }
finish
