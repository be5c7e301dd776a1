#include "hookline/provider/activity_request.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "hookline/util/ids.hpp"

namespace hookline::provider {

namespace json = boost::json;

namespace {

std::optional<Problem> RequireId(const json::object& body, std::string_view key, std::string& out) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return Invalid(fmt::format("'{}' is required", key));
  if (!v->is_string()) return Invalid(fmt::format("'{}' must be a string", key));
  const auto& s = v->get_string();
  if (!IsValidDomainId(s)) {
    return Invalid(fmt::format("'{}' must be 1 to 128 printable characters without '/', '?', '#', '%'", key));
  }
  out.assign(s.data(), s.size());
  return std::nullopt;
}

}  // namespace

std::variant<ActivityRequest, Problem> ParseActivityRequest(const json::value& value) {
  const auto* body = value.if_object();
  if (body == nullptr) return Invalid("the body must be a JSON object");
  ActivityRequest request;

  const auto* event = body->if_contains("event");
  if (event == nullptr || event->is_null()) return Invalid("'event' is required");
  if (!event->is_string()) return Invalid("'event' must be a string");
  request.spec = model::FindEvent(event->get_string());
  if (request.spec == nullptr) {
    return Problem{422, "unknown_event",
                   fmt::format("unknown event '{}'; known events: {}",
                               std::string_view(event->get_string()), model::KnownEventNames())};
  }
  if (auto p = RequireId(*body, "campaign_id", request.campaign_id)) return *p;
  if (auto p = RequireId(*body, "lead_id", request.lead_id)) return *p;
  if (auto p = RequireId(*body, "sender_id", request.sender_id)) return *p;

  if (const auto* at = body->if_contains("occurred_at"); at != nullptr && !at->is_null()) {
    if (!at->is_string()) return Problem{422, "invalid_timestamp", "'occurred_at' must be an ISO-8601 string"};
    request.occurred_at = ParseIso8601(at->get_string());
    if (!request.occurred_at) {
      return Problem{422, "invalid_timestamp",
                     fmt::format("'occurred_at' is not an ISO-8601 timestamp with an offset: '{}'",
                                 std::string_view(at->get_string()))};
    }
  }
  if (const auto* st = body->if_contains("latest_status"); st != nullptr && !st->is_null()) {
    if (!st->is_string() || st->get_string().empty() || st->get_string().size() > 64) {
      return Invalid("'latest_status' must be a string of 1 to 64 characters");
    }
    request.latest_status = std::string(st->get_string());
  }
  if (const auto* ad = body->if_contains("action_data"); ad != nullptr && !ad->is_null()) {
    if (!ad->is_object()) return Invalid("'action_data' must be an object");
    request.action_data = ad->get_object();
  }
  for (const auto& field : request.spec->action_fields) {
    const auto* v = request.action_data.if_contains(field);
    if (v != nullptr && !v->is_null() && !v->is_string()) {
      return Invalid(fmt::format("'action_data.{}' must be a string or null", field));
    }
  }
  for (const auto& field : request.spec->required_fields) {
    const auto* v = request.action_data.if_contains(field);
    if (v == nullptr || !v->is_string()) {
      return Invalid(fmt::format("'{}' needs 'action_data.{}' (a string)", request.spec->name, field));
    }
  }
  return request;
}

}  // namespace hookline::provider
