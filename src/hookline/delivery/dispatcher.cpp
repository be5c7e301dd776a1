#include "hookline/delivery/dispatcher.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/delivery/operational_events.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/thread_name.hpp"

namespace hookline::delivery {

using store::DeliveryStatus;

namespace {

constexpr char kUnopenableSecret[] = "the endpoint secret cannot be opened with this master key";

}  // namespace

Dispatcher::Dispatcher(store::Store& store, http::HttpSender& sender, const Clock& clock,
                       RetryPolicy retry_policy, const crypto::SecretBox& secrets,
                       DispatcherOptions options)
    : store_(store),
      sender_(sender),
      clock_(clock),
      retry_policy_(std::move(retry_policy)),
      secrets_(secrets),
      options_(options) {}

Dispatcher::~Dispatcher() { Stop(std::chrono::milliseconds{0}); }

void Dispatcher::Start() {
  running_ = true;
  claiming_ = true;
  thread_ = std::thread([this] {
    NameThisThread("hl-dispatcher");
    Loop();
  });
}

void Dispatcher::Stop(std::chrono::milliseconds grace) {
  if (thread_.joinable()) {
    claiming_ = false;
    const auto deadline = std::chrono::steady_clock::now() + grace;
    // The loop keeps collecting answers while claiming_ is false; wait for it to drain.
    while (!drained_ && std::chrono::steady_clock::now() < deadline) {
      sender_.Wake();
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    running_ = false;
    sender_.Wake();
    thread_.join();
  }
  // The loop is gone (or never ran): settle what it left.
  if (claim_outstanding_) {
    std::unique_lock lock(inbox_mu_);
    inbox_cv_.wait(lock, [&] { return inbox_.has_value(); });
  }
  TakeClaimed();
  WaitForRecords();
  HandBack();
}

void Dispatcher::HandBack() {
  std::vector<std::int64_t> ids;
  for (const auto& [tag, flight] : in_flight_) ids.push_back(flight.delivery.delivery_id);
  for (auto& [id, state] : endpoints_) {
    for (const auto& queued : state.ready) ids.push_back(queued.delivery.delivery_id);
    state.ready.clear();
  }
  in_flight_.clear();
  held_.clear();
  unsent_.clear();
  waiting_endpoints_.clear();
  ready_count_ = 0;
  if (ids.empty()) return;
  try {
    store_.Write([&](store::StoreTx& tx) {
      tx.ReleaseLeases(ids);
      return true;
    });
    spdlog::info("handed {} unfinished deliveries back for the next start", ids.size());
  } catch (const std::exception& e) {
    spdlog::warn("could not hand back {} deliveries (their leases will run out): {}", ids.size(), e.what());
  }
}

void Dispatcher::WaitForRecords() {
  std::unique_lock lock(records_mu_);
  records_cv_.wait(lock, [&] { return records_pending_ == 0; });
}

void Dispatcher::Notify() {
  // One wake per loop turn is enough: a wake already sent and not yet taken is still due
  // (it ends the next wait), so a burst of commits costs the caller one system call.
  if (!notified_.exchange(true)) sender_.Wake();
}

void Dispatcher::Loop() {
  while (running_) {
    try {
      TakeClaimed();
      if (notified_.exchange(false)) claim_wanted_ = true;
      const int sent = SendReady();
      RenewLeases();
      if (claiming_ && claim_wanted_ && !claim_outstanding_) StartClaim();
      const auto wait = sent == 0 ? IdleWait() : std::chrono::milliseconds{0};
      const auto polled_at = std::chrono::steady_clock::now();
      auto results = CollectAnswers(wait);
      // Answers free slots; a full wait means time passed (retries may have come due).
      if (!results.empty() || (wait.count() > 0 && std::chrono::steady_clock::now() - polled_at >= wait)) {
        claim_wanted_ = true;
      }
      RecordResults(std::move(results));
      drained_ = !claiming_ && in_flight_.empty() && ready_count_ == 0 && !claim_outstanding_;
    } catch (const std::exception& e) {
      spdlog::error("dispatcher: {}", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds{200});  // back off a failing store
    }
  }
}

int Dispatcher::RunOnce(std::chrono::milliseconds max_wait) {
  RenewLeases();
  if (claiming_) ClaimAndWait();
  SendReady();
  const int recorded = RecordResults(CollectAnswers(max_wait));
  WaitForRecords();
  return recorded;
}

std::vector<http::OutboundResult> Dispatcher::CollectAnswers(std::chrono::milliseconds max_wait) {
  auto results = sender_.Poll(unsent_.empty() ? max_wait : std::chrono::milliseconds{0});
  if (results.empty()) return std::exchange(unsent_, {});
  for (auto& r : unsent_) results.push_back(std::move(r));
  unsent_.clear();
  return results;
}

void Dispatcher::RenewLeases() {
  const Millis now = clock_.Now();
  if (now < renew_at_) return;
  // Renewed once half the lease has run, all that is due in one job: a delivery held
  // briefly (a drain's) is never renewed, and one held long costs a renewal per half lease.
  const Millis half = options_.lease / 2;
  const Millis until = now + options_.lease;
  Millis next = std::numeric_limits<Millis>::max();
  std::vector<std::int64_t> ids;
  // Only attempts in flight: a delivery waiting for a slot is given back at half its lease
  // (SendReady), before it needs renewing.
  for (auto& [tag, flight] : in_flight_) {
    if (flight.given_up) continue;
    if (now - flight.started_at > options_.attempt_timeout + half) {
      // The sender owes an answer by the attempt timeout; one this late is not coming (a
      // transfer it lost). Recorded as failed so the slot, the lease and the retry schedule
      // move on; were it to come after all, it finds no attempt and is dropped.
      flight.given_up = true;
      http::OutboundResult failed;
      failed.tag = tag;
      failed.error = "no answer from the HTTP sender within the attempt timeout";
      failed.duration_ms = now - flight.started_at;
      spdlog::error("delivery {}: {}", flight.delivery.delivery_id, *failed.error);
      unsent_.push_back(std::move(failed));
      continue;
    }
    if (flight.lease_until - half <= now) {
      ids.push_back(flight.delivery.delivery_id);
      flight.lease_until = until;
    }
    next = std::min(next, flight.lease_until - half);
  }
  renew_at_ = next;
  if (ids.empty()) return;
  // A lease job: on SQLite it runs ahead of queued writes, and before any claim queued after it.
  WriteTracked([ids = std::move(ids), now, until](store::StoreTx& tx) {
    const auto lost = tx.RenewLeases(ids, now, until);
    if (!lost.empty()) {
      spdlog::warn("{} deliveries in flight here had lost their leases before renewal (this "
                   "process stalled?); another node may send them too", lost.size());
    }
    return true;
  }, "could not renew leases (their deliveries may be sent again elsewhere)", JobKind::kLeasesOnly);
}

void Dispatcher::StartClaim() {
  const int limit = std::min(options_.claim_batch, options_.max_in_flight - static_cast<int>(ready_count_));
  if (limit <= 0) return;
  const Millis now = clock_.Now();
  // Up to a claim batch (at least twice the in-flight cap) per endpoint is claimed ahead, so
  // one fast endpoint is not held to what a claim every commit cycle can bring. An endpoint
  // is refilled once it has used half of that, not after every answer: a claim steps past
  // the endpoint's leased deliveries to reach new ones, so topping up a few at a time cost
  // ~10 of those steps per delivery. Endpoints with an open circuit are left out too.
  const int ahead = std::max(2 * options_.max_in_flight_per_endpoint, options_.claim_batch);
  const int refill_below = ahead / 2;
  store::ClaimLimits limits;
  limits.limit = limit;
  limits.per_endpoint = ahead;
  for (auto& [id, state] : endpoints_) {
    if (state.in_flight + static_cast<int>(state.ready.size()) >= refill_below || now < state.open_until) {
      limits.skip_endpoints.push_back(id);
    }
  }
  last_claim_limit_ = limit;
  last_claim_at_ = now;
  claim_lease_until_ = now + options_.lease;
  claim_outstanding_ = true;
  claim_wanted_ = false;
  auto claimed = std::make_shared<std::vector<store::ClaimedDelivery>>();
  auto job = [claimed, now, lease_until = claim_lease_until_, limits](store::StoreTx& tx) {
    *claimed = tx.ClaimDueDeliveries(now, lease_until, limits);
    return true;
  };
  auto done = [this, claimed](bool, std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("claiming due deliveries failed: {}", e.what());
      }
      claimed->clear();  // rolled back: no leases were taken
    }
    // All under the lock: once it is released the dispatcher may be gone.
    std::lock_guard lock(inbox_mu_);
    inbox_ = std::move(*claimed);
    inbox_cv_.notify_all();
    sender_.Wake();
  };
  try {
    store_.LeaseAsync(std::move(job), std::move(done));
  } catch (...) {
    claim_outstanding_ = false;
    throw;
  }
}

