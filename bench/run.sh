#!/usr/bin/env bash
# hookline benchmarks: builds Release, starts every server on 127.0.0.1, drives each with wrk
# for BENCH_SECONDS (default 10) at 64 connections, and prints one table of figures and
# ratios measured in this one run. Installs wrk (Debian) and the npm peer when missing.
#
#   bench/run.sh                 # all scenarios built so far
#   BENCH_SECONDS=20 bench/run.sh
#
# Scenario a (receiver): durable acks/s and p50/p99 of `hookline receive` with distinct
# ~2.5 KB reference-shaped bodies, beside the limit (hookline's HTTP server answering 200
# without storing) and the peer (fastify + better-sqlite3, WAL, synchronous=FULL, one insert
# per webhook).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-10}"
connections="${BENCH_CONNECTIONS:-64}"

scripts/install-deps.sh build
command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v node >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
[ -f bench/peer/node_modules/better-sqlite3/package.json ] ||
  npm ci --prefix bench/peer --no-audit --no-fund --loglevel=error

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOOKLINE_TESTS=OFF -DHOOKLINE_BENCH=ON >/dev/null
cmake --build build/bench --target hookline bench_null_server -j"$(nproc)" >/dev/null

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Starts a server in the background and echoes its base URL from its first stdout line.
start() {
  local log="$work/$1.out"; shift
  "$@" >"$log" 2>"$log.err" &
  pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$log" 2>/dev/null; then sed -n 's/^listening on //p' "$log" | head -1; return; fi
    sleep 0.1
  done
  echo "could not start: $*" >&2; cat "$log.err" >&2; exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Runs wrk against URL; prints "rps p50_ms p99_ms non2xx".
load() {
  local out
  out="$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/wrk/post_bodies.lua "$1" 2>&1)"
  echo "$out" > "$work/wrk-$2.txt"
  local rps p50 p99 errors
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  errors="$(awk '/^non2xx/ {print $2}' <<<"$out")"
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${errors:-?}"
}
to_ms() { # wrk prints 1.23ms, 850.00us or 1.02s
  awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); printf "%.2f", v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.2f", v } else { sub(/s$/,"",v); printf "%.2f", v*1000 } }'
}

B=build/bench/hookline
export HOOKLINE_LOG_LEVEL=warn

# a. receiver
limit_url="$(start null build/bench/bench/bench_null_server 0)/ingest/bench"
src="$($B source create --name bench --db "sqlite:$work/receiver.db" 2>/dev/null)"
src_path="$(sed -E 's/.*"ingest_path":"([^"]+)".*/\1/' <<<"$src")"
src_token="$(sed -E 's/.*"token":"([^"]+)".*/\1/' <<<"$src")"
receiver_url="$(start receiver $B receive --listen 127.0.0.1:0 --db "sqlite:$work/receiver.db")${src_path}?token=${src_token}"
peer_port="$(free_port)"
peer_url="$(start peer node bench/peer/fastify_receiver.cjs "$peer_port" "$work/peer.db")/ingest/bench"

read -r l_rps l_p50 l_p99 l_err <<<"$(load "$limit_url" limit)"
read -r r_rps r_p50 r_p99 r_err <<<"$(load "$receiver_url" receiver)"
read -r p_rps p_p50 p_p99 p_err <<<"$(load "$peer_url" peer)"
stored="$(sqlite3 "$work/receiver.db" "SELECT COUNT(*) FROM received WHERE status = 'accepted'" 2>/dev/null || echo '?')"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "hookline benchmarks: $(nproc) cores, ${connections} connections, ${seconds} s per run, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| scenario | req/s | p50 ms | p99 ms | non-2xx | ratio |"
echo "|---|---:|---:|---:|---:|---|"
echo "| a. limit: HTTP server, 200 without storing | $l_rps | $l_p50 | $l_p99 | $l_err | 1.00 |"
echo "| a. hookline receive, durable acks | $r_rps | $r_p50 | $r_p99 | $r_err | $(ratio "$r_rps" "$l_rps") x limit, $(ratio "$r_rps" "$p_rps") x peer |"
echo "| a. peer: fastify + better-sqlite3, one synced insert each | $p_rps | $p_p50 | $p_p99 | $p_err | $(ratio "$p_rps" "$l_rps") x limit |"
echo
echo "receiver stored ${stored} distinct webhooks (each acknowledged only after its commit)."
