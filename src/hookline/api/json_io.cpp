#include "hookline/api/json_io.hpp"

#include <charconv>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "hookline/model/codec.hpp"
#include "hookline/util/json_text.hpp"
#include "hookline/util/time.hpp"

namespace hookline::api {

http::Response JsonResponse(int status, const json::value& body) {
  http::Response r;
  r.status = status;
  r.body = StringifyJson(body);
  return r;
}

http::Response ProblemResponse(const Problem& p) {
  return http::ErrorResponse(p.status, p.code, p.message);
}

std::variant<json::object, Problem> ParseObjectBody(const http::Request& request, bool allow_empty) {
  if (request.body.empty()) {
    if (allow_empty) return json::object{};
    return Problem{400, "invalid_json", "the request needs a JSON object body"};
  }
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 32;
  json::value v = ParseJsonExact(request.body, ec, {}, options);
  if (ec) return Problem{400, "invalid_json", "the body is not valid JSON: " + ec.message()};
  if (!v.is_object()) return Invalid("the body must be a JSON object");
  if (model::HasNonFiniteNumber(v)) return Invalid("the body has a number too large to represent");
  return std::move(v.get_object());
}

std::variant<ListParams, Problem> ParseListParams(const RouteContext& context) {
  ListParams params;
  if (auto limit = context.Query("limit")) {
    int value = 0;
    const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (ec != std::errc{} || end != limit->data() + limit->size() || value < 1 || value > 500) {
      return Problem{400, "invalid_parameter", "'limit' must be a whole number from 1 to 500"};
    }
    params.limit = value;
  }
  if (auto after = context.Query("after"); after && !after->empty()) params.after = std::string(*after);
  return params;
}

std::variant<std::optional<long long>, Problem> ParseTimeParam(const RouteContext& context,
                                                               std::string_view key) {
  auto text = context.Query(key);
  if (!text || text->empty()) return std::optional<long long>{};
  auto t = ParseIso8601(*text);
  if (!t) {
    return Problem{400, "invalid_parameter",
                   fmt::format("'{}' must be an ISO-8601 timestamp with an offset, like "
                               "2026-03-24T10:15:00.000Z",
                               key)};
  }
  return std::optional<long long>{*t};
}

std::variant<std::optional<std::string>, Problem> OptionalString(const json::object& body,
                                                                 std::string_view key,
                                                                 size_t max_size) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return Invalid(fmt::format("'{}' must be a string or null", key));
  if (v->get_string().size() > max_size) {
    return Invalid(fmt::format("'{}' is longer than {} bytes", key, max_size));
  }
  return std::optional<std::string>{std::string(v->get_string())};
}

std::variant<std::string, Problem> RequiredString(const json::object& body, std::string_view key,
                                                  size_t max_size) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return Invalid(fmt::format("'{}' is required", key));
  if (!v->is_string()) return Invalid(fmt::format("'{}' must be a string", key));
  if (v->get_string().empty()) return Invalid(fmt::format("'{}' must not be empty", key));
  if (v->get_string().size() > max_size) {
    return Invalid(fmt::format("'{}' is longer than {} bytes", key, max_size));
  }
  return std::string(v->get_string());
}

}  // namespace hookline::api
