#!/usr/bin/env bash
# hookline benchmarks: builds Release, starts everything on 127.0.0.1, bounds every run in
# time, and prints one table of figures and ratios measured in this one run.
#
#   bench/run.sh                      # every scenario
#   BENCH_SECONDS=20 bench/run.sh     # longer load phases (default 10 s)
#   BENCH_ONLY="a c" bench/run.sh     # some scenarios
#
#   a. receiver: durable acks/s, p50/p99 at 64 connections, distinct ~2.5 KB bodies, beside
#      the limit (our HTTP server answering 200 inline, storing nothing) and the peer
#      (fastify + better-sqlite3, WAL, synchronous=FULL, one insert per webhook).
#   b. provider end to end: activities POSTed, webhooks arriving at a local sink: events/s at
#      saturation; p50/p99 from the POST to the arrival at a fixed 1,000/s.
#   c. dispatch drain: 200k pending deliveries (4 endpoints) sent to the sink, beside a bare
#      libcurl multi client sending the same bytes over as many connections (the limit), in
#      rounds of one each (BENCH_DRAIN_ROUNDS, default 3); the median round is shown.
#   d. fan-out: events to 100 endpoints at a fixed rate: deliveries/s and POST-to-arrival.
#   e. memory: peak RSS of each server above, and of `serve` draining 10k vs 1M pending.
#
# The load comes from bench_load_client (C++, pre-built bodies, keep-alive; open-loop
# latency is measured from each request's scheduled time). Installs the npm peer when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-10}"
only="${BENCH_ONLY:-a b c d e}"
connections=64

scripts/install-deps.sh build
command -v node >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
command -v python3 >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null; }
[ -f bench/peer/node_modules/better-sqlite3/package.json ] ||
  npm ci --prefix bench/peer --no-audit --no-fund --loglevel=error

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOOKLINE_TESTS=OFF -DHOOKLINE_BENCH=ON >/dev/null
cmake --build build/bench --target hookline bench_sink bench_load_client bench_seed_backlog bench_curl_blast \
  -j"$(nproc)" >/dev/null

source bench/lib.sh
has() { [[ " $only " == *" $1 "* ]]; }

start sink $T/bench_sink
sink_url="$url"; sink_pid="$pid"

# ---- a. receiver ----
if has a; then
  body=bench/bodies/message-replied.json
  load() { $T/bench_load_client --url "$1" --body-file "$body" --seconds "$seconds" --connections $connections --keys 20000; }
  limit="$(load "$sink_url/ingest/bench")"
  src="$($B source create --name bench --db "sqlite:$work/receiver.db")"
  src_path="$(field "$src" ingest_path)"; src_token="$(field "$src" token)"
  start receiver $B receive --listen 127.0.0.1:0 --db "sqlite:$work/receiver.db" --api-token bench-token-0123456789
  receiver_url="$url"; receiver_pid="$pid"
  ours="$(load "$receiver_url$src_path?token=$src_token")"
  # Projection lag: how long after the last ack the projections have caught up.
  acked_at="$(now_ms)"
  for _ in $(seq 1 300); do  # grep, not python: the projector is still working
    curl -s -H 'Authorization: Bearer bench-token-0123456789' "$receiver_url/v1/projections" |
      grep -q '"backlog":0[,}]' && break
    sleep 0.05
  done
  lag_ms=$(( $(now_ms) - acked_at ))
  receiver_mb="$(peak_mb "$receiver_pid")"
  stop "$receiver_pid"
  stored="$(sqlite3 "$work/receiver.db" "SELECT COUNT(*) FROM received WHERE status = 'accepted'" 2>/dev/null || echo '?')"
  peer_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  start peer node bench/peer/fastify_receiver.cjs "$peer_port" "$work/peer.db"
  peer_pid="$pid"
  peer="$(load "$url/ingest/bench")"
  peer_mb="$(peak_mb "$peer_pid")"
  stop "$peer_pid"
  fmt_load() { echo "$(field "$1" rps) | $(field "$1" p50_ms) | $(field "$1" p99_ms) | $(( $(field "$1" non2xx) + $(field "$1" errors) ))"; }
  row "| a. limit: HTTP server answering 200, storing nothing | $(fmt_load "$limit") | - | 1.00 |"
  row "| a. **hookline receive, durable acks** | $(fmt_load "$ours") | $receiver_mb | $(ratio "$(field "$ours" rps)" "$(field "$limit" rps)") x limit, $(ratio "$(field "$ours" rps)" "$(field "$peer" rps)") x peer |"
  row "| a. peer: fastify + better-sqlite3, one synced insert each | $(fmt_load "$peer") | $peer_mb | $(ratio "$(field "$peer" rps)" "$(field "$limit" rps)") x limit |"
  notes+=("a: receiver stored $stored distinct webhooks, each acknowledged after its commit; projections caught up ${lag_ms} ms after the last ack.")
