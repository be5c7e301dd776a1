#include "hookline/receiver/ingest.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "hookline/model/codec.hpp"
#include "hookline/receiver/forwarding.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::receiver {

namespace json = boost::json;

namespace {

// Follows a dotted path ("data.lead.id") through nested objects.
const json::value* AtPath(const json::object& doc, std::string_view path) {
  const json::object* o = &doc;
  const json::value* v = nullptr;
  while (true) {
    const size_t dot = path.find('.');
    v = o->if_contains(path.substr(0, dot));
    if (v == nullptr || dot == std::string_view::npos) return v;
    o = v->if_object();
    if (o == nullptr) return nullptr;
    path.remove_prefix(dot + 1);
  }
}

http::Response Unauthorized(std::string_view why) {
  return http::ErrorResponse(401, "unauthorized", why);
}

}  // namespace

std::string DedupeKey(const store::SourceRecord& source, const http::Request& request,
                      const json::object* document) {
  if (!source.dedupe_fields.empty() && document != nullptr) {
    std::string joined;
    for (const auto& field : source.dedupe_fields) {
      const json::value* v = AtPath(*document, field);
      joined += v ? json::serialize(*v) : "null";
      joined += '\x1f';
    }
    return "fields:" + crypto::Sha256Hex(joined);
  }
  if (auto id = request.Header("webhook-id"); id && !id->empty()) return "id:" + std::string(*id);
  return "sha256:" + crypto::Sha256Hex(request.body);
}

http::Response Ingest(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                      std::string_view source_id, const http::Request& request,
                      std::optional<std::string_view> query_token, IngestEffects* effects) {
  *effects = {};
  std::optional<store::SourceRecord> source;
  store.Read([&](store::StoreTx& tx) { source = tx.GetSource(source_id); });
  if (!source) return http::ErrorResponse(404, "not_found", fmt::format("source '{}' does not exist", source_id));

  const Millis now = clock.Now();
  if (source->auth == store::SourceAuth::kSignature) {
    auto text = source->secret_sealed ? secrets.Open(*source->secret_sealed) : std::nullopt;
    auto secret = text ? signing::WebhookSecret::Parse(*text) : std::nullopt;
    if (!secret) {
      return http::ErrorResponse(500, "secret_unreadable", "the source secret cannot be opened with this master key");
    }
    const signing::WebhookSecret keys[] = {*secret};
    const auto outcome = signing::Verify(keys, request.Header("webhook-id").value_or(""),
                                         request.Header("webhook-timestamp").value_or(""),
                                         request.Header("webhook-signature").value_or(""), request.body,
                                         now / 1000, kSignatureToleranceS);
    if (outcome != signing::VerifyOutcome::kValid) return Unauthorized(signing::DescribeOutcome(outcome));
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
      return Unauthorized("a valid token is needed: ?token=... or 'Authorization: Bearer ...'");
    }
  }

  store::ReceivedRecord record;
  record.id = NewId("rcv_", now);
  record.source_id = source->id;
  record.received_at = now;
  record.body = request.body;
  for (const auto& [k, v] : request.headers) {
    if (k == "authorization" || k == "cookie") continue;  // credentials are never stored
    record.headers.emplace_back(k, v);
  }
  model::ParseFailure failure;
  auto event = model::ParseWebhook(request.body, &failure);
  if (event) {
    record.status = "accepted";
    record.event = event->event;
  } else {
    record.status = "rejected";
    record.reason = failure.reason;
  }
  record.dedupe_key = DedupeKey(*source, request, event ? &event->document : nullptr);

  std::optional<std::string> duplicate_of;
  store.Write([&](store::StoreTx& tx) {
    duplicate_of = tx.InsertReceived(record);
    if (duplicate_of) return false;
    if (event) effects->forwarded = ForwardReceived(tx, record, *event, now);
    return true;
  });
  if (!event) {
    http::Response r = http::ErrorResponse(400, "invalid_webhook", failure.reason);
    r.headers.emplace_back("hookline-received-id", record.id);
    return r;
  }
  http::Response r;
  if (duplicate_of) {
    r.body = json::serialize(json::object{{"status", "duplicate"}, {"id", *duplicate_of}});
  } else {
    effects->stored = true;
    r.body = json::serialize(json::object{{"status", "accepted"}, {"id", record.id}});
  }
  return r;
}

}  // namespace hookline::receiver
