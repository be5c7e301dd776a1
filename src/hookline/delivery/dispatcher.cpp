#include "hookline/delivery/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "hookline/signing/webhook_signature.hpp"

namespace hookline::delivery {

using store::DeliveryStatus;

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
  thread_ = std::thread([this] { Loop(); });
}

void Dispatcher::Stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return;
  claiming_ = false;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  // The loop drains in-flight attempts while claiming_ is false; give it until the deadline.
  // The loop keeps collecting answers while claiming_ is false; wait for it to drain.
  while (!drained_ && std::chrono::steady_clock::now() < deadline) {
    sender_.Wake();
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  running_ = false;
  sender_.Wake();
  thread_.join();
}

void Dispatcher::Notify() {
  notified_ = true;
  sender_.Wake();
}

void Dispatcher::Loop() {
  while (running_) {
    try {
      const int sent = claiming_ ? ClaimAndSend() : 0;
      std::chrono::milliseconds wait{0};
      if (sent == 0 && !notified_.exchange(false)) wait = IdleWait();
      RecordResults(sender_.Poll(wait));
      drained_ = !claiming_ && in_flight_.empty();
    } catch (const std::exception& e) {
      spdlog::error("dispatcher: {}", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds{200});  // back off a failing store
    }
  }
}

int Dispatcher::RunOnce(std::chrono::milliseconds max_wait) {
  ClaimAndSend();
  return RecordResults(sender_.Poll(max_wait));
}

std::chrono::milliseconds Dispatcher::IdleWait() {
  if (!in_flight_.empty()) return std::chrono::milliseconds{options_.idle_wait};
  std::optional<Millis> next;
  store_.Read([&](store::StoreTx& tx) { next = tx.NextDueAt(); });
  Millis wait = options_.idle_wait;
  if (next) wait = std::clamp<Millis>(*next - clock_.Now(), 0, options_.idle_wait);
  return std::chrono::milliseconds{wait};
}

int Dispatcher::ClaimAndSend() {
  const int room = options_.max_in_flight - static_cast<int>(in_flight_.size());
  if (room <= 0) return 0;
  const Millis now = clock_.Now();
  std::vector<store::ClaimedDelivery> claimed;
  store_.Write([&](store::StoreTx& tx) {
    claimed = tx.ClaimDueDeliveries(now, now + options_.lease, std::min(room, options_.claim_batch));
    return true;
  });
  for (auto& delivery : claimed) {
    const Millis started = clock_.Now();
    const std::int64_t timestamp_s = started / 1000;
    auto secret_text = secrets_.Open(delivery.secret_sealed);
    std::optional<signing::WebhookSecret> secret;
    if (secret_text) secret = signing::WebhookSecret::Parse(*secret_text);
    if (!secret) {
      spdlog::error("endpoint {}: its secret cannot be opened with this master key",
                    delivery.endpoint_id);
      continue;  // the lease runs out; an operator must fix the master key
    }
    const signing::WebhookSecret secrets[] = {*secret};
    const std::string signature =
        signing::SignatureHeader(secrets, delivery.event_id, timestamp_s, delivery.payload);
    http::OutboundRequest request;
    request.tag = static_cast<std::uint64_t>(delivery.delivery_id);
    request.url = delivery.url;
    request.headers = DeliveryHeaders(delivery, signature, timestamp_s);
    request.body = delivery.payload;
    request.connect_timeout = std::chrono::milliseconds{options_.connect_timeout};
    request.total_timeout = std::chrono::milliseconds{options_.attempt_timeout};
    in_flight_[request.tag] = InFlight{std::move(delivery), started};
    sender_.Start(std::move(request));
  }
  return static_cast<int>(claimed.size());
}

int Dispatcher::RecordResults(std::vector<http::OutboundResult> results) {
  if (results.empty()) return 0;
  const Millis now = clock_.Now();
  std::vector<std::pair<store::AttemptRecord, store::DeliveryUpdate>> records;
  std::vector<std::string> endpoints_gone;
  records.reserve(results.size());
  for (auto& result : results) {
    auto it = in_flight_.find(result.tag);
    if (it == in_flight_.end()) continue;
    const InFlight flight = std::move(it->second);
    in_flight_.erase(it);

    store::AttemptRecord attempt;
    attempt.delivery_id = flight.delivery.delivery_id;
    attempt.started_at = flight.started_at;
    attempt.duration_ms = result.duration_ms;
    attempt.status_code = result.status;
    attempt.error = result.error;
    attempt.response_head = std::move(result.body_head);

    store::DeliveryUpdate update;
    update.delivery_id = flight.delivery.delivery_id;
    update.attempts = flight.delivery.attempts + 1;
    update.now = now;
    const int code = result.status.value_or(0);
    if (code >= 200 && code < 300) {
      update.status = DeliveryStatus::kSucceeded;
    } else if (code == 410) {
      // The receiver says this endpoint is gone for good: stop sending to it.
      update.status = DeliveryStatus::kFailed;
      endpoints_gone.push_back(flight.delivery.endpoint_id);
    } else {
      std::optional<Millis> retry_after;
      if ((code == 429 || code == 503) && result.retry_after) {
        retry_after = ParseRetryAfter(*result.retry_after, now);
      }
      if (auto delay = retry_policy_.NextDelay(update.attempts, retry_after)) {
        update.status = DeliveryStatus::kPending;
        update.next_attempt_at = now + *delay;
      } else {
        update.status = DeliveryStatus::kFailed;
      }
    }
    records.emplace_back(std::move(attempt), update);
  }
  store_.Write([&](store::StoreTx& tx) {
    for (const auto& [attempt, update] : records) tx.RecordAttempt(attempt, update);
    for (const auto& endpoint : endpoints_gone) {
      tx.DisableEndpoint(endpoint, "the endpoint answered 410 Gone", now);
    }
    return true;
  });
  return static_cast<int>(records.size());
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
