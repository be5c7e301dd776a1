// The provider API through the real binary: retries, crash safety, tenants, bad input,
// idempotency, endpoints, and a delivery verified by the npm standardwebhooks library.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "harness.hpp"
#include "hookline/util/crypto.hpp"

namespace hookline::itest {
namespace {

constexpr char kCampaign[] = "cccccccc-1111-2222-3333-cccccccccccc";
constexpr char kLead[] = "11111111-aaaa-bbbb-cccc-111111111111";
constexpr char kSender[] = "aaaaaaaa-1111-2222-3333-aaaaaaaaaaaa";

// A company with one LinkedIn campaign, one enrolled lead and one sender.
void Seed(const ServeProcess& serve, const std::string& key) {
  ASSERT_EQ(serve.Api("PUT", std::string("/v1/senders/") + kSender, key, R"({"name":"Ravi Mehta","email":"ravi@example.com"})").status, 201);
  ASSERT_EQ(serve.Api("PUT", std::string("/v1/campaigns/") + kCampaign, key, R"({"name":"Q1","campaign_type":"linkedin"})").status, 201);
  ASSERT_EQ(serve.Api("PUT", std::string("/v1/leads/") + kLead, key, R"({"name":"Rahul Sharma","email":null})").status, 201);
  ASSERT_EQ(serve.Api("PUT", std::string("/v1/campaigns/") + kCampaign + "/leads/" + kLead, key).status, 201);
}

std::string Activity(const std::string& event = "invite-sent", const std::string& extra = "") {
  return R"({"event":")" + event + R"(","campaign_id":")" + kCampaign + R"(","lead_id":")" + kLead +
         R"(","sender_id":")" + kSender + "\"" + extra + "}";
}

std::string EndpointBody(const std::string& url) { return R"({"url":")" + url + R"("})"; }

class ProviderApiTest : public ::testing::Test {
 protected:
  std::string Db() const { return "sqlite:" + dir_.File("hookline.db"); }
  TempDir dir_;
};

TEST_F(ProviderApiTest, AnEndpointThatFailsThenRecoversGetsTheEventOnTheRetry) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints", "--retry-schedule", "0s,0s,0s"});
  Seed(serve, key);
  Sink sink;
  std::atomic<int> calls{0};
  sink.SetResponder([&](const http::Request&) {
    http::Response r;
    r.status = ++calls == 1 ? 500 : 200;
    r.body = r.status == 500 ? "temporarily broken" : "ok";
    return r;
  });
  ASSERT_EQ(serve.Api("POST", "/v1/endpoints", key, EndpointBody(sink.url())).status, 201);
  auto created = serve.Api("POST", "/v1/activities", key, Activity());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(created.Json().as_object().at("id").as_string());
  ASSERT_TRUE(sink.WaitFor(2));
  const auto received = sink.Received();
  EXPECT_EQ(received[0].body, received[1].body);                          // same bytes
  EXPECT_EQ(received[0].Header("webhook-id"), received[1].Header("webhook-id"));  // same id

  json::value event;
  ASSERT_TRUE(Eventually([&] {
    event = serve.Api("GET", "/v1/events/" + id, key).Json();
    return event.as_object().at("deliveries").as_array().at(0).as_object().at("status") == "succeeded";
  }));
  const auto& delivery = event.as_object().at("deliveries").as_array().at(0).as_object();
  const auto& attempts = delivery.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].as_object().at("status_code"), 500);
  EXPECT_EQ(attempts[0].as_object().at("response"), "temporarily broken");
  EXPECT_EQ(attempts[1].as_object().at("status_code"), 200);
  EXPECT_EQ(delivery.at("attempt_count"), 2);
}

