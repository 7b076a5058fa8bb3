#!/usr/bin/env bash
# The weekly and monthly service report over HTTP and from the CLI
# (docs/kpi.md "The service report") on the scripted week of tests/http/kpi.sh
# (five tickets on a 24x7 UTC calendar, every figure computed by hand there
# and below): the headline against the week before, levels, breaches with a
# reason, the trend, teams, agents and the radar; what a customer sees; the
# four formats in both languages (the PDF's text read back with pdftotext);
# bad input; and `keepword report` giving the same figures.
# usage: tests/http/report.sh PATH/TO/keepword
set -u
KW=${1:?usage: report.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kpi_week.sh"
# D's resolution overrun explained: a staffing problem
req GET "/api/v1/overruns?ticket_id=$TD&metric=resolution" "" "$ADMIN"
OVR=$(jq -r '.overruns[0].id // .items[0].id // .[0].id' "$TMP/body")
req PATCH "/api/v1/overruns/$OVR" '{"reason":"staffing","note":"two off sick"}' "$ADMIN"
is "D's overrun explained" 200

# get KIND QUERY TOKEN: the report into $TMP/body, the headers into $TMP/headers
get() {
    read -r CODE CTYPE < <(curl -s -D "$TMP/headers" -o "$TMP/body" -w '%{http_code} %{content_type}' \
        -H "Authorization: Bearer $3" "$B/api/v1/reports/$1?$2")
}
# row FILE LINE: the CSV has exactly this line
row() { tr -d '\r' <"$1" | grep -qxF -- "$2"; }
csv_is() { # NAME LINE...: each line is in $TMP/body
    local name=$1 ok=0 missing=""
    shift
    for l in "$@"; do row "$TMP/body" "$l" || { ok=1; missing="$missing [$l]"; }; done
    check "$name" $ok "(missing:$missing; got $CODE $CTYPE)"
}

get weekly "period=2026-W10&format=csv&lang=en" "$ADMIN"
check "weekly csv: 200, text/csv with a BOM" "$([ "$CODE" = 200 ] && [ "${CTYPE%%;*}" = text/csv ] &&
    head -c 3 "$TMP/body" | od -An -tx1 | grep -q 'ef bb bf'; echo $?)" "($CODE $CTYPE)"
grep -qi '^content-disposition: attachment; filename="keepword-weekly-2026-W10-en.csv"' "$TMP/headers"
check "a file to save, named for the week" $?
cp "$TMP/body" "$TMP/week.csv"
# 9 runs: met A-resp A-resol B-resol#1 E-resp; late B-resp D-resol B-resol#0;
# open C-resp E-resol. The week before: D's response met, its resolution
# breached on Saturday and open at Monday 00:00.
csv_is "headline: this week, the one before, the change" \
    "On-time rate (%),44.4,50.0,-5.6" \
    '"MTTA, mean response (h)",0.5,0.2,+0.4' \
    '"MTTR, mean resolution (h)",11.6,,' \
    "Breaches,5,1,+4" "Tickets created,4,1,+3" "Tickets resolved,3,0,+3" \
    "Tickets reopened,1,0,+1" "Backlog at the end,2,1,+1" \
    "CSAT mean (1-5),3.50,," '"Satisfied, 4-5 (%)",50.0,,' "NPS,100.0,,"
csv_is "against the commitment: level x metric (E at L1, its level at the stop)" \
    "L1,resolution,2.0,1,1,1,33.3,2.0,100.0" "L1,response,0.5,1,1,0,50.0,0.5,108.3" \
    "L2,resolution,4.0,1,1,0,50.0,21.3,531.3" "L2,response,1.0,1,0,1,50.0,0.5,50.0"
csv_is "breaches, longest first, with the reason recorded" \
    "#$TE,resolution,L1,Acme,\"Breached, open\",118.0,118.0,not explained" \
    "#$TD,resolution,L2,Acme,Met late,36.0,36.0,staffing"
csv_is "TOP5 overrun reasons" "1,not explained,4" "2,staffing,1"
csv_is "the trend by day: Mon 2 of 3, Tue 1 of 3, Wed 1 of 2, Sun 0 of 1" \
    "03-02,2,1,66.7" "03-03,1,2,33.3" "03-04,1,1,50.0" "03-05,0,0," "03-08,0,1,0.0"
csv_is "teams and agents" "desk,50.0,0.5,21.3,2,0,1,5.00" "field,40.0,0.5,2.0,1,1,1,2.00" \
    "Ann,66.7,0.5,21.3,2,0,0,5.00"
