#include "hookline/delivery/dispatcher.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "hookline/signing/webhook_signature.hpp"
#include "scripted_sender.hpp"
#include "store_fixture.hpp"

namespace hookline::delivery {
namespace {

using hookline::testing::kCompany;

http::OutboundResult Status(int code) {
  http::OutboundResult r;
  r.status = code;
  r.body_head = "answer " + std::to_string(code);
  return r;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::OpenStore("sqlite:" + dir_.File("db"));
    hookline::testing::SeedLinkedin(*store_, clock_.Now());
    store_->Write([&](store::StoreTx& tx) {
      store::EndpointRecord ep;
      ep.id = "ep_1";
      ep.company_id = kCompany;
      ep.url = "http://127.0.0.1:9/hook";
      ep.headers = {{"x-team", "growth"}};
      ep.secret_sealed = box_.Seal(secret_.ToString());
      tx.InsertEndpoint(ep);
      auto recorded = provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), clock_.Now());
      event_id_ = std::get<provider::RecordedActivity>(recorded).event.id;
      return true;
    });
  }

  std::unique_ptr<Dispatcher> MakeDispatcher(std::vector<Millis> schedule) {
    return std::make_unique<Dispatcher>(*store_, sender_, clock_, RetryPolicy(std::move(schedule), 0.0),
                                        box_, DispatcherOptions{});
  }

  store::DeliveryRecord Delivery() {
    std::vector<store::DeliveryRecord> d;
    store_->Read([&](store::StoreTx& tx) { d = tx.ListDeliveriesOfEvent(kCompany, event_id_); });
    EXPECT_EQ(d.size(), 1u);
    return d.at(0);
  }

  std::vector<store::AttemptRecord> Attempts() {
    std::vector<store::AttemptRecord> a;
    store_->Read([&](store::StoreTx& tx) { a = tx.ListAttempts(Delivery().id); });
    return a;
  }

  hookline::testing::TempDir dir_;
  hookline::testing::FakeClock clock_;
  crypto::SecretBox box_{crypto::RandomBytes(32)};
  signing::WebhookSecret secret_ = signing::WebhookSecret::Generate();
  std::unique_ptr<store::Store> store_;
  hookline::testing::ScriptedSender sender_;
  std::string event_id_;
};

TEST_F(DispatcherTest, SendsSignedStoredBytesWithTheHeadersOfTheContract) {
  sender_.respond = [](const auto&) { return Status(200); };
  auto dispatcher = MakeDispatcher({0});
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 1);
  ASSERT_EQ(sender_.sent.size(), 1u);
  const auto& request = sender_.sent[0];
  std::map<std::string, std::string> headers(request.headers.begin(), request.headers.end());
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers["user-agent"], "hookline/" HOOKLINE_VERSION);
  EXPECT_EQ(headers["webhook-id"], event_id_);
  EXPECT_EQ(headers["webhook-timestamp"], std::to_string(clock_.Now() / 1000));
  EXPECT_EQ(headers["x-team"], "growth");
  const signing::WebhookSecret secrets[] = {secret_};
  EXPECT_EQ(signing::Verify(secrets, headers["webhook-id"], headers["webhook-timestamp"],
                            headers["webhook-signature"], request.body, clock_.Now() / 1000, 300),
            signing::VerifyOutcome::kValid);
  std::string stored;
  store_->Read([&](store::StoreTx& tx) { stored = tx.GetEvent(kCompany, event_id_)->payload; });
  EXPECT_EQ(request.body, stored);
  EXPECT_EQ(Delivery().status, store::DeliveryStatus::kSucceeded);
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 0);  // nothing left
}

TEST_F(DispatcherTest, RetriesOnTheScheduleThenSucceeds) {
  int calls = 0;
  sender_.respond = [&](const auto&) { return Status(++calls == 1 ? 500 : 200); };
  auto dispatcher = MakeDispatcher({0, 60'000});
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 1);
  auto d = Delivery();
  EXPECT_EQ(d.status, store::DeliveryStatus::kPending);
  EXPECT_EQ(d.next_attempt_at, clock_.Now() + 60'000);
  clock_.Advance(59'999);
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 0);  // not yet due
  clock_.Advance(1);
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 1);
  EXPECT_EQ(Delivery().status, store::DeliveryStatus::kSucceeded);
  auto attempts = Attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].status_code, 500);
  EXPECT_EQ(attempts[0].response_head, "answer 500");
  EXPECT_EQ(attempts[1].status_code, 200);
}

