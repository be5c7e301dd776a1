#include <gtest/gtest.h>

#include "hookline/delivery/retry_policy.hpp"
#include "hookline/delivery/url_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

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

// Every forbidden range, with one address inside (refused) and one just outside (allowed,
// "" where both neighbours are forbidden ranges too), at save (CheckEndpointUrl) and at
// connect (IsForbiddenSocketAddress, what libcurl's open-socket callback asks).
struct RangeCase {
  const char* range;
  const char* inside;
  const char* outside;
};

constexpr RangeCase kForbiddenRanges[] = {
    {"0.0.0.0/8", "0.255.255.255", "1.0.0.0"},
    {"10.0.0.0/8", "10.255.255.255", "11.0.0.0"},
    {"100.64.0.0/10", "100.127.255.255", "100.128.0.0"},
    {"100.64.0.0/10 (low end)", "100.64.0.0", "100.63.255.255"},
    {"127.0.0.0/8", "127.0.0.1", "128.0.0.0"},
    {"169.254.0.0/16", "169.254.169.254", "169.255.0.0"},
    {"172.16.0.0/12", "172.31.255.255", "172.32.0.0"},
    {"172.16.0.0/12 (low end)", "172.16.0.0", "172.15.255.255"},
    {"192.0.0.0/24", "192.0.0.8", "192.0.1.0"},
    {"192.0.2.0/24", "192.0.2.1", "192.0.3.0"},
    {"192.88.99.0/24", "192.88.99.1", "192.88.100.0"},
    {"192.168.0.0/16", "192.168.1.1", "192.169.0.0"},
    {"198.18.0.0/15", "198.19.255.255", "198.20.0.0"},
    {"198.18.0.0/15 (low end)", "198.18.0.0", "198.17.255.255"},
    {"198.51.100.0/24", "198.51.100.7", "198.51.101.0"},
    {"203.0.113.0/24", "203.0.113.9", "203.0.114.0"},
    {"224.0.0.0/4", "224.0.0.1", "223.255.255.255"},
    {"240.0.0.0/4", "240.0.0.1", ""},  // 224/4 below, the end of the space above
    {"255.255.255.255/32", "255.255.255.255", ""},
    {"::/128", "::", "::1:0:0"},
    {"::1/128", "::1", "::1:0:0"},
    {"::/96 by its IPv4", "::10.0.0.1", "::1:0:0"},
    {"::ffff:0:0/96 by its IPv4", "::ffff:127.0.0.1", "::1:0:0:0"},
    {"::ffff:0:0/96 (low end)", "::ffff:0.0.0.0", "::fffe:ffff:ffff"},
    {"64:ff9b::/96 by its IPv4", "64:ff9b::a9fe:a9fe", "64:ff9b::1:0:0"},
    {"64:ff9b:1::/48", "64:ff9b:1::808:808", "64:ff9b:2::"},
    {"64:ff9b:1::/48 (low end)", "64:ff9b:1::", "64:ff9b:0:ffff:ffff:ffff:ffff:ffff"},
    {"100::/64", "100::1", "100:0:0:1::"},
    {"2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:1::"},
    {"2001:2::/48", "2001:2::1", "2001:2:1::"},
    {"2001:db8::/32", "2001:db8::1", "2001:db9::"},
    {"2001:db8::/32 (low end)", "2001:db8::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"2002::/16 by its IPv4", "2002:a00:1::", "2003::"},
    {"2002::/16 (low end)", "2002:7f00:1::1", "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"3fff::/20", "3fff:fff:ffff::1", "3fff:1000::"},
    {"fc00::/7", "fdff:ffff::1", "fe00::"},
    {"fc00::/7 (low end)", "fc00::", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fe80::/10", "fe80::1", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fec0::/10", "fec0::1", ""},  // fe80::/10 below, ff00::/8 above
    {"ff00::/8", "ff02::1", ""},   // fec0::/10 below, the end of the space above
};

// Inside a range judged by its embedded IPv4 address, with a public one: allowed.
constexpr const char* kPublicEmbedded[] = {
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "::8.8.8.8",
};

std::string UrlOf(const std::string& address) {
  return address.find(':') == std::string::npos ? "http://" + address + "/hook"
                                                 : "http://[" + address + "]/hook";
}

// The connect-time check, on the socket address libcurl would connect to.
bool RefusedAtConnect(const std::string& address) {
  sockaddr_storage storage{};
  if (address.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, address.c_str(), &in->sin_addr), 1) << address;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr), 1) << address;
  }
  return IsForbiddenSocketAddress(reinterpret_cast<const sockaddr*>(&storage));
}

TEST(UrlGuard, EveryForbiddenRangeIsRefusedAtSaveAndAtConnectAndItsNeighbourIsNot) {
  for (const auto& c : kForbiddenRanges) {
    EXPECT_TRUE(CheckEndpointUrl(UrlOf(c.inside), false)) << c.range << ": " << c.inside;
    EXPECT_TRUE(RefusedAtConnect(c.inside)) << c.range << ": " << c.inside;
    EXPECT_FALSE(CheckEndpointUrl(UrlOf(c.inside), true)) << c.range << ": " << c.inside;
    if (*c.outside == '\0') continue;
    EXPECT_FALSE(CheckEndpointUrl(UrlOf(c.outside), false)) << c.range << ": " << c.outside;
    EXPECT_FALSE(RefusedAtConnect(c.outside)) << c.range << ": " << c.outside;
  }
  for (const char* address : kPublicEmbedded) {
    EXPECT_FALSE(CheckEndpointUrl(UrlOf(address), false)) << address;
    EXPECT_FALSE(RefusedAtConnect(address)) << address;
  }
}

}  // namespace
}  // namespace hookline::delivery
