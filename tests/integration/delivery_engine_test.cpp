// The delivery engine through the real binary: how each kind of misbehaving endpoint ends,
// isolation of a hanging endpoint, per-lead ordering with real retries, the URL guard at
// connect time, and the redeliver / recover / rotate-secret / stats routes.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>

#include <signal.h>
#include <sys/wait.h>

#include "harness.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/time.hpp"

namespace hookline::itest {
namespace {

constexpr char kCampaign[] = "camp-1";
constexpr char kSender[] = "sender-1";

class DeliveryEngineTest : public ::testing::Test {
 protected:
  //! A provider with a company, a campaign, a sender and `leads` enrolled leads lead-0.. .
  //! `env` is set for the provider's process only.
  void Start(std::vector<std::string> flags, int leads = 1,
             const std::vector<std::pair<std::string, std::optional<std::string>>>& env = {}) {
    key_ = CreateCompany(Db(), "A");
    {
      ScopedEnv scoped(env);
      serve_ = std::make_unique<ServeProcess>(Db(), std::move(flags));
    }
    ASSERT_EQ(Api("PUT", std::string("/v1/senders/") + kSender, R"({"name":"Ravi"})").status, 201);
    ASSERT_EQ(Api("PUT", std::string("/v1/campaigns/") + kCampaign, R"({"name":"C","campaign_type":"linkedin"})").status, 201);
    json::array items;
    for (int i = 0; i < leads; ++i) items.push_back(json::object{{"id", "lead-" + std::to_string(i)}, {"name", "L"}});
    ASSERT_EQ(Api("POST", std::string("/v1/campaigns/") + kCampaign + "/leads", json::serialize(json::object{{"leads", items}})).status, 200);
  }
  HttpResult Api(const std::string& method, const std::string& path, const std::string& body = "",
                 std::vector<std::string> headers = {}) {
    return serve_->Api(method, path, key_, body, std::move(headers));
  }
  std::string Endpoint(const std::string& url, const std::string& extra = "") {
    auto r = Api("POST", "/v1/endpoints", R"({"url":")" + url + "\"" + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json().as_object().at("id").as_string());
  }
  std::string Post(const std::string& lead = "lead-0", const std::string& event = "invite-sent") {
    auto r = Api("POST", "/v1/activities",
                 R"({"event":")" + event + R"(","campaign_id":")" + kCampaign + R"(","lead_id":")" + lead +
                     R"(","sender_id":")" + kSender + "\"}");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json().as_object().at("id").as_string());
  }
  //! The event's first delivery once it has at least `attempts` attempts.
  json::object DeliveryAfter(const std::string& event_id, size_t attempts) {
    json::object delivery;
    EXPECT_TRUE(Eventually([&] {
      auto e = Api("GET", "/v1/events/" + event_id).Json();
      const auto& ds = e.as_object().at("deliveries").as_array();
      if (ds.empty()) return false;
      delivery = ds[0].as_object();
      return delivery.at("attempts").as_array().size() >= attempts;
    })) << json::serialize(delivery);
    return delivery;
  }
  static json::object Attempt(const json::object& delivery, size_t i) {
    return delivery.at("attempts").as_array().at(i).as_object();
  }
  std::string Db() const { return "sqlite:" + dir_.File("hookline.db"); }

  TempDir dir_;
  std::string key_;
  std::unique_ptr<ServeProcess> serve_;
};

http::Response Status(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Response r;
  r.status = status;
  r.body = "answer " + std::to_string(status);
  r.headers = std::move(headers);
  return r;
}

const std::vector<std::string> kOneAttemptThenAnHour = {"--allow-private-endpoints", "--attempt-timeout", "1s",
                                                        "--retry-schedule", "0s,1h"};

