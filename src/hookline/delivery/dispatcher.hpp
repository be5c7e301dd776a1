#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_map>

#include "hookline/delivery/retry_policy.hpp"
#include "hookline/http/client.hpp"
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
  //! How long a claim is held; past it another dispatcher may take the delivery.
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

//! Sends due deliveries: claims them from the store in batches (with a lease), signs and
//! POSTs each through the HttpSender, records every attempt and schedules the retry or the
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
  };

  void Loop();
  int ClaimAndSend();
  int RecordResults(std::vector<http::OutboundResult> results);
  std::chrono::milliseconds IdleWait();
  //! Why the endpoint may not get another request now, or nullptr.
  const char* Blocked(EndpointState& state, Millis now) const;
  void Refill(EndpointState& state, Millis now) const;
  void NoteOutcome(EndpointState& state, bool success, Millis now);
  void HandBack();

  store::Store& store_;
  http::HttpSender& sender_;
  const Clock& clock_;
  RetryPolicy retry_policy_;
  const crypto::SecretBox& secrets_;
  DispatcherOptions options_;
  std::unordered_map<std::uint64_t, InFlight> in_flight_;
  std::unordered_map<std::string, EndpointState> endpoints_;
  std::atomic<bool> running_{false};
  std::atomic<bool> claiming_{true};
  std::atomic<bool> notified_{false};
  std::atomic<bool> drained_{false};  //!< nothing in flight after claiming stopped
  std::thread thread_;
};

//! The headers of one delivery attempt (Standard Webhooks), endpoint headers last.
std::vector<std::pair<std::string, std::string>> DeliveryHeaders(
    const store::ClaimedDelivery& delivery, const std::string& signature_header,
    std::int64_t timestamp_s);

}  // namespace hookline::delivery
