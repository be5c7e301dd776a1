#!/usr/bin/env bash
# Builds hookline (Release) and runs the provider on SQLite. Installs missing Debian packages.
# Environment: HOOKLINE_LISTEN (default 127.0.0.1:8080), HOOKLINE_DB (default sqlite:hookline.db).
# Extra arguments go to `hookline serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOOKLINE_TESTS=OFF >/dev/null
cmake --build build/release --target hookline -j"$(nproc)"
exec build/release/hookline serve "$@"
