#include "hookline/store/endpoint_stats.hpp"

#include <algorithm>
#include <bit>
#include <map>

namespace hookline::store {

namespace {

constexpr std::int64_t kExactBelow = 32;  // a bucket per ms below this
constexpr int kSubBuckets = 16;           // per power of two above it
constexpr int kLowestPower = 5;           // 2^5 = kExactBelow
constexpr int kHighestPower = 19;         // 2^20 ms (~17 minutes) and over share the last bucket
constexpr int kLastBucket = static_cast<int>(kExactBelow) + (kHighestPower - kLowestPower + 1) * kSubBuckets;

}  // namespace

std::int64_t StatsMinuteOf(Millis at) {
  return at / kStatsMinute - (at % kStatsMinute < 0 ? 1 : 0);
}

int LatencyBucket(std::int64_t duration_ms) {
  if (duration_ms < kExactBelow) return static_cast<int>(std::max<std::int64_t>(duration_ms, 0));
  const int power = std::bit_width(static_cast<std::uint64_t>(duration_ms)) - 1;
  if (power > kHighestPower) return kLastBucket;
  const int sub = static_cast<int>((duration_ms >> (power - 4)) & (kSubBuckets - 1));
  return static_cast<int>(kExactBelow) + (power - kLowestPower) * kSubBuckets + sub;
}

std::int64_t LatencyBucketValue(int bucket) {
  bucket = std::clamp(bucket, 0, kLastBucket);
  if (bucket < kExactBelow) return bucket;
  if (bucket == kLastBucket) return std::int64_t{1} << (kHighestPower + 1);  // "at least"
  const int power = kLowestPower + (bucket - static_cast<int>(kExactBelow)) / kSubBuckets;
  const int sub = (bucket - static_cast<int>(kExactBelow)) % kSubBuckets;
  const std::int64_t width = std::int64_t{1} << (power - 4);
  const std::int64_t low = (std::int64_t{1} << power) + sub * width;
  return low + (width - 1) / 2;
}

void CountAttempt(std::vector<LatencyCount>& counts, Millis started_at, std::int64_t duration_ms,
                  bool succeeded) {
  const std::int64_t minute = StatsMinuteOf(started_at);
  const int bucket = LatencyBucket(duration_ms);
  // A recorded batch holds a few endpoints' answers of a minute or two: a short list.
  auto it = std::find_if(counts.begin(), counts.end(), [&](const LatencyCount& c) {
    return c.minute == minute && c.bucket == bucket;
  });
  if (it == counts.end()) it = counts.insert(counts.end(), LatencyCount{minute, bucket, 0, 0});
  it->attempts += 1;
  it->succeeded += succeeded ? 1 : 0;
}

EndpointStats SummarizeLatencyCounts(const std::vector<LatencyCount>& counts) {
  EndpointStats stats;
  std::map<int, std::int64_t> by_bucket;
  for (const auto& c : counts) {
    stats.attempts += c.attempts;
    stats.succeeded += c.succeeded;
    if (c.attempts > 0) by_bucket[c.bucket] += c.attempts;
  }
  if (stats.attempts == 0) return stats;
  auto at_rank = [&](double q) {
    const auto rank = static_cast<std::int64_t>(q * static_cast<double>(stats.attempts - 1) + 0.5);
    std::int64_t seen = 0;
    for (const auto& [bucket, n] : by_bucket) {
      seen += n;
      if (seen > rank) return LatencyBucketValue(bucket);
    }
    return LatencyBucketValue(by_bucket.rbegin()->first);
  };
  stats.p50_ms = at_rank(0.50);
  stats.p99_ms = at_rank(0.99);
  return stats;
}

}  // namespace hookline::store