fi

# ---- b. provider end to end ----
if has b; then
  start_serve provider
  seed_campaign
  api POST /v1/endpoints "{\"url\":\"$sink_url/b\"}" >/dev/null
  activity_body
  curl -s -X POST "$sink_url/reset" >/dev/null
  started="$(now_ms)"
  sat="$($T/bench_load_client --url "$serve_url/v1/activities" --body-file "$work/activity.json" --seconds "$seconds" \
    --connections $connections --keys 20000 --header "Authorization: Bearer $key")"
  posted="$(field "$sat" requests)"
  arrived="$(await_sink "$sink_url" "$posted" 120)"
  e2e_rate="$(awk -v n="$(field "$arrived" count)" -v a="$started" -v b="$(field "$arrived" last_ms)" 'BEGIN { printf "%.0f", n * 1000 / (b - a) }')"
  curl -s -X POST "$sink_url/reset" >/dev/null
  paced="$($T/bench_load_client --url "$serve_url/v1/activities" --body-file "$work/activity.json" --seconds "$seconds" \
    --connections 16 --rate 1000 --keys 20000 --header "Authorization: Bearer $key")"
  paced_arrived="$(await_sink "$sink_url" "$(field "$paced" requests)" 60)"
  provider_mb="$(peak_mb "$serve_pid")"
  stop "$serve_pid"
  row "| b. **provider end to end**, saturated (64 conns): events/s POSTed to arrival | $e2e_rate | - | - | $(( $(field "$sat" non2xx) + $(field "$sat" errors) )) | $provider_mb | $(field "$arrived" count) of $posted arrived; POST answers p50 $(field "$sat" p50_ms) ms, p99 $(field "$sat" p99_ms) ms |"
  row "| b. **provider end to end** at 1,000 events/s: POST to arrival | $(field "$paced" rps) | $(field "$paced_arrived" p50_ms) | $(field "$paced_arrived" p99_ms) | $(( $(field "$paced" non2xx) + $(field "$paced" errors) )) | $provider_mb | $(field "$paced_arrived" lat_count) arrivals timed |"
fi

