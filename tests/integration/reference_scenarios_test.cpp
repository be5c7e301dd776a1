// Each of the ten reference examples rebuilt through the API alone on a fresh database, and
// delivered to a local endpoint with a body equal to the example, byte for byte.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "scenarios.hpp"
#include "hookline/signing/webhook_signature.hpp"

namespace hookline::itest {
namespace {

class ReferenceScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceScenario, RebuiltThroughTheApiArrivesAsTheReferencePrintsIt) {
  const std::string event = GetParam();
  const std::string expected_body = ReadExample(event);
  TempDir dir;
  const std::string db = "sqlite:" + dir.File("hookline.db");
  const std::string key = CreateCompany(db, "Outboundry Demo", kReferenceCompany);
  ServeProcess serve(db, {"--allow-private-endpoints"});
  Sink sink;
  const auto [event_id, secret] = RebuildReferenceScenario(serve, key, event, sink.url());
  EXPECT_TRUE(event_id.starts_with("msg_"));

  ASSERT_TRUE(sink.WaitFor(1));
  const auto received = sink.Received();
  ASSERT_EQ(received.size(), 1u);
  const auto& delivery = received[0];
  EXPECT_EQ(delivery.body, expected_body);  // byte for byte, key order included
  EXPECT_EQ(delivery.Header("content-type"), "application/json");
  EXPECT_EQ(delivery.Header("webhook-id"), event_id);
  auto parsed_secret = signing::WebhookSecret::Parse(secret);
  ASSERT_TRUE(parsed_secret);
  const signing::WebhookSecret secrets[] = {*parsed_secret};
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_EQ(signing::Verify(secrets, *delivery.Header("webhook-id"), *delivery.Header("webhook-timestamp"),
                            *delivery.Header("webhook-signature"), delivery.body, now_s, 300),
            signing::VerifyOutcome::kValid);

  // The event log shows it delivered, with the attempt.
  EXPECT_TRUE(Eventually([&] {
    auto e = serve.Api("GET", "/v1/events/" + event_id, key).Json();
    const auto& deliveries = e.as_object().at("deliveries").as_array();
    return deliveries.size() == 1 && deliveries[0].as_object().at("status") == "succeeded";
  }));
  EXPECT_EQ(sink.Received().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(AllTen, ReferenceScenario,
                         ::testing::Values("invite-sent", "invite-accepted", "message-sent",
                                           "message-replied", "inmail-sent", "inmail-replied",
                                           "email-sent", "email-opened", "email-clicked",
                                           "email-replied"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (auto& c : name) if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace hookline::itest
