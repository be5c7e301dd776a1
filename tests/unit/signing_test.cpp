#include "hookline/signing/webhook_signature.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "test_support.hpp"

namespace hookline::signing {
namespace {

// The Standard Webhooks vectors (tests/data/signing/vectors.json, copied from the spec's
// libraries): each valid one signs to the published signature and verifies; each invalid
// one is refused.
TEST(Signing, StandardWebhooksVectors) {
  const auto doc = boost::json::parse(ReadTestFile("signing/vectors.json")).as_object();
  int checked = 0;
  for (const auto& item : doc.at("vectors").as_array()) {
    const auto& v = item.as_object();
    const std::string name(v.at("name").as_string());
    auto secret = WebhookSecret::Parse(v.at("secret").as_string());
    ASSERT_TRUE(secret) << name;
    const std::string id(v.at("id").as_string());
    const std::int64_t ts = v.at("timestamp").to_number<std::int64_t>();
    const std::string payload(v.at("payload").as_string());
    const std::string header(v.at("signature").as_string());
    const bool expect_valid = std::string_view(v.at("expect").as_string()).starts_with("valid");
    const WebhookSecret secrets[] = {*secret};
    // Tolerance disabled: the vectors' timestamps are years old.
    const auto outcome = Verify(secrets, id, std::to_string(ts), header, payload, 0, 0);
    EXPECT_EQ(outcome == VerifyOutcome::kValid, expect_valid) << name;
    if (expect_valid && header.find(' ') == std::string::npos) {
      EXPECT_EQ(Sign(*secret, id, ts, payload), header) << name;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(Signing, TimestampToleranceBothWays) {
  const auto secret = WebhookSecret::Generate();
  const WebhookSecret secrets[] = {secret};
  const std::int64_t now = 1'800'000'000;
  const auto sign_at = [&](std::int64_t ts) { return Sign(secret, "msg_1", ts, "{}"); };
  EXPECT_EQ(Verify(secrets, "msg_1", std::to_string(now - 299), sign_at(now - 299), "{}", now, 300), VerifyOutcome::kValid);
  EXPECT_EQ(Verify(secrets, "msg_1", std::to_string(now - 301), sign_at(now - 301), "{}", now, 300), VerifyOutcome::kTimestampTooOld);
  EXPECT_EQ(Verify(secrets, "msg_1", std::to_string(now + 301), sign_at(now + 301), "{}", now, 300), VerifyOutcome::kTimestampTooNew);
  EXPECT_EQ(Verify(secrets, "msg_1", "12x", sign_at(now), "{}", now, 300), VerifyOutcome::kBadTimestamp);
  EXPECT_EQ(Verify(secrets, "", std::to_string(now), sign_at(now), "{}", now, 300), VerifyOutcome::kMissingHeaders);
}

TEST(Signing, AnyOfSeveralSecretsAndSignatures) {
  const auto old_secret = WebhookSecret::Generate();
  const auto new_secret = WebhookSecret::Generate();
  const WebhookSecret both[] = {old_secret, new_secret};
  const std::string header = SignatureHeader(both, "msg_2", 100, "body");
  EXPECT_EQ(std::count(header.begin(), header.end(), ' '), 1);
  const WebhookSecret only_new[] = {new_secret};
  EXPECT_EQ(Verify(only_new, "msg_2", "100", header, "body", 0, 0), VerifyOutcome::kValid);
  EXPECT_EQ(Verify(only_new, "msg_2", "100", header, "body!", 0, 0), VerifyOutcome::kSignatureMismatch);
  EXPECT_EQ(Verify(only_new, "msg_3", "100", header, "body", 0, 0), VerifyOutcome::kSignatureMismatch);
}

TEST(Signing, SecretFormat) {
  const auto secret = WebhookSecret::Generate();
  const std::string text = secret.ToString();
  EXPECT_TRUE(text.starts_with("whsec_"));
  auto parsed = WebhookSecret::Parse(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->key(), secret.key());
  EXPECT_FALSE(WebhookSecret::Parse("whsec_not base64!"));
  EXPECT_FALSE(WebhookSecret::Parse("whsec_AAAA"));  // 3 bytes: too short
}

}  // namespace
}  // namespace hookline::signing
