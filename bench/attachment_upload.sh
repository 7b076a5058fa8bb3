#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# attachment_upload.sh - uploading a 10 MiB attachment to `keepword serve`
# on 127.0.0.1: the time of each of ATTACH_BENCH_RUNS uploads (default 10;
# each read, hashed, sniffed and committed durably before the answer), the
# median and the slowest, the throughput, one download, and the server's
# peak RSS. Prints numbers; asserts nothing about speed.
# usage: bench/attachment_upload.sh PATH/TO/keepword
set -euo pipefail

kw=${1:?usage: attachment_upload.sh PATH/TO/keepword}
runs=${ATTACH_BENCH_RUNS:-10}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$tmp/kw.db" >/dev/null
bench_serve "$kw" "$tmp/kw.db" "$tmp/log" --demo --max-ticket-attachments 1GiB
b=http://127.0.0.1:$port
token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" \
    -d '{"email":"manager@keepword.demo","password":"keepword-demo"}' | jq -r .token)
head -c $((10 * 1024 * 1024)) /dev/urandom >"$tmp/10m.bin"
: >"$tmp/times"
for i in $(seq 1 "$runs"); do
    out=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' -X POST \
        "$b/api/v1/tickets/1/attachments?name=bench-$i.bin" -H "Authorization: Bearer $token" \
        -H "Content-Type: application/octet-stream" --data-binary "@$tmp/10m.bin")
    [ "${out%% *}" = 201 ] || { echo "upload $i failed: $out $(cat "$tmp/body")" >&2; exit 1; }
    echo "${out#* }" >>"$tmp/times"
done
id=$(jq -r .id "$tmp/body")
sort -n "$tmp/times" >"$tmp/sorted"
p50=$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] * 1000 }' "$tmp/sorted")
max=$(awk 'END { print $1 * 1000 }' "$tmp/sorted")
rate=$(awk -v t="$p50" 'BEGIN { printf "%.1f", 10 * 1000 / t }')
printf 'attachment: upload 10 MiB (%d runs)     p50 %7.1f ms   max %7.1f ms   (%s MiB/s at p50)\n' \
    "$runs" "$p50" "$max" "$rate"
dl=$(curl -s -o "$tmp/got" -w '%{time_total}' "$b/api/v1/attachments/$id" -H "Authorization: Bearer $token")
cmp -s "$tmp/got" "$tmp/10m.bin" || { echo "the download differs from the upload" >&2; exit 1; }
printf 'attachment: download 10 MiB               %7.1f ms\n' "$(awk -v t="$dl" 'BEGIN { print t * 1000 }')"
printf 'attachment: server peak RSS              %7.1f MiB\n' \
    "$(awk '/^VmHWM/ { print $2 / 1024 }' "/proc/$pid/status")"
