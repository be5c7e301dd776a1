#include "hookline/store/endpoint_stats.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace hookline::store {
namespace {

// Every duration up to past the last bucket: exact below 32 ms, within 1/32 above, and
// buckets in the order of their durations.
TEST(EndpointStats, LatencyBucketsAreExactBelow32MsAndWithin3PercentAbove) {
  int previous = -1;
  for (std::int64_t ms = 0; ms < (std::int64_t{1} << 20); ++ms) {
    const int bucket = LatencyBucket(ms);
    ASSERT_GE(bucket, previous) << ms;
    ASSERT_LE(bucket, previous + 1) << ms;  // no bucket skipped
    previous = bucket;
    const std::int64_t value = LatencyBucketValue(bucket);
    if (ms < 32) {
      ASSERT_EQ(value, ms);
    } else {
      ASSERT_LE(std::llabs(value - ms) * 32, ms) << ms;
      ASSERT_EQ(LatencyBucket(value), bucket) << ms;  // the value stands inside its bucket
    }
  }
  EXPECT_EQ(LatencyBucket(-5), 0);
  // Past ~17 minutes, one bucket: a slow answer never makes an unbounded index.
  const int last = LatencyBucket(std::int64_t{1} << 20);
  EXPECT_EQ(last, previous + 1);
  EXPECT_EQ(LatencyBucket(std::int64_t{1} << 40), last);
  EXPECT_EQ(LatencyBucketValue(last + 7), LatencyBucketValue(last));
  EXPECT_EQ(LatencyBucketValue(last), std::int64_t{1} << 20);
}

TEST(EndpointStats, MinutesAreFloored) {
  EXPECT_EQ(StatsMinuteOf(0), 0);
  EXPECT_EQ(StatsMinuteOf(59'999), 0);
  EXPECT_EQ(StatsMinuteOf(60'000), 1);
  EXPECT_EQ(StatsMinuteOf(-1), -1);
  EXPECT_EQ(StatsMinuteOf(-60'000), -1);
  EXPECT_EQ(StatsMinuteOf(-60'001), -2);
}

TEST(EndpointStats, CountsMergeByMinuteAndBucket) {
  std::vector<LatencyCount> counts;
  CountAttempt(counts, 60'000, 5, true);
  CountAttempt(counts, 119'999, 5, false);  // same minute, same bucket
  CountAttempt(counts, 120'000, 5, true);   // next minute
  CountAttempt(counts, 60'000, 6, true);    // another bucket
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].minute, 1);
  EXPECT_EQ(counts[0].bucket, 5);
  EXPECT_EQ(counts[0].attempts, 2);
  EXPECT_EQ(counts[0].succeeded, 1);
  EXPECT_EQ(counts[1].minute, 2);
  EXPECT_EQ(counts[2].bucket, 6);
}

// Percentiles by rank round(q * (n - 1)) over every minute's counts together.
TEST(EndpointStats, SummaryTakesPercentilesByRankAcrossMinutes) {
  EXPECT_EQ(SummarizeLatencyCounts({}).attempts, 0);
  EXPECT_FALSE(SummarizeLatencyCounts({}).p50_ms);
  std::vector<LatencyCount> counts;
  for (int i = 0; i < 98; ++i) CountAttempt(counts, i * 60'000, 10, true);  // 98 fast ones
  CountAttempt(counts, 5, 1000, false);
  CountAttempt(counts, 7, 1000, true);
  const EndpointStats stats = SummarizeLatencyCounts(counts);
  EXPECT_EQ(stats.attempts, 100);
  EXPECT_EQ(stats.succeeded, 99);
  EXPECT_EQ(stats.p50_ms, 10);
  EXPECT_EQ(stats.p99_ms, LatencyBucketValue(LatencyBucket(1000)));  // rank 98 of 0..99
  EXPECT_NEAR(static_cast<double>(*stats.p99_ms), 1000.0, 1000.0 / 32);
  // One attempt is every percentile.
  EXPECT_EQ(SummarizeLatencyCounts({{0, LatencyBucket(3), 1, 0}}).p99_ms, 3);
}

}  // namespace
}  // namespace hookline::store