void Dispatcher::ClaimAndWait() {
  TakeClaimed();
  if (!claim_outstanding_) StartClaim();
  if (claim_outstanding_) {
    std::unique_lock lock(inbox_mu_);
    inbox_cv_.wait(lock, [&] { return inbox_.has_value(); });
  }
  TakeClaimed();
}

void Dispatcher::TakeClaimed() {
  std::vector<store::ClaimedDelivery> claimed;
  {
    std::lock_guard lock(inbox_mu_);
    if (!inbox_) return;
    claimed = std::move(*inbox_);
    inbox_.reset();
  }
  claim_outstanding_ = false;
  // A full batch: more may be due at once.
  if (static_cast<int>(claimed.size()) >= last_claim_limit_) claim_wanted_ = true;
  const Millis now = clock_.Now();
  if (!claimed.empty()) renew_at_ = std::min(renew_at_, claim_lease_until_ - options_.lease / 2);
  for (auto& delivery : claimed) {
    if (!held_.insert(delivery.delivery_id).second) {
      spdlog::warn("delivery {} was claimed again while held here (its lease ran out: the "
                   "process stalled or the clock stepped); the second claim is dropped",
                   delivery.delivery_id);
      continue;
    }
    EndpointState& state = endpoints_[delivery.endpoint_id];
    if (state.rate_limit_per_s != delivery.rate_limit_per_s) {
      state.rate_limit_per_s = delivery.rate_limit_per_s;
      state.tokens = delivery.rate_limit_per_s ? static_cast<double>(*delivery.rate_limit_per_s) : 0;
      state.refilled_at = now;
    }
    waiting_endpoints_.insert(delivery.endpoint_id);
    state.ready.push_back(Queued{std::move(delivery), now, claim_lease_until_});
    ++ready_count_;
  }
}

