#!/usr/bin/env bash
# Runs the README's quick start exactly as written, in a fresh copy of the repository (as a
# new user on a clean clone would), and checks that the webhook arrived and was delivered.
# Usage: tests/readme_quickstart.sh REPO_DIR
set -euo pipefail
repo="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
for port in 8080 9000; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: the quick start needs it free" >&2
    exit 1
  fi
done
work="$(mktemp -d)"
# Whatever the quick start leaves running is stopped here, also when it fails half way.
trap 'pkill -f "$work/build/release/hookline" 2>/dev/null || true; pkill -f "print_webhooks.py 9000" 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$work")
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$repo/README.md" |
  sed '1,2d;$d' | sed '$d' > "$work/quickstart.sh"
cd "$work"
# Output goes to a file, not a pipe: a server the quick start failed to stop must not keep
# this script waiting for the pipe to close.
timeout 900 bash -e quickstart.sh >"$work/stdout.log" 2>"$work/stderr.log" || {
  cat "$work/stderr.log" >&2; cat "$work/stdout.log"; exit 1; }
out="$(cat "$work/stdout.log")"
echo "$out"
fail() { echo "quick start check failed: $1" >&2; tail -20 "$work/stderr.log" >&2; exit 1; }
grep -q '"event": "invite-sent"' <<<"$out" || fail "the local receiver printed no invite-sent webhook"
grep -q '"action": "Send connection request"' <<<"$out" || fail "the webhook has no activity history"
grep -q '"status":"succeeded"' <<<"$out" || fail "the event log does not show the delivery succeeded"
echo "README quick start: OK"
