// hookline receive through the real binary: the provider delivering the ten reference
// scenarios to it, a shuffled and duplicated stream, both authentications (and a sender
// nobody here wrote), mutated payloads, and kill -9 during concurrent ingest.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <sqlite3.h>

#include "harness.hpp"
#include "hookline/model/codec.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/crypto.hpp"
#include "scenarios.hpp"

namespace hookline::itest {
namespace {

constexpr char kApiToken[] = "receiver-test-token-0123";
const std::vector<std::string> kEvents = {"invite-sent", "invite-accepted", "message-sent", "message-replied",
                                          "inmail-sent", "inmail-replied", "email-sent", "email-opened",
                                          "email-clicked", "email-replied"};

class ReceiverTest : public ::testing::Test {
 protected:
  std::string Db(const std::string& name = "receiver.db") const { return "sqlite:" + dir_.File(name); }
  std::unique_ptr<ServeProcess> StartReceiver(const std::string& db) {
    return std::make_unique<ServeProcess>(db, std::vector<std::string>{"--api-token", kApiToken}, "receive");
  }
  static HttpResult Query(const ServeProcess& r, const std::string& path) {
    return r.Api("GET", path, kApiToken);
  }
  //! Every item of a paginated list.
  static json::array All(const ServeProcess& r, const std::string& path) {
    json::array out;
    std::string after;
    for (;;) {
      const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
      auto page = Query(r, path + sep + "limit=500" + (after.empty() ? "" : "&after=" + after)).Json().as_object();
      for (auto& item : page.at("data").as_array()) out.push_back(item);
      if (page.at("next").is_null()) return out;
      after = std::string(page.at("next").as_string());
    }
  }
  static void WaitProjected(const ServeProcess& r) {
    ASSERT_TRUE(Eventually([&] { return Query(r, "/v1/projections").Json().at("backlog") == 0; }));
  }
  //! The projections as one document, for comparing two receivers.
  static json::object Snapshot(const ServeProcess& r) {
    WaitProjected(r);
    auto replies = All(r, "/v1/replies");
    for (auto& reply : replies) reply.as_object().erase("received_id");  // each receiver mints its own ids
    return {{"leads", All(r, "/v1/leads")}, {"campaigns", All(r, "/v1/campaigns")}, {"replies", replies}};
  }
  static HttpResult PostToken(const ServeProcess& r, const std::string& path, const std::string& token,
                              const std::string& body, std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    return Call("POST", r.base_url() + path + "?token=" + token, body, headers);
  }