TEST_F(DeliveryEngineTest, ServerErrorIsRetriedLater) {
  Start(kOneAttemptThenAnHour);
  Sink sink;
  sink.SetResponder([](const auto&) { return Status(500); });
  Endpoint(sink.url());
  auto d = DeliveryAfter(Post(), 1);
  EXPECT_EQ(Attempt(d, 0).at("status_code"), 500);
  EXPECT_EQ(Attempt(d, 0).at("response"), "answer 500");
  EXPECT_EQ(d.at("status"), "pending");
  const Millis next = *ParseIso8601(d.at("next_attempt_at").as_string());
  const Millis at = *ParseIso8601(Attempt(d, 0).at("at").as_string());
  EXPECT_GE(next - at, 2'800'000);  // 1h ±20%
}

TEST_F(DeliveryEngineTest, TooManyRequestsHonoursRetryAfter) {
  Start({"--allow-private-endpoints", "--retry-schedule", "0s,1s"});
  Sink sink;
  sink.SetResponder([](const auto&) { return Status(429, {{"Retry-After", "120"}}); });
  Endpoint(sink.url());
  auto d = DeliveryAfter(Post(), 1);
  EXPECT_EQ(Attempt(d, 0).at("status_code"), 429);
  const Millis next = *ParseIso8601(d.at("next_attempt_at").as_string());
  const Millis at = *ParseIso8601(Attempt(d, 0).at("at").as_string());
  EXPECT_GE(next - at, 119'000);  // not the schedule's 1 s
  EXPECT_LE(next - at, 125'000);
}

TEST_F(DeliveryEngineTest, GoneDisablesTheEndpoint) {
  Start(kOneAttemptThenAnHour);
  Sink sink;
  sink.SetResponder([](const auto&) { return Status(410); });
  const std::string ep = Endpoint(sink.url());
  auto d = DeliveryAfter(Post(), 1);
  EXPECT_EQ(Attempt(d, 0).at("status_code"), 410);
  ASSERT_TRUE(Eventually([&] {
    auto e = Api("GET", "/v1/endpoints/" + ep).Json().as_object();
    return e.at("disabled") == true;
  }));
  auto e = Api("GET", "/v1/endpoints/" + ep).Json().as_object();
  EXPECT_NE(std::string(e.at("disabled_reason").as_string()).find("410"), std::string::npos);
  EXPECT_EQ(d.at("status"), "failed");
}

TEST_F(DeliveryEngineTest, RedirectIsAFailureAndNotFollowed) {
  Start(kOneAttemptThenAnHour);
  Sink target, redirector;
  redirector.SetResponder([&](const auto&) { return Status(301, {{"Location", target.url()}}); });
  Endpoint(redirector.url());
  auto d = DeliveryAfter(Post(), 1);
  EXPECT_EQ(Attempt(d, 0).at("status_code"), 301);
  EXPECT_EQ(d.at("status"), "pending");
  EXPECT_TRUE(target.Received().empty());
}

TEST_F(DeliveryEngineTest, HangingResettingAndTricklingEndpointsEndInTimeoutsAndErrors) {
  Start(kOneAttemptThenAnHour);
  MisbehavingEndpoint hang(MisbehavingEndpoint::Mode::kHang);
  MisbehavingEndpoint reset(MisbehavingEndpoint::Mode::kReset);
  MisbehavingEndpoint trickle(MisbehavingEndpoint::Mode::kTrickle);
  // One endpoint per behaviour, each subscribed to a different event.
  Endpoint(hang.url(), R"(,"event_types":["invite-sent"])");
  Endpoint(reset.url(), R"(,"event_types":["invite-accepted"])");
  Endpoint(trickle.url(), R"(,"event_types":["message-replied"])");
  const std::string e_hang = Post("lead-0", "invite-sent");
  const std::string e_reset = Post("lead-0", "invite-accepted");
  auto r = Api("POST", "/v1/activities", std::string(R"({"event":"message-replied","campaign_id":")") + kCampaign +
                                             R"(","lead_id":"lead-0","sender_id":")" + kSender +
                                             R"(","action_data":{"replay_message":"hi"}})");
  ASSERT_EQ(r.status, 201);
  const std::string e_trickle(r.Json().as_object().at("id").as_string());

  auto d_hang = DeliveryAfter(e_hang, 1);
  EXPECT_TRUE(Attempt(d_hang, 0).at("status_code").is_null());
  EXPECT_NE(std::string(Attempt(d_hang, 0).at("error").as_string()).find("Timeout"), std::string::npos);
  EXPECT_GE(Attempt(d_hang, 0).at("duration_ms").as_int64(), 900);
  EXPECT_EQ(d_hang.at("status"), "pending");

  auto d_reset = DeliveryAfter(e_reset, 1);
  EXPECT_TRUE(Attempt(d_reset, 0).at("status_code").is_null());
  EXPECT_FALSE(Attempt(d_reset, 0).at("error").as_string().empty());
  EXPECT_EQ(d_reset.at("status"), "pending");

  auto d_trickle = DeliveryAfter(e_trickle, 1);
  EXPECT_NE(std::string(Attempt(d_trickle, 0).at("error").as_string()).find("Timeout"), std::string::npos);
  EXPECT_EQ(d_trickle.at("status"), "pending");
}

TEST_F(DeliveryEngineTest, AHangingEndpointDoesNotHoldBackAHealthyOne) {
  Start({"--allow-private-endpoints", "--attempt-timeout", "20s", "--retry-schedule", "0s,1h"});
  MisbehavingEndpoint hang(MisbehavingEndpoint::Mode::kHang);
  Sink healthy;
  Endpoint(hang.url());
  Endpoint(healthy.url());
  constexpr int kBurst = 100;
  for (int i = 0; i < kBurst; ++i) Post();
  // Well inside the hanging endpoint's 20 s timeout, the healthy one has everything.
  ASSERT_TRUE(healthy.WaitFor(kBurst, std::chrono::seconds{10})) << healthy.Received().size();
  EXPECT_LE(hang.connections(), 16);  // its share of slots, no more
}

TEST_F(DeliveryEngineTest, PerLeadOrderingHoldsWhenEarlyDeliveriesFail) {
  Start({"--allow-private-endpoints", "--retry-schedule", "0s,0s,0s,0s,0s"}, 2);
  Sink sink;
  std::mutex mu;
  std::map<std::string, int> failures;  // webhook-id -> times failed
  std::vector<std::pair<std::string, std::string>> accepted;  // (lead, webhook-id) in arrival order
  std::string first_id;  // lead-0's earliest event: with per-lead ordering it must come first
  sink.SetResponder([&](const http::Request& r) {
    std::lock_guard lock(mu);
    const std::string id(*r.Header("webhook-id"));
    const std::string lead(json::parse(r.body).at("data").at("lead").at("id").as_string());
    if (lead == "lead-0" && first_id.empty()) first_id = id;
    if (id == first_id && failures[id]++ < 3) return Status(500);
    accepted.emplace_back(lead, id);
    return Status(200);
  });
  Endpoint(sink.url(), R"(,"ordering":"per_lead")");
  std::vector<std::string> lead0;
  for (int i = 0; i < 5; ++i) {
    lead0.push_back(Post("lead-0"));
    Post("lead-1");
  }
  // 10 successes after 3 failures; wait for the responder to have recorded the last one.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return accepted.size() >= 10;
  }));
  std::lock_guard lock(mu);
  std::vector<std::string> order;
  for (const auto& [lead, id] : accepted) if (lead == "lead-0") order.push_back(id);
  EXPECT_EQ(first_id, lead0[0]);
  EXPECT_EQ(order, lead0);
  EXPECT_EQ(accepted.size(), 10u);
}