TEST_F(ProviderApiTest, KillDashNineLosesNoAcknowledgedEvent) {
  const std::string key = CreateCompany(Db(), "A");
  Sink sink;
  // Phase one: the endpoint holds every request until released, so deliveries are in flight
  // or still pending when the provider dies.
  HeldResponses held(sink);
  std::set<std::string> acknowledged;
  {
    ServeProcess serve(Db(), {"--allow-private-endpoints", "--retry-schedule", "0s,0s,0s,0s,0s"});
    Seed(serve, key);
    ASSERT_EQ(serve.Api("POST", "/v1/endpoints", key, EndpointBody(sink.url())).status, 201);
    for (int i = 0; i < 60; ++i) {
      auto r = serve.Api("POST", "/v1/activities", key, Activity("message-sent", R"(,"action_data":{"message":"m)" + std::to_string(i) + "\"}"));
      ASSERT_EQ(r.status, 201) << r.body;
      acknowledged.insert(std::string(r.Json().as_object().at("id").as_string()));
    }
    ASSERT_TRUE(sink.WaitFor(1));  // deliveries have started
    const int status = serve.Stop(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status));
  }
  held.Release();
  sink.SetResponder(nullptr);  // phase two: the endpoint answers 200 at once

  ServeProcess restarted(Db(), {"--allow-private-endpoints", "--retry-schedule", "0s,0s,0s,0s,0s"});
  std::set<std::string> delivered;
  ASSERT_TRUE(Eventually([&] {
    delivered.clear();
    for (const auto& r : sink.Received()) delivered.insert(std::string(*r.Header("webhook-id")));
    return std::includes(delivered.begin(), delivered.end(), acknowledged.begin(), acknowledged.end());
  }, std::chrono::seconds{60})) << "delivered " << delivered.size() << " of " << acknowledged.size();
  // And the log says so for every one of them.
  for (const auto& id : acknowledged) {
    ASSERT_TRUE(Eventually([&] {
      auto e = restarted.Api("GET", "/v1/events/" + id, key).Json();
      return e.as_object().at("deliveries").as_array().at(0).as_object().at("status") == "succeeded";
    })) << id;
  }
}

TEST_F(ProviderApiTest, OneCompanyCanNeitherSeeNorChangeAnother) {
  const std::string key_a = CreateCompany(Db(), "A");
  const std::string key_b = CreateCompany(Db(), "B");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key_a);
  Sink sink;
  auto ep = serve.Api("POST", "/v1/endpoints", key_a, EndpointBody(sink.url())).Json();
  const std::string ep_id(ep.as_object().at("id").as_string());
  auto created = serve.Api("POST", "/v1/activities", key_a, Activity());
  ASSERT_EQ(created.status, 201);
  const std::string event_id(created.Json().as_object().at("id").as_string());

  struct Probe { std::string method, path, body; };
  const std::string c = kCampaign, l = kLead, s = kSender;
  const Probe probes[] = {
      {"GET", "/v1/senders/" + s, ""},
      {"GET", "/v1/campaigns/" + c, ""},
      {"GET", "/v1/leads/" + l, ""},
      {"GET", "/v1/endpoints/" + ep_id, ""},
      {"GET", "/v1/endpoints/" + ep_id + "/secret", ""},
      {"PATCH", "/v1/endpoints/" + ep_id, R"({"disabled":true})"},
      {"DELETE", "/v1/endpoints/" + ep_id, ""},
      {"GET", "/v1/events/" + event_id, ""},
      {"PUT", "/v1/campaigns/" + c + "/leads/" + l, ""},
      {"POST", "/v1/campaigns/" + c + "/leads/" + l + "/complete", ""},
      {"POST", "/v1/campaigns/" + c + "/leads", R"({"leads":[{"id":"x","name":"X"}]})"},
      {"POST", "/v1/activities", Activity()},
  };
  for (const auto& p : probes) {
    auto r = serve.Api(p.method, p.path, key_b, p.body);
    EXPECT_EQ(r.status, 404) << p.method << " " << p.path << ": " << r.body;
  }
  for (const char* list : {"/v1/senders", "/v1/campaigns", "/v1/leads", "/v1/endpoints", "/v1/events"}) {
    auto r = serve.Api("GET", list, key_b);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.Json().as_object().at("data").as_array().empty()) << list;
  }
  // B's PUT of the same ids makes B's own records; A's are untouched.
  EXPECT_EQ(serve.Api("PUT", "/v1/senders/" + s, key_b, R"({"name":"Impostor"})").status, 201);
  EXPECT_EQ(serve.Api("GET", "/v1/senders/" + s, key_a).Json().as_object().at("name"), "Ravi Mehta");
  auto a_ep = serve.Api("GET", "/v1/endpoints/" + ep_id, key_a);
  EXPECT_EQ(a_ep.status, 200);
  EXPECT_EQ(a_ep.Json().as_object().at("disabled"), false);
  EXPECT_EQ(serve.Api("GET", "/v1/campaigns/" + c, key_a).Json().as_object().at("total_leads"), 1);
}

