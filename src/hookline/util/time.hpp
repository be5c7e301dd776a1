#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hookline {

//! Milliseconds since the Unix epoch, UTC. The one time type used across modules.
using Millis = std::int64_t;

//! Source of the current time. Injected wherever time matters so tests control it.
class Clock {
 public:
  virtual ~Clock() = default;
  //! Current wall-clock time. Thread-safe.
  virtual Millis Now() const = 0;
};

//! The real clock (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  Millis Now() const override;
  //! A process-wide instance; never destroyed.
  static const Clock& Instance();
};

//! Formats as UTC ISO-8601 with milliseconds and 'Z': "2026-03-24T10:15:00.000Z".
std::string FormatIso8601(Millis t);

//! Parses ISO-8601 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (also "+HHMM" and a
//! space instead of 'T'). Fractions beyond milliseconds are truncated. Returns nullopt when
//! the text is not such a timestamp or names an impossible date or time.
std::optional<Millis> ParseIso8601(std::string_view text);

//! Parses a duration like "0s", "5s", "250ms", "5m", "2h", "1d". Returns nullopt otherwise.
std::optional<Millis> ParseDuration(std::string_view text);

//! The shortest exact spelling ParseDuration reads back: "0s", "250ms", "5m", "2h", "5d".
std::string FormatDuration(Millis d);

}  // namespace hookline
