#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hookline::http {

//! A parsed HTTP request, free of any HTTP library's types. Header names are lowercase.
struct Request {
  std::string method;  //!< "GET", "POST", ...
  std::string target;  //!< as sent: path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

  //! The first header named `name` (lowercase), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

//! `{"error": {"code": code, "message": message}}` with `status`.
Response ErrorResponse(int status, std::string_view code, std::string_view message);

//! 503 `overloaded` with `Retry-After: 1`: a bound was reached (connections, queued requests
//! or writes); nothing of the request was done, and a client (a webhook sender) retries.
Response OverloadedResponse(std::string_view message);

}  // namespace hookline::http
