// libFuzzer target for the webhook parser: any bytes must parse or fail cleanly, and what
// parses must render to JSON that parses again to the same document, keys in the same order.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "hookline/model/codec.hpp"

namespace {

namespace json = boost::json;

// Boost.JSON 1.81 parses doubles with a fast algorithm that may be off by an ulp, so doubles
// are compared with a relative tolerance; everything else, key order included, exactly.
bool SameDocument(const json::value& a, const json::value& b) {
  // A number that overflowed to infinity renders as null (see RenderWebhookJson).
  if (a.is_double() && !std::isfinite(a.get_double())) return b.is_null();
  if (b.is_double() && !std::isfinite(b.get_double())) return a.is_null();
  if (a.is_double() || b.is_double()) {
    if (!a.is_number() || !b.is_number()) return false;
    const double x = a.to_number<double>(), y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    const auto& oa = a.get_object();
    const auto& ob = b.get_object();
    if (oa.size() != ob.size()) return false;
    for (auto ia = oa.begin(), ib = ob.begin(); ia != oa.end(); ++ia, ++ib) {
      if (ia->key() != ib->key() || !SameDocument(ia->value(), ib->value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    const auto& aa = a.get_array();
    const auto& ab = b.get_array();
    if (aa.size() != ab.size()) return false;
    for (std::size_t i = 0; i < aa.size(); ++i) {
      if (!SameDocument(aa[i], ab[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  hookline::model::ParseFailure failure;
  auto event = hookline::model::ParseWebhook(body, &failure);
  if (!event) return 0;
  const std::string rendered = hookline::model::RenderWebhookJson(event->document);
  auto again = hookline::model::ParseWebhook(rendered, &failure);
  if (!again || again->event != event->event ||
      !SameDocument(json::value(again->document), json::value(event->document))) {
    std::abort();
  }
  (void)event->ActionData();
  (void)event->LeadObject();
  return 0;
}