  TempDir dir_;
};

TEST_F(ReceiverTest, ServeDeliversTheTenReferenceScenariosToReceive) {
  const std::string receiver_db = Db();
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto source = CreateSource(receiver_db, {"--secret", secret});
  auto receiver = StartReceiver(receiver_db);
  const std::string ingest_url = receiver->base_url() + std::string(source.at("ingest_path").as_string());

  std::set<std::string> event_ids;
  for (size_t i = 0; i < kEvents.size(); ++i) {
    const std::string db = "sqlite:" + dir_.File("provider-" + std::to_string(i) + ".db");
    const std::string key = CreateCompany(db, "Outboundry Demo", kReferenceCompany);
    ServeProcess serve(db, {"--allow-private-endpoints"});
    const auto [event_id, used_secret] = RebuildReferenceScenario(serve, key, kEvents[i], ingest_url, secret);
    EXPECT_EQ(used_secret, secret);
    event_ids.insert(event_id);
    ASSERT_TRUE(Eventually([&] {
      auto e = serve.Api("GET", "/v1/events/" + event_id, key).Json();
      return e.at("deliveries").at(0).at("status") == "succeeded";
    })) << kEvents[i];
  }

  // The raw log: each webhook once, byte for byte, with its webhook-id.
  auto received = All(*receiver, "/v1/received?status=accepted");
  ASSERT_EQ(received.size(), 10u);
  std::set<std::string> bodies;
  for (const auto& item : received) {
    auto one = Query(*receiver, "/v1/received/" + std::string(item.at("id").as_string())).Json().as_object();
    bodies.insert(std::string(one.at("body").as_string()));
    EXPECT_TRUE(event_ids.count(std::string(one.at("headers").at("webhook-id").as_string())));
    EXPECT_FALSE(one.at("headers").as_object().contains("authorization"));
  }
  for (const auto& event : kEvents) EXPECT_TRUE(bodies.count(ReadExample(event))) << event;

  // Projections, checked against what the ten payloads say (computed here independently).
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> status;  // -> (timestamp, status)
  std::map<std::pair<std::string, std::string>, std::set<std::pair<std::string, std::string>>> timeline;
  std::map<std::string, json::object> campaigns;
  std::map<std::string, json::object> profiles;
  std::set<std::tuple<std::string, std::string, std::string>> replies;  // lead, event, text
  for (const auto& event : kEvents) {
    auto doc = json::parse(ReadExample(event)).as_object();
    const std::string ts(doc.at("timestamp").as_string());
    const auto& lead = doc.at("data").at("lead").as_object();
    const auto& campaign = doc.at("data").at("campaign").as_object();
    const std::pair<std::string, std::string> key{std::string(lead.at("id").as_string()), std::string(campaign.at("id").as_string())};
    if (status[key].first < ts) status[key] = {ts, std::string(lead.at("latest_status").as_string())};
    for (const auto& a : lead.at("activity").as_array()) {
      timeline[key].insert({std::string(a.at("action_time").as_string()), std::string(a.at("action").as_string())});
    }
    campaigns[key.second] = campaign;
    profiles[key.first] = lead;
    const auto& ad = doc.at("data").at("actionData").as_object();
    if (event == "message-replied" || event == "inmail-replied") replies.insert({key.first, event, std::string(ad.at("replay_message").as_string())});
    if (event == "email-replied") replies.insert({key.first, event, std::string(ad.at("message").as_string())});
  }
  WaitProjected(*receiver);
  for (const auto& [key, expected] : status) {
    auto lead = Query(*receiver, "/v1/leads/" + key.first).Json().as_object();
    for (const char* field : {"name", "email", "company_name", "location", "job_title", "profile_image", "profile_url"}) {
      EXPECT_EQ(lead.at(field), profiles[key.first].at(field)) << field;
    }
    const auto& c = lead.at("campaigns").at(0).as_object();
    EXPECT_EQ(c.at("campaign_id"), json::value(key.second));
    EXPECT_EQ(c.at("latest_status"), json::value(expected.second)) << key.first;
    std::vector<std::pair<std::string, std::string>> got;
    for (const auto& a : c.at("activity").as_array()) {
      got.emplace_back(std::string(a.at("action_time").as_string()), std::string(a.at("action").as_string()));
    }
    using Timeline = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(got, Timeline(timeline[key].begin(), timeline[key].end()));
  }
  for (const auto& [id, expected] : campaigns) {
    auto c = Query(*receiver, "/v1/campaigns/" + id).Json().as_object();
    EXPECT_EQ(c.at("total_leads"), expected.at("total_leads"));
    EXPECT_EQ(c.at("complete_end_of_sequence"), expected.at("complete_end_of_sequence"));
    EXPECT_EQ(c.at("name"), expected.at("name"));
  }
  EXPECT_EQ(Query(*receiver, "/v1/campaigns/cccccccc-1111-2222-3333-cccccccccccc").Json().at("funnel"),
            json::parse(R"({"invited":1,"accepted":1,"messaged":1,"replied":1})"));
  EXPECT_EQ(Query(*receiver, "/v1/campaigns/dddddddd-2222-3333-4444-dddddddddddd").Json().at("funnel"),
            json::parse(R"({"invited":0,"accepted":0,"messaged":1,"replied":1})"));
  EXPECT_EQ(Query(*receiver, "/v1/campaigns/eeeeeeee-3333-4444-5555-eeeeeeeeeeee").Json().at("funnel"),
            json::parse(R"({"sent":1,"opened":1,"clicked":1,"replied":1})"));
  std::set<std::tuple<std::string, std::string, std::string>> got_replies;
  for (const auto& r : All(*receiver, "/v1/replies")) {
    got_replies.insert({std::string(r.at("lead_id").as_string()), std::string(r.at("event").as_string()), std::string(r.at("text").as_string())});
  }
  EXPECT_EQ(got_replies, replies);
}

// A simulated outreach stream: leads moving through two campaigns, each event carrying the
// lead's whole history so far, as the provider renders it.
struct StreamEvent {
  std::string id;
  std::string body;
};

std::vector<StreamEvent> MakeStream(int leads, std::mt19937& rng) {
  std::vector<StreamEvent> out;
  const model::Sender li_sender{"sender-li", "Ravi Mehta", "ravi@example.com"};
  const model::Sender mail_sender{"sender-mail", "Ravi Mehta", "ravi@example.com"};
  Millis clock = *ParseIso8601("2026-03-01T00:00:00Z");
  int seq = 0;
  for (int l = 0; l < leads; ++l) {
    const bool linkedin = l % 2 == 0;
    model::Campaign campaign{linkedin ? "camp-li" : "camp-mail", linkedin ? "LinkedIn Q1" : "Cold Email",
                             linkedin ? model::Channel::kLinkedin : model::Channel::kEmail, leads / 2, 0};
    model::Lead lead{"lead-" + std::to_string(l), "Lead " + std::to_string(l), std::nullopt,
                     "lead" + std::to_string(l) + "@example.com", "Acme", "Pune", "Engineer", std::nullopt};
    // A sequence as outreach goes: the first touch, then follow-ups repeated a few times
    // (messages; opens and clicks), and sometimes a reply.
    std::vector<std::string> steps;
    if (linkedin) {
      steps = {"invite-sent"};
      if (rng() % 4 != 0) {
        steps.push_back("invite-accepted");
        for (int i = 0, n = 1 + static_cast<int>(rng() % 5); i < n; ++i) steps.push_back("message-sent");
        if (rng() % 3 == 0) steps.push_back("message-replied");
      }
    } else {
      steps = {"email-sent"};
      for (int i = 0, n = static_cast<int>(rng() % 6); i < n; ++i) steps.push_back(rng() % 2 ? "email-opened" : "email-clicked");
      if (rng() % 3 == 0) steps.push_back("email-replied");
    }
    std::vector<model::Activity> history;
    for (const auto& step : steps) {
      clock += 60'000 + static_cast<Millis>(rng() % 600'000);
      const auto* spec = model::FindEvent(step);
      history.push_back({std::string(spec->action), clock});
      campaign.complete_end_of_sequence = seq / 50;  // counters move over time
      model::PayloadParts parts;
      parts.spec = spec;
      parts.company_id = "company-1";
      parts.timestamp = clock;
      for (auto f : spec->action_fields) parts.action_data[f] = "text " + std::to_string(seq);
      parts.lead = lead;
      parts.latest_status = std::string(spec->default_status);
      parts.activity = history;
      parts.campaign = campaign;
      parts.sender = linkedin ? li_sender : mail_sender;
      out.push_back({"msg_stream_" + std::to_string(seq++), model::RenderWebhookJson(model::BuildPayload(parts))});
    }
  }
  return out;
}

TEST_F(ReceiverTest, ShuffledDuplicatedStreamProjectsLikeTheSameStreamInOrderOnce) {
  std::mt19937 rng(20261126);
  auto stream = MakeStream(700, rng);  // ~2,800 events over 700 leads in two campaigns
  ASSERT_GT(stream.size(), 2500u);
  // Some events are never sent at all; the rest go to both receivers.
  std::vector<StreamEvent> sent;
  for (auto& e : stream) if (rng() % 10 != 0) sent.push_back(e);
  ASSERT_GT(sent.size(), 2200u);

  auto src_a = CreateSource(Db("a.db"));
  auto src_b = CreateSource(Db("b.db"));
  auto in_order = StartReceiver(Db("a.db"));
  auto shuffled = StartReceiver(Db("b.db"));
  const std::string path_a(src_a.at("ingest_path").as_string()), token_a(src_a.at("token").as_string());
  const std::string path_b(src_b.at("ingest_path").as_string()), token_b(src_b.at("token").as_string());

  for (const auto& e : sent) {
    auto r = PostToken(*in_order, path_a, token_a, e.body, {"webhook-id: " + e.id});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // B: a third delivered two or three times, all shuffled, from four connections at once.
  std::vector<const StreamEvent*> deliveries;
  for (const auto& e : sent) {
    const int copies = rng() % 3 == 0 ? 2 + static_cast<int>(rng() % 2) : 1;
    for (int c = 0; c < copies; ++c) deliveries.push_back(&e);
  }
  std::shuffle(deliveries.begin(), deliveries.end(), rng);
  std::atomic<size_t> next{0};
  std::atomic<int> accepted{0}, duplicates{0}, errors{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      for (size_t i; (i = next++) < deliveries.size();) {
        auto r = PostToken(*shuffled, path_b, token_b, deliveries[i]->body, {"webhook-id: " + deliveries[i]->id});
        if (r.status != 200) {
          ++errors;
        } else if (r.Json().at("status") == "duplicate") {
          ++duplicates;
        } else {
          ++accepted;
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(static_cast<size_t>(accepted.load()), sent.size());
  EXPECT_EQ(static_cast<size_t>(duplicates.load()), deliveries.size() - sent.size());
  EXPECT_EQ(All(*shuffled, "/v1/received?status=accepted").size(), sent.size());  // each stored once

  const auto a = Snapshot(*in_order);
  const auto b = Snapshot(*shuffled);
  EXPECT_GT(a.at("leads").as_array().size(), 620u);
  EXPECT_GT(a.at("replies").as_array().size(), 0u);
  EXPECT_TRUE(json::serialize(a) == json::serialize(b)) << "projections differ";

  // A rebuild from the raw log gives the same projections as live.
  ASSERT_EQ(shuffled->Api("POST", "/v1/replay", kApiToken, R"({"to":"projections"})").status, 202);
  EXPECT_TRUE(json::serialize(Snapshot(*shuffled)) == json::serialize(b)) << "rebuild differs from live";
}

TEST_F(ReceiverTest, AuthenticatesByTokenOrByStandardWebhooksSignature) {
  auto token_source = CreateSource(Db(), {"--token", "outboundry-shared-token-1"});
  const std::string secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
  auto signed_source = CreateSource(Db(), {"--secret", secret});
  auto receiver = StartReceiver(Db());
  const std::string token_path(token_source.at("ingest_path").as_string());
  const std::string body = ReadExample("invite-sent");

  // Unsigned with a token, as Outboundry sends today: ?token= or a bearer header.
  EXPECT_EQ(PostToken(*receiver, token_path, "outboundry-shared-token-1", body).Json().at("status"), "accepted");
  auto bearer = Call("POST", receiver->base_url() + token_path, ReadExample("invite-accepted"),
                     {"Authorization: Bearer outboundry-shared-token-1"});
  EXPECT_EQ(bearer.Json().at("status"), "accepted") << bearer.body;
  EXPECT_EQ(PostToken(*receiver, token_path, "wrong-token-000000", body).status, 401);
  EXPECT_EQ(Call("POST", receiver->base_url() + token_path, body).status, 401);

  // Every reference example signed by the npm standardwebhooks library.
  std::vector<std::string> args = {"/usr/bin/env", "node", JsDir() + "/send_signed.cjs",
                                   receiver->base_url() + std::string(signed_source.at("ingest_path").as_string()), secret};
  for (const auto& e : kEvents) args.push_back(TestDataDir() + "/examples/" + e + ".json");
  std::string out, err;
  ASSERT_EQ(RunCommand(args, &out, &err), 0) << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 10) << out;
  size_t accepted_lines = 0;
  for (size_t pos = 0; (pos = out.find("200 {\"status\":\"accepted\"", pos)) != std::string::npos; ++pos) ++accepted_lines;
  EXPECT_EQ(accepted_lines, 10u) << out;

  // A bad or stale signature is refused and not stored.
  const std::string signed_path(signed_source.at("ingest_path").as_string());
  auto forged = Call("POST", receiver->base_url() + signed_path, body,
                     {"webhook-id: msg_x", "webhook-timestamp: " + std::to_string(std::time(nullptr)),
                      "webhook-signature: v1,Zm9yZ2Vk"});
  EXPECT_EQ(forged.status, 401);
  auto stale = Call("POST", receiver->base_url() + signed_path, body,
                    {"webhook-id: msg_x", "webhook-timestamp: 1614265330",
                     "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="});
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(stale.body.find("too old"), std::string::npos);
  EXPECT_EQ(All(*receiver, "/v1/received").size(), 12u);  // 2 by token + 10 signed, nothing else
  WaitProjected(*receiver);
  EXPECT_EQ(All(*receiver, "/v1/replies").size(), 3u);
  EXPECT_EQ(Query(*receiver, "/v1/leads").status, 200);
  EXPECT_EQ(receiver->Api("GET", "/v1/leads", "wrong").status, 401);
}

// Senders hosted on Svix sign as Standard Webhooks do under other header names; they were
// answered 401. Signed here by the npm svix library itself.
TEST_F(ReceiverTest, SvixHeadersAreVerifiedAndDedupedLikeWebhookHeaders) {
  const std::string secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
  auto source = CreateSource(Db(), {"--secret", secret});
  auto receiver = StartReceiver(Db());
  const std::string url = receiver->base_url() + std::string(source.at("ingest_path").as_string());
  auto send = [&](const std::string& with_secret, const std::string& msg_id, const std::string& event) {
    std::string out, err;
    EXPECT_EQ(RunCommand({"/usr/bin/env", "node", JsDir() + "/send_svix.cjs", url, with_secret, msg_id,
                          TestDataDir() + "/examples/" + event + ".json"},
                         &out, &err),
              0)
        << err;
    return out;
  };
  const std::string first = send(secret, "msg_svix_1", "invite-sent");
  ASSERT_TRUE(first.starts_with("200 {\"status\":\"accepted\"")) << first;
  const std::string first_id(json::parse(first.substr(4)).at("id").as_string());
  // The same svix-id with another body is the same message sent again.
  const std::string again = send(secret, "msg_svix_1", "invite-accepted");
  ASSERT_TRUE(again.starts_with("200 ")) << again;
  EXPECT_EQ(json::parse(again.substr(4)), json::parse(R"({"status":"duplicate","id":")" + first_id + "\"}"));
  EXPECT_TRUE(send(secret, "msg_svix_2", "invite-accepted").starts_with("200 {\"status\":\"accepted\""));
  // Signed with another secret, or stale: refused, as with webhook-* headers.
  EXPECT_TRUE(send("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_svix_3", "message-sent").starts_with("401 "));
  auto stale = Call("POST", url, ReadExample("message-sent"),
                    {"svix-id: msg_x", "svix-timestamp: 1614265330",
                     "svix-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="});
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(stale.body.find("too old"), std::string::npos) << stale.body;
  EXPECT_EQ(Call("POST", url, ReadExample("message-sent")).status, 401);  // no headers of either set

  auto received = All(*receiver, "/v1/received");
  ASSERT_EQ(received.size(), 2u);  // the two accepted, nothing else
  auto one = Query(*receiver, "/v1/received/" + first_id).Json();
  EXPECT_EQ(one.at("headers").at("svix-id"), "msg_svix_1");
  EXPECT_EQ(one.at("event"), "invite-sent");
}

TEST_F(ReceiverTest, MutatedPayloadsGetTheRightStatusAndNothingValidIsLost) {
  auto source = CreateSource(Db());
  auto receiver = StartReceiver(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  auto doc = json::parse(ReadExample("message-replied")).as_object();

  auto nulls = doc;  // null in every optional field
  for (auto& kv : nulls["data"].as_object()["lead"].as_object()) {
    if (kv.key() != "id" && kv.key() != "activity") kv.value() = nullptr;
  }
  nulls["data"].as_object()["sender"] = nullptr;
  nulls["company_id"] = nullptr;
  auto missing = doc;  // profile fields missing altogether
  for (const char* k : {"email", "company_name", "location", "job_title", "profile_image", "profile_url"}) {
    missing["data"].as_object()["lead"].as_object().erase(k);
  }
  missing["timestamp"] = "2026-03-25T00:00:00.000Z";
  auto extra = json::parse(ReadExample("email-replied")).as_object();  // extra fields at every level
  extra["x_top"] = 1;
  extra["data"].as_object()["x_data"] = json::object{{"k", "v"}};
  extra["data"].as_object()["lead"].as_object()["x_lead"] = json::array{1, 2};
  extra["data"].as_object()["actionData"].as_object()["x_action"] = true;
  auto unknown = doc;
  unknown["event"] = "meeting-booked";

  struct Case { std::string name, body; long status; };
  const std::string full = ReadExample("email-replied");
  const std::vector<Case> cases = {
      {"nulls", json::serialize(nulls), 200},
      {"missing profile", json::serialize(missing), 200},
      {"extra fields", json::serialize(extra), 200},
      {"unknown event", json::serialize(unknown), 200},
      {"invalid UTF-8", "{\"event\":\"invite-sent\",\"x\":\"\xff\xfe\"}", 400},
      {"truncated", full.substr(0, full.size() / 2), 400},
      {"no event", R"({"data":{}})", 400},
      {"10 MB", std::string(10 << 20, 'x'), 413},
  };
  for (const auto& c : cases) {
    auto r = PostToken(*receiver, path, token, c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body.substr(0, 200);
  }
  EXPECT_EQ(Query(*receiver, "/healthz").status, 200);  // still up
  EXPECT_EQ(All(*receiver, "/v1/received?status=accepted").size(), 4u);
  auto rejected = All(*receiver, "/v1/received?status=rejected");
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_FALSE(rejected[0].at("reason").as_string().empty());
  WaitProjected(*receiver);
  // The copy without a company_id is its own company's (""), apart from the reference's.
  EXPECT_EQ(Query(*receiver, "/v1/leads/11111111-aaaa-bbbb-cccc-111111111111").status, 409);
  EXPECT_EQ(Query(*receiver, "/v1/leads/11111111-aaaa-bbbb-cccc-111111111111?company_id=").Json().at("company_id"), "");
  auto lead = Query(*receiver, "/v1/leads/11111111-aaaa-bbbb-cccc-111111111111?company_id=" + std::string(kReferenceCompany))
                  .Json().as_object();
  EXPECT_EQ(lead.at("campaigns").at(0).at("latest_status"), "Replied");  // newest event wins
  EXPECT_TRUE(lead.at("email").is_null());  // the newest payload did not carry it
  EXPECT_EQ(Query(*receiver, "/v1/leads/33333333-cccc-dddd-eeee-333333333333").status, 200);
  EXPECT_EQ(All(*receiver, "/v1/received?event=meeting-booked").size(), 1u);  // kept raw, not projected
}

// A projection row damaged by hand (here: a timeline that is not JSON) is reported as what it
// is, with the lead, the campaign and the way to rebuild it, not as a bare 500; a replay of
// the projections mends it.
TEST_F(ReceiverTest, AnUnreadableTimelineIsNamedAndAReplayMendsIt) {
  auto source = CreateSource(Db());
  auto receiver = StartReceiver(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  ASSERT_EQ(PostToken(*receiver, path, token, ReadExample("message-replied")).status, 200);
  WaitProjected(*receiver);
  const std::string lead = "/v1/leads/" + std::string(json::parse(ReadExample("message-replied"))
                                                          .at("data").at("lead").at("id").as_string());
  ASSERT_EQ(Query(*receiver, lead).status, 200);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("receiver.db").c_str(), &db), SQLITE_OK);
  const int rc = sqlite3_exec(db, "UPDATE rx_lead_campaigns SET timeline = 'oops'", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK);

  for (const std::string& target : {lead, std::string("/v1/leads")}) {
    auto r = Query(*receiver, target);
    EXPECT_EQ(r.status, 500) << target;
    const auto error = r.Json().at("error");
    EXPECT_EQ(error.at("code"), "stored_value_unreadable") << target;
    const std::string message(error.at("message").as_string());
    EXPECT_NE(message.find("in campaign"), std::string::npos) << message;
    EXPECT_NE(message.find("POST /v1/replay"), std::string::npos) << message;
  }
  EXPECT_EQ(receiver->Api("POST", "/v1/replay", kApiToken, R"({"to": "projections"})").status, 202);
  ASSERT_TRUE(Eventually([&] { return Query(*receiver, lead).status == 200; }));
  EXPECT_EQ(Query(*receiver, lead).Json().at("campaigns").at(0).at("latest_status"), "Replied");
}

// Two companies sending lead "rahul" in campaign "q1" to one receiver were merged into one
// lead (and one funnel). Each is its own now: lists name the company and filter by it, and a
// lookup by id alone never answers with a merged lead.
TEST_F(ReceiverTest, TwoCompaniesSendingTheSameLeadAreKeptApart) {
  auto source = CreateSource(Db());
  auto receiver = StartReceiver(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  // A reference example as `company` sends it about its own lead "rahul" in its campaign "q1".
  auto as_company = [](const std::string& event, const std::string& company, const std::string& name) {
    auto doc = json::parse(ReadExample(event)).as_object();
    doc["company_id"] = company;
    auto& data = doc["data"].as_object();
    data["lead"].as_object()["id"] = "rahul";
    data["lead"].as_object()["name"] = name;
    data["campaign"].as_object()["id"] = "q1";
    return json::serialize(doc);
  };
  for (const auto& body : {as_company("invite-sent", "company-a", "Rahul of A"),
                           as_company("message-replied", "company-a", "Rahul of A"),
                           as_company("invite-sent", "company-b", "Rahul of B"),
                           as_company("invite-accepted", "company-b", "Rahul of B")}) {
    ASSERT_EQ(PostToken(*receiver, path, token, body).status, 200);
  }
  WaitProjected(*receiver);

  auto a = All(*receiver, "/v1/leads?company_id=company-a");
  auto b = All(*receiver, "/v1/leads?company_id=company-b");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].at("name"), "Rahul of A");
  EXPECT_EQ(a[0].at("campaigns").at(0).at("latest_status"), "Replied");
  EXPECT_EQ(b[0].at("name"), "Rahul of B");
  EXPECT_EQ(b[0].at("campaigns").at(0).at("latest_status"), "Engaged");
  EXPECT_EQ(a[0].as_object().if_contains("company_id") ? a[0].at("company_id") : nullptr, "company-a");
  EXPECT_EQ(b[0].as_object().if_contains("company_id") ? b[0].at("company_id") : nullptr, "company-b");
  std::vector<std::string> actions_of_b;
  for (const auto& x : b[0].at("campaigns").at(0).at("activity").as_array()) actions_of_b.emplace_back(x.at("action").as_string());
  // The union of B's histories only (the examples date the invite differently), nothing of A's.
  EXPECT_EQ(actions_of_b, (std::vector<std::string>{"Send connection request", "Send connection request", "Invite Accepted"}));
  EXPECT_TRUE(All(*receiver, "/v1/leads?company_id=company-c").empty());

  // Every company's, a page at a time: each lead once, naming its company.
  auto first = Query(*receiver, "/v1/leads?limit=1").Json().as_object();
  ASSERT_EQ(first.at("data").as_array().size(), 1u);
  EXPECT_EQ(first.at("data").at(0).at("company_id"), "company-a");
  auto second = Query(*receiver, "/v1/leads?limit=1&after=" + std::string(first.at("next").as_string())).Json();
  EXPECT_EQ(second.at("data").at(0).at("company_id"), "company-b");
  EXPECT_EQ(second.at("data").at(0).at("id"), "rahul");
  EXPECT_EQ(Query(*receiver, "/v1/leads?after=not-a-cursor").status, 400);
  // A cursor of company A's rows, reused for company B's list, would skip or repeat rows.
  EXPECT_EQ(Query(*receiver, "/v1/leads?company_id=company-b&after=" + std::string(first.at("next").as_string())).status,
            400);

  // By id alone: two companies have it, and they are not merged.
  auto ambiguous = Query(*receiver, "/v1/leads/rahul");
  EXPECT_EQ(ambiguous.status, 409);
  EXPECT_EQ(ambiguous.Json().at("error").at("code"), "ambiguous_lead");
  const std::string message(ambiguous.Json().at("error").at("message").as_string());
  EXPECT_NE(message.find("'company-a', 'company-b'"), std::string::npos) << message;
  EXPECT_NE(message.find("company_id"), std::string::npos) << message;
  auto one = Query(*receiver, "/v1/leads/rahul?company_id=company-b").Json();
  EXPECT_EQ(one.at("company_id"), "company-b");
  EXPECT_EQ(one.at("name"), "Rahul of B");
  EXPECT_EQ(Query(*receiver, "/v1/leads/rahul?company_id=company-c").status, 404);

  // Funnels count each company's leads in its own campaign.
  EXPECT_EQ(Query(*receiver, "/v1/campaigns/q1").Json().at("error").at("code"), "ambiguous_campaign");
  EXPECT_EQ(Query(*receiver, "/v1/campaigns/q1?company_id=company-a").Json().at("funnel"),
            json::parse(R"({"invited":1,"accepted":1,"messaged":1,"replied":1})"));
  EXPECT_EQ(Query(*receiver, "/v1/campaigns/q1?company_id=company-b").Json().at("funnel"),
            json::parse(R"({"invited":1,"accepted":1,"messaged":0,"replied":0})"));
  auto campaigns = All(*receiver, "/v1/campaigns");
  ASSERT_EQ(campaigns.size(), 2u);
  EXPECT_EQ(campaigns[1].at("company_id"), "company-b");

  // Replies: company A's only.
  auto replies = All(*receiver, "/v1/replies");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].at("company_id"), "company-a");
  EXPECT_TRUE(All(*receiver, "/v1/replies?company_id=company-b").empty());

  // The export filters by company too; the raw log is not per company.
  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath(), "export", "--db", Db(), "--what", "leads", "--company-id", "company-b"}, &out, &err), 0)
      << err;
  EXPECT_EQ(json::parse(out).at("company_id"), "company-b");
  ASSERT_EQ(RunCommand({BinaryPath(), "export", "--db", Db(), "--what", "replies", "--format", "csv"}, &out, &err), 0)
      << err;
  EXPECT_NE(out.find(",company-a\r\n"), std::string::npos) << out;
  EXPECT_NE(RunCommand({BinaryPath(), "export", "--db", Db(), "--what", "received", "--company-id", "company-b"}, &out, &err), 0);
}

