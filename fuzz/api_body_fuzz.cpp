// libFuzzer target for what the APIs read from a request before touching the store: the
// query string (?limit=, ?after=, ?since=/?until=, and the cursors) through the router, and
// any body through ParseObjectBody and the field readers of every route (strings, endpoint
// headers, event_types, rate_limit_per_s, the activity body). Never a throw (which the server
// would answer with a 500); a refusal is a 4xx with a code and a message; what is accepted
// keeps its documented bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include <boost/json.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/api/cursors.hpp"
#include "hookline/api/endpoint_fields.hpp"
#include "hookline/api/json_io.hpp"
#include "hookline/api/router.hpp"
#include "hookline/provider/activity_request.hpp"
#include "hookline/util/ids.hpp"

namespace {

namespace json = boost::json;
using namespace hookline;
using namespace hookline::api;

void Require(bool condition) {
  if (!condition) std::abort();
}

void RequireRefusal(const Problem& p) {
  Require(p.status >= 400 && p.status < 500 && !p.code.empty() && !p.message.empty());
}

// Unwraps a reader's answer: the value, or nullptr after checking the refusal.
template <class T>
const T* Accepted(const std::variant<T, Problem>& answer) {
  if (const auto* p = std::get_if<Problem>(&answer)) RequireRefusal(*p);
  return std::get_if<T>(&answer);
}

// A GET route that reads every list parameter the way the list routes do.
http::Response ReadListQuery(RouteContext& ctx) {
  HL_TRY(page, ParseListParams(ctx));
  Require(page.limit >= 1 && page.limit <= 500);
  HL_TRY(since, ParseTimeParam(ctx, "since"));
  HL_TRY(until, ParseTimeParam(ctx, "until"));
  if (page.after) {
    auto seq = ParseSeqCursor(*page.after);
    auto reply = ParseReplyCursor(*page.after);
    if (auto* p = std::get_if<Problem>(&seq)) return ProblemResponse(*p);
    if (auto* p = std::get_if<Problem>(&reply)) return ProblemResponse(*p);
  }
  return JsonResponse(200, json::object{{"since", since ? json::value(*since) : nullptr},
                                        {"until", until ? json::value(*until) : nullptr}});
}

void CheckBody(const json::object& body) {
  for (const char* key : {"name", "url", "secret", "email", "since", "until", "endpoint_id", "event"}) {
    const auto required = RequiredString(body, key, 64);
    if (const auto* s = Accepted(required)) {
      Require(!s->empty() && s->size() <= 64 && body.at(key).get_string() == *s);
    }
    const auto optional = OptionalString(body, key, 64);
    if (const auto* s = Accepted(optional); s && *s) {
      Require((*s)->size() <= 64 && body.at(key).get_string() == **s);
    }
  }
  const auto headers = ParseHeaders(body);
  if (const auto* h = Accepted(headers); h && *h) {
    Require((*h)->size() <= 32);
    for (const auto& [name, value] : **h) {
      Require(!name.empty() && name.size() <= 128 && name != "webhook-signature");
      for (char c : name) Require(!(c >= 'A' && c <= 'Z'));
      Require(value.find_first_of("\r\n") == std::string::npos);
    }
  }
  const auto types = ParseEventTypes(body);
  if (const auto* t = Accepted(types); t && *t) {
    Require((*t)->empty() || (*t)->size() <= body.at("event_types").get_array().size());
  }
  const auto rate = ParseRateLimit(body);
  if (const auto* r = Accepted(rate); r && *r && **r) {
    Require(***r >= 1 && ***r <= 100'000);
  }
  const auto activity = provider::ParseActivityRequest(json::value(body));
  if (const auto* a = Accepted(activity)) {
    Require(a->spec != nullptr && IsValidDomainId(a->campaign_id) && IsValidDomainId(a->lead_id) &&
            IsValidDomainId(a->sender_id));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  static const Router router = [] {
    Router r;
    r.Add("GET", "/v1/list", ReadListQuery);
    return r;
  }();
  http::Request get;
  get.method = "GET";
  get.target = "/v1/list?" + in.ConsumeRandomLengthString(512);
  const http::Response listed = router.Route(get);
  Require(listed.status == 200 || listed.status == 400);
  if (listed.status == 400) {
    const json::value error = json::parse(listed.body);
    Require(!error.at("error").at("code").as_string().empty());
  }

  http::Request post;
  post.method = "POST";
  const bool allow_empty = in.ConsumeBool();
  post.body = in.ConsumeRemainingBytesAsString();
  auto body = ParseObjectBody(post, allow_empty);
  if (const auto* object = Accepted(body)) CheckBody(*object);
  return 0;
}
