#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <algorithm>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "hookline/api/router.hpp"
#include "hookline/http/message.hpp"
#include "hookline/util/problem.hpp"

//! In a handler: evaluates `expr` (a variant<T, Problem>); on a Problem returns its error
//! response, else binds the value to `var`.
#define HL_TRY(var, expr)                                                          \
  auto var##_result = (expr);                                                      \
  if (auto* p = std::get_if<Problem>(&var##_result)) return ProblemResponse(*p);   \
  auto var = std::move(std::get<0>(var##_result))

namespace hookline::api {

namespace json = boost::json;

http::Response JsonResponse(int status, const json::value& body);
http::Response ProblemResponse(const Problem& problem);

//! Parses a request body that must be a JSON object. Empty bodies parse as {} when
//! `allow_empty`. Problems: 400 invalid_json, 422 when not an object.
std::variant<json::object, Problem> ParseObjectBody(const http::Request& request,
                                                    bool allow_empty = false);

//! The list answer {"data": [...], "next": cursor | null} from a page fetched with one item
//! more than `limit`: the extra item only tells that there is a next page, whose cursor is the
//! last shown item's.
template <class Item, class View, class Cursor>
json::object ListPage(const std::vector<Item>& items, int limit, View&& view, Cursor&& cursor) {
  const size_t shown = std::min(items.size(), static_cast<size_t>(limit));
  json::array data;
  data.reserve(shown);
  for (size_t i = 0; i < shown; ++i) data.push_back(view(items[i]));
  json::value next = nullptr;
  if (items.size() > shown && shown > 0) next = cursor(items[shown - 1]);
  return {{"data", std::move(data)}, {"next", std::move(next)}};
}

struct ListParams {
  std::optional<std::string> after = std::nullopt;
  int limit = 50;
};
//! Reads ?limit= (1..500, default 50) and ?after=.
std::variant<ListParams, Problem> ParseListParams(const RouteContext& context);

//! Reads an optional ISO-8601 query parameter.
std::variant<std::optional<long long>, Problem> ParseTimeParam(const RouteContext& context,
                                                               std::string_view key);

//! Field readers for request bodies: absent or null -> nullopt; wrong type -> Problem.
std::variant<std::optional<std::string>, Problem> OptionalString(const json::object& body,
                                                                 std::string_view key,
                                                                 size_t max_size = 2048);
std::variant<std::string, Problem> RequiredString(const json::object& body, std::string_view key,
                                                  size_t max_size = 2048);

}  // namespace hookline::api
