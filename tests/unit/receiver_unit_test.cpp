#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <boost/json.hpp>

#include "hookline/receiver/ingest.hpp"
#include "hookline/receiver/projector.hpp"
#include "store_fixture.hpp"
#include "test_support.hpp"

namespace hookline::receiver {
namespace {

namespace json = boost::json;

TEST(DedupeKey, FieldsThenWebhookIdThenBodyHash) {
  store::SourceRecord plain;
  http::Request request;
  request.body = R"({"event":"invite-sent","data":{"lead":{"id":"L1"}}})";
  const std::string by_body = DedupeKey(plain, request, nullptr);
  EXPECT_TRUE(by_body.starts_with("sha256:"));
  request.headers.emplace_back("webhook-id", "msg_1");
  EXPECT_EQ(DedupeKey(plain, request, nullptr), "id:msg_1");

  store::SourceRecord by_fields;
  by_fields.dedupe_fields = {"event", "data.lead.id", "timestamp"};
  const auto doc = json::parse(request.body).as_object();
  const std::string key = DedupeKey(by_fields, request, &doc);
  EXPECT_TRUE(key.starts_with("fields:"));
  // Same fields, other bytes (extra field, other header): still a duplicate.
  http::Request resend = request;
  resend.body = R"({"event":"invite-sent","x":1,"data":{"lead":{"id":"L1","name":"n"}}})";
  resend.headers = {{"webhook-id", "msg_2"}};
  const auto doc2 = json::parse(resend.body).as_object();
  EXPECT_EQ(DedupeKey(by_fields, resend, &doc2), key);
  const auto other = json::parse(R"({"event":"invite-sent","data":{"lead":{"id":"L2"}}})").as_object();
  EXPECT_NE(DedupeKey(by_fields, request, &other), key);
}

//! Projects `bodies` into a fresh store and reads back what a client would see.
std::string ProjectAndRead(const std::vector<std::string>& bodies) {
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  store->Write([&](store::StoreTx& tx) {
    int n = 0;
    for (const auto& body : bodies) {
      store::ReceivedRecord r;
      r.id = "rcv_" + std::to_string(n);
      r.source_id = "src";
      r.dedupe_key = "k" + std::to_string(n++);
      r.status = "accepted";
      r.body = body;
      tx.InsertReceived(r);
    }
    return true;
  });
  Projector projector(*store);
  EXPECT_EQ(projector.CatchUp(), static_cast<int>(bodies.size()));
  std::string out;
  store->Read([&](store::StoreTx& tx) {
    for (const auto& lead : tx.ListProjectedLeads(std::nullopt, std::nullopt, {std::nullopt, 100})) {
      out += lead.id + "|" + lead.name + "|" + lead.email.value_or("-") + "\n";
      for (const auto& e : tx.ProjectedEnrollments(lead.id)) {
        out += "  " + e.campaign_id + " " + e.latest_status.value_or("-") + "\n";
        for (const auto& a : e.activity) out += "    " + a.action + "@" + FormatIso8601(a.action_time) + "\n";
      }
    }
    for (const auto& c : tx.ListProjectedCampaigns({std::nullopt, 100})) {
      out += c.id + " " + std::to_string(c.total_leads) + "/" + std::to_string(c.complete_end_of_sequence) + "\n";
    }
    for (const auto& r : tx.ListReplies(std::nullopt, 100, {})) out += "reply " + r.text.value_or("-") + "\n";
  });
  return out;
}

TEST(Projector, OrderAndRepetitionDoNotChangeTheResult) {
  std::vector<std::string> bodies;
  for (const char* e : {"invite-sent", "invite-accepted", "message-sent", "message-replied", "inmail-sent",
                        "inmail-replied", "email-sent", "email-opened", "email-clicked", "email-replied"}) {
    bodies.push_back(TrimTrailingNewlines(ReadTestFile(std::string("examples/") + e + ".json")));
  }
  const std::string in_order = ProjectAndRead(bodies);
  EXPECT_NE(in_order.find("Replied"), std::string::npos);
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    auto shuffled = bodies;
    shuffled.insert(shuffled.end(), bodies.begin(), bodies.begin() + 4);  // some twice
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(ProjectAndRead(shuffled), in_order);
  }
}

TEST(Projector, MergesHistoriesAndSkipsWhatItCannotUse) {
  const std::string later = R"({"event":"message-replied","timestamp":"2026-03-24T14:20:00.000Z","data":{
    "actionData":{"replay_message":"yes"},
    "lead":{"id":"L","name":"New Name","latest_status":"Replied","activity":[
      {"action":"Invite Accepted","action_time":"2026-03-22T10:00:00.000Z"},
      {"action":"Message Replied","action_time":"2026-03-24T14:20:00.000Z"}]},
    "campaign":{"id":"C","name":"c","campaign_type":"linkedin","total_leads":5,"complete_end_of_sequence":1}}})";
  const std::string earlier = R"({"event":"invite-sent","timestamp":"2026-03-21T09:00:00.000Z","data":{
    "lead":{"id":"L","name":"Old Name","latest_status":"Contacted"},
    "campaign":{"id":"C","name":"c","total_leads":3,"complete_end_of_sequence":0}}})";
  const std::string unknown = R"({"event":"meeting-booked","data":{"lead":{"id":"Z","name":"z"}}})";
  const std::string no_lead = R"({"event":"invite-sent","data":null})";
  const std::string out = ProjectAndRead({later, earlier, unknown, no_lead});
  EXPECT_EQ(out,
            "L|New Name|-\n"
            "  C Replied\n"
            "    Send connection request@2026-03-21T09:00:00.000Z\n"  // from the event itself (no history sent)
            "    Invite Accepted@2026-03-22T10:00:00.000Z\n"
            "    Message Replied@2026-03-24T14:20:00.000Z\n"
            "C 5/1\n"
            "reply yes\n");
}