int Dispatcher::SendReady() {
  if (ready_count_ == 0) return 0;
  const Millis now = clock_.Now();
  std::vector<std::int64_t> give_back;
  int sent = 0;
  for (auto it = waiting_endpoints_.begin(); it != waiting_endpoints_.end();) {
    EndpointState& state = endpoints_[*it];
    auto& ready = state.ready;
    // Not kept: when stopping, behind an open circuit, or held for half its lease (so no
    // other dispatcher can take it while it is still here).
    while (!ready.empty() && (!claiming_ || now < state.open_until || now - ready.front().claimed_at > options_.lease / 2)) {
      give_back.push_back(ready.front().delivery.delivery_id);
      held_.erase(ready.front().delivery.delivery_id);
      ready.pop_front();
      --ready_count_;
    }
    while (!ready.empty() && static_cast<int>(in_flight_.size()) < options_.max_in_flight && !Blocked(state, now)) {
      Queued queued = std::move(ready.front());
      ready.pop_front();
      --ready_count_;
      Send(std::move(queued), state);
      ++sent;
    }
    it = ready.empty() ? waiting_endpoints_.erase(it) : std::next(it);
  }
  if (!give_back.empty()) GiveBack(std::move(give_back));
  return sent;
}

void Dispatcher::GiveBack(std::vector<std::int64_t> delivery_ids) {
  // A lease job: it writes no row, so it need not wait for (or cause) a sync of the WAL.
  WriteTracked([ids = std::move(delivery_ids)](store::StoreTx& tx) {
    tx.ReleaseLeases(ids);
    return true;
  }, "could not give deliveries back (their leases will run out)", JobKind::kLeasesOnly);
}

void Dispatcher::WriteTracked(std::function<bool(store::StoreTx&)> job, std::string failure,
                              JobKind kind) {
  {
    std::lock_guard lock(records_mu_);
    ++records_pending_;
  }
  auto done = [this, failure = std::move(failure)](bool, std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("{}: {}", failure, e.what());
      }
    }
    std::lock_guard lock(records_mu_);
    --records_pending_;
    records_cv_.notify_all();
  };
  try {
    if (kind == JobKind::kLeasesOnly) {
      store_.LeaseAsync(std::move(job), done);
    } else {
      store_.WriteAsync(std::move(job), done);
    }
  } catch (...) {
    done(false, std::current_exception());  // the store is shutting down
  }
}

