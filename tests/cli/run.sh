#!/usr/bin/env bash
# Drives the keepword binary as a user would: exit codes, stdout, stderr.
# usage: tests/cli/run.sh PATH/TO/keepword   (run from the repository root)
set -u
KW=${1:?usage: run.sh PATH/TO/keepword}
DATA=tests/cli/data
EX=examples
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# judge NAME RC WANT_EXIT WANT_STDOUT_SUBSTR WANT_STDERR_SUBSTR: count and report.
judge() {
    local name=$1 rc=$2 want_rc=$3 want_out=$4 want_err=$5 ok=1
    [ "$rc" -eq "$want_rc" ] || ok=0
    [ -z "$want_out" ] || grep -qF -- "$want_out" "$TMP/out" || ok=0
    [ -z "$want_err" ] || grep -qF -- "$want_err" "$TMP/err" || ok=0
    if [ "$ok" -eq 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name (exit $rc, want $want_rc)"
        echo "  stdout: $(head -c 400 "$TMP/out")"
        echo "  stderr: $(head -c 400 "$TMP/err")"
    fi
}

# expect NAME WANT_EXIT WANT_STDOUT_SUBSTR WANT_STDERR_SUBSTR -- CMD...
expect() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    judge "$name" $? "$want_rc" "$want_out" "$want_err"
}

# expect_stdin NAME WANT_EXIT WANT_STDOUT_SUBSTR INPUT_FILE -- CMD...
expect_stdin() {
    local name=$1 want_rc=$2 want_out=$3 input=$4
    shift 5
    "$@" <"$input" >"$TMP/out" 2>"$TMP/err"
    judge "$name" $? "$want_rc" "$want_out" ""
}

# --- help and usage ---
expect "help lists commands" 0 "calendar" "" -- "$KW" help
expect "--help" 0 "usage: keepword COMMAND" "" -- "$KW" --help
expect "help calendar" 0 "import-ics" "" -- "$KW" help calendar
expect "calendar --help" 0 "deadline CAL.json START DUR" "" -- "$KW" calendar --help
for c in check deadline elapsed spans eval import-ics; do
    expect "calendar $c --help" 0 "usage: keepword calendar $c" "" -- "$KW" calendar $c --help
done
expect "version" 0 "keepword 0." "" -- "$KW" version
expect "no command" 2 "" "usage:" -- "$KW"
expect "unknown command" 2 "" "unknown command \"frobnicate\"" -- "$KW" frobnicate
expect "unknown calendar command" 2 "" "unknown calendar command \"chek\"" -- "$KW" calendar chek
expect "check without file" 2 "" "calendar check takes one FILE.json" -- "$KW" calendar check

