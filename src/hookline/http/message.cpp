#include "hookline/http/message.hpp"

#include <boost/json.hpp>

#include "hookline/util/json_text.hpp"

namespace hookline::http {

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  boost::json::object error{{"code", code}, {"message", message}};
  Response r;
  r.status = status;
  r.body = StringifyJson(boost::json::object{{"error", std::move(error)}});
  return r;
}

Response OverloadedResponse(std::string_view message) {
  Response r = ErrorResponse(503, "overloaded", message);
  r.headers.emplace_back("retry-after", "1");
  return r;
}

}  // namespace hookline::http