std::chrono::milliseconds Dispatcher::IdleWait() {
  // Answers, a claim's answer and Notify all wake the wait; only rate limits need a tick.
  if (ready_count_ > 0) return std::chrono::milliseconds{std::min<Millis>(options_.idle_wait, 20)};
  if (!in_flight_.empty() || claim_outstanding_) return std::chrono::milliseconds{options_.idle_wait};
  std::optional<Millis> next;
  store_.Read([&](store::StoreTx& tx) { next = tx.NextDueAt(); });
  if (!next) return std::chrono::milliseconds{options_.idle_wait};
  // Due at the last claim and not taken: a per-lead delivery behind an earlier one, an
  // endpoint with its circuit open. Looked at again on the idle tick; a zero wait here
  // would loop, claiming nothing, until it could be sent (hours, behind a retry).
  if (*next <= last_claim_at_) return std::chrono::milliseconds{options_.idle_wait};
  const Millis wait = *next - clock_.Now();
  if (wait <= 0) {
    claim_wanted_ = true;  // came due since the last claim
    return std::chrono::milliseconds{0};
  }
  return std::chrono::milliseconds{std::min<Millis>(wait, options_.idle_wait)};
}

void Dispatcher::Refill(EndpointState& state, Millis now) const {
  if (!state.rate_limit_per_s) return;
  const double rate = static_cast<double>(*state.rate_limit_per_s);
  // A bucket of one second's worth: bursts up to the rate, never beyond.
  state.tokens = std::min(rate, state.tokens + rate * static_cast<double>(now - state.refilled_at) / 1000.0);
  state.refilled_at = now;
}

const char* Dispatcher::Blocked(EndpointState& state, Millis now) const {
  if (state.in_flight >= options_.max_in_flight_per_endpoint) return "at capacity";
  if (now < state.open_until) return "circuit open";
  // Half-open: the cool-down is over but the circuit has not closed; one probe at a time.
  if (state.consecutive_failures >= options_.breaker_failures && state.in_flight > 0) return "probing";
  Refill(state, now);
  if (state.rate_limit_per_s && state.tokens < 1.0) return "rate limited";
  return nullptr;
}

void Dispatcher::NoteOutcome(EndpointState& state, bool success, Millis now) {
  if (success) {
    state.consecutive_failures = 0;
    state.open_until = 0;
    state.cooldown = 0;
    return;
  }
  ++state.consecutive_failures;
  // Failures of requests sent before the circuit opened do not extend the cool-down.
  if (state.consecutive_failures >= options_.breaker_failures && now >= state.open_until) {
    state.cooldown = state.cooldown == 0 ? options_.breaker_cooldown
                                         : std::min(state.cooldown * 2, options_.breaker_max_cooldown);
    state.open_until = now + state.cooldown;
  }
}

