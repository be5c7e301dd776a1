#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <set>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "hookline/delivery/retry_policy.hpp"
#include "hookline/http/client.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"

namespace hookline::delivery {

struct DispatcherOptions {
  int max_in_flight = 256;
  int claim_batch = 128;
  //! Requests in flight to one endpoint at most: a slow endpoint cannot take every slot.
  int max_in_flight_per_endpoint = 16;
  Millis attempt_timeout = 15'000;
  Millis connect_timeout = 10'000;
  //! How long a claim or a renewal holds a delivery; past it another dispatcher may take it.
  //! Deliveries still held (waiting for a slot or in flight) are renewed once half of it ran.
  Millis lease = 15'000 + 60'000;
  //! Longest wait between looks at the store when nothing is known to be due.
  Millis idle_wait = 1'000;
  //! Consecutive failed attempts that open an endpoint's circuit.
  int breaker_failures = 5;
  //! First open period; each failed probe doubles it, up to breaker_max_cooldown.
  Millis breaker_cooldown = 30'000;
  Millis breaker_max_cooldown = 10 * 60'000;
  //! An endpoint failing without a single success for this long is disabled.
  Millis disable_after = 5LL * 24 * 3'600'000;
};

//! Sends due deliveries: claims them from the store in batches (with a lease, renewed while
//! it holds them) without waiting for the claim's commit, keeps up to a claim batch per endpoint claimed
//! ahead in a local queue (so a freed slot is refilled without a store round trip), signs
//! and POSTs each through the HttpSender, records every attempt and schedules the retry or the
//! final state. Per endpoint it caps requests in flight, enforces rate_limit_per_s, and runs
//! a circuit breaker, so one bad endpoint never holds back the others. It keeps each
//! endpoint's failure streak, disables endpoints failing for `disable_after`, and emits the
//! operational events. One thread owns the loop; Notify may be called from any thread.
class Dispatcher {
 public:
  Dispatcher(store::Store& store, http::HttpSender& sender, const Clock& clock,
             RetryPolicy retry_policy, const crypto::SecretBox& secrets,
             DispatcherOptions options);
  ~Dispatcher();  //!< stops the thread if started

