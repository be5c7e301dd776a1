#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "hookline/util/crypto.hpp"
#include "hookline/util/ids.hpp"
#include "hookline/util/time.hpp"

namespace hookline {
namespace {

TEST(Time, FormatsWithMillisecondsAndZ) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2026-03-24T10:15:00.000Z")), "2026-03-24T10:15:00.000Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2024-02-29T23:59:59.999Z")), "2024-02-29T23:59:59.999Z");
}

TEST(Time, ParsesOffsetsAndNormalizesToUtc) {
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2026-03-24T15:45:00+05:30")), "2026-03-24T10:15:00.000Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2026-03-24T05:15:00.5-0500")), "2026-03-24T10:15:00.500Z");
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2026-03-24 10:15:00.123456789Z")), "2026-03-24T10:15:00.123Z");
}

TEST(Time, RejectsWhatIsNotATimestamp) {
  for (const char* bad : {"", "2026-03-24", "2026-03-24T10:15:00", "2026-02-30T00:00:00Z",
                          "2026-03-24T24:00:00Z", "2026-3-24T10:15:00Z", "yesterday",
                          "2026-03-24T10:15:00.Z", "2026-03-24T10:15:00Zjunk", "2026-03-24T10:15:00+25:00"}) {
    EXPECT_FALSE(ParseIso8601(bad)) << bad;
  }
}

TEST(Time, ParsesDurations) {
  EXPECT_EQ(ParseDuration("0s"), 0);
  EXPECT_EQ(ParseDuration("250ms"), 250);
  EXPECT_EQ(ParseDuration("5m"), 300'000);
  EXPECT_EQ(ParseDuration("10h"), 36'000'000);
  EXPECT_FALSE(ParseDuration("5"));
  EXPECT_FALSE(ParseDuration("-5s"));
  EXPECT_FALSE(ParseDuration("5x"));
}

TEST(Crypto, Base64RoundTripAndRejects) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto back = crypto::Base64Decode(crypto::Base64Encode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(crypto::Base64Decode("abc"));
  EXPECT_FALSE(crypto::Base64Decode("ab!="));
}

TEST(Crypto, HmacKnownAnswer) {
  // RFC 4231 test case 2, whole and in pieces (empty ones too).
  const std::string expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256("Jefe", "what do ya want for nothing?")), expected);
  EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256Concat("Jefe", {"what do ya", "", " want", " for nothing?"})),
            expected);
  EXPECT_NE(crypto::HmacSha256Concat("Jefe", {"what do ya want"}), crypto::HmacSha256Concat("Jefe", {}));
}

TEST(Crypto, Sha256KnownAnswers) {
  EXPECT_EQ(crypto::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(crypto::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(crypto::Sha256Concat({"a", "", "bc"}), crypto::Sha256("abc"));
  EXPECT_EQ(crypto::Sha256Concat({}), crypto::Sha256(""));
}

// HMAC contexts are kept per key and thread and re-initialised per message: interleaved
// keys, repeated messages, more keys than are kept, and other threads all give the answers
// of a fresh computation (RFC 4231 cases 1 and 2).
TEST(Crypto, HmacKeptContextsGiveFreshAnswers) {
  const std::string key1(20, '\x0b');
  const std::string case1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  const std::string case2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256(key1, "Hi There")), case1);
    EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256("Jefe", "what do ya want for nothing?")), case2);
  }
  std::string first_of_many;
  for (int i = 0; i < 1500; ++i) {  // more keys than a thread keeps
    const std::string mac = crypto::HmacSha256("key-" + std::to_string(i), "message");
    if (i == 0) first_of_many = mac;
  }
  EXPECT_EQ(crypto::HmacSha256("key-0", "message"), first_of_many);
  EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256(key1, "Hi There")), case1);
  std::string from_thread;
  std::thread([&] { from_thread = crypto::HexEncode(crypto::HmacSha256("Jefe", "what do ya want for nothing?")); }).join();
  EXPECT_EQ(from_thread, case2);
}

TEST(Crypto, SecretBoxSealsAndDetectsTampering) {
  crypto::SecretBox box(crypto::RandomBytes(32));
  const std::string sealed = box.Seal("whsec_secret");
  EXPECT_EQ(sealed.find("whsec_secret"), std::string::npos);
  EXPECT_EQ(box.Open(sealed), "whsec_secret");
  std::string tampered = sealed;
  tampered[14] ^= 1;
  EXPECT_FALSE(box.Open(tampered));
  crypto::SecretBox other(crypto::RandomBytes(32));
  EXPECT_FALSE(other.Open(sealed));
  EXPECT_THROW(crypto::SecretBox("short"), std::invalid_argument);
}

TEST(Ids, PrefixedSortableAndUnique) {
  const std::string a = NewId("msg_", 1000);
  const std::string b = NewId("msg_", 2000);
  EXPECT_TRUE(a.starts_with("msg_"));
  EXPECT_EQ(a.size(), 4u + 26u);
  EXPECT_LT(a, b);
  EXPECT_NE(NewId("msg_", 1000), NewId("msg_", 1000));
  const std::string uuid = NewUuid();
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');
}

// The random part comes from a per-thread buffer refilled 4 KiB at a time: ids made across
// many refills, and on several threads, never repeat and never come out blank.
TEST(Ids, RandomPartsStayDistinctAcrossRefillsAndThreads) {
  std::vector<std::string> ids;
  std::mutex mu;
  auto make = [&] {
    std::vector<std::string> mine;
    for (int i = 0; i < 3000; ++i) mine.push_back(NewId("rcv_", 42));
    std::lock_guard lock(mu);
    ids.insert(ids.end(), mine.begin(), mine.end());
  };
  std::thread other(make);
  make();
  other.join();
  std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), ids.size());
  for (const auto& id : ids) EXPECT_NE(id.substr(4 + 10), std::string(16, '0')) << id;
}

TEST(Ids, DomainIdRules) {
  EXPECT_TRUE(IsValidDomainId("11111111-aaaa-bbbb-cccc-111111111111"));
  EXPECT_FALSE(IsValidDomainId(""));
  EXPECT_FALSE(IsValidDomainId(std::string(129, 'a')));
  EXPECT_FALSE(IsValidDomainId("a/b"));
  EXPECT_FALSE(IsValidDomainId("a b"));
}

}  // namespace
}  // namespace hookline
