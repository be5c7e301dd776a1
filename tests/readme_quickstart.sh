#!/usr/bin/env bash
# Runs the README's quick start as written, in a fresh copy of the repository (as a new user
# on a clean clone would), and checks that the webhook arrived and was delivered. Two things
# differ from a user's run, so that the test cannot fail for the machine's sake: the ports
# 8080 and 9000 are replaced by free ones, and the Release build it makes is compiled with
# -Werror (CXXFLAGS is read when scripts/serve.sh first configures), so CI proves that build
# has no warnings. Everything the quick start starts runs in a process group of its own,
# stopped by that group's id at the end, also when it fails half way.
# Usage: tests/readme_quickstart.sh REPO_DIR
set -euo pipefail
repo="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
api_port="$(free_port)"
sink_port="$(free_port)"
while [ "$sink_port" = "$api_port" ]; do sink_port="$(free_port)"; done
work="$(mktemp -d)"
group=""
cleanup() {
  if [ -n "$group" ]; then kill -TERM -- "-$group" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$work")
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$repo/README.md" |
  sed '1,2d;$d' | sed '$d' | sed -e "s/8080/$api_port/g" -e "s/9000/$sink_port/g" > "$work/quickstart.sh"
cd "$work"
# Output goes to a file, not a pipe: a server the quick start failed to stop must not keep
# this script waiting for the pipe to close.
HOOKLINE_LISTEN="127.0.0.1:$api_port" CXXFLAGS="${CXXFLAGS:-} -Werror" \
  setsid timeout 900 bash -e quickstart.sh \
  >"$work/stdout.log" 2>"$work/stderr.log" &
group=$!
status=0
wait "$group" || status=$?
if [ "$status" -ne 0 ]; then cat "$work/stderr.log" >&2; cat "$work/stdout.log"; exit 1; fi
out="$(cat "$work/stdout.log")"
echo "$out"
fail() { echo "quick start check failed: $1" >&2; tail -20 "$work/stderr.log" >&2; exit 1; }
grep -q '"event": "invite-sent"' <<<"$out" || fail "the local receiver printed no invite-sent webhook"
grep -q '"action": "Send connection request"' <<<"$out" || fail "the webhook has no activity history"
grep -q '"status":"succeeded"' <<<"$out" || fail "the event log does not show the delivery succeeded"
echo "README quick start: OK"