TEST_F(ProviderApiTest, BadInputGetsAClearErrorAndStoresNothing) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  ASSERT_EQ(serve.Api("PUT", "/v1/campaigns/email-1", key, R"({"name":"E","campaign_type":"email"})").status, 201);
  ASSERT_EQ(serve.Api("PUT", "/v1/leads/loner", key, R"({"name":"Not Enrolled"})").status, 201);

  struct Case { std::string name, method, path, body; long status; std::string code; std::vector<std::string> headers; };
  const std::string big(1024 * 1024 + 1, 'x');
  const std::vector<Case> cases = {
      {"malformed JSON", "POST", "/v1/activities", "{\"event\": ", 400, "invalid_json", {}},
      {"not an object", "POST", "/v1/activities", "[1]", 422, "validation_failed", {}},
      {"wrong type", "POST", "/v1/activities", Activity("invite-sent", R"(,"occurred_at":12)"), 422, "invalid_timestamp", {}},
      {"wrong id type", "POST", "/v1/activities", R"({"event":"invite-sent","campaign_id":1,"lead_id":"l","sender_id":"s"})", 422, "validation_failed", {}},
      {"unknown event", "POST", "/v1/activities", Activity("meeting-booked"), 422, "unknown_event", {}},
      {"unknown lead", "POST", "/v1/activities", R"({"event":"invite-sent","campaign_id":")" + std::string(kCampaign) + R"(","lead_id":"ghost","sender_id":")" + kSender + "\"}", 404, "unknown_lead", {}},
      {"unknown sender", "POST", "/v1/activities", R"({"event":"invite-sent","campaign_id":")" + std::string(kCampaign) + R"(","lead_id":")" + kLead + R"(","sender_id":"ghost"})", 404, "unknown_sender", {}},
      {"lead not enrolled", "POST", "/v1/activities", R"({"event":"invite-sent","campaign_id":")" + std::string(kCampaign) + R"(","lead_id":"loner","sender_id":")" + kSender + "\"}", 422, "lead_not_enrolled", {}},
      {"channel mismatch", "POST", "/v1/activities", Activity("email-sent", R"(,"action_data":{"subject":"s","message":"m"})"), 422, "channel_mismatch", {}},
      {"missing required field", "POST", "/v1/activities", Activity("message-sent"), 422, "validation_failed", {}},
      {"missing event", "POST", "/v1/activities", R"({"campaign_id":"c"})", 422, "validation_failed", {}},
      {"number out of range", "POST", "/v1/activities", Activity("invite-sent", R"(,"action_data":{"n":1e999})"), 422, "validation_failed", {}},
      {"bad timestamp", "POST", "/v1/activities", Activity("invite-sent", R"(,"occurred_at":"2026-02-30T10:00:00Z")"), 422, "invalid_timestamp", {}},
      {"body over 1 MiB", "POST", "/v1/activities", big, 413, "payload_too_large", {}},
      {"lead without name", "PUT", "/v1/leads/x", R"({"email":"a@b"})", 422, "validation_failed", {}},
      {"path id too long", "PUT", "/v1/leads/" + std::string(129, 'x'), R"({"name":"n"})", 400, "invalid_id", {}},
      {"bad campaign type", "PUT", "/v1/campaigns/x", R"({"name":"n","campaign_type":"fax"})", 422, "validation_failed", {}},
      {"bad endpoint url", "POST", "/v1/endpoints", R"({"url":"ftp://example.com"})", 422, "invalid_url", {}},
      {"unknown endpoint event", "POST", "/v1/endpoints", R"({"url":"http://127.0.0.1:9/","event_types":["nope"]})", 422, "unknown_event", {}},
      {"bad secret", "POST", "/v1/endpoints", R"({"url":"http://127.0.0.1:9/","secret":"whsec_!!"})", 422, "validation_failed", {}},
      {"reserved header", "POST", "/v1/endpoints", R"({"url":"http://127.0.0.1:9/","headers":{"Webhook-Id":"x"}})", 422, "validation_failed", {}},
      {"bad limit", "GET", "/v1/events?limit=0", "", 400, "invalid_parameter", {}},
      {"bad since", "GET", "/v1/events?since=yesterday", "", 400, "invalid_parameter", {}},
      {"unknown route", "GET", "/v1/nothing", "", 404, "not_found", {}},
      {"wrong method", "DELETE", "/v1/activities", "", 405, "method_not_allowed", {}},
      {"idempotency key too long", "POST", "/v1/activities", Activity(), 400, "invalid_idempotency_key", {"Idempotency-Key: " + std::string(256, 'k')}},
      {"activity with a query string", "POST", "/v1/activities?source=crm", "{\"event\": ", 400, "invalid_json", {}},
      {"a longer path is another route", "POST", "/v1/activitiesx", Activity(), 404, "not_found", {}},
  };
  for (const auto& c : cases) {
    auto r = serve.Api(c.method, c.path, key, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), c.code) << c.name << ": " << r.body;
    EXPECT_FALSE(r.Json().as_object().at("error").as_object().at("message").as_string().empty()) << c.name;
  }
  // Missing or wrong API key.
  EXPECT_EQ(serve.Api("POST", "/v1/activities", "", Activity()).status, 401);
  auto wrong = serve.Api("POST", "/v1/activities", "hlk_wrong", Activity());
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.ErrorCode(), "unauthorized");
  // Nothing was stored.
  EXPECT_TRUE(serve.Api("GET", "/v1/events", key).Json().as_object().at("data").as_array().empty());
  EXPECT_TRUE(serve.Api("GET", "/v1/endpoints", key).Json().as_object().at("data").as_array().empty());
  EXPECT_EQ(serve.Api("GET", "/v1/leads/x", key).status, 404);
  EXPECT_EQ(serve.Api("GET", "/v1/leads/" + std::string(kLead), key).Json().as_object().at("campaigns")
                .as_array().at(0).as_object().at("activity").as_array().size(), 0u);
}