TEST_F(ReceiverTest, MalformedQueryParametersGet400AndTheServerKeepsWorking) {
  auto source = CreateSource(Db());
  auto receiver = StartReceiver(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  ASSERT_EQ(PostToken(*receiver, path, token, ReadExample("message-replied")).status, 200);
  ASSERT_EQ(PostToken(*receiver, path, token, ReadExample("email-replied")).status, 200);
  WaitProjected(*receiver);

  const auto hex = [](const std::string& text) { return crypto::HexEncode(text); };
  const std::vector<std::string> targets = {
      "/v1/received?after=12abc",
      "/v1/received?after=99999999999999999999",
      "/v1/received?after=-1",
      "/v1/received?after=%2012",
      "/v1/received?limit=-1",
      "/v1/received?limit=abc",
      "/v1/received?since=notatime",
      "/v1/received?until=2026-03-24T10:15:00",
      "/v1/leads?limit=abc",
      "/v1/campaigns?limit=501",
      "/v1/replies?limit=",
      "/v1/replies?since=notatime",
      "/v1/replies?after=zz",
      "/v1/replies?after=" + hex("not json"),
      "/v1/replies?after=" + hex(R"("a string")"),
      "/v1/replies?after=" + hex(R"([1,"lead","campaign","message-replied"])"),
      "/v1/replies?after=" + hex(R"([1.5,"lead","campaign","message-replied","co"])"),
      "/v1/replies?after=" + hex(R"([1,2,3,4,5])"),
      "/v1/replies?after=" + hex(R"([1,"lead",null,"message-replied","co"])"),
      "/v1/replies?after=" + hex(R"([1,"lead","campaign",{"event":"x"},"co"])"),
      "/v1/replies?after=" + hex(R"([1,"lead","campaign","message-replied",7])"),
  };
  for (const auto& target : targets) {
    auto r = Query(*receiver, target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "invalid_parameter") << target << ": " << r.body;
  }
  // Still answering, and a cursor it made still pages.
  auto first = Query(*receiver, "/v1/replies?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string next(first.Json().at("next").as_string());
  auto second = Query(*receiver, "/v1/replies?limit=1&after=" + next);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.Json().at("data").as_array().size(), 1u);
  EXPECT_NE(second.Json().at("data").at(0), first.Json().at("data").at(0));
  auto received = Query(*receiver, "/v1/received?limit=1");
  ASSERT_EQ(received.status, 200) << received.body;
  auto rest = Query(*receiver, "/v1/received?after=" + std::string(received.Json().at("next").as_string()));
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest.Json().at("data").as_array().size(), 1u);
}

