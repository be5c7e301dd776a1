// libFuzzer target for Retry-After values (delay seconds or an HTTP date, as an endpoint
// sends them) and retry schedules: any text parses or fails cleanly, a delay is never
// negative, and whatever is parsed gives a delay within RetryPolicy's bounds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/delivery/retry_policy.hpp"

namespace {

using hookline::Millis;
using hookline::delivery::ParseRetryAfter;
using hookline::delivery::RetryPolicy;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  // Any clock from 1970 to 2100: the dispatcher's now.
  const Millis now = in.ConsumeIntegralInRange<Millis>(0, 4'102'444'800'000);
  const std::string value = in.ConsumeRemainingBytesAsString();

  const auto delay = ParseRetryAfter(value, now);
  if (delay) {
    Require(*delay >= 0);
    if (AllDigits(value) && value.size() <= 9) Require(*delay == std::stoll(value) * 1000);
  } else {
    Require(!AllDigits(value) || value.size() > 18);
  }
  static RetryPolicy policy({0, 5'000, 300'000});
  for (int attempts = 0; attempts < 3; ++attempts) {
    const auto next = policy.NextDelay(attempts, delay);
    Require(next && *next >= 0 && *next <= std::max<Millis>(RetryPolicy::kMaxRetryAfter, 360'000));
  }

  std::string error;
  if (auto parsed = RetryPolicy::Parse(value, &error)) {
    Require(parsed->max_attempts() >= 1 && parsed->max_attempts() <= 50);
    std::string spelled;
    for (Millis d : parsed->schedule()) {
      Require(d >= 0);
      spelled += (spelled.empty() ? "" : ",") + hookline::FormatDuration(d);
    }
    auto again = RetryPolicy::Parse(spelled, &error);
    Require(again && again->schedule() == parsed->schedule());
  }
  return 0;
}
