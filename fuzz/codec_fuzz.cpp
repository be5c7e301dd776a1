// libFuzzer target for the webhook parser: any bytes must parse or fail cleanly, and what
// parses must render to JSON that parses again to the same document, keys in the same order,
// doubles bit for bit (the parse is exact and the writer shortest round-trip).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "hookline/model/codec.hpp"
#include "same_document.hpp"

namespace {

namespace json = boost::json;
using hookline::fuzz::SameDocument;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  hookline::model::ParseFailure failure;
  auto event = hookline::model::ParseWebhook(body, &failure);
  if (!event) return 0;
  const std::string rendered = hookline::model::RenderWebhookJson(event->document);
  auto again = hookline::model::ParseWebhook(rendered, &failure);
  if (!again || again->event != event->event ||
      !SameDocument(json::value(event->document), json::value(again->document))) {
    std::abort();
  }
  (void)event->ActionData();
  (void)event->LeadObject();
  return 0;
}
