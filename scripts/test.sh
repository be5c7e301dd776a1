#!/usr/bin/env bash
# Builds hookline with AddressSanitizer + UndefinedBehaviorSanitizer and runs every test
# (unit, integration against the real binary, the standardwebhooks cross-check), then fuzzes
# the webhook parser for a short while. Installs missing Debian and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
jobs="$(nproc)"

# The npm package that independently verifies our signatures (pinned by package-lock.json).
if [ ! -f tests/js/node_modules/standardwebhooks/package.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi

cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOOKLINE_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build/asan --output-on-failure -j"$jobs" --timeout 600

# libFuzzer on the parser, seeded with the reference examples.
cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHOOKLINE_TESTS=OFF -DHOOKLINE_FUZZ=ON >/dev/null
cmake --build build/fuzz --target codec_fuzz -j"$jobs"
mkdir -p build/fuzz/corpus
cp tests/data/examples/*.json build/fuzz/corpus/
build/fuzz/fuzz/codec_fuzz -max_total_time="${HOOKLINE_FUZZ_SECONDS:-30}" -rss_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/corpus 2>build/fuzz/fuzz.log || { tail -50 build/fuzz/fuzz.log; exit 1; }
echo "fuzz: $(grep -E 'stat::number_of_executed_units' build/fuzz/fuzz.log | awk '{print $2}') inputs, no crash"

# libFuzzer on the JSON text writer (doubles as JavaScript writes them) and the UTF-8 check.
cmake --build build/fuzz --target json_text_fuzz -j"$jobs"
mkdir -p build/fuzz/json_text_corpus
printf '[1.5,1e300,-0.0,1e-7,0.000001,100,123456789012,12.100000000000001,5e-324]' >build/fuzz/json_text_corpus/numbers.json
cp tests/data/examples/*.json build/fuzz/json_text_corpus/
build/fuzz/fuzz/json_text_fuzz -max_total_time="${HOOKLINE_JSON_FUZZ_SECONDS:-10}" -rss_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix=build/fuzz/json_text_ build/fuzz/json_text_corpus 2>build/fuzz/json_text_fuzz.log ||
  { tail -50 build/fuzz/json_text_fuzz.log; exit 1; }
echo "json_text fuzz: $(grep -E 'stat::number_of_executed_units' build/fuzz/json_text_fuzz.log | awk '{print $2}') inputs, no crash"