// A batch of many webhooks reduced in memory gives what webhook-by-webhook projection gives,
// and a second catch-up over the same log (the timeline memory now warm) changes nothing.
TEST(Projector, ReducedBatchesEqualOneByOne) {
  std::vector<std::string> bodies;
  for (const char* e : {"invite-sent", "invite-accepted", "message-sent", "message-replied", "inmail-sent",
                        "inmail-replied", "email-sent", "email-opened", "email-clicked", "email-replied"}) {
    bodies.push_back(TrimTrailingNewlines(ReadTestFile(std::string("examples/") + e + ".json")));
  }
  std::mt19937 rng(11);
  auto shuffled = bodies;
  shuffled.insert(shuffled.end(), bodies.begin(), bodies.end());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);

  hookline::testing::TempDir dir;
  auto one_by_one = store::OpenStore("sqlite:" + dir.File("a"));
  auto batched = store::OpenStore("sqlite:" + dir.File("b"));
  ProjectionBatch batch;
  int n = 0;
  for (const auto& body : shuffled) {
    store::ReceivedRecord r;
    r.id = "rcv_" + std::to_string(n++);
    r.status = "accepted";
    r.body = body;
    one_by_one->Write([&](store::StoreTx& tx) {
      ProjectWebhook(tx, r);
      return true;
    });
    batch.Add(r);
  }
  batched->Write([&](store::StoreTx& tx) {
    batch.Apply(tx);
    return true;
  });
  auto dump = [](store::Store& s) {
    std::string out;
    s.Read([&](store::StoreTx& tx) {
      for (const auto& lead : tx.ListProjectedLeads(std::nullopt, std::nullopt, {std::nullopt, 100})) {
        out += lead.id + "|" + lead.name + "|" + lead.email.value_or("-") + "|" + lead.job_title.value_or("-") + "\n";
        for (const auto& e : tx.ProjectedEnrollments(lead.id)) {
          out += e.campaign_id + " " + e.latest_status.value_or("-") + " " + std::to_string(e.activity.size()) + "\n";
        }
      }
      for (const auto& c : tx.ListProjectedCampaigns({std::nullopt, 100})) {
        out += c.id + " " + c.name + " " + std::to_string(c.total_leads) + "\n";
      }
      out += std::to_string(tx.CountReplies(std::nullopt)) + " replies\n";
    });
    return out;
  };
  EXPECT_EQ(dump(*batched), dump(*one_by_one));
  EXPECT_NE(dump(*batched).find("replies"), std::string::npos);
}

}  // namespace
}  // namespace hookline::receiver
