#include "scenarios.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace hookline::itest {

std::string ReadExample(const std::string& event) {
  std::ifstream in(TestDataDir() + "/examples/" + event + ".json");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

namespace {

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

HttpResult Expect(const HttpResult& r, long status) {
  EXPECT_EQ(r.status, status) << r.body;
  return r;
}

}  // namespace

std::pair<std::string, std::string> RebuildReferenceScenario(const ServeProcess& serve,
                                                             const std::string& key,
                                                             const std::string& event,
                                                             const std::string& url,
                                                             const std::optional<std::string>& secret) {
  const json::value example = json::parse(ReadExample(event));
  const auto data = Obj(example, "data");
  const auto lead = data.at("lead").as_object();
  const auto campaign = data.at("campaign").as_object();
  const auto sender = data.at("sender").as_object();
  const std::string lead_id(lead.at("id").as_string());
  const std::string campaign_id(campaign.at("id").as_string());
  const std::string sender_id(sender.at("id").as_string());

  // An endpoint that takes only this scenario's event: the history replayed below must not reach it.
  json::object endpoint{{"url", url}, {"event_types", json::array{json::string(event)}}};
  if (secret) endpoint["secret"] = *secret;
  auto created_endpoint = Expect(serve.Api("POST", "/v1/endpoints", key, json::serialize(endpoint)), 201).Json();
  const std::string endpoint_secret(created_endpoint.as_object().at("secret").as_string());

  Expect(serve.Api("PUT", "/v1/senders/" + sender_id, key,
                   json::serialize(json::object{{"name", sender.at("name")}, {"email", sender.at("email")}})), 201);
  Expect(serve.Api("PUT", "/v1/campaigns/" + campaign_id, key,
                   json::serialize(json::object{{"name", campaign.at("name")},
                                                {"campaign_type", campaign.at("campaign_type")}})), 201);
  json::object profile;
  for (const char* field : {"name", "profile_url", "email", "company_name", "location", "job_title", "profile_image"}) {
    profile[field] = lead.at(field);
  }
  Expect(serve.Api("PUT", "/v1/leads/" + lead_id, key, json::serialize(profile)), 201);
  Expect(serve.Api("PUT", "/v1/campaigns/" + campaign_id + "/leads/" + lead_id, key), 201);

  // Enough other leads, enrolled and completed, that the campaign's counters match.
  const std::int64_t total = campaign.at("total_leads").as_int64();
  const std::int64_t completed = campaign.at("complete_end_of_sequence").as_int64();
  json::array others;
  for (std::int64_t i = 1; i < total; ++i) {
    others.push_back(json::object{{"id", "filler-" + std::to_string(i)}, {"name", "Lead " + std::to_string(i)}});
  }
  auto bulk = Expect(serve.Api("POST", "/v1/campaigns/" + campaign_id + "/leads", key,
                               json::serialize(json::object{{"leads", others}})), 200).Json();
  EXPECT_EQ(bulk.as_object().at("total_leads").as_int64(), total);
  for (std::int64_t i = 1; i <= completed; ++i) {
    Expect(serve.Api("POST", "/v1/campaigns/" + campaign_id + "/leads/filler-" + std::to_string(i) + "/complete", key), 200);
  }

  // The lead's earlier history, posted at its times.
  const auto& activity = lead.at("activity").as_array();
  for (size_t i = 0; i + 1 < activity.size(); ++i) {
    const auto& a = activity[i].as_object();
    const std::string earlier = EventForAction(a.at("action").as_string());
    EXPECT_FALSE(earlier.empty());
    json::object body{{"event", earlier}, {"campaign_id", campaign_id}, {"lead_id", lead_id},
                      {"sender_id", sender_id}, {"occurred_at", a.at("action_time")}};
    if (earlier != "email-opened" && earlier != "email-clicked") {
      body["action_data"] = Obj(json::parse(ReadExample(earlier)), "data").at("actionData");
    }
    Expect(serve.Api("POST", "/v1/activities", key, json::serialize(body)), 201);
  }

  // The event itself. Where the API has a default for actionData (invite-accepted's message,
  // the subject and message of an open or click), leave it out and let the default fill it.
  json::object body{{"event", event}, {"campaign_id", campaign_id}, {"lead_id", lead_id},
                    {"sender_id", sender_id}, {"occurred_at", example.as_object().at("timestamp")}};
  if (event != "invite-accepted" && event != "email-opened" && event != "email-clicked") {
    body["action_data"] = data.at("actionData");
  }
  auto created = Expect(serve.Api("POST", "/v1/activities", key, json::serialize(body)), 201).Json();
  EXPECT_EQ(created.as_object().at("payload"), example);
  return {std::string(created.as_object().at("id").as_string()), endpoint_secret};
}

}  // namespace hookline::itest