TEST_F(ProviderApiTest, MalformedQueryParametersGet400AndTheServerKeepsWorking) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db());
  Seed(serve, key);
  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity()).status, 201);
  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity("invite-accepted")).status, 201);

  const std::vector<std::string> targets = {
      "/v1/events?after=12abc",
      "/v1/events?after=99999999999999999999",
      "/v1/events?after=-1",
      "/v1/events?after=+12",
      "/v1/events?after=0x10",
      "/v1/events?limit=-1",
      "/v1/events?limit=abc",
      "/v1/events?limit=10.5",
      "/v1/events?since=notatime",
      "/v1/events?until=2026-03-24",
      "/v1/senders?limit=0",
      "/v1/campaigns?limit=abc",
      "/v1/leads?limit=99999999999",
      "/v1/endpoints?limit=",
  };
  for (const auto& target : targets) {
    auto r = serve.Api("GET", target, key);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "invalid_parameter") << target << ": " << r.body;
  }
  // Still answering, and a cursor it made still pages.
  auto first = serve.Api("GET", "/v1/events?limit=1", key);
  ASSERT_EQ(first.status, 200) << first.body;
  auto rest = serve.Api("GET", "/v1/events?after=" + std::string(first.Json().at("next").as_string()), key);
  ASSERT_EQ(rest.status, 200) << rest.body;
  ASSERT_EQ(rest.Json().at("data").as_array().size(), 1u);
  EXPECT_EQ(rest.Json().at("data").at(0).at("event"), "invite-sent");
}

