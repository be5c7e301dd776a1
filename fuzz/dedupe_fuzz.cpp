// libFuzzer target for the receiver's duplicate key over any ingest body and any dedupe
// field paths: never a crash or a throw; the key's kind follows the source's configuration;
// it depends only on the named fields (an unrelated field, a re-parse of the same document or
// another webhook-id does not change it), and a named field that changes changes it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <boost/json.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/model/codec.hpp"
#include "hookline/receiver/dedupe_key.hpp"

namespace {

namespace json = boost::json;
using hookline::receiver::DedupeKey;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool HasDouble(const json::value& v) {
  if (v.is_double()) return true;
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      if (HasDouble(kv.value())) return true;
    }
  }
  if (const auto* a = v.if_array()) {
    for (const auto& item : *a) {
      if (HasDouble(item)) return true;
    }
  }
  return false;
}

// The value at a dotted path, for the single-field check below (objects only, as documented).
json::value* Find(json::object& doc, std::string_view path) {
  json::object* o = &doc;
  for (;;) {
    const size_t dot = path.find('.');
    json::value* v = o->if_contains(path.substr(0, dot));
    if (v == nullptr || dot == std::string_view::npos) return v;
    o = v->if_object();
    if (o == nullptr) return nullptr;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  hookline::store::SourceRecord source;
  const int fields = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < fields; ++i) source.dedupe_fields.push_back(in.ConsumeRandomLengthString(64));
  hookline::http::Request request;
  if (in.ConsumeBool()) request.headers.emplace_back("webhook-id", in.ConsumeRandomLengthString(64));
  request.body = in.ConsumeRemainingBytesAsString();

  // As ingest does: the webhook parser's document; else, to reach more paths, any object.
  hookline::model::ParseFailure failure;
  json::object doc;
  if (auto event = hookline::model::ParseWebhook(request.body, &failure)) {
    doc = event->document;
  } else {
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = 32;
    json::value v = json::parse(request.body, ec, {}, options);
    if (ec || !v.is_object()) {
      const std::string key = DedupeKey(source, request, nullptr);
      Require(key.starts_with("id:") || key.starts_with("sha256:"));
      return 0;
    }
    doc = std::move(v.get_object());
  }

  const std::string key = DedupeKey(source, request, &doc);
  if (source.dedupe_fields.empty()) {
    Require(key.starts_with("id:") || key.starts_with("sha256:"));
    return 0;
  }
  Require(key.starts_with("fields:"));

  // Another delivery of the same document: other webhook-id, other bytes.
  hookline::http::Request resend;
  resend.headers.emplace_back("webhook-id", "msg_other");
  Require(DedupeKey(source, resend, &doc) == key);
  if (!HasDouble(doc)) {
    json::parse_options options;
    options.max_depth = 64;  // as deep as the webhook parser allows
    const json::object reparsed = json::parse(json::serialize(doc), {}, options).as_object();
    Require(DedupeKey(source, resend, &reparsed) == key);
  }
  // A field no path starts with changes nothing.
  std::string unrelated = "~";
  for (bool clash = true; clash;) {
    clash = false;
    for (const auto& f : source.dedupe_fields) clash |= f.substr(0, f.find('.')) == unrelated;
    if (clash) unrelated += '~';
  }
  json::object extended = doc;
  extended[unrelated] = "x";
  Require(DedupeKey(source, request, &extended) == key);
  // With one field: changing the value it names changes the key.
  if (source.dedupe_fields.size() == 1) {
    json::object changed = doc;
    if (json::value* v = Find(changed, source.dedupe_fields[0])) {
      *v = json::array{*v};
      Require(DedupeKey(source, request, &changed) != key);
    }
  }
  return 0;
}