// Each recorded attempt counts in its endpoint's stats, with its duration and outcome, in
// the transaction that records it.
TEST_F(DispatcherTest, RecordedAttemptsCountInTheEndpointsStats) {
  int calls = 0;
  sender_.respond = [&](const auto&) {
    http::OutboundResult r = Status(++calls == 1 ? 500 : 200);
    r.duration_ms = calls == 1 ? 250 : 8;
    return r;
  };
  auto dispatcher = MakeDispatcher({0, 60'000});
  const Millis start = clock_.Now();
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 1);
  clock_.Advance(60'000);
  EXPECT_EQ(dispatcher->RunOnce(std::chrono::milliseconds{0}), 1);
  store::EndpointStats stats;
  store_->Read([&](store::StoreTx& tx) { stats = tx.GetEndpointStats("ep_1", start); });
  EXPECT_EQ(stats.attempts, 2);
  EXPECT_EQ(stats.succeeded, 1);
  EXPECT_EQ(stats.p50_ms, store::LatencyBucketValue(store::LatencyBucket(250)));  // rank 1 of 8, 250
  store_->Read([&](store::StoreTx& tx) { stats = tx.GetEndpointStats("ep_1", clock_.Now()); });
  EXPECT_EQ(stats.attempts, 1);  // the second, a minute later
  EXPECT_EQ(stats.p99_ms, 8);
}

TEST_F(DispatcherTest, GivesUpAfterTheLastAttempt) {
  sender_.respond = [](const auto&) {
    http::OutboundResult r;
    r.error = "Connection refused";
    return r;
  };
  auto dispatcher = MakeDispatcher({0, 1000});
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  clock_.Advance(1000);
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  auto d = Delivery();
  EXPECT_EQ(d.status, store::DeliveryStatus::kFailed);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_FALSE(d.next_attempt_at);
  EXPECT_EQ(Attempts().at(1).error, "Connection refused");
}

TEST_F(DispatcherTest, GoneDisablesTheEndpoint) {
  sender_.respond = [](const auto&) { return Status(410); };
  auto dispatcher = MakeDispatcher({0, 1000, 1000});
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(Delivery().status, store::DeliveryStatus::kFailed);
  store_->Read([](store::StoreTx& tx) {
    auto ep = tx.GetEndpoint(kCompany, "ep_1");
    EXPECT_TRUE(ep->disabled);
    EXPECT_NE(ep->disabled_reason->find("410"), std::string::npos);
  });
}

TEST_F(DispatcherTest, RedirectsAreFailuresAndRetryAfterIsHonoured) {
  int calls = 0;
  sender_.respond = [&](const auto&) {
    ++calls;
    if (calls == 1) return Status(301);
    http::OutboundResult r = Status(429);
    r.retry_after = "120";
    return r;
  };
  auto dispatcher = MakeDispatcher({0, 0, 1000, 1000});
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(Delivery().status, store::DeliveryStatus::kPending);  // 301 counted as a failure
  dispatcher->RunOnce(std::chrono::milliseconds{0});
  EXPECT_EQ(Delivery().next_attempt_at, clock_.Now() + 120'000);
}


// Records how long the dispatcher's loop asks each Poll to wait; answers nothing.
class WaitRecordingSender final : public http::HttpSender {
 public:
  void Start(http::OutboundRequest request) override { started.push_back(std::move(request.url)); }
  std::vector<http::OutboundResult> Poll(std::chrono::milliseconds wait) override {
    std::lock_guard lock(mu);
    if (waits.size() < 200) {
      waits.push_back(wait.count());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});  // enough seen; stay cheap
    }
    cv.notify_all();
    return {};
  }
  std::size_t InFlight() const override { return 0; }
  void Wake() override {}

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> waits;
  std::vector<std::string> started;
};

// A per-lead endpoint whose lead has an earlier delivery waiting for a retry in an hour: the
// later one is due but cannot be sent. The loop must wait for its idle tick, not loop on a
// zero wait claiming nothing (as it did: a core spent until the retry).
TEST_F(DispatcherTest, ADueDeliveryThatCannotBeSentDoesNotSpinTheLoop) {
  store_->Write([&](store::StoreTx& tx) {
    auto ep = *tx.GetEndpoint(kCompany, "ep_1");
    ep.ordering = store::Ordering::kPerLead;
    tx.UpdateEndpoint(ep);
    const auto first = tx.ListDeliveriesOfEvent(kCompany, event_id_).at(0);
    tx.RecordAttempt({0, first.id, clock_.Now(), 3, 500, std::nullopt, "oops"},
                     {first.id, store::DeliveryStatus::kPending, 1, clock_.Now() + 3'600'000, clock_.Now()});
    auto later = hookline::testing::InviteSent(clock_.Now() + 1000);
    EXPECT_TRUE(std::holds_alternative<provider::RecordedActivity>(
        provider::RecordActivity(tx, kCompany, later, clock_.Now())));
    return true;
  });
  WaitRecordingSender sender;
  DispatcherOptions options;
  options.idle_wait = 1000;
  Dispatcher dispatcher(*store_, sender, clock_, RetryPolicy({0, 3'600'000}, 0.0), box_, options);
  dispatcher.Start();
  {
    std::unique_lock lock(sender.mu);
    ASSERT_TRUE(sender.cv.wait_for(lock, std::chrono::seconds{20}, [&] { return sender.waits.size() >= 50; }));
  }
  dispatcher.Stop(std::chrono::milliseconds{0});
  EXPECT_TRUE(sender.started.empty());
  const auto zero_waits = std::count(sender.waits.begin(), sender.waits.end(), 0);
  EXPECT_LE(zero_waits, 2) << "of " << sender.waits.size() << " polls";
}

}  // namespace
}  // namespace hookline::delivery