TEST_F(ProviderApiTest, IdempotencyKeyReturnsTheFirstAnswerAndDoesNothingTwice) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  const std::vector<std::string> headers = {"Idempotency-Key: act-1"};
  auto first = serve.Api("POST", "/v1/activities", key, Activity(), headers);
  auto again = serve.Api("POST", "/v1/activities", key, Activity(), headers);
  ASSERT_EQ(first.status, 201);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  auto other = serve.Api("POST", "/v1/activities", key, Activity("invite-accepted"), headers);
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.ErrorCode(), "idempotency_key_reused");
  EXPECT_EQ(serve.Api("GET", "/v1/events", key).Json().as_object().at("data").as_array().size(), 1u);
  // Concurrent retries of one key still record one event.
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = serve.Api("POST", "/v1/activities", key, Activity("invite-accepted"), {"Idempotency-Key: act-2"});
      if (r.status == 201) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 8);
  EXPECT_EQ(serve.Api("GET", "/v1/events", key).Json().as_object().at("data").as_array().size(), 2u);
}

TEST_F(ProviderApiTest, EndpointsAreManagedAndFilterEvents) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  Sink all, replies_only;
  auto ep_all = serve.Api("POST", "/v1/endpoints", key, R"({"url":")" + all.url() + R"(","description":"CRM","headers":{"X-Team":"growth"}})");
  ASSERT_EQ(ep_all.status, 201) << ep_all.body;
  const auto view = ep_all.Json().as_object();
  EXPECT_TRUE(std::string_view(view.at("id").as_string()).starts_with("ep_"));
  EXPECT_TRUE(std::string_view(view.at("secret").as_string()).starts_with("whsec_"));
  const std::string id(view.at("id").as_string());
  auto ep_replies = serve.Api("POST", "/v1/endpoints", key, R"({"url":")" + replies_only.url() + R"(","event_types":["message-replied"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})");
  ASSERT_EQ(ep_replies.status, 201);
  EXPECT_EQ(ep_replies.Json().as_object().at("secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  // The secret is not in the plain view, only on its own route.
  EXPECT_FALSE(serve.Api("GET", "/v1/endpoints/" + id, key).Json().as_object().contains("secret"));
  EXPECT_EQ(serve.Api("GET", "/v1/endpoints/" + id + "/secret", key).Json().as_object().at("secret"), view.at("secret"));
  EXPECT_EQ(serve.Api("GET", "/v1/endpoints", key).Json().as_object().at("data").as_array().size(), 2u);
  auto page = serve.Api("GET", "/v1/endpoints?limit=1", key).Json().as_object();
  ASSERT_EQ(page.at("data").as_array().size(), 1u);
  auto page2 = serve.Api("GET", "/v1/endpoints?limit=1&after=" + std::string(page.at("next").as_string()), key).Json().as_object();
  EXPECT_EQ(page2.at("data").as_array().size(), 1u);
  EXPECT_TRUE(page2.at("next").is_null());

  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity()).status, 201);
  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity("message-replied", R"(,"action_data":{"replay_message":"Sure!"})")).status, 201);
  ASSERT_TRUE(all.WaitFor(2));
  ASSERT_TRUE(replies_only.WaitFor(1));
  EXPECT_EQ(all.Received()[0].Header("x-team"), "growth");
  EXPECT_EQ(json::parse(replies_only.Received()[0].body).as_object().at("event"), "message-replied");

  // PATCH changes what it names; DELETE removes.
  auto patched = serve.Api("PATCH", "/v1/endpoints/" + id, key, R"({"event_types":["invite-sent"],"disabled":true})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.Json().as_object().at("disabled"), true);
  EXPECT_EQ(patched.Json().as_object().at("description"), "CRM");
  EXPECT_EQ(serve.Api("PATCH", "/v1/endpoints/" + id, key, R"({"secret":"x"})").status, 422);
  EXPECT_EQ(serve.Api("DELETE", "/v1/endpoints/" + id, key).status, 204);
  EXPECT_EQ(serve.Api("GET", "/v1/endpoints/" + id, key).status, 404);
  EXPECT_EQ(serve.Api("DELETE", "/v1/endpoints/" + id, key).status, 404);

  // Event search filters.
  EXPECT_EQ(serve.Api("GET", "/v1/events?event=message-replied", key).Json().as_object().at("data").as_array().size(), 1u);
  EXPECT_EQ(serve.Api("GET", std::string("/v1/events?lead_id=") + kLead, key).Json().as_object().at("data").as_array().size(), 2u);
  EXPECT_EQ(serve.Api("GET", "/v1/events?campaign_id=other", key).Json().as_object().at("data").as_array().size(), 0u);
  EXPECT_EQ(serve.Api("GET", "/v1/events?since=2999-01-01T00:00:00Z", key).Json().as_object().at("data").as_array().size(), 0u);
  EXPECT_EQ(serve.Api("GET", "/v1/events?until=2999-01-01T00:00:00Z&limit=1", key).Json().as_object().at("data").as_array().size(), 1u);
}