# --- check ---
expect "check a good calendar" 0 "working time per week: 37h30m" "" -- "$KW" calendar check $EX/cn-office.json
expect "check counts dates" 0 "holidays: 12, extra workdays: 3" "" -- "$KW" calendar check $EX/cn-office.json
expect "check names the horizon" 0 "working time from 2000-01-03 to 2099-12-31" "" -- "$KW" calendar check $EX/cn-office.json
expect "check a missing file" 1 "" "keepword: nope.json: No such file or directory" -- "$KW" calendar check nope.json
printf '{"tz":"UTC","week":{"mon":[["09:00","12:00"],["13:00","25:00"]]}}' >"$TMP/bad.json"
expect "check names the bad field" 1 "" "week.mon[1]: \"25:00\" is not a time of day" -- "$KW" calendar check "$TMP/bad.json"
printf '{"tz":"Europe/Atlantis","week":{"mon":[["09:00","12:00"]]}}' >"$TMP/badtz.json"
expect "check an unknown zone" 1 "" "unknown time zone \"Europe/Atlantis\"" -- "$KW" calendar check "$TMP/badtz.json"
printf '{"tz":"UTC","week":{}}' >"$TMP/empty.json"
expect "a calendar without working time" 1 "" "has no working time" -- "$KW" calendar check "$TMP/empty.json"
printf '{"tz":"UTC","week":' >"$TMP/trunc.json"
expect "truncated JSON" 1 "" "not valid JSON" -- "$KW" calendar check "$TMP/trunc.json"
if [ "$(wc -l <"$TMP/err")" -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: error is not one line"; fi
expect_stdin "check reads stdin" 0 "is valid" $EX/cn-office.json -- "$KW" calendar check -

# --- deadline / elapsed / spans ---
expect "deadline into the make-up Saturday" 0 "2026-02-14T04:00:00Z (2026-02-14T12:00:00+08:00 Asia/Shanghai)" "" \
    -- "$KW" calendar deadline $EX/cn-office.json 2026-02-13T17:00:00+08:00 4h
expect "deadline over the festival" 0 "2026-02-24T10:00:00+08:00" "" \
    -- "$KW" calendar deadline $EX/cn-office.json 2026-02-14T17:00:00+08:00 7200
expect "deadline of zero on a holiday" 0 "2026-02-24T09:00:00+08:00" "" \
    -- "$KW" calendar deadline $EX/cn-office.json 2026-02-18T10:00:00+08:00 0
expect "deadline with a start without offset" 1 "" "START: \"2026-02-18 10:00\" has no UTC offset" \
    -- "$KW" calendar deadline $EX/cn-office.json "2026-02-18 10:00" 1h
expect "deadline with a bad duration" 1 "" "DURATION: \"4 hours\" is not a duration" \
    -- "$KW" calendar deadline $EX/cn-office.json 2026-02-18T10:00:00Z "4 hours"
expect "deadline past the horizon" 1 "" "past the calendar's horizon" \
    -- "$KW" calendar deadline $EX/cn-office.json 2099-12-20T10:00:00Z 30d
expect "deadline from now" 0 "Asia/Shanghai" "" -- "$KW" calendar deadline $EX/cn-office.json now 1h
expect "elapsed over the festival" 0 "189000 (52h30m)" "" \
    -- "$KW" calendar elapsed $EX/cn-office.json 2026-02-13T00:00:00+08:00 2026-03-01T00:00:00+08:00
expect "elapsed backwards is zero" 0 "0 (0s)" "" \
    -- "$KW" calendar elapsed $EX/cn-office.json 2026-03-01T00:00:00+08:00 2026-02-13T00:00:00+08:00
expect "spans" 0 "2026-02-14T13:30:00+08:00 2026-02-14T18:00:00+08:00 4h30m" "" \
    -- "$KW" calendar spans $EX/cn-office.json 2026-02-13T00:00:00+08:00 2026-02-25T00:00:00+08:00

# --- eval ---
CAL=$(tr -d '\n' <$EX/cn-office.json)
{
    echo "{\"id\":\"q1\",\"calendar\":$CAL,\"op\":\"deadline\",\"start\":\"2026-02-13T17:00:00+08:00\",\"seconds\":14400}"
    echo "this is not json"
    echo "{\"id\":\"q2\",\"calendar\":$CAL,\"op\":\"elapsed\",\"start\":\"2026-02-13T00:00:00+08:00\",\"end\":\"2026-03-01T00:00:00+08:00\"}"
} >"$TMP/q.jsonl"
expect_stdin "eval answers in order" 0 '{"id":"q1","result":"2026-02-14T04:00:00Z"}' "$TMP/q.jsonl" -- "$KW" calendar eval
expect_stdin "eval goes on after a bad line" 0 '{"id":"q2","result":189000}' "$TMP/q.jsonl" -- "$KW" calendar eval -
expect "eval reads a file" 0 '{"id":null,"error":"not a valid JSON line' "" -- "$KW" calendar eval "$TMP/q.jsonl"
if [ "$(wc -l <"$TMP/out")" -eq 3 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: eval line count"; fi
expect "eval of a missing file" 1 "" "nope.jsonl" -- "$KW" calendar eval nope.jsonl

# --- import-ics ---
expect "import holidays (休)" 0 "" "12 holidays added from 2 events (0 already there, 4 events skipped)" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as holidays --match 休 --into $DATA/plain-office.json -o "$TMP/h.json"
if grep -q '"2026-02-23"' "$TMP/h.json"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: -o file lacks the holidays"; fi
expect "deadline with a bad start" 1 "" "START: \"13/02/2026\" is not an ISO 8601 instant" \
    -- "$KW" calendar deadline $EX/cn-office.json 13/02/2026 1h
expect "import make-up days (班)" 0 "" "3 extra workdays added from 3 events" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as workdays --match 班 --into "$TMP/h.json" -o "$TMP/h.json"
expect "the imported calendar gives the same deadline" 0 "2026-02-24T10:00:00+08:00" "" \
    -- "$KW" calendar deadline "$TMP/h.json" 2026-02-14T17:00:00+08:00 2h
expect "imported make-up days have Monday's hours" 0 "2026-02-14T13:30:00+08:00 2026-02-14T18:00:00+08:00" "" \
    -- "$KW" calendar spans "$TMP/h.json" 2026-02-14T00:00:00+08:00 2026-02-15T00:00:00+08:00
expect "importing again adds nothing" 0 "" "0 holidays added from 2 events (12 already there" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as holidays --match 休 --into "$TMP/h.json"
expect "a holiday that is a make-up day is refused" 1 "" "2026-01-04 from the feed is an extra workday in the calendar already" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as holidays --into "$TMP/h.json" -o "$TMP/h.json"
expect "a refused import leaves the file alone" 0 "extra workdays: 3" "" -- "$KW" calendar check "$TMP/h.json"
expect "workdays with --hours" 0 '"2026-02-14": [' "" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as workdays --match 班 --hours 10:00-12:00,14:00-16:00 --into $DATA/plain-office.json
expect "bad --hours" 1 "" "--hours: " \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as workdays --hours 10-12 --into $DATA/plain-office.json
expect "yearly RRULE expands to 2099" 0 '"2099-01-01"' "100 holidays added" \
    -- "$KW" calendar import-ics $DATA/yearly.ics --as holidays --into $DATA/plain-office.json
expect "--as is required" 2 "" "needs FEED.ics, --as and --into" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --into $DATA/plain-office.json
expect "--as takes two words" 2 "" "--as takes holidays or workdays" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as vacation --into $DATA/plain-office.json
printf 'not a calendar' >"$TMP/bad.ics"
expect "not an ics file" 1 "" "not an iCalendar file" \
    -- "$KW" calendar import-ics "$TMP/bad.ics" --as holidays --into $DATA/plain-office.json
expect "no matching events" 1 "" "no all-day events whose summary carries the marker \"Weihnachten\"" \
    -- "$KW" calendar import-ics $DATA/cn-2026.ics --as holidays --match Weihnachten --into $DATA/plain-office.json

# --- policy ---
P=$EX/policies
for c in check explain letter; do
    expect "policy $c --help" 0 "usage: keepword policy $c" "" -- "$KW" policy $c --help
done
expect "sla replay --help" 0 "usage: keepword sla replay" "" -- "$KW" sla replay --help
expect "unknown policy command" 2 "" "unknown policy command \"chek\"" -- "$KW" policy chek
for f in acme levels tiers milestones regions-3-6-12 business-hours; do
    expect "example policy $f is valid" 0 ": valid" "" -- "$KW" policy check $P/$f.json
done
expect "check prints the targets table" 0 "L3         vip          *              | 1h office          12h office" "" \
    -- "$KW" policy check $P/acme.json
expect "check shows pauses" 0 "paused while waiting_customer" "" -- "$KW" policy check $P/acme.json
printf '{"name":"x","version":"1","effective_from":"2026-01-01T00:00:00Z","calendars":{"c":{"tz":"UTC","week":{"mon":[["09:00","18:00"]]}}},"levels":["L1"],"metrics":[{"id":"response","start":"created","stop":["first_response"]}],"targets":[{"when":{"level":"L9"},"response":"1h"}]}' >"$TMP/badp.json"
expect "check names the bad rule" 1 "" "targets[0].when.level[0]: unknown level \"L9\"" -- "$KW" policy check "$TMP/badp.json"
printf '{"name":"x","version":"1","effective_from":"2026-01-01T00:00:00Z","calendars":{"c":{"tz":"Moon/Base","week":{"mon":[["09:00","18:00"]]}}},"levels":["L1"],"metrics":[{"id":"response","start":"created","stop":["first_response"]}],"targets":[{"response":"1h"}]}' >"$TMP/badtzp.json"
expect "check compiles the calendars" 1 "" "calendars.c: tz: unknown time zone \"Moon/Base\"" -- "$KW" policy check "$TMP/badtzp.json"
expect "explain the matching rule" 0 "response: 1h on office, from rule 3 (L3-vip)" "" \
    -- "$KW" policy explain $P/acme.json --ticket '{"level":"L3","tier":"vip"}'
expect "explain why earlier rules do not match" 0 "rule 2 (L3-strategic): tier vip is not strategic" "" \
    -- "$KW" policy explain $P/acme.json --ticket '{"level":"L3","tier":"vip"}'
expect "explain a metric that does not apply" 0 "restore: does not apply" "" \
    -- "$KW" policy explain $P/regions-3-6-12.json --ticket '{"level":"fault"}'
expect "explain an unknown tier" 1 "" "--ticket: unknown tier \"gold\"" \
    -- "$KW" policy explain $P/acme.json --ticket '{"level":"L3","tier":"gold"}'
expect "explain bad JSON" 1 "" "--ticket: expected a JSON object" -- "$KW" policy explain $P/acme.json --ticket '{level'
expect "letter in Chinese" 0 "| 三级事件（非紧急）; VIP 客户 | 1 小时, 工作时间 (office) | 12 小时, 工作时间 (office) | - |" "" \
    -- "$KW" policy letter $P/acme.json --lang zh
expect "letter in English" 0 "## Our commitments" "" -- "$KW" policy letter $P/acme.json --lang en
expect "letter lists holidays" 0 "2026-02-16" "" -- "$KW" policy letter $P/acme.json --lang en
expect "letter says what a reply means" 0 "Our first public reply counts as: first response." "" \
    -- "$KW" policy letter $P/acme.json --lang en
expect "letter as HTML" 0 "<th>Applies to</th>" "" -- "$KW" policy letter $P/acme.json --lang en --format html
expect "letter with a bad language" 2 "" "--lang takes zh or en" -- "$KW" policy letter $P/acme.json --lang fr
printf '%s' "$(sed 's/"name": "Acme 服务响应时限承诺书"/"name": "<script>alert(1)<\/script>"/' $P/acme.json)" >"$TMP/xss.json"
expect "letter escapes HTML" 0 "&lt;script&gt;alert(1)&lt;/script&gt;" "" -- "$KW" policy letter "$TMP/xss.json" --format html
grep -q "<script>" "$TMP/out" && { fail=$((fail + 1)); echo "FAIL: unescaped script in the letter"; } || pass=$((pass + 1))
# The whole letter, byte for byte (regenerate after an intended change:
# keepword policy letter examples/policies/acme.json --lang zh >tests/cli/data/acme.letter.zh.md).
for g in zh.md en.html; do
    "$KW" policy letter $P/acme.json --lang ${g%%.*} --format ${g#*.} >"$TMP/letter" 2>&1
    if cmp -s "$TMP/letter" $DATA/acme.letter.$g; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: letter of acme.json ($g) differs from $DATA/acme.letter.$g"
        diff $DATA/acme.letter.$g "$TMP/letter" | head -20
    fi
done

tiers=$(for i in 1 2 3 4 5 6 7 8; do printf '{"id":"t%d","label":"a tier with a rather long label number %d"},' $i $i; done)
printf '{"name":"x","version":"1","effective_from":"2026-01-01T00:00:00Z","calendars":{"c":{"tz":"UTC","week":{"mon":[["09:00","18:00"]]}}},"levels":["L1"],"tiers":[%s],"metrics":[{"id":"response","start":"created","stop":["first_response"]}],"targets":[{"when":{"tier":["t1","t2","t3","t4","t5","t6","t7","t8"]},"response":"1h"}]}' "${tiers%,}" >"$TMP/longp.json"
expect "letter prints a long list of conditions whole" 0 "or a tier with a rather long label number 8 | 1 h, working hours (c) |" "" \
    -- "$KW" policy letter "$TMP/longp.json" --lang en

# --- sla replay ---
T=$EX/tickets
expect "replay one ticket" 0 '"stopped_by": "first_response"' "" -- "$KW" sla replay --policy $P/acme.json $T/l1-met.jsonl
expect "replay: the call-back clock runs after closing" 0 '"kind": "breach"' "" -- "$KW" sla replay --policy $P/acme.json $T/l1-met.jsonl
expect "replay a pause, reopen and level change" 0 '"paused": 234000' "" -- "$KW" sla replay --policy $P/acme.json $T/l3-vip-pause-reopen.jsonl
expect "replay --at" 0 '"status": "running"' "" -- "$KW" sla replay --policy $P/acme.json --at 2026-03-02T09:05:00+08:00 $T/l1-met.jsonl
expect "replay several tickets: one line each" 0 '{"ticket":"T-2","policy"' "" -- "$KW" sla replay --policy $P/acme.json $T/two-tickets.jsonl
if [ "$(wc -l <"$TMP/out")" -eq 2 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: two tickets, two lines"; fi
expect_stdin "replay from stdin" 0 '"metric": "resolution"' $T/l1-met.jsonl -- "$KW" sla replay --policy $P/acme.json -
printf '{"at":"2026-03-02T09:00:00+08:00","type":"created","level":"L1"}\n{"at":"2026-03-02T08:00:00+08:00","type":"milestone","milestone":"first_response"}\n' >"$TMP/ooo.jsonl"
expect "replay out-of-order events" 1 "" "out of order" -- "$KW" sla replay --policy $P/acme.json "$TMP/ooo.jsonl"
printf '{"at":"2026-03-02T09:00:00+08:00","type":"created","level":"L1"}\n{"at":"2026-03-02T09:01:00+08:00","type":"milestone"}\n' >"$TMP/nomile.jsonl"
expect "replay a bad line names it" 1 "" "line 2: milestone: missing" -- "$KW" sla replay --policy $P/acme.json "$TMP/nomile.jsonl"
expect "replay without --policy" 2 "" "sla replay needs --policy" -- "$KW" sla replay $T/l1-met.jsonl
expect "replay a bad --at" 1 "" "--at: " -- "$KW" sla replay --policy $P/acme.json --at tomorrow $T/l1-met.jsonl
: >"$TMP/empty.jsonl"
expect "replay nothing" 1 "" "no events" -- "$KW" sla replay --policy $P/acme.json "$TMP/empty.jsonl"

# --- database: migrate and init ---
expect "migrate --help" 0 "usage: keepword migrate --db PATH" "" -- "$KW" migrate --help
expect "init --help" 0 "KEEPWORD_ADMIN_PASSWORD" "" -- "$KW" init --help
expect "help init" 0 "usage: keepword init" "" -- "$KW" help init
expect "migrate needs --db" 2 "" "--db PATH is required" -- "$KW" migrate
expect "migrate creates the schema" 0 "schema version 48" "" -- "$KW" migrate --db "$TMP/kw.db"
expect "migrate again changes nothing" 0 "schema version 48" "" -- "$KW" migrate --db "$TMP/kw.db"
for bad in 20MB 0 -5 2GiB 1.5MiB; do
    expect "serve refuses --max-attachment $bad" 2 "" "not a size" -- "$KW" serve --db "$TMP/kw.db" --max-attachment "$bad"
done
expect "serve refuses a bad --max-ticket-attachments" 2 "" "--max-ticket-attachments" -- "$KW" serve --db "$TMP/kw.db" --max-ticket-attachments lots
expect "init prints a made-up password once" 0 "password (shown once): " "" -- "$KW" init --db "$TMP/kw.db"
expect "init refuses a second admin" 1 "" "already has an admin account" -- "$KW" init --db "$TMP/kw.db"
expect "init takes the password from the environment" 0 "admin ops@example.com created" "" \
    -- env KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw2.db" --email ops@example.com
grep -q "password (shown once)" "$TMP/out" && { fail=$((fail + 1)); echo "FAIL: a given password was printed"; } || pass=$((pass + 1))
expect "init with a short password" 1 "" "KEEPWORD_ADMIN_PASSWORD: password: expected 8 to 1024 bytes" \
    -- env KEEPWORD_ADMIN_PASSWORD=short "$KW" init --db "$TMP/kw3.db"
# --- kpi rebuild ---
expect "kpi --help" 0 "rebuild" "" -- "$KW" kpi --help
expect "kpi rebuild --help" 0 "usage: keepword kpi rebuild --db PATH" "" -- "$KW" kpi rebuild --help
expect "kpi rebuild needs --db" 2 "" "--db PATH is required" -- "$KW" kpi rebuild
expect "kpi rebuild a bad --at" 1 "" "--at: " -- "$KW" kpi rebuild --db "$TMP/kw.db" --at soon
expect "kpi rebuild an empty desk" 0 "KPI facts rebuilt: 0 tickets, 0 runs" "" -- "$KW" kpi rebuild --db "$TMP/kw.db"
printf 'this is not a database file, just some text that goes on for a while.' >"$TMP/bad.db"
expect "migrate a file that is no database" 1 "" "bad.db: " -- "$KW" migrate --db "$TMP/bad.db"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
