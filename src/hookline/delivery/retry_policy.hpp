#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "hookline/util/time.hpp"

namespace hookline::delivery {

//! When to try a delivery again. schedule[i] is the wait before attempt i+1, so schedule[0]
//! (normally 0s) is the first attempt and the size is the number of attempts. Each wait is
//! spread by ±jitter so endpoints that failed together are not retried together.
class RetryPolicy {
 public:
  static constexpr std::string_view kDefaultSchedule = "0s,5s,5m,30m,2h,5h,10h,10h";

  //! Parses "0s,5s,5m,...". nullopt (and `error` set) when an item is not a duration or the
  //! list is empty or longer than 50.
  static std::optional<RetryPolicy> Parse(std::string_view text, std::string* error);

  explicit RetryPolicy(std::vector<Millis> schedule, double jitter = 0.2);

  int max_attempts() const { return static_cast<int>(schedule_.size()); }
  const std::vector<Millis>& schedule() const { return schedule_; }

  //! The wait after `attempts_made` attempts all failed, jittered; nullopt when that was the
  //! last attempt. `retry_after`, when given (429/503), replaces a shorter wait, clamped to
  //! at most kMaxRetryAfter. Not thread-safe (owns its random generator).
  std::optional<Millis> NextDelay(int attempts_made, std::optional<Millis> retry_after);

  static constexpr Millis kMaxRetryAfter = 6 * 3'600'000;

 private:
  std::vector<Millis> schedule_;
  double jitter_;
  std::mt19937_64 rng_{std::random_device{}()};
};

//! Parses a Retry-After value: delay seconds or an HTTP date (relative to `now`).
std::optional<Millis> ParseRetryAfter(std::string_view value, Millis now);

}  // namespace hookline::delivery
