// The dispatcher's isolation and health rules, driven by hand with a fake clock and a fake
// sender: per-endpoint caps, rate limits, the circuit breaker, auto-disable, operational
// events, per-lead ordering, secret rotation and hand-back on shutdown.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>

#include <boost/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "hookline/delivery/dispatcher.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "scripted_sender.hpp"
#include "store_fixture.hpp"

namespace hookline::delivery {
namespace {

using hookline::testing::kCompany;
namespace json = boost::json;

http::OutboundResult Answer(int status) {
  http::OutboundResult r;
  r.status = status;
  return r;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::OpenStore("sqlite:" + dir_.File("db"));
    hookline::testing::SeedLinkedin(*store_, clock_.Now());
    store_->Write([&](store::StoreTx& tx) {
      tx.UpsertLead(kCompany, {"lead-2", "Second Lead"});
      tx.Enroll(kCompany, "cccccccc-1111-2222-3333-cccccccccccc", "lead-2", clock_.Now());
      return true;
    });
  }

  std::string AddEndpoint(const std::string& id, std::function<void(store::EndpointRecord&)> edit = {}) {
    store::EndpointRecord ep;
    ep.id = id;
    ep.company_id = kCompany;
    ep.url = "http://" + id + ".example/hook";
    ep.secret_sealed = box_.Seal(secret_.ToString());
    if (edit) edit(ep);
    store_->Write([&](store::StoreTx& tx) {
      tx.InsertEndpoint(ep);
      return true;
    });
    return ep.url;
  }

  std::string Record(const std::string& lead = "11111111-aaaa-bbbb-cccc-111111111111",
                     std::optional<Millis> at = std::nullopt) {
    std::string id;
    store_->Write([&](store::StoreTx& tx) {
      auto request = hookline::testing::InviteSent(at);
      request.lead_id = lead;
      auto r = provider::RecordActivity(tx, kCompany, request, clock_.Now());
      id = std::get<provider::RecordedActivity>(r).event.id;
      return true;
    });
    return id;
  }

  std::unique_ptr<Dispatcher> Make(std::vector<Millis> schedule, DispatcherOptions options = {}) {
    return std::make_unique<Dispatcher>(*store_, sender_, clock_, RetryPolicy(std::move(schedule), 0.0),
                                        box_, options);
  }

  store::DeliveryRecord DeliveryOf(const std::string& event_id, const std::string& endpoint_id) {
    store::DeliveryRecord out;
    store_->Read([&](store::StoreTx& tx) {
      for (auto& d : tx.ListDeliveriesOfEvent(kCompany, event_id)) {
        if (d.endpoint_id == endpoint_id) out = d;
      }
    });
    return out;
  }

  std::vector<store::EventRecord> Events(const std::string& name) {
    std::vector<store::EventRecord> out;
    store_->Read([&](store::StoreTx& tx) { out = tx.ListEvents({.company_id = kCompany, .event = name}); });
    return out;
  }

  store::EndpointRecord Endpoint(const std::string& id) {
    store::EndpointRecord out;
    store_->Read([&](store::StoreTx& tx) { out = *tx.GetEndpoint(kCompany, id); });
    return out;
  }

