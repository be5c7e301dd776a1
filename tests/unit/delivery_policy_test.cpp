#include <gtest/gtest.h>

#include "hookline/delivery/retry_policy.hpp"
#include "hookline/delivery/url_guard.hpp"

namespace hookline::delivery {
namespace {

TEST(RetryPolicy, DefaultScheduleWithJitter) {
  std::string error;
  auto policy = RetryPolicy::Parse(RetryPolicy::kDefaultSchedule, &error);
  ASSERT_TRUE(policy) << error;
  EXPECT_EQ(policy->max_attempts(), 8);
  for (int i = 0; i < 200; ++i) {
    const Millis d = *policy->NextDelay(1, std::nullopt);  // after the first failure: 5s ±20%
    EXPECT_GE(d, 4000);
    EXPECT_LE(d, 6000);
  }
  EXPECT_EQ(policy->NextDelay(8, std::nullopt), std::nullopt);  // the last attempt failed
}

TEST(RetryPolicy, RetryAfterExtendsButIsClamped) {
  RetryPolicy policy({0, 1000, 1000}, 0.0);
  EXPECT_EQ(policy.NextDelay(1, 30'000), 30'000);
  EXPECT_EQ(policy.NextDelay(1, 10), 1000);  // never shorter than the schedule
  EXPECT_EQ(policy.NextDelay(1, 100LL * 3'600'000), RetryPolicy::kMaxRetryAfter);
}

TEST(RetryPolicy, RejectsBadSchedules) {
  std::string error;
  EXPECT_FALSE(RetryPolicy::Parse("", &error));
  EXPECT_FALSE(RetryPolicy::Parse("0s,5x", &error));
  EXPECT_NE(error.find("5x"), std::string::npos);
}

TEST(RetryAfter, SecondsAndHttpDates) {
  EXPECT_EQ(ParseRetryAfter("120", 0), 120'000);
  EXPECT_EQ(ParseRetryAfter("Thu, 01 Jan 1970 00:01:00 GMT", 0), 60'000);
  EXPECT_FALSE(ParseRetryAfter("soon", 0));
}

TEST(RetryAfter, ADateTooFarForMillisecondsIsTheLongestWaitNotAnOverflow) {
  // curl reads years up to 2^31: 6.8e16 s, whose milliseconds overflowed to a negative time,
  // so an endpoint asking to wait the longest was retried at once.
  const Millis now = 1'774'347'300'000;
  for (const char* far : {"1 Jan 2147483647 GMT", "31 Dec 99999999 23:59:59 GMT"}) {
    const auto delay = ParseRetryAfter(far, now);
    ASSERT_TRUE(delay) << far;
    EXPECT_GE(*delay, RetryPolicy::kMaxRetryAfter) << far;
  }
}

TEST(UrlGuard, AcceptsPublicHttpAndHttps) {
  EXPECT_FALSE(CheckEndpointUrl("https://hooks.example.com/outboundry", false));
  EXPECT_FALSE(CheckEndpointUrl("http://93.184.216.34:8080/x?y=1", false));
  EXPECT_FALSE(CheckEndpointUrl("https://[2606:2800:220:1::1]/", false));
}

TEST(UrlGuard, RefusesWhatIsNotHttp) {
  for (const char* bad : {"ftp://example.com/", "file:///etc/passwd", "example.com/hook",
                          "https://user:pw@example.com/", "http:///nohost", "gopher://x/"}) {
    EXPECT_TRUE(CheckEndpointUrl(bad, true)) << bad;
  }
}

TEST(UrlGuard, RefusesPrivateAddressesInEverySpelling) {
  for (const char* bad : {
           "http://127.0.0.1/", "http://localhost:8080/", "http://api.localhost/",
           "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
           "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/", "http://0.0.0.0/",
           "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/",
           "http://[::1]/", "http://[::]/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
           "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
           "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/", "http://127.1/",
           "http://0177.0.0.1/", "http://[ff02::1]/"}) {
    EXPECT_TRUE(CheckEndpointUrl(bad, false)) << bad;
    EXPECT_FALSE(CheckEndpointUrl(bad, true)) << bad;  // --allow-private-endpoints
  }
}

}  // namespace
}  // namespace hookline::delivery
