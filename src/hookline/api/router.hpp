#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hookline/http/message.hpp"

namespace hookline::api {

//! A request with its target parsed: decoded path parameters and query parameters.
struct RouteContext {
  const http::Request& request;
  std::vector<std::string> params;                      //!< the `{}` segments, in order
  std::unordered_map<std::string, std::string> query;   //!< decoded; last value wins

  std::optional<std::string_view> Query(std::string_view key) const;
};

using RouteHandler = std::function<http::Response(RouteContext&)>;

//! Maps method + path pattern ("/v1/campaigns/{}/leads/{}") to handlers. Unknown paths get 404,
//! a known path with another method 405, an unparsable target 400.
class Router {
 public:
  void Add(std::string_view method, std::string_view pattern, RouteHandler handler);
  http::Response Route(const http::Request& request) const;

 private:
  struct RouteEntry {
    std::string method;
    std::vector<std::string> segments;  //!< "{}" matches any one segment
    RouteHandler handler;
  };
  std::vector<RouteEntry> routes_;
};

}  // namespace hookline::api