  hookline::testing::TempDir dir_;
  hookline::testing::FakeClock clock_;
  crypto::SecretBox box_{crypto::RandomBytes(32)};
  signing::WebhookSecret secret_ = signing::WebhookSecret::Generate();
  std::unique_ptr<store::Store> store_;
  hookline::testing::ScriptedSender sender_;
};

TEST_F(EngineTest, AHangingEndpointTakesOnlyItsOwnShareOfSlots) {
  const std::string slow = AddEndpoint("ep_slow");
  const std::string fast = AddEndpoint("ep_fast");
  sender_.respond = [&](const http::OutboundRequest& r) -> std::optional<http::OutboundResult> {
    if (r.url == slow) return std::nullopt;  // hangs
    return Answer(200);
  };
  for (int i = 0; i < 40; ++i) Record();
  DispatcherOptions options;
  options.max_in_flight_per_endpoint = 4;
  auto dispatcher = Make({0}, options);
  for (int turn = 0; turn < 20; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(slow), 4u);   // capped
  EXPECT_EQ(sender_.SentTo(fast), 40u);  // all delivered meanwhile
}

// Deliveries claimed ahead for an endpoint whose circuit opens are given back (their leases
// released), not held while it cools down.
TEST_F(EngineTest, ClaimedAheadDeliveriesAreGivenBackWhenTheCircuitOpens) {
  const std::string url = AddEndpoint("ep_down");
  sender_.respond = [&](const auto&) -> std::optional<http::OutboundResult> { return Answer(500); };
  std::vector<std::string> events;
  for (int i = 0; i < 8; ++i) events.push_back(Record());
  DispatcherOptions options;
  options.breaker_failures = 2;
  options.breaker_cooldown = 60'000;
  options.max_in_flight_per_endpoint = 1;
  auto dispatcher = Make(std::vector<Millis>(20, 0), options);
  for (int turn = 0; turn < 6; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 2u);  // open after two failures
  std::vector<store::ClaimedDelivery> claimable;
  store_->Write([&](store::StoreTx& tx) {
    claimable = tx.ClaimDueDeliveries(clock_.Now(), clock_.Now() + 1, {.limit = 100});
    return false;  // only looking
  });
  EXPECT_EQ(claimable.size(), 8u);  // none is held by a lease while the circuit is open
}

TEST_F(EngineTest, RateLimitPerSecondIsEnforced) {
  const std::string url = AddEndpoint("ep_limited", [](auto& ep) { ep.rate_limit_per_s = 2; });
  for (int i = 0; i < 10; ++i) Record();
  auto dispatcher = Make({0});
  for (int turn = 0; turn < 5; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 2u);  // one second's burst
  clock_.Advance(500);
  for (int turn = 0; turn < 5; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 3u);
  clock_.Advance(1000);
  for (int turn = 0; turn < 5; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 5u);
}

TEST_F(EngineTest, CircuitOpensAfterARunOfFailuresThenProbesWithOneRequest) {
  const std::string url = AddEndpoint("ep_down");
  int status = 500;
  sender_.respond = [&](const auto&) -> std::optional<http::OutboundResult> { return Answer(status); };
  for (int i = 0; i < 6; ++i) Record();
  DispatcherOptions options;
  options.breaker_failures = 3;
  options.breaker_cooldown = 10'000;
  options.max_in_flight_per_endpoint = 1;
  auto dispatcher = Make(std::vector<Millis>(20, 0), options);
  for (int turn = 0; turn < 10; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 3u);  // open after three failures
  clock_.Advance(9'999);
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 3u);  // still cooling down
  clock_.Advance(1);
  for (int turn = 0; turn < 5; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 4u);  // one probe, it failed: open again, longer
  clock_.Advance(10'000);
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 4u);  // the cool-down doubled to 20 s
  clock_.Advance(10'000);
  status = 200;
  for (int turn = 0; turn < 20; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 10u);  // the probe succeeded: closed, the rest flows
}

TEST_F(EngineTest, FailingForTooLongDisablesTheEndpointAndTellsOthers) {
  const std::string url = AddEndpoint("ep_dead");
  const std::string ops = AddEndpoint("ep_ops", [](auto& ep) { ep.event_types = {"endpoint.disabled", "delivery.exhausted"}; });
  sender_.respond = [&](const http::OutboundRequest& r) -> std::optional<http::OutboundResult> {
    return Answer(r.url == url ? 503 : 200);
  };
  DispatcherOptions options;
  options.disable_after = 3'600'000;
  options.breaker_failures = 1000;
  auto dispatcher = Make({0, 1'800'000, 1'800'000, 1'800'000}, options);
  const std::string first = Record();
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_FALSE(Endpoint("ep_dead").disabled);
  EXPECT_TRUE(Endpoint("ep_dead").failing_since);
  clock_.Advance(1'800'000);
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_FALSE(Endpoint("ep_dead").disabled);
  clock_.Advance(1'800'000);
  dispatcher->RunOnce(std::chrono::milliseconds{0});  // an hour of nothing but failures
  auto dead = Endpoint("ep_dead");
  EXPECT_TRUE(dead.disabled);
  EXPECT_NE(dead.disabled_reason->find("every attempt failed since"), std::string::npos);
  auto disabled_events = Events("endpoint.disabled");
  ASSERT_EQ(disabled_events.size(), 1u);
  auto payload = json::parse(disabled_events[0].payload).as_object();
  EXPECT_EQ(payload["data"].as_object()["endpoint_id"], "ep_dead");
  for (int turn = 0; turn < 3; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(DeliveryOf(disabled_events[0].id, "ep_ops").status, store::DeliveryStatus::kSucceeded);
  EXPECT_EQ(DeliveryOf(disabled_events[0].id, "ep_dead").id, 0);  // not told about itself

  // While disabled: new events are kept as skipped, and come through after enable + recover.
  const std::string later = Record();
  EXPECT_EQ(DeliveryOf(later, "ep_dead").status, store::DeliveryStatus::kSkipped);
  EXPECT_EQ(DeliveryOf(first, "ep_dead").status, store::DeliveryStatus::kPending);  // waits
  sender_.respond = [](const auto&) -> std::optional<http::OutboundResult> { return Answer(200); };
  store_->Write([&](store::StoreTx& tx) {
    auto ep = *tx.GetEndpoint(kCompany, "ep_dead");
    ep.disabled = false;
    ep.failing_since.reset();
    tx.UpdateEndpoint(ep);
    store::RequeueFilter filter;
    filter.company_id = kCompany;
    filter.endpoint_id = "ep_dead";
    // What PATCH {"disabled": false} does: waiting deliveries are due now, then recover
    // brings back the skipped ones.
    filter.statuses = {store::DeliveryStatus::kPending};
    EXPECT_EQ(tx.RequeueDeliveries(filter, clock_.Now()), 1);
    filter.statuses = {store::DeliveryStatus::kFailed, store::DeliveryStatus::kSkipped};
    EXPECT_EQ(tx.RequeueDeliveries(filter, clock_.Now()), 1);
    return true;
  });
  for (int turn = 0; turn < 3; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(DeliveryOf(first, "ep_dead").status, store::DeliveryStatus::kSucceeded);
  EXPECT_EQ(DeliveryOf(later, "ep_dead").status, store::DeliveryStatus::kSucceeded);
}

TEST_F(EngineTest, ExhaustedAndRecoveredAreAnnounced) {
  const std::string url = AddEndpoint("ep_flaky");
  AddEndpoint("ep_ops", [](auto& ep) { ep.event_types = {"delivery.exhausted", "endpoint.recovered"}; });
  int status = 500;
  sender_.respond = [&](const http::OutboundRequest& r) -> std::optional<http::OutboundResult> {
    return Answer(r.url == url ? status : 200);
  };
  auto dispatcher = Make({0, 0});
  const std::string lost = Record();
  for (int turn = 0; turn < 4; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(DeliveryOf(lost, "ep_flaky").status, store::DeliveryStatus::kFailed);
  auto exhausted = Events("delivery.exhausted");
  ASSERT_EQ(exhausted.size(), 1u);
  auto data = json::parse(exhausted[0].payload).as_object()["data"].as_object();
  EXPECT_EQ(data["event_id"], json::value(lost));
  EXPECT_EQ(data["attempts"], 2);
  EXPECT_EQ(data["last_status_code"], 500);
  EXPECT_TRUE(Events("endpoint.recovered").empty());
  status = 200;
  Record();
  for (int turn = 0; turn < 4; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(Events("endpoint.recovered").size(), 1u);
  EXPECT_EQ(Events("delivery.exhausted").size(), 1u);  // no announcement about announcements
}

// Answers recorded together keep the endpoint's failure streak as one by one would: the
// record of a batch skips asking the store after a success only while the endpoint is
// known healthy, so a failure in between still starts a streak and the success after it
// ends the streak and is announced.
TEST_F(EngineTest, ABatchOfAnswersKeepsTheFailureStreakInOrder) {
  const std::string url = AddEndpoint("ep_mixed");
  AddEndpoint("ep_ops", [](auto& ep) { ep.event_types = {"endpoint.recovered"}; });
  std::vector<int> statuses;  // the answers to ep_mixed, in the order sent
  sender_.respond = [&](const http::OutboundRequest& r) -> std::optional<http::OutboundResult> {
    if (r.url != url) return Answer(200);
    const int status = statuses.empty() ? 200 : statuses.front();
    if (!statuses.empty()) statuses.erase(statuses.begin());
    return Answer(status);
  };
  auto dispatcher = Make({60'000});
  statuses = {200, 200, 500};  // one batch: ends failing
  for (int i = 0; i < 3; ++i) Record();
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 3u);
  EXPECT_TRUE(Endpoint("ep_mixed").failing_since);
  statuses = {200, 500, 200};  // one batch: recovers, fails, recovers again
  for (int i = 0; i < 3; ++i) Record();
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(sender_.SentTo(url), 6u);
  EXPECT_FALSE(Endpoint("ep_mixed").failing_since);
  EXPECT_EQ(Events("endpoint.recovered").size(), 2u);
}

TEST_F(EngineTest, PerLeadOrderingHoldsThroughFailedEarlyDeliveries) {
  const std::string url = AddEndpoint("ep_ordered", [](auto& ep) { ep.ordering = store::Ordering::kPerLead; });
  const std::string lead = "11111111-aaaa-bbbb-cccc-111111111111";
  const std::string e1 = Record(lead, clock_.Now() - 3000);
  const std::string e2 = Record(lead, clock_.Now() - 2000);
  const std::string other = Record("lead-2", clock_.Now() - 2500);
  const std::string e3 = Record(lead, clock_.Now() - 1000);
  int failures_left = 2;
  std::vector<std::string> delivered;
  sender_.respond = [&](const http::OutboundRequest& r) -> std::optional<http::OutboundResult> {
    std::string id;
    for (const auto& [k, v] : r.headers) if (k == "webhook-id") id = v;
    if (id == e1 && failures_left-- > 0) return Answer(500);
    delivered.push_back(id);
    return Answer(200);
  };
  auto dispatcher = Make({0, 5'000, 5'000, 5'000});
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(delivered, std::vector<std::string>{other});  // the other lead is not held back
  for (int round = 0; round < 3; ++round) {
    clock_.Advance(5'000);
    for (int turn = 0; turn < 4; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  }
  EXPECT_EQ(delivered, (std::vector<std::string>{other, e1, e2, e3}));
}

// Deliveries already pending when an endpoint switches to per-lead ordering are held in
// order too (the per-lead index covers only flagged deliveries; the switch flags them), and
// switching back releases the hold.
TEST_F(EngineTest, SwitchingToPerLeadOrderingCoversDeliveriesAlreadyPending) {
  AddEndpoint("ep_switch");
  const std::string lead = "11111111-aaaa-bbbb-cccc-111111111111";
  const std::string e1 = Record(lead, clock_.Now() - 2000);
  const std::string e2 = Record(lead, clock_.Now() - 1000);
  store_->Write([&](store::StoreTx& tx) {
    auto ep = *tx.GetEndpoint(kCompany, "ep_switch");
    ep.ordering = store::Ordering::kPerLead;
    tx.UpdateEndpoint(ep);
    return true;
  });
  std::vector<std::string> delivered;
  sender_.respond = [&](const http::OutboundRequest& r) -> std::optional<http::OutboundResult> {
    std::string id;
    for (const auto& [k, v] : r.headers) if (k == "webhook-id") id = v;
    if (id == e1) return Answer(500);
    delivered.push_back(id);
    return Answer(200);
  };
  auto dispatcher = Make({0, 5'000, 5'000});
  for (int turn = 0; turn < 3; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_TRUE(delivered.empty());  // e2 waits behind the failing e1
  store_->Write([&](store::StoreTx& tx) {
    auto ep = *tx.GetEndpoint(kCompany, "ep_switch");
    ep.ordering = store::Ordering::kNone;
    tx.UpdateEndpoint(ep);
    return true;
  });
  for (int turn = 0; turn < 3; ++turn) dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(delivered, std::vector<std::string>{e2});
}

TEST_F(EngineTest, RotatedSecretSignsBesideTheNewOneUntilItExpires) {
  const auto new_secret = signing::WebhookSecret::Generate();
  AddEndpoint("ep_rotating", [&](auto& ep) {
    ep.previous_secret_sealed = ep.secret_sealed;  // secret_ is the old one
    ep.previous_secret_expires_at = clock_.Now() + 1000;
    ep.secret_sealed = box_.Seal(new_secret.ToString());
  });
  auto dispatcher = Make({0});
  Record();
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  clock_.Advance(1000);
  Record();
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  ASSERT_EQ(sender_.sent.size(), 2u);
  auto verify = [&](const http::OutboundRequest& r, const signing::WebhookSecret& s) {
    std::map<std::string, std::string> h(r.headers.begin(), r.headers.end());
    const signing::WebhookSecret secrets[] = {s};
    return signing::Verify(secrets, h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], r.body, 0, 0) ==
           signing::VerifyOutcome::kValid;
  };
  EXPECT_TRUE(verify(sender_.sent[0], secret_));
  EXPECT_TRUE(verify(sender_.sent[0], new_secret));
  EXPECT_FALSE(verify(sender_.sent[1], secret_));  // expired
  EXPECT_TRUE(verify(sender_.sent[1], new_secret));
}

// Regression: with --attempt-timeout above 60 s, an attempt outlived its lease (attempt timeout
// + 60 s, less the wait before sending): the delivery was claimed again while in flight and
// sent twice, and the second send overwrote the first's in-flight entry, leaking a slot;
// after max_in_flight_per_endpoint such leaks the endpoint stayed "at capacity". The leases
// of deliveries held are now renewed.
TEST_F(EngineTest, AnAttemptLongerThanItsLeaseKeepsTheLeaseAndItsSlot) {
  const std::string url = AddEndpoint("ep_slow");
  sender_.respond = [](const auto&) -> std::optional<http::OutboundResult> { return std::nullopt; };
  DispatcherOptions options;
  options.lease = 10'000;
  options.attempt_timeout = 60'000;
  options.max_in_flight_per_endpoint = 2;
  auto dispatcher = Make({0}, options);
  for (std::size_t cycle = 1; cycle <= 20; ++cycle) {
    const std::string id = Record();
    dispatcher->RunOnce(std::chrono::milliseconds{0});
    ASSERT_EQ(sender_.SentTo(url), cycle) << "not sent: the endpoint is stuck at capacity";
    for (int step = 0; step < 8; ++step) {  // 48 s in flight: the lease ran out four times over
      clock_.Advance(6'000);
      dispatcher->RunOnce(std::chrono::milliseconds{0});
    }
    ASSERT_EQ(sender_.SentTo(url), cycle) << "claimed again while in flight";
    sender_.Release(200);
    dispatcher->RunOnce(std::chrono::milliseconds{0});
    ASSERT_EQ(DeliveryOf(id, "ep_slow").status, store::DeliveryStatus::kSucceeded);
  }
}

// A delivery claimed again while its first attempt is in flight (its lease lost: a stalled
// process, a clock step) is not sent a second time: this dispatcher already holds it. Before,
// both claims were filed under the delivery id and one slot leaked per loss, until the
// endpoint stayed "at capacity" for good; then the second claim was sent again.
TEST_F(EngineTest, ADeliveryClaimedAgainWhileInFlightIsNotSentTwiceNorLeaksASlot) {
  const std::string url = AddEndpoint("ep_relost");
  sender_.respond = [](const auto&) -> std::optional<http::OutboundResult> { return std::nullopt; };
  DispatcherOptions options;
  options.max_in_flight_per_endpoint = 2;
  auto dispatcher = Make({0}, options);
  for (std::size_t cycle = 1; cycle <= 20; ++cycle) {
    const std::string id = Record();
    dispatcher->RunOnce(std::chrono::milliseconds{0});
    ASSERT_EQ(sender_.SentTo(url), cycle) << "not sent: the endpoint is stuck at capacity";
    const std::int64_t delivery_id = DeliveryOf(id, "ep_relost").id;
    store_->Write([&](store::StoreTx& tx) {
      tx.ReleaseLeases({delivery_id});  // the lease is lost behind the dispatcher's back
      return true;
    });
    dispatcher->RunOnce(std::chrono::milliseconds{0});
    ASSERT_EQ(sender_.SentTo(url), cycle) << "claimed again and sent twice";
    sender_.Release(200);
    dispatcher->RunOnce(std::chrono::milliseconds{0});
    ASSERT_EQ(DeliveryOf(id, "ep_relost").status, store::DeliveryStatus::kSucceeded);
  }
}

// Captures what is logged through spdlog's default logger while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  //! The lines logged that contain every one of `parts`.
  std::size_t Count(std::initializer_list<std::string_view> parts) const {
    std::size_t n = 0;
    for (const auto& line : sink_->last_formatted()) {
      n += std::all_of(parts.begin(), parts.end(), [&](auto p) { return line.find(p) != std::string::npos; });
    }
    return n;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Regression: an endpoint secret sealed under another master key was re-claimed every lease,
// forever, with nothing recorded. Now each try is a failed attempt (nothing is sent), on the
// retry schedule, counted toward auto-disable, and logged once for the endpoint.
TEST_F(EngineTest, ASecretThatCannotBeOpenedIsAFailedAttemptLoggedOnce) {
  LogCapture log;
  const crypto::SecretBox other_key{crypto::RandomBytes(32)};
  AddEndpoint("ep_locked", [&](auto& ep) { ep.secret_sealed = other_key.Seal(secret_.ToString()); });
  DispatcherOptions options;
  options.disable_after = 3'600'000;
  options.breaker_failures = 1000;
  auto dispatcher = Make({0, 1'800'000, 1'800'000, 1'800'000}, options);
  const std::string first = Record();
  const std::string second = Record();
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_TRUE(sender_.sent.empty());
  for (const auto& event : {first, second}) {
    const auto d = DeliveryOf(event, "ep_locked");
    EXPECT_EQ(d.status, store::DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, 1);
    EXPECT_EQ(d.next_attempt_at, clock_.Now() + 1'800'000);  // the schedule's second wait
    std::vector<store::AttemptRecord> attempts;
    store_->Read([&](store::StoreTx& tx) { attempts = tx.ListAttempts(d.id); });
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].error, "the endpoint secret cannot be opened with this master key");
    EXPECT_FALSE(attempts[0].status_code);
  }
  EXPECT_TRUE(Endpoint("ep_locked").failing_since);
  dispatcher->RunOnce(std::chrono::milliseconds{0});  // nothing due: not claimed again
  EXPECT_EQ(DeliveryOf(first, "ep_locked").attempts, 1);
  clock_.Advance(1'800'000);
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  clock_.Advance(1'800'000);
  dispatcher->RunOnce(std::chrono::milliseconds{0});  // an hour of nothing but failures
  EXPECT_EQ(DeliveryOf(first, "ep_locked").attempts, 3);
  EXPECT_TRUE(Endpoint("ep_locked").disabled);
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(log.Count({"ep_locked", "cannot be opened"}), 1u);
}

TEST_F(EngineTest, StopHandsUnfinishedDeliveriesBack) {
  AddEndpoint("ep_hang");
  std::atomic<bool> started{false};  // set on the dispatcher's thread
  sender_.respond = [&](const auto&) -> std::optional<http::OutboundResult> {
    started = true;
    return std::nullopt;
  };
  const std::string id = Record();
  {
    auto dispatcher = Make({0});
    dispatcher->Start();
    ASSERT_TRUE([&] {
      for (int i = 0; i < 1000 && !started; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{2});
      return started.load();
    }());
    dispatcher->Stop(std::chrono::milliseconds{0});
  }
  // The lease was released: another dispatcher may take it at once, not after the lease.
  std::vector<store::ClaimedDelivery> claimed;
  store_->Write([&](store::StoreTx& tx) {
    claimed = tx.ClaimDueDeliveries(clock_.Now(), clock_.Now() + 1000, {});
    return true;
  });
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event_id, id);
}

}  // namespace
}  // namespace hookline::delivery
