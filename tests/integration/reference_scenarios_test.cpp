// Each of the ten reference examples rebuilt through the API alone on a fresh database, and
// delivered to a local endpoint with a body equal to the example, byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.hpp"
#include "hookline/signing/webhook_signature.hpp"

namespace hookline::itest {
namespace {

std::string ReadExample(const std::string& event) {
  std::ifstream in(TestDataDir() + "/examples/" + event + ".json");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The event whose action label is `action` (for replaying a lead's earlier history).
std::string EventForAction(std::string_view action) {
  if (action == "Send connection request") return "invite-sent";
  if (action == "Invite Accepted") return "invite-accepted";
  if (action == "Send Message") return "message-sent";
  if (action == "InMail") return "inmail-sent";
  if (action == "Send Email") return "email-sent";
  if (action == "Email Opened") return "email-opened";
  if (action == "Link Clicked") return "email-clicked";
  return "";
}

json::object Obj(const json::value& v, std::string_view key) { return v.as_object().at(key).as_object(); }

class ReferenceScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceScenario, RebuiltThroughTheApiArrivesAsTheReferencePrintsIt) {
  const std::string event = GetParam();
  const std::string expected_body = ReadExample(event);
  const json::value example = json::parse(expected_body);
  const auto data = Obj(example, "data");
  const auto lead = data.at("lead").as_object();
  const auto campaign = data.at("campaign").as_object();
  const auto sender = data.at("sender").as_object();
  const std::string company_id(example.as_object().at("company_id").as_string());
  const std::string lead_id(lead.at("id").as_string());
  const std::string campaign_id(campaign.at("id").as_string());
  const std::string sender_id(sender.at("id").as_string());

  TempDir dir;
  const std::string db = "sqlite:" + dir.File("hookline.db");
  const std::string key = CreateCompany(db, "Outboundry Demo", company_id);
  ServeProcess serve(db, {"--allow-private-endpoints"});
  Sink sink;

  auto ok = [](const HttpResult& r, long status) {
    EXPECT_EQ(r.status, status) << r.body;
    return r;
  };
  // An endpoint that takes only this scenario's event: the history replayed below must not reach it.
  auto endpoint = ok(serve.Api("POST", "/v1/endpoints", key,
                               json::serialize(json::object{{"url", sink.url()},
                                                            {"event_types", json::array{json::string(event)}}})),
                     201).Json();
  const std::string secret(endpoint.as_object().at("secret").as_string());

  ok(serve.Api("PUT", "/v1/senders/" + sender_id, key,
               json::serialize(json::object{{"name", sender.at("name")}, {"email", sender.at("email")}})), 201);
  ok(serve.Api("PUT", "/v1/campaigns/" + campaign_id, key,
               json::serialize(json::object{{"name", campaign.at("name")},
                                            {"campaign_type", campaign.at("campaign_type")}})), 201);
  json::object profile;
  for (const char* field : {"name", "profile_url", "email", "company_name", "location", "job_title", "profile_image"}) {
    profile[field] = lead.at(field);
  }
  ok(serve.Api("PUT", "/v1/leads/" + lead_id, key, json::serialize(profile)), 201);
  ok(serve.Api("PUT", "/v1/campaigns/" + campaign_id + "/leads/" + lead_id, key), 201);

  // Enough other leads, enrolled and completed, that the campaign's counters match.
  const std::int64_t total = campaign.at("total_leads").as_int64();
  const std::int64_t completed = campaign.at("complete_end_of_sequence").as_int64();
  json::array others;
  for (std::int64_t i = 1; i < total; ++i) {
    others.push_back(json::object{{"id", "filler-" + std::to_string(i)}, {"name", "Lead " + std::to_string(i)}});
  }
  auto bulk = ok(serve.Api("POST", "/v1/campaigns/" + campaign_id + "/leads", key,
                           json::serialize(json::object{{"leads", others}})), 200).Json();
  EXPECT_EQ(bulk.as_object().at("total_leads").as_int64(), total);
  for (std::int64_t i = 1; i <= completed; ++i) {
    ok(serve.Api("POST", "/v1/campaigns/" + campaign_id + "/leads/filler-" + std::to_string(i) + "/complete", key), 200);
  }

  // The lead's earlier history, posted at its times.
  const auto& activity = lead.at("activity").as_array();
  for (size_t i = 0; i + 1 < activity.size(); ++i) {
    const auto& a = activity[i].as_object();
    const std::string earlier = EventForAction(a.at("action").as_string());
    ASSERT_FALSE(earlier.empty());
    json::object body{{"event", earlier}, {"campaign_id", campaign_id}, {"lead_id", lead_id},
                      {"sender_id", sender_id}, {"occurred_at", a.at("action_time")}};
    if (earlier != "email-opened" && earlier != "email-clicked") {
      body["action_data"] = Obj(json::parse(ReadExample(earlier)), "data").at("actionData");
    }
    ok(serve.Api("POST", "/v1/activities", key, json::serialize(body)), 201);
  }

  // The event itself. Where the API has a default for actionData (invite-accepted's message,
  // the subject and message of an open or click), leave it out and let the default fill it.
  json::object body{{"event", event}, {"campaign_id", campaign_id}, {"lead_id", lead_id},
                    {"sender_id", sender_id}, {"occurred_at", example.as_object().at("timestamp")}};
  if (event != "invite-accepted" && event != "email-opened" && event != "email-clicked") {
    body["action_data"] = data.at("actionData");
  }
  auto created = ok(serve.Api("POST", "/v1/activities", key, json::serialize(body)), 201).Json();
  const std::string event_id(created.as_object().at("id").as_string());
  EXPECT_TRUE(event_id.starts_with("msg_"));
  EXPECT_EQ(created.as_object().at("payload"), example);

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
