#include "hookline/api/endpoint_fields.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "hookline/delivery/operational_events.hpp"
#include "hookline/model/catalog.hpp"

namespace hookline::api {

namespace json = boost::json;

namespace {

// The header names an endpoint may not set: hookline owns them.
bool IsReservedHeader(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "content-type", "content-length", "host", "user-agent", "webhook-id", "webhook-timestamp",
      "webhook-signature", "transfer-encoding", "connection", "expect"};
  for (auto r : kReserved) {
    if (name == r) return true;
  }
  return false;
}

bool IsHeaderToken(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::variant<std::optional<store::HeaderList>, Problem> ParseHeaders(const boost::json::object& body) {
  const auto* v = body.if_contains("headers");
  if (v == nullptr) return std::optional<store::HeaderList>{};
  if (v->is_null()) return std::optional<store::HeaderList>{store::HeaderList{}};
  if (!v->is_object()) return Invalid("'headers' must be an object of header names to strings");
  if (v->get_object().size() > 32) return Invalid("'headers' may hold at most 32 headers");
  store::HeaderList headers;
  for (const auto& kv : v->get_object()) {
    std::string name(kv.key());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!IsHeaderToken(name)) return Invalid(fmt::format("'{}' is not a valid header name", name));
    if (IsReservedHeader(name)) {
      return Invalid(fmt::format("header '{}' is set by hookline and cannot be overridden", name));
    }
    if (!kv.value().is_string()) return Invalid(fmt::format("header '{}' must be a string", name));
    const auto& value = kv.value().get_string();
    if (value.size() > 4096 || value.find_first_of("\r\n") != json::string::npos) {
      return Invalid(fmt::format("header '{}' has an invalid value", name));
    }
    headers.emplace_back(std::move(name), std::string(value));
  }
  return std::optional<store::HeaderList>{std::move(headers)};
}

std::variant<std::optional<std::vector<std::string>>, Problem> ParseEventTypes(const boost::json::object& body) {
  const auto* v = body.if_contains("event_types");
  if (v == nullptr) return std::optional<std::vector<std::string>>{};
  if (v->is_null()) return std::optional<std::vector<std::string>>{std::vector<std::string>{}};
  if (!v->is_array()) return Invalid("'event_types' must be an array of event names");
  std::vector<std::string> types;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return Invalid("'event_types' must hold strings");
    const std::string_view name = item.get_string();
    if (model::FindEvent(name) == nullptr && !delivery::IsOperationalEvent(name)) {
      return Problem{422, "unknown_event",
                     fmt::format("unknown event '{}' in 'event_types'; known events: {}, "
                                 "endpoint.disabled, endpoint.recovered, delivery.exhausted",
                                 name, model::KnownEventNames())};
    }
    if (std::find(types.begin(), types.end(), name) == types.end()) types.emplace_back(name);
  }
  return std::optional<std::vector<std::string>>{std::move(types)};
}

std::variant<std::optional<std::optional<std::int64_t>>, Problem> ParseRateLimit(const boost::json::object& body) {
  const auto* v = body.if_contains("rate_limit_per_s");
  if (v == nullptr) return std::optional<std::optional<std::int64_t>>{};
  if (v->is_null()) return std::optional<std::optional<std::int64_t>>{std::optional<std::int64_t>{}};
  if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 100'000) {
    return Invalid("'rate_limit_per_s' must be a whole number from 1 to 100000, or null");
  }
  return std::optional<std::optional<std::int64_t>>{v->get_int64()};
}

}  // namespace hookline::api
