#include "hookline/delivery/retry_policy.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace hookline::delivery {

std::optional<RetryPolicy> RetryPolicy::Parse(std::string_view text, std::string* error) {
  std::vector<Millis> schedule;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto d = ParseDuration(item);
    if (!d) {
      if (error) *error = fmt::format("'{}' is not a duration like 0s, 5s, 5m, 2h", item);
      return std::nullopt;
    }
    schedule.push_back(*d);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  if (schedule.empty() || schedule.size() > 50) {
    if (error) *error = "the retry schedule needs 1 to 50 durations";
    return std::nullopt;
  }
  return RetryPolicy(std::move(schedule));
}

RetryPolicy::RetryPolicy(std::vector<Millis> schedule, double jitter)
    : schedule_(std::move(schedule)), jitter_(jitter) {}

std::optional<Millis> RetryPolicy::NextDelay(int attempts_made, std::optional<Millis> retry_after) {
  if (attempts_made >= max_attempts()) return std::nullopt;
  Millis delay = schedule_[static_cast<size_t>(attempts_made)];
  if (delay > 0 && jitter_ > 0) {
    std::uniform_real_distribution<double> spread(1.0 - jitter_, 1.0 + jitter_);
    delay = static_cast<Millis>(static_cast<double>(delay) * spread(rng_));
  }
  if (retry_after) delay = std::max(delay, std::clamp<Millis>(*retry_after, 0, kMaxRetryAfter));
  return delay;
}

std::optional<Millis> ParseRetryAfter(std::string_view value, Millis now) {
  long long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc{} && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::min<long long>(seconds, 1LL << 31) * 1000;
  }
  const std::string text(value);
  const time_t at = curl_getdate(text.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  // curl reads years up to 2^31, past what milliseconds hold: such a date is the longest wait.
  constexpr time_t kLastSecond = std::numeric_limits<Millis>::max() / 1000;
  return std::max<Millis>(0, static_cast<Millis>(std::min(at, kLastSecond)) * 1000 - now);
}

}  // namespace hookline::delivery