TEST_F(ProviderApiTest, CampaignAndLeadViewsCarryCountersFunnelAndHistory) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity("invite-sent", R"(,"occurred_at":"2026-03-24T15:45:00+05:30")")).status, 201);
  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity("invite-accepted", R"(,"latest_status":"Warm")")).status, 201);
  auto campaign = serve.Api("GET", std::string("/v1/campaigns/") + kCampaign, key).Json().as_object();
  EXPECT_EQ(campaign.at("total_leads"), 1);
  EXPECT_EQ(campaign.at("funnel"), json::parse(R"({"invited":1,"accepted":1,"messaged":0,"replied":0})"));
  auto lead = serve.Api("GET", std::string("/v1/leads/") + kLead, key).Json().as_object();
  const auto& enrollment = lead.at("campaigns").as_array().at(0).as_object();
  EXPECT_EQ(enrollment.at("latest_status"), "Warm");
  EXPECT_EQ(enrollment.at("activity").as_array().at(0).as_object().at("action_time"), "2026-03-24T10:15:00.000Z");
  // A campaign's type is fixed once it has activity.
  EXPECT_EQ(serve.Api("PUT", std::string("/v1/campaigns/") + kCampaign, key, R"({"name":"Q1","campaign_type":"email"})").status, 409);
}