  void Start();  //!< starts the loop on its own thread
  //! Stops claiming, waits up to `grace` for attempts in flight, then stops and hands the
  //! deliveries still in flight back to the store (their leases are released).
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds{5'000});

  //! Something may have become due (a new event): look now instead of after idle_wait.
  void Notify();

  //! One turn of the loop: claim what is due, wait up to `max_wait` for answers, record them.
  //! For tests that drive the dispatcher by hand. Returns the number of attempts recorded.
  int RunOnce(std::chrono::milliseconds max_wait);

 private:
  struct InFlight {
    store::ClaimedDelivery delivery;
    Millis started_at = 0;
    Millis lease_until = 0;  //!< as claimed or last renewed
    bool given_up = false;   //!< no answer long past the attempt timeout: recorded as failed
  };
  //! Claimed (leased) and waiting for a free slot at its endpoint.
  struct Queued {
    store::ClaimedDelivery delivery;
    Millis claimed_at = 0;
    Millis lease_until = 0;  //!< as claimed or last renewed
  };
  //! What this process knows of one endpoint; lost on restart, which only resets the breaker.
  struct EndpointState {
    int in_flight = 0;
    double tokens = 0;
    Millis refilled_at = 0;
    std::optional<std::int64_t> rate_limit_per_s;
    int consecutive_failures = 0;
    Millis open_until = 0;  //!< circuit open (no sends) until then
    Millis cooldown = 0;
    std::deque<Queued> ready;  //!< claimed, waiting for a free slot (oldest first)
  };

  void Loop();
  //! Asks the store for due deliveries; the answer lands in the inbox (and wakes the loop).
  void StartClaim();
  //! StartClaim, then waits for its answer (RunOnce).
  void ClaimAndWait();
  //! Moves claimed deliveries from the inbox to the ready queue.
  void TakeClaimed();
  //! Sends what the ready queue may send now; gives back what it must not keep. Returns the
  //! number sent.
  int SendReady();
  //! Signs and starts one attempt; one whose endpoint secret cannot be opened fails at once
  //! (its result waits in unsent_).
  void Send(Queued queued, EndpointState& state);
  //! Renews, in one lease job, the leases of the deliveries held (waiting or in flight) that
  //! have run for half the lease; nothing when none has.
  void RenewLeases();
  //! The sender's answers (waiting up to `max_wait`, none if attempts failed unsent), and
  //! the attempts that failed unsent.
  std::vector<http::OutboundResult> CollectAnswers(std::chrono::milliseconds max_wait);
  void GiveBack(std::vector<std::int64_t> delivery_ids);
  //! Hands `job` to the store without waiting (LeaseAsync when it only gives leases back,
  //! else WriteAsync); WaitForRecords waits for it. A failure is logged as `failure` (the
  //! leases involved run out, so nothing is lost).
  enum class JobKind { kWrite, kLeasesOnly };
  void WriteTracked(std::function<bool(store::StoreTx&)> job, std::string failure,
                    JobKind kind = JobKind::kWrite);
  //! The secret sealed as `sealed`, opened (cached); nullptr when it cannot be opened.
  const signing::WebhookSecret* OpenSecret(const std::string& sealed);
  int RecordResults(std::vector<http::OutboundResult> results);
  std::chrono::milliseconds IdleWait();
  //! Why the endpoint may not get another request now, or nullptr.
  const char* Blocked(EndpointState& state, Millis now) const;
  void Refill(EndpointState& state, Millis now) const;
  void NoteOutcome(EndpointState& state, bool success, Millis now);
  void HandBack();
  //! Waits until every attempt handed to the store has been committed (or failed).
  void WaitForRecords();

  store::Store& store_;
  http::HttpSender& sender_;
  const Clock& clock_;
  RetryPolicy retry_policy_;
  const crypto::SecretBox& secrets_;
  DispatcherOptions options_;
  //! By attempt tag, one per Send: were it by delivery, a delivery claimed again while in
  //! flight (its lease lost) would overwrite the first attempt's entry and leak its slot.
  std::unordered_map<std::uint64_t, InFlight> in_flight_;
  //! Every delivery held here, queued or in flight: a claim that brings one of them again
  //! (its lease ran out while it was held) is dropped, never sent a second time.
  std::unordered_set<std::int64_t> held_;
  std::uint64_t last_tag_ = 0;
  //! Attempts that failed before anything was sent, recorded with the next answers.
  std::vector<http::OutboundResult> unsent_;
  //! Endpoints whose secret could not be opened, with that sealed secret: logged once each.
  std::unordered_map<std::string, std::string> unopenable_secrets_;
  Millis claim_lease_until_ = 0;  //!< the lease the outstanding claim takes
  //! When a lease held reaches half its run at the earliest (a delivery gone since may make
  //! it early: the pass then finds nothing to renew and looks again later).
  Millis renew_at_ = std::numeric_limits<Millis>::max();
  std::unordered_map<std::string, signing::WebhookSecret> opened_secrets_;  //!< by sealed bytes
  std::set<std::string> waiting_endpoints_;  //!< those with a non-empty ready queue
  std::size_t ready_count_ = 0;              //!< claimed deliveries waiting, all endpoints
  bool claim_outstanding_ = false;  //!< a claim is with the store
  bool claim_wanted_ = true;        //!< something changed since the last claim found nothing more
  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::optional<std::vector<store::ClaimedDelivery>> inbox_;  //!< the answer to the outstanding claim
  int last_claim_limit_ = 0;
  Millis last_claim_at_ = 0;  //!< the clock's time the last claim looked for due deliveries
  std::unordered_map<std::string, EndpointState> endpoints_;
  std::atomic<bool> running_{false};
  std::atomic<bool> claiming_{true};
  std::atomic<bool> notified_{false};
  std::atomic<bool> drained_{false};  //!< nothing in flight after claiming stopped
  std::thread thread_;
  std::mutex records_mu_;
  std::condition_variable records_cv_;
  int records_pending_ = 0;  //!< attempt records written asynchronously, not yet committed
};

//! The headers of one delivery attempt (Standard Webhooks), endpoint headers last.
std::vector<std::pair<std::string, std::string>> DeliveryHeaders(
    const store::ClaimedDelivery& delivery, const std::string& signature_header,
    std::int64_t timestamp_s);

}  // namespace hookline::delivery
