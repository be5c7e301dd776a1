// libFuzzer target for ISO-8601 times and durations: any text parses or fails cleanly; a
// parsed time formats to a canonical UTC spelling that reads back to the same instant; every
// instant with a four-digit year round-trips; durations round-trip through FormatDuration.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/util/time.hpp"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: FormatIso8601 spells years with
// four digits, so these bound what must round-trip.
constexpr hookline::Millis kFirst = -62'167'219'200'000;
constexpr hookline::Millis kLast = 253'402'300'799'999;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto instant = in.ConsumeIntegralInRange<hookline::Millis>(kFirst, kLast);
  const std::string text = in.ConsumeRemainingBytesAsString();

  const std::string formatted = hookline::FormatIso8601(instant);
  Require(hookline::ParseIso8601(formatted) == instant);

  if (auto t = hookline::ParseIso8601(text)) {
    // An offset can carry a four-digit year just outside the range; nothing else can.
    Require(*t >= kFirst - 86'400'000 && *t <= kLast + 86'400'000);
    if (*t >= kFirst && *t <= kLast) {
      const std::string canonical = hookline::FormatIso8601(*t);
      Require(hookline::ParseIso8601(canonical) == *t);
      Require(hookline::FormatIso8601(*hookline::ParseIso8601(canonical)) == canonical);
    }
  }
  if (auto d = hookline::ParseDuration(text)) {
    Require(*d >= 0);
    Require(hookline::ParseDuration(hookline::FormatDuration(*d)) == *d);
  }
  return 0;
}
