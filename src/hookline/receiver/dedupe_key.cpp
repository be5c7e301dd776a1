#include "hookline/receiver/dedupe_key.hpp"

#include <boost/json.hpp>

#include "hookline/util/crypto.hpp"

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

}  // namespace

SignatureHeaders SignatureHeadersOf(const http::Request& request) {
  const auto webhook_id = request.Header("webhook-id");
  const auto webhook_timestamp = request.Header("webhook-timestamp");
  const auto webhook_signature = request.Header("webhook-signature");
  if (webhook_id || webhook_timestamp || webhook_signature) {
    return {webhook_id.value_or(""), webhook_timestamp.value_or(""), webhook_signature.value_or("")};
  }
  return {request.Header("svix-id").value_or(""), request.Header("svix-timestamp").value_or(""),
          request.Header("svix-signature").value_or("")};
}

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
  if (const auto id = SignatureHeadersOf(request).id; !id.empty()) return "id:" + std::string(id);
  return "sha256:" + crypto::Sha256Hex(request.body);
}

}  // namespace hookline::receiver
