#!/usr/bin/env bash
# Attachments over HTTP against `keepword serve --demo`: upload (raw body,
# the name in ?name=), the SHA-256 in the ticket's hash chain, the sniffed
# type, download headers (attachment with filename*, nosniff, sandbox),
# who may read what (another organisation, internal notes), the name rules,
# the limits per file and per ticket (a declared length refused before the
# body is read; a body past the limit without one), and bad input.
# usage: tests/http/attachments.sh PATH/TO/keepword
set -u
KW=${1:?usage: attachments.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo --max-attachment 64KiB --max-ticket-attachments 100KiB
MGR=$(login manager@keepword.demo keepword-demo)
AGENT=$(login li.na@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)

# up METHOD PATH FILE TOKEN [CONTENT-TYPE]: the file's bytes as the body
up() {
    local args=(-s -o "$TMP/body" -w '%{http_code} %{content_type}' -X POST "$B$1"
        --data-binary "@$2" -H "Authorization: Bearer $3")
    [ -n "${4:-}" ] && args+=(-H "Content-Type: $4")
    read -r CODE CTYPE < <(curl "${args[@]}")
}
# get PATH TOKEN: the bytes into $TMP/got, the headers into $TMP/headers
get() {
    CODE=$(curl -s -o "$TMP/got" -D "$TMP/headers" -w '%{http_code}' "$B$1" -H "Authorization: Bearer $2")
}
header() { grep -i "^$1:" "$TMP/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# a customer's own ticket
req POST /api/v1/tickets '{"title":"打印机卡纸","level":"L3"}' "$CUST"
is "the customer opens a ticket" 201
T=$(jq -r .id "$TMP/body")

# a PNG of 1x1 pixel, sent as if it were text
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82' >"$TMP/dot.png"
SUM=$(sha256sum "$TMP/dot.png" | cut -d' ' -f1)
NAME=$(jq -rn --arg s '截图 1 "a".png' '$s|@uri')
up "/api/v1/tickets/$T/attachments?name=$NAME" "$TMP/dot.png" "$CUST" text/plain
is "the customer attaches a file to their ticket" 201 \
    ".name == \"截图 1 \\\"a\\\".png\" and .content_type == \"image/png\" and .declared_type == \"text/plain\"
     and .size == $(stat -c %s "$TMP/dot.png") and .sha256 == \"$SUM\" and .internal == false and .comment == null
     and (.url | test(\"^/api/v1/attachments/[0-9]+$\"))"
A=$(jq -r .id "$TMP/body")
req GET "/api/v1/tickets/$T/events" "" "$CUST"
is "an attachment event records its SHA-256 in the ticket's chain" 200 \
    "[.events[] | select(.type == \"attachment\")] | length == 1 and .[0].body.sha256 == \"$SUM\" and .[0].body.attachment == $A"
req GET "/api/v1/tickets/$T/verify" "" "$MGR"
is "the chain still verifies" 200 '.valid == true'

get "/api/v1/attachments/$A" "$CUST"
check "the customer downloads it: 200" "$([ "$CODE" = 200 ] && echo 0 || echo 1)" "($CODE)"
cmp -s "$TMP/got" "$TMP/dot.png"
check "the bytes come back unchanged" $?
[ "$(header Content-Type)" = "image/png" ]
check "served as the sniffed type, not the declared one" $? "($(header Content-Type))"
[ "$(header X-Content-Type-Options)" = "nosniff" ]
check "with X-Content-Type-Options: nosniff" $?
[ "$(header Content-Disposition)" = "attachment; filename=\"__ 1 _a_.png\"; filename*=UTF-8''%E6%88%AA%E5%9B%BE%201%20%22a%22.png" ]
check "as a download, with an ASCII fallback and the UTF-8 name in filename* (RFC 6266)" $? "($(header Content-Disposition))"
header Content-Security-Policy | grep -q sandbox
check "sandboxed should a browser open it anyway" $?
get "/api/v1/attachments/$A" "$MGR"
check "staff download it" "$([ "$CODE" = 200 ] && echo 0 || echo 1)"
get "/api/v1/attachments/$A" "$OTHER"
check "another organisation's customer gets 404" "$([ "$CODE" = 404 ] && echo 0 || echo 1)" "($CODE)"
req GET "/api/v1/tickets/$T/attachments" "" "$OTHER"
is "nor can they list them" 404
up "/api/v1/tickets/$T/attachments?name=x.png" "$TMP/dot.png" "$OTHER" image/png
is "nor attach to that ticket" 404
get "/api/v1/attachments/$A" ""
check "nobody without a login" "$([ "$CODE" = 401 ] && echo 0 || echo 1)" "($CODE)"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets/$T/attachments?name=x.png" \
    -H "Content-Type: image/png" --data-binary "@$TMP/dot.png")
check "nor may anybody without a login upload" \
    "$([ "$CODE" = 401 ] && echo 0 || echo 1)" "($CODE)"
head -c 300000 /dev/urandom >"$TMP/300k"
# a body of up to 1 MiB is read before the refusal, so the answer is not
# lost to a reset while curl still sends: every one of ten tries is 401
CODES=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
    CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets/$T/attachments?name=x.bin" \
        -H "Authorization: Bearer not-a-token" -H "Content-Type: application/octet-stream" --data-binary "@$TMP/300k")
    [ "$CODE" = 401 ] || CODES="$CODES $CODE"
done
CODE=${CODES:-401}
check "nor with a token that is not one, its body read and the answer always there" "$([ "$CODE" = 401 ] && echo 0 || echo 1)" "($CODE)"
get "/api/v1/attachments/999999" "$MGR"
check "an unknown attachment is 404" "$([ "$CODE" = 404 ] && echo 0 || echo 1)"

# internal notes and their files
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"内部：客户的打印机型号","internal":true}' "$AGENT"
is "the agent writes an internal note" 201
NOTE=$(curl -s "$B/api/v1/tickets/$T/events" -H "Authorization: Bearer $AGENT" | jq '[.events[] | select(.type == "comment")][-1].seq')
printf 'serial: HX-2231\n' >"$TMP/serial.txt"
up "/api/v1/tickets/$T/attachments?name=serial.txt&comment=$NOTE" "$TMP/serial.txt" "$AGENT" text/plain
is "a file of an internal note is internal" 201 ".internal == true and .comment == $NOTE and .content_type == \"text/plain\""
AI=$(jq -r .id "$TMP/body")
get "/api/v1/attachments/$AI" "$CUST"
check "the customer cannot read an internal note's file" "$([ "$CODE" = 404 ] && echo 0 || echo 1)" "($CODE)"
req GET "/api/v1/tickets/$T/attachments" "" "$CUST"
is "nor see it listed" 200 "[.attachments[].id] == [$A]"
req GET "/api/v1/tickets/$T/events" "" "$CUST"
is "nor its event" 200 '[.events[] | select(.type == "attachment")] | length == 1'
req GET "/api/v1/tickets/$T/attachments" "" "$AGENT"
is "staff see both" 200 "[.attachments[].id] == [$A, $AI]"
up "/api/v1/tickets/$T/attachments?name=a.txt&comment=$NOTE" "$TMP/serial.txt" "$CUST" text/plain
is "a customer cannot attach to an internal note" 404 '.pointer == "/comment"'
up "/api/v1/tickets/$T/attachments?name=a.txt&internal=true" "$TMP/serial.txt" "$CUST" text/plain
is "nor attach an internal file" 403 '.pointer == "/internal"'
up "/api/v1/tickets/$T/attachments?name=a.txt&comment=$NOTE&internal=false" "$TMP/serial.txt" "$AGENT" text/plain
is "a file of an internal note cannot be public" 409 '.pointer == "/internal"'
up "/api/v1/tickets/$T/attachments?name=a.txt&comment=1" "$TMP/serial.txt" "$AGENT" text/plain
is "comment must name a comment of the ticket" 404 '.pointer == "/comment"'
up "/api/v1/tickets/$T/attachments?name=a.txt&internal=maybe" "$TMP/serial.txt" "$AGENT" text/plain
is "internal is true or false" 400 '.pointer == "/internal"'
up "/api/v1/tickets/$T/attachments?name=a.txt&comment=0" "$TMP/serial.txt" "$AGENT" text/plain
is "comment is a seq" 400
up "/api/v1/tickets/$T/attachments?name=a.txt&colour=red" "$TMP/serial.txt" "$AGENT" text/plain
is "an unknown query parameter is refused" 400 '.parameter == "colour"'

# names
for bad in "" "a%2Fb.txt" "..%5Cwin.ini" ".." "a%0Ab.txt" "a%7Fb" "%C2%85x" "%FF%FE.txt" "%C0%AF.txt" "%ED%A0%80.txt" "%E3%80%80%20" "%E2%80%AEgnp.exe" "a%E2%81%A6b" "%E2%80%8Fx"; do
    up "/api/v1/tickets/$T/attachments?name=$bad" "$TMP/serial.txt" "$AGENT" text/plain
    is "the name \"$bad\" is refused" 400 '.pointer == "/name"'
done
up "/api/v1/tickets/$T/attachments" "$TMP/serial.txt" "$AGENT" text/plain
is "a name is required" 400 '.pointer == "/name" and (.detail | test("\\?name="))'
LONG=$(printf 'a%.0s' $(seq 1 252)).txt
up "/api/v1/tickets/$T/attachments?name=$LONG" "$TMP/serial.txt" "$AGENT" text/plain
is "a name of 256 bytes is too long" 400 '.pointer == "/name" and (.detail | test("255"))'
LONG=$(printf 'a%.0s' $(seq 1 251)).txt
up "/api/v1/tickets/$T/attachments?name=$LONG" "$TMP/serial.txt" "$AGENT" text/plain
is "255 bytes are fine" 201
up "/api/v1/tickets/$T/attachments?name=form.txt" "$TMP/serial.txt" "$AGENT" "multipart/form-data; boundary=x"
is "a form is refused with a hint" 415 '.detail | test("data-binary")'
up "/api/v1/tickets/$T/attachments?name=x.txt" "$TMP/serial.txt" "$AGENT" "nonsense"
is "a Content-Type that is no media type is refused" 400
up "/api/v1/tickets/$T/attachments?name=noct.bin" "$TMP/serial.txt" "$AGENT"
is "without a Content-Type the type is sniffed all the same" 201 '.content_type == "text/plain"'
: >"$TMP/empty"
up "/api/v1/tickets/$T/attachments?name=empty.log" "$TMP/empty" "$AGENT" text/plain
is "an empty file is a file" 201 '.size == 0 and .content_type == "application/octet-stream"
    and .sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"'
E=$(jq -r .id "$TMP/body")
get "/api/v1/attachments/$E" "$AGENT"
check "and downloads as 0 bytes" "$([ "$CODE" = 200 ] && [ ! -s "$TMP/got" ] && echo 0 || echo 1)"
up "/api/v1/tickets/999999/attachments?name=a.txt" "$TMP/serial.txt" "$AGENT" text/plain
is "an unknown ticket is 404" 404
req GET "/api/v1/attachments/1/x" "" "$AGENT"
is "no deeper path" 404
req DELETE "/api/v1/attachments/$A" "" "$MGR"
is "attachments are never deleted over the API" 405

# limits: 64 KiB per file, 100 KiB per ticket (serve flags above)
head -c 65536 /dev/urandom >"$TMP/64k"
head -c 65537 /dev/urandom >"$TMP/64k1"
up "/api/v1/tickets/$T/attachments?name=big.bin" "$TMP/64k1" "$AGENT" application/octet-stream
is "a file one byte past the limit is refused" 413 '.detail | test("65536") and test("--max-attachment")'
# no Content-Length (chunked): refused once the body passes the limit
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets/$T/attachments?name=chunked.bin" \
    -H "Authorization: Bearer $AGENT" -H "Transfer-Encoding: chunked" -H "Content-Type: application/octet-stream" \
    --data-binary "@$TMP/64k1")
check "a chunked body past the limit is refused too" "$([ "$CODE" = 413 ] && echo 0 || echo 1)" "($CODE)"
# a declared length past the limit is answered before the body is sent
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets/$T/attachments?name=huge.bin" \
    -H "Authorization: Bearer $AGENT" -H "Content-Type: application/octet-stream" -H "Expect: 100-continue" \
    -H "Content-Length: 1073741824" --data-binary "@$TMP/64k" --max-time 5)
check "a 1 GiB Content-Length is refused at once" "$([ "$CODE" = 413 ] && echo 0 || echo 1)" "($CODE)"
up "/api/v1/tickets/$T/attachments?name=exact.bin" "$TMP/64k" "$AGENT" application/octet-stream
is "a file of exactly the limit is kept" 201 '.size == 65536'
up "/api/v1/tickets/$T/attachments?name=second.bin" "$TMP/64k" "$AGENT" application/octet-stream
is "the ticket's total is capped" 413 '.detail | test("per ticket")'
req GET "/api/v1/tickets/$T/attachments" "" "$AGENT"
is "and nothing of the refused files was kept" 200 '[.attachments[].name] | index("second.bin") == null and index("big.bin") == null'

# the stream and the feed see the ticket change; the server is still fine
req GET /healthz
is "the server is still serving" 200

serve_stop
finish