TEST_F(ReceiverTest, ASlowSenderIsCutOffAtTheReadTimeout) {
  auto source = CreateSource(Db());
  auto receiver = std::make_unique<ServeProcess>(
      Db(), std::vector<std::string>{"--api-token", kApiToken, "--read-timeout", "500ms"}, "receive");
  const std::string url = receiver->base_url();
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string partial = "POST " + std::string(source.at("ingest_path").as_string()) + " HTTP/1.1\r\nHost: x\r\nContent-Le";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  const auto start = std::chrono::steady_clock::now();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10'000), 1);  // the server closes the connection: readable, EOF
  char c;
  EXPECT_LE(recv(fd, &c, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{5});
  close(fd);
  EXPECT_EQ(Query(*receiver, "/healthz").status, 200);  // others are served meanwhile
  EXPECT_TRUE(All(*receiver, "/v1/received").empty());
}

TEST_F(ReceiverTest, KillDashNineDuringConcurrentIngestKeepsEveryAcknowledgedWebhook) {
  auto source = CreateSource(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  auto receiver = StartReceiver(Db());
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::vector<std::thread> senders;
  const std::string base = ReadExample("invite-sent");
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; !stop && i < 500; ++i) {
        auto body = json::parse(base).as_object();
        body["x_seq"] = std::to_string(t) + "-" + std::to_string(i);  // distinct bodies
        auto r = PostToken(*receiver, path, token, json::serialize(body));
        ++sent;
        if (r.status == 200) {
          std::lock_guard lock(mu);
          acknowledged.push_back(std::string(r.Json().at("id").as_string()));
        }
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return sent.load() >= 200; }));
  ASSERT_TRUE(WIFSIGNALED(receiver->Stop(SIGKILL)));
  stop = true;
  for (auto& t : senders) t.join();
  ASSERT_GT(acknowledged.size(), 100u);
  auto restarted = StartReceiver(Db());
  for (const auto& id : acknowledged) {
    ASSERT_EQ(Query(*restarted, "/v1/received/" + id).status, 200) << id;
  }
}

