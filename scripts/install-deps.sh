#!/usr/bin/env bash
# Installs the Debian 12 packages hookline needs, only those missing. Run as root (CI is).
# Usage: scripts/install-deps.sh [build|test]
set -euo pipefail
mode="${1:-build}"
packages=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libsqlite3-dev libssl-dev
  libspdlog-dev libfmt-dev libcli11-dev
)
if [ "$mode" = test ]; then
  # GoogleTest; node + npm for the standardwebhooks cross-check; clang + its runtime for libFuzzer.
  packages+=(libgtest-dev libgmock-dev clang libclang-rt-14-dev curl)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to apt-get install these (or install them yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