csv_is "Ann's radar: on time 2 of 3, SRI 50, all resolved, none reopened, CSAT 5, alone in desk" \
    "Ann,66.7,100.0,100.0,100.0,100.0,100.0,2"

# the same figures as GET /kpis
req GET "/api/v1/kpis?from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z&metric=response" "" "$ADMIN"
is "GET /kpis agrees on L1+L2 response: 2 met, 1 late, 1 open" 200 '.groups[0].metrics.response |
    .met == 2 and .met_late == 1 and .breached_open == 1'

# --- a customer: Acme only (not C), no team, agent or radar ---
get weekly "period=2026-W10&format=csv&lang=en" "$CUS"
csv_is "a customer's headline: Acme's 8 runs" "On-time rate (%),50.0,50.0,+0.0" "Breaches,4,1,+3"
check "no team, agent or radar table for a customer" \
    "$(grep -cE '^(Teams|Agents|Service quality radar)' "$TMP/body" | grep -qx 0; echo $?)"
check "no agent's name for a customer" "$(grep -c Ann "$TMP/body" | grep -qx 0; echo $?)"
get weekly "period=2026-W10&org_id=$OTHER" "$CUS"
is "a customer asks for another organisation" 403 '.pointer == "/org_id"'
get weekly "period=2026-W10&format=csv&org_id=$OTHER&lang=en" "$ADMIN"
csv_is "staff, one organisation: Other's C" "On-time rate (%),0.0,," "Tickets created,1,0,+1"

# --- the formats and languages ---
get weekly "period=2026-W10&lang=zh" "$ADMIN"
check "html: a page of ours in Chinese" "$([ "$CODE" = 200 ] && [ "${CTYPE%%;*}" = text/html ] &&
    grep -q '<html lang="zh-CN">' "$TMP/body" && grep -q '服务周报 2026-W10' "$TMP/body" &&
    grep -q '<svg class="chart"' "$TMP/body" && grep -q '<figcaption>Ann</figcaption>' "$TMP/body"; echo $?)" \
    "($CODE $CTYPE)"
get monthly "period=2026-03&format=pdf&lang=zh" "$ADMIN"
check "monthly pdf" "$([ "$CODE" = 200 ] && [ "$CTYPE" = application/pdf ] &&
    head -c 5 "$TMP/body" | grep -q '%PDF-'; echo $?)" "($CODE $CTYPE)"
pdftotext -layout "$TMP/body" "$TMP/pdf.txt" 2>/dev/null
check "the PDF's text: the Chinese title and headline" "$(grep -q '服务月报 2026-03' "$TMP/pdf.txt" &&
    grep -q '准时率' "$TMP/pdf.txt" && grep -q '服务质量雷达' "$TMP/pdf.txt"; echo $?)"
get weekly "period=2026-W10&format=pdf&lang=en" "$ADMIN"
pdftotext -layout "$TMP/body" "$TMP/pdf.txt" 2>/dev/null
check "the English PDF: the week's on-time rate 44.4 against 50.0" \
    "$(grep -E 'On-time rate \(%\) +44\.4 +50\.0 +-5\.6' -q "$TMP/pdf.txt"; echo $?)"
get weekly "period=2026-W10&format=xlsx&lang=en" "$ADMIN"
cp "$TMP/body" "$TMP/week.xlsx"
check "xlsx: a workbook with a sheet per table and the trend chart" "$([ "$CODE" = 200 ] &&
    unzip -l "$TMP/week.xlsx" | grep -q 'xl/charts/chart1.xml' &&
    unzip -p "$TMP/week.xlsx" xl/workbook.xml | grep -q 'name="Headline figures"' &&
    unzip -p "$TMP/week.xlsx" xl/sharedStrings.xml | grep -q 'staffing'; echo $?)" "($CODE $CTYPE)"
# the same week again gives the same bytes: no clock in the workbook (its
# creation time is the instant the figures stand at, here the week's end)
get weekly "period=2026-W10&format=xlsx&lang=en" "$ADMIN"
cmp -s "$TMP/body" "$TMP/week.xlsx"
check "xlsx: the same week twice, the same bytes" $? \
    "$(unzip -p "$TMP/week.xlsx" docProps/core.xml | grep -o 'created[^<]*')"

