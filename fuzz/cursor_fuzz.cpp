// libFuzzer target for the list cursors clients send back as ?after=: any text parses or
// is refused with 400 invalid_parameter, never a throw; what parses reads back the same after
// formatting; and every cursor the API can make parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/api/cursors.hpp"

namespace {

using namespace hookline::api;

void Require(bool condition) {
  if (!condition) std::abort();
}

void RequireRefusal(const hookline::Problem& p) {
  Require(p.status == 400 && p.code == "invalid_parameter" && p.message.find("'after'") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  auto seq = ParseSeqCursor(text);
  if (auto* p = std::get_if<hookline::Problem>(&seq)) {
    RequireRefusal(*p);
  } else {
    const std::int64_t n = std::get<std::int64_t>(seq);
    Require(n >= 0);
    Require(std::get<std::int64_t>(ParseSeqCursor(FormatSeqCursor(n))) == n);
  }

  auto reply = ParseReplyCursor(text);
  if (auto* p = std::get_if<hookline::Problem>(&reply)) {
    RequireRefusal(*p);
  } else {
    const auto& c = std::get<ReplyCursor>(reply);
    Require(std::get<ReplyCursor>(ParseReplyCursor(FormatReplyCursor(c))) == c);
  }

  // The same bytes as the parts of a cursor the API made.
  FuzzedDataProvider in(data, size);
  ReplyCursor made;
  made.replied_at = in.ConsumeIntegral<std::int64_t>();
  made.lead_id = in.ConsumeRandomLengthString(256);
  made.campaign_id = in.ConsumeRandomLengthString(256);
  made.event = in.ConsumeRandomLengthString(256);
  made.company_id = in.ConsumeRemainingBytesAsString();
  auto back = ParseReplyCursor(FormatReplyCursor(made));
  Require(std::holds_alternative<ReplyCursor>(back) && std::get<ReplyCursor>(back) == made);
  const auto n = made.replied_at < 0 ? -(made.replied_at + 1) : made.replied_at;
  Require(std::get<std::int64_t>(ParseSeqCursor(FormatSeqCursor(n))) == n);
  return 0;
}
