#include "hookline/receiver/ingest.hpp"

#include <cstddef>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/model/codec.hpp"
#include "hookline/receiver/forwarding.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::receiver {

namespace json = boost::json;

namespace {

http::Response Unauthorized(std::string_view why) {
  return http::ErrorResponse(401, "unauthorized", why);
}

}  // namespace

std::shared_ptr<const store::SourceRecord> SourceCache::Find(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    if (auto it = sources_.find(std::string(id)); it != sources_.end()) return it->second;
  }
  std::optional<store::SourceRecord> found;
  store_.Read([&](store::StoreTx& tx) { found = tx.GetSource(id); });
  if (!found) return nullptr;  // not remembered: it may be created later
  auto source = std::make_shared<const store::SourceRecord>(std::move(*found));
  std::lock_guard lock(mu_);
  if (sources_.size() >= kMaxEntries) sources_.clear();
  sources_.emplace(source->id, source);
  return source;
}

void IngestAsync(store::Store& store, SourceCache& sources, const crypto::SecretBox& secrets,
                 const Clock& clock, std::string_view source_id, http::Request request,
                 std::optional<std::string_view> query_token, IngestDone done) {
  const auto source = sources.Find(source_id);
  if (!source) {
    done(http::ErrorResponse(404, "not_found", fmt::format("source '{}' does not exist", source_id)), {});
    return;
  }
  const Millis now = clock.Now();
  if (source->auth == store::SourceAuth::kSignature) {
    auto text = source->secret_sealed ? secrets.Open(*source->secret_sealed) : std::nullopt;
    auto secret = text ? signing::WebhookSecret::Parse(*text) : std::nullopt;
    if (!secret) {
      done(http::ErrorResponse(500, "secret_unreadable", "the source secret cannot be opened with this master key"), {});
      return;
    }
    const signing::WebhookSecret keys[] = {*secret};
    const SignatureHeaders headers = SignatureHeadersOf(request);
    const auto outcome = signing::Verify(keys, headers.id, headers.timestamp, headers.signature, request.body,
                                         now / 1000, kSignatureToleranceS);
    if (outcome == signing::VerifyOutcome::kMissingHeaders) {
      done(Unauthorized("sign it with webhook-id, webhook-timestamp and webhook-signature "
                        "(or svix-id, svix-timestamp and svix-signature)"), {});
      return;
    }
    if (outcome != signing::VerifyOutcome::kValid) {
      done(Unauthorized(signing::DescribeOutcome(outcome)), {});
      return;
    }
  } else {
    std::optional<std::string_view> token = query_token;
    if (!token) {
      if (auto auth = request.Header("authorization"); auth && auth->size() > 7 &&
                                                       (auth->starts_with("Bearer ") || auth->starts_with("bearer "))) {
        token = auth->substr(7);
      }
    }
    if (!token || !source->token_hash ||
        !crypto::ConstantTimeEquals(crypto::Sha256(*token), *source->token_hash)) {
      done(Unauthorized("a valid token is needed: ?token=... or 'Authorization: Bearer ...'"), {});
      return;
    }
  }

  // Everything the write and its answer need, kept alive until the commit completes. Not the
  // parsed document: it is dropped here, on the I/O thread, rather than on the writer's (where
  // freeing its nodes was ~7 % of the writer's time).
  struct Pending {
    store::ReceivedRecord record;
    std::optional<ForwardingFacts> facts;  //!< set when the body parsed as a webhook
    std::string rejection;
    std::optional<std::string> duplicate_of;
    IngestEffects effects;
    IngestDone done;  //!< here, not in the answer: a refused write is answered without it
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  store::ReceivedRecord& record = pending->record;
  record.id = NewId("rcv_", now);
  record.source_id = source->id;
  record.received_at = now;
  for (const auto& [k, v] : request.headers) {
    if (k == "authorization" || k == "cookie") continue;  // credentials are never stored
    record.headers.emplace_back(k, v);
  }
  {
    // The parsed body lives in an arena for this block: nothing of it is kept (FactsOf and
    // DedupeKey copy what they need), and Boost.JSON frees a document whose storage
    // deallocates trivially at once instead of node by node.
    alignas(std::max_align_t) unsigned char arena_buffer[16384];
    json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
    model::ParseFailure failure;
    const auto event = model::ParseWebhook(request.body, &failure, &arena);
    if (event) {
      record.status = "accepted";
      record.event = event->event;
      pending->facts = FactsOf(*event);
    } else {
      record.status = "rejected";
      record.reason = failure.reason;
      pending->rejection = failure.reason;
    }
    record.dedupe_key = DedupeKey(*source, request, event ? &event->document : nullptr);
  }
  record.body = std::move(request.body);

  auto job = [pending, now](store::StoreTx& tx) {
    pending->duplicate_of = tx.InsertReceived(pending->record);
    // A duplicate wrote nothing: true spares the batch a second run (Store::WriteAsync).
    if (pending->duplicate_of) return true;
    if (pending->facts) pending->effects.forwarded = ForwardReceived(tx, pending->record, *pending->facts, now);
    return true;
  };
  auto answer = [pending](bool, std::exception_ptr error) {
    const IngestDone& done = pending->done;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("storing webhook {} failed: {}", pending->record.id, e.what());
      }
      done(http::ErrorResponse(503, "store_unavailable", "the webhook could not be stored; send it again"), {});
      return;
    }
    if (!pending->facts) {
      http::Response r = http::ErrorResponse(400, "invalid_webhook", pending->rejection);
      r.headers.emplace_back("hookline-received-id", pending->record.id);
      done(std::move(r), {});
      return;
    }
    http::Response r;
    IngestEffects effects;
    if (pending->duplicate_of) {
      r.body = json::serialize(json::object{{"status", "duplicate"}, {"id", *pending->duplicate_of}});
    } else {
      effects = pending->effects;
      effects.stored = true;
      r.body = json::serialize(json::object{{"status", "accepted"}, {"id", pending->record.id}});
    }
    done(std::move(r), effects);
  };
  try {
    store.WriteAsync(std::move(job), {.refuse_when_full = true}, std::move(answer));
  } catch (const store::StoreOverloadedError&) {
    pending->done(http::OverloadedResponse("too many webhooks are waiting to be stored; send it again shortly"), {});
  } catch (const store::StoreError& e) {  // shutting down
    pending->done(http::ErrorResponse(503, "store_unavailable", e.what()), {});
  }
}

}  // namespace hookline::receiver