# --- bad input ---
bad() { # NAME KIND QUERY CODE POINTER
    get "$2" "$3" "$ADMIN"
    is "$1" "$4" ".pointer == \"$5\""
}
bad "period is required" weekly "format=csv" 400 /period
bad "a week is YYYY-Www" weekly "period=2026-03" 400 /period
bad "no week 54" weekly "period=2026-W54" 400 /period
bad "a month is YYYY-MM" monthly "period=2026-W10" 400 /period
bad "no month 13" monthly "period=2026-13" 400 /period
bad "a period not begun" monthly "period=2026-04" 422 /period
bad "unknown format" weekly "period=2026-W10&format=docx" 400 /format
bad "unknown language" weekly "period=2026-W10&lang=fr" 400 /lang
bad "unknown zone" weekly "period=2026-W10&tz=Mars/Olympus" 400 /tz
bad "unknown organisation" weekly "period=2026-W10&org_id=999" 404 /org_id
get weekly "period=2026-W10" ""
is "no token" 401

# --- the CLI: the same report ---
"$KW" report weekly --db "$TMP/kw.db" --period 2026-W10 --format csv --lang en \
    --at 2026-03-09T06:00:00Z -o "$TMP/cli.csv" 2>"$TMP/cli.err"
check "keepword report weekly" $? "$(cat "$TMP/cli.err")"
# the same but for the "figures as of" instant in the subtitle: both are the period's end
cmp -s "$TMP/cli.csv" "$TMP/week.csv"
check "the CLI's CSV is the server's" $? "$(diff "$TMP/cli.csv" "$TMP/week.csv" | head -10)"
"$KW" report monthly --db "$TMP/kw.db" --period 2026-03 --format xlsx --at 2026-03-09T06:00:00Z \
    -o "$TMP/cli.xlsx" 2>"$TMP/cli.err"
check "keepword report monthly xlsx" "$(unzip -l "$TMP/cli.xlsx" >/dev/null 2>&1; echo $?)" "$(cat "$TMP/cli.err")"
"$KW" report monthly --db "$TMP/kw.db" --period 2026-03 --format xlsx --at 2026-03-09T06:00:00Z \
    -o "$TMP/cli2.xlsx" 2>"$TMP/cli.err"
check "keepword report monthly xlsx twice: the same bytes, created as of --at" \
    "$(cmp -s "$TMP/cli.xlsx" "$TMP/cli2.xlsx" && unzip -p "$TMP/cli2.xlsx" docProps/core.xml |
        grep -q '<dcterms:created xsi:type="dcterms:W3CDTF">2026-03-09T06:00:00Z<'; echo $?)" \
    "$(unzip -p "$TMP/cli2.xlsx" docProps/core.xml | grep -o 'created[^<]*')"
for n in 1 2; do
    "$KW" report monthly --db "$TMP/kw.db" --period 2026-03 --format pdf --at 2026-03-09T06:00:00Z \
        -o "$TMP/cli$n.pdf" 2>"$TMP/cli.err"
done
check "keepword report monthly pdf twice: the same bytes, created as of --at" \
    "$(cmp -s "$TMP/cli1.pdf" "$TMP/cli2.pdf" &&
        grep -Eaq 'CreationDate \((D:)?20260309060000Z\)' "$TMP/cli2.pdf"; echo $?)" \
    "$(grep -ao 'CreationDate ([^)]*)' "$TMP/cli2.pdf"; cat "$TMP/cli.err")"
"$KW" report weekly --db "$TMP/kw.db" --period 2026-W99 -o "$TMP/x" 2>"$TMP/cli.err"
check "a bad period: exit 1, one line" "$([ $? = 1 ] && [ "$(wc -l <"$TMP/cli.err")" = 1 ] &&
    grep -q 'period' "$TMP/cli.err"; echo $?)" "$(cat "$TMP/cli.err")"
"$KW" report weekly --db "$TMP/kw.db" --period 2026-W10 --format doc -o "$TMP/x" 2>"$TMP/cli.err"
check "a bad format: usage, exit 2" "$([ $? = 2 ]; echo $?)" "$(cat "$TMP/cli.err")"
"$KW" report weekly --db "$TMP/kw.db" --period 2026-W10 --at 2026-03-09T06:00:00Z \
    -o "$TMP/no/such/dir.html" 2>"$TMP/cli.err"
check "an unwritable file: exit 1" "$([ $? = 1 ]; echo $?)" "$(cat "$TMP/cli.err")"

serve_stop
finish