TEST_F(DeliveryEngineTest, SigtermFinishesOrHandsBackAndLosesNothing) {
  Start({"--allow-private-endpoints", "--shutdown-grace", "1s", "--retry-schedule", "0s,0s,0s"});
  Sink sink;
  HeldResponses held(sink);
  Endpoint(sink.url());
  std::set<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) acknowledged.insert(Post());
  ASSERT_TRUE(sink.WaitFor(1));
  const auto before = std::chrono::steady_clock::now();
  const int status = serve_->Stop(SIGTERM);
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LT(took, std::chrono::seconds{5});  // the 1 s grace, not the attempt timeout
  held.Release();
  sink.SetResponder(nullptr);
  serve_ = std::make_unique<ServeProcess>(Db(), std::vector<std::string>{"--allow-private-endpoints"});
  ASSERT_TRUE(Eventually([&] {
    std::set<std::string> delivered;
    for (const auto& r : sink.Received()) delivered.insert(std::string(*r.Header("webhook-id")));
    return std::includes(delivered.begin(), delivered.end(), acknowledged.begin(), acknowledged.end());
  }));
}

TEST_F(DeliveryEngineTest, UrlGuardChecksTheAddressConnectedTo) {
  Sink sink;
  const std::string port = sink.url().substr(std::string("http://127.0.0.1:").size(), 5);
  const std::string port_only = port.substr(0, port.find('/'));
  // No --allow-private-endpoints: loopback is refused, also when a name resolves to it later.
  Start({"--resolve", "rebind.test:" + port_only + ":127.0.0.1", "--retry-schedule", "0s,1h"});
  auto direct = Api("POST", "/v1/endpoints", R"({"url":")" + sink.url() + R"("})");
  EXPECT_EQ(direct.status, 422);
  EXPECT_EQ(direct.ErrorCode(), "invalid_url");
  Endpoint("http://rebind.test:" + port_only + "/hook");  // a public-looking name passes the save check
  auto d = DeliveryAfter(Post(), 1);
  EXPECT_NE(std::string(Attempt(d, 0).at("error").as_string()).find("refused to connect to 127.0.0.1"),
            std::string::npos) << json::serialize(d);
  EXPECT_TRUE(sink.Received().empty());
}