const signing::WebhookSecret* Dispatcher::OpenSecret(const std::string& sealed) {
  if (auto it = opened_secrets_.find(sealed); it != opened_secrets_.end()) return &it->second;
  auto text = secrets_.Open(sealed);
  auto secret = text ? signing::WebhookSecret::Parse(*text) : std::nullopt;
  if (!secret) return nullptr;
  if (opened_secrets_.size() >= 10'000) opened_secrets_.clear();  // bounded; reopened on use
  return &opened_secrets_.emplace(sealed, std::move(*secret)).first->second;
}

void Dispatcher::Send(Queued queued, EndpointState& state) {
  store::ClaimedDelivery& delivery = queued.delivery;
  // Opened once per secret, not per delivery (AES-GCM and base64 on every send add up).
  std::vector<signing::WebhookSecret> secrets;
  if (const auto* secret = OpenSecret(delivery.secret_sealed)) secrets.push_back(*secret);
  const std::uint64_t tag = ++last_tag_;
  if (secrets.empty()) {
    // Nothing can be signed: a failed attempt like any other, so the retry schedule, the
    // attempt log, the breaker and auto-disable see it (left unrecorded, the delivery was
    // claimed again every lease, forever). Logged once per endpoint and sealed secret.
    auto [it, first] = unopenable_secrets_.try_emplace(delivery.endpoint_id, delivery.secret_sealed);
    if (first || it->second != delivery.secret_sealed) {
      it->second = delivery.secret_sealed;
      spdlog::error("endpoint {}: {}; its deliveries fail until hookline runs with the master key "
                    "that sealed it (logged once per endpoint)", delivery.endpoint_id, kUnopenableSecret);
    }
    http::OutboundResult failed;
    failed.tag = tag;
    failed.error = kUnopenableSecret;
    unsent_.push_back(std::move(failed));
    ++state.in_flight;
    in_flight_[tag] = InFlight{std::move(delivery), clock_.Now(), queued.lease_until};
    return;
  }
  if (!unopenable_secrets_.empty()) unopenable_secrets_.erase(delivery.endpoint_id);
  if (delivery.previous_secret_sealed) {
    // Rotation: the old secret signs beside the new one until it expires.
    if (const auto* old_secret = OpenSecret(*delivery.previous_secret_sealed)) secrets.push_back(*old_secret);
  }
  if (state.rate_limit_per_s) state.tokens -= 1.0;
  ++state.in_flight;
  const Millis started = clock_.Now();
  const std::int64_t timestamp_s = started / 1000;
  const std::string signature =
      signing::SignatureHeader(secrets, delivery.event_id, timestamp_s, delivery.payload);
  http::OutboundRequest request;
  request.tag = tag;
  request.url = delivery.url;
  request.headers = DeliveryHeaders(delivery, signature, timestamp_s);
  request.body = std::move(delivery.payload);  // the record needs everything but the payload
  request.connect_timeout = std::chrono::milliseconds{options_.connect_timeout};
  request.total_timeout = std::chrono::milliseconds{options_.attempt_timeout};
  in_flight_[tag] = InFlight{std::move(delivery), started, queued.lease_until};
  sender_.Start(std::move(request));
}

int Dispatcher::RecordResults(std::vector<http::OutboundResult> results) {
  if (results.empty()) return 0;
  const Millis now = clock_.Now();
  struct Outcome {
    store::AttemptRecord attempt;
    store::DeliveryUpdate update;
    store::ClaimedDelivery delivery;
    bool success = false;
    bool gone = false;  //!< 410: disable the endpoint
  };
  std::vector<Outcome> outcomes;
  outcomes.reserve(results.size());
  for (auto& result : results) {
    auto it = in_flight_.find(result.tag);
    if (it == in_flight_.end()) continue;
    Outcome o;
    o.delivery = std::move(it->second.delivery);
    o.attempt.started_at = it->second.started_at;
    in_flight_.erase(it);
    held_.erase(o.delivery.delivery_id);

    o.attempt.delivery_id = o.delivery.delivery_id;
    o.attempt.duration_ms = result.duration_ms;
    o.attempt.status_code = result.status;
    o.attempt.error = result.error;
    o.attempt.response_head = std::move(result.body_head);

    o.update.delivery_id = o.delivery.delivery_id;
    o.update.attempts = o.delivery.attempts + 1;
    o.update.now = now;
    const int code = result.status.value_or(0);
    o.success = code >= 200 && code < 300;
    if (o.success) {
      o.update.status = DeliveryStatus::kSucceeded;
    } else if (code == 410) {
      // The receiver says this endpoint is gone for good: stop sending to it.
      o.update.status = DeliveryStatus::kFailed;
      o.gone = true;
    } else {
      std::optional<Millis> retry_after;
      if ((code == 429 || code == 503) && result.retry_after) {
        retry_after = ParseRetryAfter(*result.retry_after, now);
      }
      if (auto delay = retry_policy_.NextDelay(o.update.attempts, retry_after)) {
        o.update.status = DeliveryStatus::kPending;
        o.update.next_attempt_at = now + *delay;
      } else {
        o.update.status = DeliveryStatus::kFailed;
      }
    }
    EndpointState& state = endpoints_[o.delivery.endpoint_id];
    --state.in_flight;
    NoteOutcome(state, o.success, now);
    outcomes.push_back(std::move(o));
  }
  // Recorded without waiting for the commit: the loop goes back to sending at once. Until
  // the record commits, the delivery's lease keeps it from being claimed again; if it never
  // commits, the lease runs out and the delivery is sent again (at least once).
  const int count = static_cast<int>(outcomes.size());
  auto recorded = std::make_shared<std::vector<Outcome>>(std::move(outcomes));
  // The endpoints' per-minute stats, counted here rather than on the writer: a few rows per
  // endpoint and batch, written with the attempts they count.
  std::vector<std::pair<std::string_view, std::vector<store::LatencyCount>>> stats;
  for (const auto& o : *recorded) {
    auto it = std::find_if(stats.begin(), stats.end(),
                           [&](const auto& e) { return e.first == o.delivery.endpoint_id; });
    if (it == stats.end()) it = stats.insert(stats.end(), {o.delivery.endpoint_id, {}});
    store::CountAttempt(it->second, o.attempt.started_at, o.attempt.duration_ms, o.success);
  }
  auto job = [this, recorded, stats = std::move(stats), now](store::StoreTx& tx) {
    for (const auto& [endpoint_id, counts] : stats) tx.AddEndpointStats(endpoint_id, counts);
    // Endpoints this job has already seen healthy: another success changes nothing, so the
    // store is not asked again (a look-up per answer was ~5 % of the writer in a drain).
    std::vector<std::string_view> healthy;
    for (const auto& o : *recorded) {
      // Not pending any more (cancelled while in flight, or answered already): the answer is
      // logged, and nothing else follows from it: no health, no exhausted event, no disable.
      if (!tx.RecordAttempt(o.attempt, o.update)) continue;
      const std::string_view endpoint_id = o.delivery.endpoint_id;
      const bool known_healthy = std::find(healthy.begin(), healthy.end(), endpoint_id) != healthy.end();
      store::EndpointHealth health;
      if (!o.success || !known_healthy) health = tx.RecordEndpointOutcome(endpoint_id, o.success, now);
      if (!health.failing_since_after && !known_healthy) healthy.push_back(endpoint_id);
      if (health.failing_since_after && known_healthy) std::erase(healthy, endpoint_id);
      const bool operational = IsOperationalEvent(o.delivery.event);
      if (o.update.status == DeliveryStatus::kFailed && !operational) {
        boost::json::object data;
        data["event_id"] = o.delivery.event_id;
        data["event"] = o.delivery.event;
        data["endpoint_id"] = o.delivery.endpoint_id;
        data["attempts"] = o.update.attempts;
        data["last_status_code"] = o.attempt.status_code ? boost::json::value(*o.attempt.status_code) : nullptr;
        data["last_error"] = o.attempt.error ? boost::json::value(*o.attempt.error) : nullptr;
        EmitOperationalEvent(tx, o.delivery.company_id, kDeliveryExhausted, std::move(data), "", now);
      }
      std::optional<std::string> disable_reason;
      if (o.gone) {
        disable_reason = "the endpoint answered 410 Gone";
      } else if (!o.success && health.failing_since_after &&
                 now - *health.failing_since_after >= options_.disable_after) {
        disable_reason = "every attempt failed since " + FormatIso8601(*health.failing_since_after);
      }
      auto endpoint = disable_reason || (o.success && health.failing_since_before)
                          ? tx.GetEndpointById(o.delivery.endpoint_id)
                          : std::nullopt;
      if (!endpoint) continue;
      boost::json::object data{{"endpoint_id", endpoint->id}, {"url", endpoint->url}};
      if (disable_reason && !endpoint->disabled) {
        tx.DisableEndpoint(endpoint->id, *disable_reason, now);
        spdlog::warn("endpoint {} disabled: {}", endpoint->id, *disable_reason);
        data["reason"] = *disable_reason;
        EmitOperationalEvent(tx, endpoint->company_id, kEndpointDisabled, std::move(data), endpoint->id, now);
      } else if (o.success && health.failing_since_before) {
        data["failing_since"] = FormatIso8601(*health.failing_since_before);
        EmitOperationalEvent(tx, endpoint->company_id, kEndpointRecovered, std::move(data), "", now);
      }
    }
    return true;
  };
  WriteTracked(std::move(job),
               fmt::format("recording {} attempts failed; those deliveries will be sent again", count));
  return count;
}

std::vector<std::pair<std::string, std::string>> DeliveryHeaders(
    const store::ClaimedDelivery& delivery, const std::string& signature_header,
    std::int64_t timestamp_s) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"},
      {"user-agent", "hookline/" HOOKLINE_VERSION},
      {"webhook-id", delivery.event_id},
      {"webhook-timestamp", std::to_string(timestamp_s)},
      {"webhook-signature", signature_header},
  };
  for (const auto& h : delivery.headers) headers.push_back(h);
  return headers;
}

}  // namespace hookline::delivery
