#include "hookline/api/router.hpp"

#include <boost/url/parse.hpp>

namespace hookline::api {

std::optional<std::string_view> RouteContext::Query(std::string_view key) const {
  auto it = query.find(std::string(key));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

void Router::Add(std::string_view method, std::string_view pattern, RouteHandler handler) {
  RouteEntry route{std::string(method), {}, std::move(handler)};
  while (!pattern.empty()) {
    if (pattern.front() == '/') pattern.remove_prefix(1);
    const size_t slash = pattern.find('/');
    route.segments.emplace_back(pattern.substr(0, slash));
    pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash);
  }
  routes_.push_back(std::move(route));
}

http::Response Router::Route(const http::Request& request) const {
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return http::ErrorResponse(400, "bad_request", "the request target is not a valid path");
  std::vector<std::string> segments;
  for (auto segment : parsed->segments()) segments.emplace_back(segment);
  if (!segments.empty() && segments.back().empty()) segments.pop_back();  // trailing slash

  bool path_known = false;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (route.segments[i] == "{}") {
        params.push_back(segments[i]);
      } else if (route.segments[i] != segments[i]) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    path_known = true;
    if (route.method != request.method) continue;
    RouteContext context{request, std::move(params), {}};
    for (auto param : parsed->params()) context.query[param.key] = param.value;
    return route.handler(context);
  }
  if (path_known) {
    return http::ErrorResponse(405, "method_not_allowed",
                               request.method + " is not allowed on this path");
  }
  return http::ErrorResponse(404, "not_found", "no such route: " + request.method + " " +
                                                   std::string(parsed->path()));
}

}  // namespace hookline::api
