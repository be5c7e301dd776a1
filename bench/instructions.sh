#!/usr/bin/env bash
# Instructions per operation, counted by callgrind (valgrind): the same code on the same inputs
# gives the same count whatever else the machine is doing, so a change of a few percent shows,
# where the rates of bench/run.sh move by ±20 % between runs on a shared VM. Counts are of user
# space only (the kernel's share, system calls and wake-ups, is not in them) and callgrind's
# CPU model lacks SHA extensions, so SHA-256 and HMAC weigh more here than on the hardware.
#
#   bench/instructions.sh                 # c, b and a
#   INSTR_ONLY="c" bench/instructions.sh  # some scenarios
#   INSTR_KEEP=/tmp/p bench/instructions.sh  # keep the profiles (c.out, b.out, a.out) there,
#                                            # for callgrind_annotate
#
#   c. dispatch drain: 10,000 pending deliveries (2,500 events x 4 endpoints) sent to the sink.
#   b. provider end to end: 64 connections POST message-sent activities for 10 s (20,000 leads,
#      one endpoint at the sink); per event, counted from the first POST until every webhook
#      arrived.
#   a. receiver: 64 connections POST distinct message-replied webhooks for 10 s; per webhook,
#      counted until the projections have caught up.
# Per thread: writer (hl-sql-writer), sync (hl-sql-sync), checkpointer, dispatcher, the HTTP I/O
# threads (ingest and parsing run there) and the projector; "process" is everything. Takes ~3
# minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
only="${INSTR_ONLY:-c b a}"
seconds=10

scripts/install-deps.sh build
command -v valgrind >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
command -v python3 >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null; }
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOOKLINE_TESTS=OFF -DHOOKLINE_BENCH=ON >/dev/null
cmake --build build/bench --target hookline bench_sink bench_load_client bench_seed_backlog -j"$(nproc)" >/dev/null

source bench/lib.sh
has() { [[ " $only " == *" $1 "* ]]; }
start_wait_steps=1200  # a server under valgrind starts slowly
payload=tests/data/examples/message-sent.json
callgrind=(valgrind --tool=callgrind)  # run directly (not a function), so $pid is valgrind's
# Inclusive instructions of the function matching $2 in the profile $1 (0 when absent). The
# store's threads are the lambdas of SqliteStore's constructor, in order: writer, sync,
# checkpointer.
inclusive() {
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null | grep -E "$2" | head -1 | awk '{gsub(",", "", $1); print $1 + 0}'
}
# One table row: scenario, operations, then instructions per operation for the process and per thread.
report() {
  local name="$1" profile="$2" ops="$3" total
  total="$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
  per() { awk -v n="$1" -v o="$ops" 'BEGIN { if (n > 0) printf "%.0fk", n / o / 1000; else print "-" }'; }
  rows+=("| $name | $ops | $(per "$total") | $(per "$(inclusive "$profile" 'SqliteStore::SqliteStore.*lambda\(\)#1')") \
| $(per "$(inclusive "$profile" 'SqliteStore::SqliteStore.*lambda\(\)#2')") \
| $(per "$(inclusive "$profile" 'SqliteStore::SqliteStore.*lambda\(\)#3')") \
| $(per "$(inclusive "$profile" 'Dispatcher::Loop\(\)')") \
| $(per "$(inclusive "$profile" 'asio::detail::scheduler::run')") \
| $(per "$(inclusive "$profile" 'Projector::Start\(\)::\{lambda')") |")
}

start sink $T/bench_sink
sink_url="$url"

# ---- c. dispatch drain ----
if has c; then
  $T/bench_seed_backlog --db "sqlite:$work/drain.db" --master-key-file "$work/drain.key" --url "$sink_url/c" \
    --payload-file "$payload" --events 2500 --endpoints 4 >/dev/null
  curl -s -X POST "$sink_url/reset" >/dev/null
  start drain "${callgrind[@]}" --callgrind-out-file="$work/c.out" $B serve --listen 127.0.0.1:0 --db "sqlite:$work/drain.db" \
    --master-key-file "$work/drain.key" --allow-private-endpoints
  drain_pid="$pid"
  arrived="$(field "$(await_sink "$sink_url" 10000 300)" count)"
  stop "$drain_pid"
  report "c. dispatch drain, per delivery" "$work/c.out" "$arrived"
fi

# ---- b. provider end to end ----
if has b; then
  db="$work/provider.db"
  key="$($B company create --name bench --db "sqlite:$db" | sed -E 's/.*"api_key":"([^"]+)".*/\1/')"
  start provider "${callgrind[@]}" --instr-atstart=no --callgrind-out-file="$work/b.out" $B serve --listen 127.0.0.1:0 --db "sqlite:$db" --allow-private-endpoints
  serve_url="$url"; provider_pid="$pid"
  seed_campaign
  api POST /v1/endpoints "{\"url\":\"$sink_url/b\"}" >/dev/null
  activity_body
  curl -s -X POST "$sink_url/reset" >/dev/null
  callgrind_control -i on "$provider_pid" >/dev/null
  posted="$(field "$($T/bench_load_client --url "$serve_url/v1/activities" --body-file "$work/activity.json" \
    --header "Authorization: Bearer $key" --seconds "$seconds" --connections 64 --keys 20000)" requests)"
  arrived="$(field "$(await_sink "$sink_url" "$posted" 120)" count)"
  callgrind_control -i off "$provider_pid" >/dev/null
  stop "$provider_pid"
  report "b. provider end to end, per event" "$work/b.out" "$arrived"
fi

# ---- a. receiver ----
if has a; then
  src="$($B source create --name bench --db "sqlite:$work/receiver.db")"
  src_path="$(field "$src" ingest_path)"; src_token="$(field "$src" token)"
  start receiver "${callgrind[@]}" --instr-atstart=no --callgrind-out-file="$work/a.out" $B receive --listen 127.0.0.1:0 --db "sqlite:$work/receiver.db" \
    --api-token bench-token-0123456789
  receiver_url="$url"; receiver_pid="$pid"
  callgrind_control -i on "$receiver_pid" >/dev/null
  acked="$(field "$($T/bench_load_client --url "$receiver_url$src_path?token=$src_token" \
    --body-file bench/bodies/message-replied.json --seconds "$seconds" --connections 64 --keys 20000)" requests)"
  for _ in $(seq 1 600); do
    backlog="$(field "$(curl -s -H 'Authorization: Bearer bench-token-0123456789' "$receiver_url/v1/projections")" backlog)"
    [ "$backlog" = 0 ] && break
    sleep 0.2
  done
  callgrind_control -i off "$receiver_pid" >/dev/null
  stop "$receiver_pid"
  report "a. receiver, per webhook (ingest and projection)" "$work/a.out" "$acked"
fi

if [ -n "${INSTR_KEEP:-}" ]; then mkdir -p "$INSTR_KEEP" && cp "$work"/*.out "$INSTR_KEEP"/; fi
echo
echo "hookline instructions per operation (callgrind), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "| scenario | operations | process | writer | sync | checkpointer | dispatcher | HTTP I/O | projector |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for r in "${rows[@]}"; do echo "$r"; done
