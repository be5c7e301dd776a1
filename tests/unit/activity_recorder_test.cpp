#include "hookline/provider/activity_recorder.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "store_fixture.hpp"

namespace hookline::provider {
namespace {

namespace json = boost::json;
using hookline::testing::kCompany;

Problem ParseProblem(std::string_view body) {
  auto result = ParseActivityRequest(json::parse(body));
  EXPECT_TRUE(std::holds_alternative<Problem>(result)) << body;
  return std::holds_alternative<Problem>(result) ? std::get<Problem>(result) : Problem{};
}

TEST(ParseActivityRequest, ExplainsEveryShapeProblem) {
  EXPECT_EQ(ParseProblem("[]").status, 422);
  EXPECT_EQ(ParseProblem(R"({"campaign_id":"c","lead_id":"l","sender_id":"s"})").message, "'event' is required");
  auto unknown = ParseProblem(R"({"event":"meeting-booked","campaign_id":"c","lead_id":"l","sender_id":"s"})");
  EXPECT_EQ(unknown.code, "unknown_event");
  EXPECT_NE(unknown.message.find("invite-sent"), std::string::npos);  // lists the known ones
  EXPECT_EQ(ParseProblem(R"({"event":"invite-sent","lead_id":"l","sender_id":"s"})").message, "'campaign_id' is required");
  EXPECT_EQ(ParseProblem(R"({"event":"invite-sent","campaign_id":7,"lead_id":"l","sender_id":"s"})").message, "'campaign_id' must be a string");
  EXPECT_EQ(ParseProblem(R"({"event":"invite-sent","campaign_id":"c","lead_id":"l","sender_id":"s","occurred_at":"yesterday"})").code, "invalid_timestamp");
  EXPECT_EQ(ParseProblem(R"({"event":"message-sent","campaign_id":"c","lead_id":"l","sender_id":"s"})").message,
            "'message-sent' needs 'action_data.message' (a string)");
  EXPECT_EQ(ParseProblem(R"({"event":"email-sent","campaign_id":"c","lead_id":"l","sender_id":"s","action_data":{"subject":"s","message":5}})").message,
            "'action_data.message' must be a string or null");
  EXPECT_EQ(ParseProblem(R"({"event":"invite-sent","campaign_id":"c","lead_id":"l","sender_id":"s","action_data":[]})").message,
            "'action_data' must be an object");
}

TEST(BuildActionData, DefaultsOrderAndExtras) {
  const auto& invite = *model::FindEvent("invite-sent");
  auto ad = BuildActionData(invite, json::object{{"note", "x"}}, nullptr);
  ASSERT_EQ(ad.size(), 3u);
  EXPECT_EQ(ad["message"], "Invitation Sent Successfully");
  EXPECT_EQ(ad["invitation_id"].as_string().size(), 36u);
  EXPECT_EQ((ad.begin() + 2)->key(), "note");  // extras after the known fields

  const auto& opened = *model::FindEvent("email-opened");
  json::object sent{{"subject", "Hi"}, {"message", "<p>body</p>"}, {"messageId", "m"}};
  auto o = BuildActionData(opened, {}, &sent);
  EXPECT_EQ(json::serialize(o), R"({"subject":"Hi","message":"<p>body</p>"})");
  EXPECT_EQ(json::serialize(BuildActionData(opened, {}, nullptr)), R"({"subject":null,"message":null})");

  const auto& sent_spec = *model::FindEvent("message-sent");
  auto m = BuildActionData(sent_spec, json::object{{"latest_message_id", "2"}, {"message", "hello"}}, nullptr);
  EXPECT_EQ(json::serialize(m), R"({"message":"hello","latest_chat_id":null,"latest_message_id":"2"})");
}

TEST(RecordActivity, ChecksStoredStateAndWritesNothingOnAProblem) {
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  std::string message;
  auto problem_of = [&](ActivityRequest request) {
    Problem problem;
    store->Write([&](store::StoreTx& tx) {
      auto r = RecordActivity(tx, kCompany, request, 2000);
      if (auto* p = std::get_if<Problem>(&r)) problem = *p;
      return false;
    });
    message = problem.message;
    return problem.code;
  };
  auto r = hookline::testing::InviteSent();
  r.lead_id = "nobody";
  EXPECT_EQ(problem_of(r), "unknown_lead");
  r = hookline::testing::InviteSent();
  r.sender_id = "nobody";
  EXPECT_EQ(problem_of(r), "unknown_sender");
  r = hookline::testing::InviteSent();
  r.campaign_id = "nothing";
  EXPECT_EQ(problem_of(r), "unknown_campaign");
  r = hookline::testing::InviteSent();
  r.spec = model::FindEvent("email-sent");
  EXPECT_EQ(problem_of(r), "channel_mismatch");
  // Regression: it said "a email event".
  EXPECT_EQ(message, "'email-sent' is an email event but campaign 'cccccccc-1111-2222-3333-cccccccccccc' is a linkedin campaign");
  store->Write([](store::StoreTx& tx) { return tx.UpsertLead(kCompany, {"loner", "Lone"}); });
  r = hookline::testing::InviteSent();
  r.lead_id = "loner";
  EXPECT_EQ(problem_of(r), "lead_not_enrolled");
  store->Read([](store::StoreTx& tx) {
    EXPECT_TRUE(tx.ListEvents({.company_id = kCompany}).empty());
  });
}

TEST(RecordActivity, PayloadCarriesTheWholeHistoryAndCounters) {
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  std::string payload;
  store->Write([&](store::StoreTx& tx) {
    RecordActivity(tx, kCompany, hookline::testing::InviteSent(*ParseIso8601("2026-03-23T10:15:00Z")), 5000);
    ActivityRequest accepted = hookline::testing::InviteSent(*ParseIso8601("2026-03-24T11:30:00Z"));
    accepted.spec = model::FindEvent("invite-accepted");
    auto r = RecordActivity(tx, kCompany, accepted, 6000);
    payload = std::get<RecordedActivity>(r).event.payload;
    return true;
  });
  auto doc = json::parse(payload).as_object();
  EXPECT_EQ(doc["timestamp"], "2026-03-24T11:30:00.000Z");
  const auto& lead = doc["data"].as_object()["lead"].as_object();
  EXPECT_EQ(lead.at("latest_status"), "Engaged");
  const auto& activity = lead.at("activity").as_array();
  ASSERT_EQ(activity.size(), 2u);
  EXPECT_EQ(activity[0].as_object().at("action"), "Send connection request");
  EXPECT_EQ(activity[1].as_object().at("action_time"), "2026-03-24T11:30:00.000Z");
  EXPECT_EQ(doc["data"].as_object()["campaign"].as_object()["total_leads"], 1);
}

}  // namespace
}  // namespace hookline::provider
