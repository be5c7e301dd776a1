#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "hookline/util/time.hpp"

namespace hookline::store {

//! An endpoint's attempts over a window, as GET /v1/endpoints/{id}/stats shows them.
struct EndpointStats {
  std::int64_t attempts = 0;
  std::int64_t succeeded = 0;
  std::optional<std::int64_t> p50_ms = std::nullopt;
  std::optional<std::int64_t> p99_ms = std::nullopt;
};

//! Endpoint stats are kept per minute and per latency bucket, so reading a window costs the
//! same however many attempts it holds. Durations below 32 ms have a bucket each; above,
//! each power of two is split into 16 buckets, so a percentile read from them is within
//! 1/32 (~3 %) of the exact one. Durations past ~17 minutes share the last bucket.
inline constexpr Millis kStatsMinute = 60'000;
//! How many minutes of stats are kept, the newest minute's included: the longest window
//! shown (a day) and the minute it starts in.
inline constexpr std::int64_t kStatsMinutesKept = 24 * 60 + 1;

//! The minute `at` falls in (floored, so a time before 1970 too).
std::int64_t StatsMinuteOf(Millis at);
//! The bucket of a duration in ms (negative ones count as 0).
int LatencyBucket(std::int64_t duration_ms);
//! The duration that stands for a bucket's: the exact one below 32 ms, else the middle of
//! its range (for the last, its lower bound).
std::int64_t LatencyBucketValue(int bucket);

//! Attempts at one endpoint that started in one minute and took a duration of one bucket.
struct LatencyCount {
  std::int64_t minute = 0;  //!< StatsMinuteOf(started_at)
  int bucket = 0;           //!< LatencyBucket(duration_ms)
  std::int64_t attempts = 0;
  std::int64_t succeeded = 0;  //!< of those, answered 2xx
};

//! Adds one attempt to `counts`, merging it into the count of its minute and bucket.
void CountAttempt(std::vector<LatencyCount>& counts, Millis started_at, std::int64_t duration_ms,
                  bool succeeded);

//! The stats of a window from its counts by bucket (`minute` ignored; several counts of one
//! bucket are summed; any order). Percentiles by rank: the value at rank round(q * (n - 1)).
EndpointStats SummarizeLatencyCounts(const std::vector<LatencyCount>& counts);

}  // namespace hookline::store