# ---- c. dispatch drain ----
# In rounds, each the drain of a copy of the same 200k backlog and then the bare sender: the
# VM's phases move both rates by up to 2 x within minutes, so each round's ratio is of two runs
# next to each other, and the table shows the median round.
payload=tests/data/examples/message-sent.json
if has c; then
  rounds="${BENCH_DRAIN_ROUNDS:-3}"
  [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_DRAIN_ROUNDS must be a positive integer" >&2; exit 2; }
  seed_db="$work/drain-seed.db"
  seeded="$($T/bench_seed_backlog --db "sqlite:$seed_db" --master-key-file "$work/drain.key" --url "$sink_url/c" \
    --payload-file "$payload" --events 50000 --endpoints 4)"
  total="$(field "$seeded" deliveries)"
  round_rows=()
  for round in $(seq 1 "$rounds"); do
    rm -f "$work"/drain.db*
    cp "$seed_db" "$work/drain.db"
    if [ -f "$seed_db-wal" ]; then cp "$seed_db-wal" "$work/drain.db-wal"; fi
    curl -s -X POST "$sink_url/reset" >/dev/null
    start drain $B serve --listen 127.0.0.1:0 --db "sqlite:$work/drain.db" --master-key-file "$work/drain.key" --allow-private-endpoints
    drain_pid="$pid"
    drained="$(await_sink "$sink_url" "$total" 300)"
    drain_mb="$(peak_mb "$drain_pid")"
    stop "$drain_pid"
    curl -s -X POST "$sink_url/reset" >/dev/null
    blast="$($T/bench_curl_blast --url "$sink_url/c" --payload-file "$payload" --requests "$total" --connections 64 --endpoints 4)"
    # ratio, drain/s, limit/s, not arrived, limit failures, peak RSS: sorted by ratio below
    round_rows+=("$(ratio "$(field "$drained" per_s)" "$(field "$blast" per_s)") $(field "$drained" per_s) $(field "$blast" per_s) $(( total - $(field "$drained" count) )) $(( $(field "$blast" non2xx) + $(field "$blast" errors) )) $drain_mb")
  done
  mapfile -t sorted < <(printf '%s\n' "${round_rows[@]}" | sort -g)
  read -r c_ratio c_rate c_limit c_lost c_failed c_mb <<<"${sorted[$(( (rounds - 1) / 2 ))]}"
  row "| c. limit: bare libcurl multi, same bytes, 64 connections | $c_limit | - | - | $c_failed | - | 1.00 |"
  row "| c. **dispatch drain**: $total pending deliveries, 4 endpoints | $c_rate | - | - | $c_lost not arrived | $c_mb | $c_ratio x limit (median of $rounds rounds) |"
  notes+=("c: each round drains a copy of the same backlog, then runs the limit; ratios by round: $(printf '%s\n' "${sorted[@]}" | awk '{printf "%s%s (%.0f/%.0f per s)", (NR > 1 ? ", " : ""), $1, $2, $3}').")
fi

# ---- d. fan-out ----
if has d; then
  start_serve fanout
  seed_campaign
  for i in $(seq 0 99); do api POST /v1/endpoints "{\"url\":\"$sink_url/d$i\"}" >/dev/null; done
  activity_body
  curl -s -X POST "$sink_url/reset" >/dev/null
  fan="$($T/bench_load_client --url "$serve_url/v1/activities" --body-file "$work/activity.json" --seconds "$seconds" \
    --connections 4 --rate 50 --keys 20000 --header "Authorization: Bearer $key")"
  expected=$(( $(field "$fan" requests) * 100 ))
  fanned="$(await_sink "$sink_url" "$expected" 120)"
  fan_mb="$(peak_mb "$serve_pid")"
  stop "$serve_pid"
  row "| d. **fan-out**: 50 events/s, each to 100 endpoints: deliveries/s, POST to arrival | $(field "$fanned" per_s) | $(field "$fanned" p50_ms) | $(field "$fanned" p99_ms) | $(( expected - $(field "$fanned" count) )) not arrived | $fan_mb | $(field "$fanned" count) of $expected arrived |"
fi

# ---- e. memory with a backlog ----
if has e; then
  for events in 100 10000; do
    db="$work/backlog-$events.db"
    $T/bench_seed_backlog --db "sqlite:$db" --master-key-file "$work/backlog.key" --url "$sink_url/e" \
      --payload-file "$payload" --events "$events" --endpoints 100 >/dev/null
    curl -s -X POST "$sink_url/reset" >/dev/null
    start "backlog-$events" $B serve --listen 127.0.0.1:0 --db "sqlite:$db" --master-key-file "$work/backlog.key" --allow-private-endpoints
    backlog_pid="$pid"
    sleep "$seconds"
    sent="$(field "$(curl -s "$sink_url/stats")" count)"
    mb="$(peak_mb "$backlog_pid")"
    stop "$backlog_pid"
    eval "backlog_mb_$events=$mb"
    row "| e. **memory**: serve with $(( events * 100 )) deliveries pending (100 endpoints), ${seconds} s | $(awk -v n="$sent" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') | - | - | - | $mb | $sent sent in the window |"
  done
  notes+=("e: peak RSS with 1M pending is $(ratio "$backlog_mb_10000" "$backlog_mb_100") x the peak with 10k pending.")
fi

echo
echo "hookline benchmarks: $(nproc) cores, ${seconds} s load phases, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| scenario | per s | p50 ms | p99 ms | failed | peak RSS MB | ratio / note |"
echo "|---|---:|---:|---:|---:|---:|---|"
for r in "${rows[@]}"; do echo "$r"; done
echo
for n in "${notes[@]+"${notes[@]}"}"; do echo "- $n"; done
