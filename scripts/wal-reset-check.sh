#!/usr/bin/env bash
# Start `keepword serve --demo` ROUNDS x 6 times, 6 at once, each on a new
# SQLite desk; log in three times and use each token at once. A token the
# server does not know after its login was answered is an acknowledged
# commit lost (SQLite's WAL-reset bug, docs/operations.md "The database"):
# that start's files are kept and named. Prints "lost N of M starts".
# Not part of `make test` (a few minutes); any load on the machine helps.
# usage: scripts/wal-reset-check.sh PATH/TO/keepword [ROUNDS]
set -u
KW=${1:?usage: wal-reset-check.sh PATH/TO/keepword [ROUNDS]}
ROUNDS=${2:-60}
OUT=$(mktemp -d)

one() {
    local t pid port="" bad=0 tok code
    t=$(mktemp -d -p "$OUT")
    KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$t/kw.db" >/dev/null 2>&1
    "$KW" serve --db "$t/kw.db" --listen 127.0.0.1:0 --demo 2>>"$t/log" &
    pid=$!
    for _ in $(seq 1 200); do
        port=$(grep -o 'serving http://127.0.0.1:[0-9]*' "$t/log" | grep -o '[0-9]*$')
        [ -n "$port" ] && break
        sleep 0.05
    done
    for u in manager@keepword.demo li.na@keepword.demo it@huaxin.demo; do
        tok=$(curl -s -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
            -H 'Content-Type: application/json' \
            -d "{\"email\":\"$u\",\"password\":\"keepword-demo\"}" | jq -r .token)
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/me" \
            -H "Authorization: Bearer $tok")
        [ "$code" = 200 ] || bad=1
    done
    # a copy of the log and its index as they were when the token failed
    [ $bad = 1 ] && mkdir "$t/copy" && cp "$t"/kw.db* "$t/copy/"
    kill "$pid"
    wait "$pid"
    if [ $bad = 0 ]; then rm -rf "$t"; else echo "lost: $t" >&2; fi
}

for _ in $(seq 1 "$ROUNDS"); do
    for _ in 1 2 3 4 5 6; do one & done
    wait
done
lost=$(find "$OUT" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "lost $lost of $((ROUNDS * 6)) starts (kept in $OUT)"
[ "$lost" = 0 ] && rmdir "$OUT"
[ "$lost" = 0 ]