TEST_F(ProviderApiTest, BadFlagsFailClearlyBeforeTouchingTheDisk) {
  struct Case { std::vector<std::string> args; std::string mentions; };
  const std::vector<Case> cases = {
      {{"serve", "--retry-schedule", "5x"}, "--retry-schedule"},
      {{"serve", "--attempt-timeout", "forever"}, "--attempt-timeout"},
      {{"serve", "--listen", "nowhere"}, "--listen"},
      {{"serve", "--read-timeout", "0s"}, "--read-timeout"},
      {{"receive", "--api-token", "short"}, "--api-token"},
      {{"receive", "--shutdown-grace", "1y"}, "--shutdown-grace"},
      {{"export", "--what", "everything"}, "--what"},
      {{"serve", "--max-connections", "0"}, "--max-connections"},
      {{"receive", "--max-queued-writes", "0"}, "--max-queued-writes"},
      {{"serve", "--max-queued-requests", "-1"}, "--max-queued-requests"},
  };
  for (const auto& c : cases) {
    const std::string db = dir_.File("never.db");
    std::vector<std::string> args = {BinaryPath()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--db", "sqlite:" + db});
    std::string out, err;
    EXPECT_NE(RunCommand(args, &out, &err), 0) << c.args[1];
    EXPECT_NE(err.find(c.mentions), std::string::npos) << err;
    EXPECT_FALSE(std::ifstream(db).good()) << c.mentions << ": the database was created";
  }
}

// Past --max-queued-writes an activity is refused at once with 503 overloaded and
// Retry-After (nothing recorded, the client sends it again); every 201 is stored.
TEST_F(ProviderApiTest, ActivitiesPastTheWriteBoundGet503WithRetryAfterAndEvery201IsStored) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--max-queued-writes", "1"});
  Seed(serve, key);
  std::mutex mu;
  std::vector<std::string> recorded;
  std::atomic<int> overloaded{0}, unexpected{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = serve.Api("POST", "/v1/activities", key, Activity());
        if (r.status == 201) {
          std::lock_guard lock(mu);
          recorded.emplace_back(r.Json().at("id").as_string());
        } else if (r.status == 503 && r.ErrorCode() == "overloaded" && r.headers["retry-after"] == "1") {
          ++overloaded;
        } else {
          ++unexpected;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  RecordProperty("overloaded", overloaded.load());
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(overloaded.load(), 0);
  ASSERT_FALSE(recorded.empty());
  for (const auto& id : recorded) ASSERT_EQ(serve.Api("GET", "/v1/events/" + id, key).status, 200) << id;
  EXPECT_EQ(serve.Api("GET", "/healthz", "").status, 200);
}

// A server's writer keeps leases and rows in memory, true only while no other server
// writes its SQLite file: a second serve (or receive) on the file exits with a clear
// message and changes nothing; tools such as company create still run beside it.
TEST_F(ProviderApiTest, ASecondServerOnOneSqliteFileIsRefused) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db());
  for (const char* role : {"serve", "receive"}) {
    std::string out, err;
    // Bounded: a second server that was not refused would serve until killed.
    std::vector<std::string> args = {"/usr/bin/timeout", "30", BinaryPath(), role, "--listen", "127.0.0.1:0", "--db", Db()};
    if (std::string(role) == "receive") args.insert(args.end(), {"--api-token", "a-token-long-enough"});
    const int rc = RunCommand(args, &out, &err);
    EXPECT_EQ(rc, 1) << role << ": " << err;
    EXPECT_NE(err.find("in use by another hookline server"), std::string::npos) << err;
  }
  EXPECT_FALSE(CreateCompany(Db(), "B").empty());
  EXPECT_EQ(serve.Api("GET", "/v1/endpoints", key).status, 200);
}