// libcurl honours http_proxy and ALL_PROXY: inherited by `hookline serve`, they carried every
// delivery to the proxy, and the connect-time address check saw the proxy, not the target.
TEST_F(DeliveryEngineTest, ProxiesInTheEnvironmentAreIgnored) {
  Sink proxy;
  const std::string proxy_url = proxy.url("");
  Start({"--allow-private-endpoints", "--retry-schedule", "0s,1h"}, 1,
        {{"http_proxy", proxy_url}, {"HTTP_PROXY", proxy_url}, {"https_proxy", proxy_url},
         {"ALL_PROXY", proxy_url}, {"all_proxy", proxy_url}, {"no_proxy", std::nullopt},
         {"NO_PROXY", std::nullopt}});
  Sink sink;
  Endpoint(sink.url());
  auto d = DeliveryAfter(Post(), 1);
  EXPECT_EQ(Attempt(d, 0).at("status_code"), 200) << json::serialize(d);
  EXPECT_EQ(sink.Received().size(), 1u);
  EXPECT_TRUE(proxy.Received().empty());
}

// --delivery-proxy carries every delivery; the proxy (here on loopback) is not refused by the
// connect-time check, while the URLs saved are still checked.
TEST_F(DeliveryEngineTest, DeliveryProxyCarriesEveryDelivery) {
  Sink proxy;
  Start({"--delivery-proxy", proxy.url(""), "--retry-schedule", "0s,1h"});
  EXPECT_EQ(Api("POST", "/v1/endpoints", R"({"url":"http://127.0.0.1:9/hook"})").ErrorCode(), "invalid_url");
  Endpoint("http://hooks.example.com/outboundry");
  const std::string event_id = Post();
  auto d = DeliveryAfter(event_id, 1);
  EXPECT_EQ(Attempt(d, 0).at("status_code"), 200) << json::serialize(d);
  auto received = proxy.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "http://hooks.example.com/outboundry");
  EXPECT_EQ(received[0].Header("webhook-id").value_or(""), event_id);
}

TEST_F(DeliveryEngineTest, RedeliverRecoverRotateAndStats) {
  Start({"--allow-private-endpoints", "--retry-schedule", "0s"});
  Sink sink;
  std::atomic<int> status{200};
  sink.SetResponder([&](const auto&) { return Status(status.load()); });
  const std::string ep = Endpoint(sink.url());
  const std::string first = Post();
  ASSERT_TRUE(Eventually([&] { return DeliveryAfter(first, 1).at("status") == "succeeded"; }));

  // Redeliver: the same bytes and id again.
  auto redeliver = Api("POST", "/v1/events/" + first + "/redeliver", "{}");
  ASSERT_EQ(redeliver.status, 202) << redeliver.body;
  EXPECT_EQ(redeliver.Json().as_object().at("queued"), 1);
  ASSERT_TRUE(sink.WaitFor(2));
  EXPECT_EQ(sink.Received()[1].body, sink.Received()[0].body);
  EXPECT_EQ(sink.Received()[1].Header("webhook-id"), first);
  EXPECT_EQ(DeliveryAfter(first, 2).at("attempt_count"), 2);

  // Failed and skipped deliveries come back with recover.
  status = 500;
  const std::string failed = Post();
  ASSERT_TRUE(Eventually([&] { return DeliveryAfter(failed, 1).at("status") == "failed"; }));
  ASSERT_EQ(Api("PATCH", "/v1/endpoints/" + ep, R"({"disabled":true})").status, 200);
  const std::string skipped = Post();
  EXPECT_EQ(Api("GET", "/v1/events/" + skipped).Json().at("deliveries").at(0).at("status"), "skipped");
  status = 200;
  ASSERT_EQ(Api("PATCH", "/v1/endpoints/" + ep, R"({"disabled":false})").status, 200);
  auto recover = Api("POST", "/v1/endpoints/" + ep + "/recover", R"({"since":"2000-01-01T00:00:00Z"})");
  ASSERT_EQ(recover.status, 202) << recover.body;
  EXPECT_EQ(recover.Json().as_object().at("queued"), 2);
  ASSERT_TRUE(Eventually([&] {
    return DeliveryAfter(failed, 1).at("status") == "succeeded" && DeliveryAfter(skipped, 1).at("status") == "succeeded";
  }));

  // Rotation: both secrets sign for the overlap.
  const std::string old_secret(Api("GET", "/v1/endpoints/" + ep + "/secret").Json().as_object().at("secret").as_string());
  auto rotated = Api("POST", "/v1/endpoints/" + ep + "/rotate-secret");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_secret(rotated.Json().as_object().at("secret").as_string());
  EXPECT_NE(new_secret, old_secret);
  const size_t before = sink.Received().size();
  Post();
  ASSERT_TRUE(sink.WaitFor(before + 1));
  const auto last = sink.Received().back();
  for (const auto& text : {old_secret, new_secret}) {
    const signing::WebhookSecret secrets[] = {*signing::WebhookSecret::Parse(text)};
    EXPECT_EQ(signing::Verify(secrets, *last.Header("webhook-id"), *last.Header("webhook-timestamp"),
                              *last.Header("webhook-signature"), last.body, 0, 0),
              signing::VerifyOutcome::kValid);
  }

  // Stats over the last hour and day.
  json::object stats;
  ASSERT_TRUE(Eventually([&] {  // the last attempt is recorded just after the sink answered
    stats = Api("GET", "/v1/endpoints/" + ep + "/stats").Json().as_object();
    return stats.at("last_hour").at("attempts").as_int64() >= 6;
  }));
  const auto& hour = stats.at("last_hour").as_object();
  EXPECT_GE(hour.at("attempts").as_int64(), 6);
  EXPECT_GE(hour.at("succeeded").as_int64(), 5);
  EXPECT_LT(hour.at("success_rate").as_double(), 1.0);
  EXPECT_TRUE(hour.at("latency_ms").at("p50").is_int64());
  EXPECT_TRUE(hour.at("latency_ms").at("p99").is_int64());
  EXPECT_EQ(stats.at("last_day").at("attempts"), hour.at("attempts"));
  EXPECT_EQ(Api("GET", "/v1/endpoints/ep_nope/stats").status, 404);
}

}  // namespace
}  // namespace hookline::itest