TEST_F(ReceiverTest, ForwardsAcceptedWebhooksAndReplaysThemToAnEndpoint) {
  auto source = CreateSource(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  auto receiver = std::make_unique<ServeProcess>(
      Db(), std::vector<std::string>{"--api-token", kApiToken, "--allow-private-endpoints"}, "receive");
  Sink replies_sink, replay_sink;
  auto ep = receiver->Api("POST", "/v1/endpoints", kApiToken,
                          R"({"url":")" + replies_sink.url() + R"(","event_types":["message-replied","inmail-replied"]})");
  ASSERT_EQ(ep.status, 201) << ep.body;
  const std::string secret(ep.Json().at("secret").as_string());

  std::map<std::string, std::string> body_of;  // rcv id -> raw body
  for (const auto& e : kEvents) {
    auto r = PostToken(*receiver, path, token, ReadExample(e));
    ASSERT_EQ(r.status, 200);
    body_of[std::string(r.Json().at("id").as_string())] = ReadExample(e);
  }
  // Live forwarding: only the subscribed events, the exact raw bytes, signed, id = rcv id.
  ASSERT_TRUE(replies_sink.WaitFor(2));
  auto verify = [&](const http::Request& req, const std::string& key) {
    auto parsed = signing::WebhookSecret::Parse(key);
    const signing::WebhookSecret keys[] = {*parsed};
    return signing::Verify(keys, *req.Header("webhook-id"), *req.Header("webhook-timestamp"),
                           *req.Header("webhook-signature"), req.body, std::time(nullptr), 300) ==
           signing::VerifyOutcome::kValid;
  };
  for (const auto& req : replies_sink.Received()) {
    const std::string id(*req.Header("webhook-id"));
    ASSERT_TRUE(body_of.count(id)) << id;
    EXPECT_EQ(req.body, body_of[id]);
    EXPECT_TRUE(verify(req, secret));
  }
  const std::string forwarded_id(*replies_sink.Received()[0].Header("webhook-id"));
  ASSERT_TRUE(Eventually([&] {
    auto one = Query(*receiver, "/v1/received/" + forwarded_id).Json();
    return one.at("forwarding").as_array().size() == 1 && one.at("forwarding").at(0).at("status") == "succeeded";
  }));

  // Replay the whole log to an endpoint made afterwards.
  auto ep2 = receiver->Api("POST", "/v1/endpoints", kApiToken, R"({"url":")" + replay_sink.url() + R"("})");
  ASSERT_EQ(ep2.status, 201);
  const std::string ep2_id(ep2.Json().at("id").as_string()), secret2(ep2.Json().at("secret").as_string());
  auto replay = receiver->Api("POST", "/v1/replay", kApiToken, R"({"to":{"endpoint_id":")" + ep2_id + R"("}})");
  ASSERT_EQ(replay.status, 202) << replay.body;
  EXPECT_EQ(replay.Json().at("queued"), 10);
  ASSERT_TRUE(replay_sink.WaitFor(10));
  std::set<std::string> replayed;
  for (const auto& req : replay_sink.Received()) {
    const std::string id(*req.Header("webhook-id"));
    EXPECT_EQ(req.body, body_of[id]);
    EXPECT_TRUE(verify(req, secret2));
    replayed.insert(id);
  }
  EXPECT_EQ(replayed.size(), 10u);
  // A filtered replay; a delivery still pending from the first replay is left as it is (0),
  // so ask until that one has settled.
  EXPECT_TRUE(Eventually([&] {
    auto filtered = receiver->Api("POST", "/v1/replay", kApiToken,
                                  R"({"to":{"endpoint_id":")" + ep2_id + R"("},"event_types":["email-sent"]})");
    return filtered.Json().at("queued") == 1;
  }));
  EXPECT_EQ(receiver->Api("POST", "/v1/replay", kApiToken, R"({"to":{"endpoint_id":"ep_nope"}})").status, 404);
  EXPECT_EQ(receiver->Api("POST", "/v1/replay", kApiToken, R"({"to":"somewhere"})").status, 422);
}

TEST_F(ReceiverTest, ExportsTheRawLogLeadsAndRepliesAsJsonlAndCsv) {
  auto source = CreateSource(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  auto receiver = StartReceiver(Db());
  for (const auto& e : kEvents) ASSERT_EQ(PostToken(*receiver, path, token, ReadExample(e)).status, 200);
  ASSERT_EQ(PostToken(*receiver, path, token, "not json").status, 400);
  WaitProjected(*receiver);
  auto run = [&](std::vector<std::string> extra, std::string* out) {
    std::vector<std::string> args = {BinaryPath(), "export", "--db", Db()};
    for (auto& a : extra) args.push_back(std::move(a));
    std::string err;
    return RunCommand(args, out, &err);
  };
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(text.substr(start, nl - start));
    return out;
  };
  std::string out;
  ASSERT_EQ(run({"--what", "received"}, &out), 0);
  auto received = lines(out);
  ASSERT_EQ(received.size(), 11u);
  std::set<std::string> bodies;
  for (const auto& l : received) bodies.insert(std::string(json::parse(l).at("body").as_string()));
  for (const auto& e : kEvents) EXPECT_TRUE(bodies.count(ReadExample(e))) << e;
  EXPECT_TRUE(bodies.count("not json"));

  ASSERT_EQ(run({"--what", "leads", "--format", "csv"}, &out), 0);
  auto rows = lines(out);
  ASSERT_EQ(rows.size(), 4u);  // header + three leads, one campaign each
  EXPECT_EQ(rows[0], "lead_id,name,email,company_name,location,job_title,profile_url,campaign_id,latest_status,actions,first_action_at,last_action,last_action_at,company_id\r");
  EXPECT_NE(out.find("11111111-aaaa-bbbb-cccc-111111111111,Rahul Sharma"), std::string::npos);
  // The examples give this lead's earlier actions at different times: the union has 10.
  EXPECT_NE(out.find(",Replied,10,2026-03-21T09:00:00.000Z,Message Replied,2026-03-24T14:20:00.000Z"), std::string::npos);

  ASSERT_EQ(run({"--what", "replies", "--format", "csv", "--since", "2026-03-24T15:00:00Z"}, &out), 0);
  rows = lines(out);
  ASSERT_EQ(rows.size(), 2u);  // header + the inmail reply at 16:10 (the others are earlier)
  EXPECT_NE(rows[1].find(",inmail-replied,Thanks for reaching out! Can we schedule a call this week?,"), std::string::npos);
  ASSERT_EQ(run({"--what", "replies", "--format", "csv"}, &out), 0);
  EXPECT_EQ(lines(out).size(), 4u);
  EXPECT_NE(out.find(",\"Hey! Sure, I'd love to hear more about it.\","), std::string::npos);  // quoted: has a comma

  ASSERT_EQ(run({"--what", "leads"}, &out), 0);
  EXPECT_EQ(lines(out).size(), 3u);
  EXPECT_NE(run({"--what", "everything"}, &out), 0);
  EXPECT_NE(run({"--what", "leads", "--format", "xml"}, &out), 0);
  EXPECT_NE(run({"--what", "replies", "--since", "yesterday"}, &out), 0);
}

// Issue 18: a rejected webhook's raw body need not be UTF-8, and GET /v1/received/{id} and the
// JSONL export wrote it as a JSON string that is not valid JSON; and a reply text written by a
// stranger went into the CSV export as a formula a spreadsheet would run.
TEST_F(ReceiverTest, ExportsAndAnswersAreSafeToOpen) {
  auto source = CreateSource(Db());
  auto receiver = StartReceiver(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  const std::string not_utf8 = "{\"event\":\"invite-sent\",\"x\":\"\xff\xfe\xed\xa0\x80\"}";
  auto rejected = PostToken(*receiver, path, token, not_utf8);
  ASSERT_EQ(rejected.status, 400) << rejected.body;
  const std::string rejected_id = rejected.headers["hookline-received-id"];
  ASSERT_FALSE(rejected_id.empty());
  auto reply = json::parse(ReadExample("message-replied")).as_object();
  reply["data"].as_object()["actionData"].as_object()["replay_message"] = "=1+2";
  auto accepted = PostToken(*receiver, path, token, json::serialize(reply));
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  const std::string accepted_id(accepted.Json().at("id").as_string());

  // json::parse checks UTF-8: Json() is null unless the answer is valid JSON.
  const auto shown = Query(*receiver, "/v1/received/" + rejected_id).Json();
  ASSERT_TRUE(shown.is_object());
  EXPECT_FALSE(shown.as_object().contains("body"));
  EXPECT_EQ(shown.at("body_base64").as_string(), crypto::Base64Encode(not_utf8));
  const auto valid = Query(*receiver, "/v1/received/" + accepted_id).Json();
  ASSERT_TRUE(valid.is_object());
  EXPECT_EQ(valid.at("body").as_string(), json::serialize(reply));
  EXPECT_FALSE(valid.as_object().contains("body_base64"));

  WaitProjected(*receiver);
  auto run = [&](std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {BinaryPath(), "export", "--db", Db()});
    std::string err;
    return RunCommand(args, out, &err);
  };
  std::string out;
  ASSERT_EQ(run({"--what", "received"}, &out), 0);
  std::map<std::string, json::object> lines;
  for (size_t start = 0, nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    boost::system::error_code ec;
    auto line = json::parse(out.substr(start, nl - start), ec);
    ASSERT_FALSE(ec) << "not valid JSON: " << out.substr(start, nl - start);
    lines[std::string(line.at("id").as_string())] = line.as_object();
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[rejected_id].at("body_base64").as_string(), crypto::Base64Encode(not_utf8));
  EXPECT_FALSE(lines[rejected_id].contains("body"));
  EXPECT_EQ(lines[accepted_id].at("body").as_string(), json::serialize(reply));

  ASSERT_EQ(run({"--what", "replies", "--format", "csv"}, &out), 0);
  EXPECT_NE(out.find(",message-replied,'=1+2,"), std::string::npos) << out;
  EXPECT_EQ(out.find(",=1+2,"), std::string::npos) << out;
}

// Regression (review of issue 18): a header value that is not UTF-8 (Beast accepts bytes
// 0x80-0xFF) was stored as sent and could not be read back, so the projector failed on that
// webhook for good and its record answered 500; and a path id holding %FF was echoed into a
// 404 that was not valid JSON. Headers read back, and every answer is valid JSON (such bytes
// shown as U+FFFD).
TEST_F(ReceiverTest, BytesThatAreNotUtf8InHeadersAndPathsNeverBreakTheRecordOrTheJson) {
  auto source = CreateSource(Db());
  auto receiver = StartReceiver(Db());
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  auto accepted = PostToken(*receiver, path, token, ReadExample("invite-sent"), {"X-Name: M\xfcller"});
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  const std::string id(accepted.Json().at("id").as_string());
  ASSERT_EQ(PostToken(*receiver, path, token, ReadExample("invite-accepted")).status, 200);
  WaitProjected(*receiver);  // the projector got past it
  EXPECT_EQ(All(*receiver, "/v1/leads").size(), 1u);

  const auto shown = Query(*receiver, "/v1/received/" + id);
  ASSERT_EQ(shown.status, 200) << shown.body;
  ASSERT_TRUE(shown.Json().is_object()) << "not valid JSON: " << shown.body;
  EXPECT_NE(shown.body.find("M\xef\xbf\xbdller"), std::string::npos) << shown.body;

  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath(), "export", "--db", Db(), "--what", "received"}, &out, &err), 0) << err;
  for (size_t start = 0, nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    boost::system::error_code ec;
    json::parse(out.substr(start, nl - start), ec);
    EXPECT_FALSE(ec) << "not valid JSON: " << out.substr(start, nl - start);
  }

  for (const std::string target : {"/ingest/%FF", "/v1/received/%FF%FE"}) {
    const auto missing = target.starts_with("/ingest") ? Call("POST", receiver->base_url() + target, "{}")
                                                       : Query(*receiver, target);
    EXPECT_EQ(missing.status, 404) << target;
    EXPECT_TRUE(missing.Json().is_object()) << target << ": not valid JSON: " << missing.body;
  }
}

}  // namespace
}  // namespace hookline::itest
