# Shared by bench/run.sh and bench/instructions.sh (sourced after the build): the binaries, a
# work directory removed on exit, and helpers to start servers and drive the provider API.
B=build/bench/hookline
T=build/bench/bench
export HOOKLINE_LOG_LEVEL=warn
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
rows=()
notes=()
row() { rows+=("$*"); }

# Starts a server in the background; sets $url from its "listening on" line and $pid.
start() {
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 "${start_wait_steps:-200}"); do  # 50 ms each
    url="$(sed -n 's/^listening on //p' "$work/$name.out" 2>/dev/null | head -1)"
    [ -n "$url" ] && return
    sleep 0.05
  done
  echo "could not start $name: $*" >&2; cat "$work/$name.err" >&2; exit 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# Peak resident memory of a running process, in MB to a tenth (e's ratio of two ~25 MB
# peaks read 1.04-1.12 x from whole MB, where one MB is 4 %).
peak_mb() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# A field of a one-line JSON object.
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
now_ms() { date +%s%3N; }
# Waits until the sink at $1 has counted $2 arrivals (at most $3 seconds); echoes its stats.
# One long-poll request: nothing runs beside the server under test while it works.
await_sink() {
  curl -s --max-time "$(( $3 + 10 ))" "$1/stats?until=$2&wait_ms=$(( $3 * 1000 ))"
}
api() { curl -s -X "$1" "$serve_url$2" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
# `hookline serve` on a fresh database; sets serve_url, serve_pid, key.
start_serve() {
  local db="$work/$1.db"
  key="$($B company create --name bench --db "sqlite:$db" | sed -E 's/.*"api_key":"([^"]+)".*/\1/')"
  start "$1" $B serve --listen 127.0.0.1:0 --db "sqlite:$db" --allow-private-endpoints
  serve_url="$url"; serve_pid="$pid"
}
# A LinkedIn campaign with 20,000 enrolled leads and a sender.
seed_campaign() {
  api PUT /v1/senders/s1 '{"name":"Ravi Mehta","email":"ravi@example.com"}' >/dev/null
  api PUT /v1/campaigns/c1 '{"name":"Q1 LinkedIn Outreach","campaign_type":"linkedin"}' >/dev/null
  for part in 0 1; do
    python3 -c 'import json,sys; p=int(sys.argv[1]); print(json.dumps({"leads":[{"id":"lead-%08d"%i,"name":"Lead %d"%i,"email":"l%d@example.com"%i} for i in range(p*10000,(p+1)*10000)]}))' "$part" >"$work/leads.json"
    curl -s -X POST "$serve_url/v1/campaigns/c1/leads" -H "Authorization: Bearer $key" \
      -H 'Content-Type: application/json' --data-binary "@$work/leads.json" >/dev/null
  done
}
activity_body() {  # {{k}} cycles through the enrolled leads; {{t}} carries the send time to the sink
  printf '%s' '{"event":"message-sent","campaign_id":"c1","lead_id":"lead-{{k}}","sender_id":"s1","action_data":{"message":"bench-t:{{t}}"}}' >"$work/activity.json"
}
