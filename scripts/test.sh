#!/usr/bin/env bash
# Builds hookline with AddressSanitizer + UndefinedBehaviorSanitizer and runs every test
# (unit, integration against the real binary, the standardwebhooks cross-check, the README's
# quick start), then builds with ThreadSanitizer and runs the unit and integration tests
# again, then fuzzes the parsers for a short while. Warnings are errors in the gcc builds.
# Installs missing Debian and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
jobs="$(nproc)"

# The npm packages that independently check our signatures (standardwebhooks) and sign as
# Svix does (svix), pinned by package-lock.json.
if [ ! -f tests/js/node_modules/standardwebhooks/package.json ] || [ ! -f tests/js/node_modules/svix/package.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi

cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOOKLINE_SANITIZE=ON -DHOOKLINE_WERROR=ON >/dev/null
cmake --build build/asan -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build/asan --output-on-failure -j"$jobs" --timeout 600

# ThreadSanitizer: the unit and integration tests again (the binary they start is built with
# it too), at -O1: quicker to build than -O2 on 2 cores, and fast enough to run.
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DHOOKLINE_TSAN=ON -DHOOKLINE_WERROR=ON >/dev/null
cmake --build build/tsan -j"$jobs" --target hookline unit_tests integration_tests
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
  ctest --test-dir build/tsan --output-on-failure -j"$jobs" --timeout 600 -E readme_quickstart

# libFuzzer on the parser, seeded with the reference examples.
cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHOOKLINE_TESTS=OFF -DHOOKLINE_FUZZ=ON >/dev/null
fuzz_targets=(signature_fuzz dedupe_fuzz api_body_fuzz cursor_fuzz retry_after_fuzz time_fuzz url_guard_fuzz
  json_text_fuzz)
cmake --build build/fuzz --target codec_fuzz "${fuzz_targets[@]}" -j"$jobs"
mkdir -p build/fuzz/corpus
cp tests/data/examples/*.json build/fuzz/corpus/
build/fuzz/fuzz/codec_fuzz -max_total_time="${HOOKLINE_FUZZ_SECONDS:-10}" -rss_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/corpus 2>build/fuzz/fuzz.log || { tail -50 build/fuzz/fuzz.log; exit 1; }
echo "fuzz: $(grep -E 'stat::number_of_executed_units' build/fuzz/fuzz.log | awk '{print $2}') inputs, no crash"

# One libFuzzer target per parser of untrusted input, a short run each (HOOKLINE_FUZZ_SECONDS_EACH),
# seeded from fuzz/corpus/<target>/; what they find is kept in build/fuzz/corpus-<target>/.
for target in "${fuzz_targets[@]}"; do
  mkdir -p "build/fuzz/corpus-$target"
  log="build/fuzz/$target.log"
  "build/fuzz/fuzz/$target" -max_total_time="${HOOKLINE_FUZZ_SECONDS_EACH:-5}" -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/$target-" "build/fuzz/corpus-$target" \
    "fuzz/corpus/$target" 2>"$log" || { tail -50 "$log"; exit 1; }
  echo "fuzz $target: $(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}') inputs, no crash"
done