TEST_F(ProviderApiTest, TheStandardWebhooksLibraryVerifiesOurSignature) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  Sink sink;
  auto ep = serve.Api("POST", "/v1/endpoints", key, EndpointBody(sink.url())).Json();
  ASSERT_EQ(serve.Api("POST", "/v1/activities", key, Activity("message-replied", R"(,"action_data":{"replay_message":"Hey! Sure, I'd love to hear more — ça va?"})")).status, 201);
  ASSERT_TRUE(sink.WaitFor(1));
  const auto delivery = sink.Received()[0];
  json::object headers;
  for (const auto& [k, v] : delivery.headers) headers[k] = v;
  const json::object capture{{"secret", ep.as_object().at("secret")}, {"headers", headers}, {"body", delivery.body}};
  const std::string path = dir_.File("capture.json");
  std::ofstream(path) << json::serialize(capture);
  const std::string script = JsDir() + "/verify_delivery.cjs";
  ASSERT_TRUE(std::ifstream(JsDir() + "/node_modules/standardwebhooks/package.json").good())
      << "run 'npm ci' in tests/js first (the test command does)";
  std::string out, err;
  const int rc = RunCommand({"/usr/bin/env", "node", script, path}, &out, &err);
  EXPECT_EQ(rc, 0) << out << err;
  EXPECT_NE(out.find("verified message-replied"), std::string::npos) << out << err;
}

// Issue 18: action_data {"score": 1.5, "big": 1e300, "n": -0.0} was stored and delivered as
// 1.5E0, 1E300, -0E0, and an endpoint's success_rate read 1E0: Outboundry's payloads come from
// JavaScript, so every number is written as JSON.stringify writes it.
TEST_F(ProviderApiTest, DoublesAreDeliveredStoredAndAnsweredAsJavaScriptWritesThem) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  Sink sink;
  const std::string ep(serve.Api("POST", "/v1/endpoints", key, EndpointBody(sink.url())).Json().at("id").as_string());
  auto created = serve.Api("POST", "/v1/activities", key, Activity("invite-sent",
      R"(,"action_data":{"score":1.5,"big":1e300,"n":-0.0,"tiny":1e-7,"small":0.000001,"int":100,"whole":100.0,)"
      R"("long":123456789012,"sum":0.30000000000000004,"exact":12.100000000000001,"e21":1e21,"e20":1e20})"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string expected =
      R"(    "actionData": {)" "\n"
      R"(      "message": "Invitation Sent Successfully",)" "\n";
  const std::string numbers =
      R"(      "score": 1.5,)" "\n"
      R"(      "big": 1e+300,)" "\n"
      R"(      "n": 0,)" "\n"
      R"(      "tiny": 1e-7,)" "\n"
      R"(      "small": 0.000001,)" "\n"
      R"(      "int": 100,)" "\n"
      R"(      "whole": 100,)" "\n"
      R"(      "long": 123456789012,)" "\n"
      R"(      "sum": 0.30000000000000004,)" "\n"
      R"(      "exact": 12.100000000000001,)" "\n"
      R"(      "e21": 1e+21,)" "\n"
      R"(      "e20": 100000000000000000000)" "\n"
      R"(    },)";
  ASSERT_TRUE(sink.WaitFor(1));
  const std::string delivered = sink.Received()[0].body;
  EXPECT_NE(delivered.find(expected), std::string::npos) << delivered;
  EXPECT_NE(delivered.find(numbers), std::string::npos) << delivered;
  // The answer to the POST and the stored event, compact.
  const std::string id(created.Json().at("id").as_string());
  const auto stored = serve.Api("GET", "/v1/events/" + id, key);
  for (const char* compact : {R"("score":1.5,"big":1e+300,"n":0,"tiny":1e-7,"small":0.000001,"int":100,"whole":100,)",
                              R"("sum":0.30000000000000004,"exact":12.100000000000001,"e21":1e+21,"e20":100000000000000000000})"}) {
    EXPECT_NE(created.body.find(compact), std::string::npos) << created.body;
    EXPECT_NE(stored.body.find(compact), std::string::npos) << stored.body;
  }

  HttpResult stats;
  ASSERT_TRUE(Eventually([&] {  // the attempt is recorded just after the sink answered
    stats = serve.Api("GET", "/v1/endpoints/" + ep + "/stats", key);
    return stats.Json().at("last_hour").at("attempts") == 1;
  }));
  EXPECT_NE(stats.body.find(R"("succeeded":1,"success_rate":1,)"), std::string::npos) << stats.body;
}

// Issue 18: an endpoint's answer is stored as raw bytes and shown in the event's attempts; one
// that was not UTF-8 made GET /v1/events/{id} answer a JSON string that is not valid JSON.
TEST_F(ProviderApiTest, AnAnswerThatIsNotUtf8IsShownAsBase64InValidJson) {
  const std::string key = CreateCompany(Db(), "A");
  ServeProcess serve(Db(), {"--allow-private-endpoints"});
  Seed(serve, key);
  Sink sink;
  const std::string answer = "ok \xff\xfe\xc3";
  sink.SetResponder([&](const http::Request&) {
    http::Response r;
    r.status = 200;
    r.body = answer;
    return r;
  });
  ASSERT_EQ(serve.Api("POST", "/v1/endpoints", key, EndpointBody(sink.url())).status, 201);
  auto created = serve.Api("POST", "/v1/activities", key, Activity());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(created.Json().at("id").as_string());
  HttpResult event;
  ASSERT_TRUE(Eventually([&] {
    event = serve.Api("GET", "/v1/events/" + id, key);
    const auto v = event.Json();  // null unless the body is valid JSON (Boost.JSON checks UTF-8)
    return v.is_object() && v.at("deliveries").at(0).at("attempts").as_array().size() == 1;
  })) << event.body;
  const json::value shown = event.Json();
  const auto& attempt = shown.at("deliveries").at(0).at("attempts").at(0).as_object();
  EXPECT_FALSE(attempt.contains("response"));
  EXPECT_EQ(attempt.at("response_base64").as_string(), crypto::Base64Encode(answer));
}

}  // namespace
}  // namespace hookline::itest
