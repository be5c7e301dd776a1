#include "hookline/api/cursors.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "hookline/util/crypto.hpp"

namespace hookline::api {

namespace json = boost::json;

namespace {

Problem NotACursor() {
  return Problem{400, "invalid_parameter", "'after' is not a cursor this API returned"};
}

}  // namespace

std::string FormatSeqCursor(std::int64_t seq) { return std::to_string(seq); }

std::variant<std::int64_t, Problem> ParseSeqCursor(std::string_view after) {
  std::int64_t seq = 0;
  // from_chars, unlike std::stoll, refuses a sign, leading spaces and trailing garbage.
  const auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), seq);
  if (after.empty() || after.front() == '-' || ec != std::errc{} || end != after.data() + after.size()) {
    return NotACursor();
  }
  return seq;
}

std::string FormatReplyCursor(const ReplyCursor& cursor) {
  return crypto::HexEncode(json::serialize(json::array{
      cursor.replied_at, json::string(cursor.lead_id), json::string(cursor.campaign_id), json::string(cursor.event),
      json::string(cursor.company_id)}));
}

std::variant<ReplyCursor, Problem> ParseReplyCursor(std::string_view after) {
  const auto decoded = crypto::HexDecode(after);
  if (!decoded) return NotACursor();
  boost::system::error_code ec;
  // Serializing passes a string's bytes through unchecked, so reading must not check them
  // either: a cursor over any id (found by cursor_fuzz) reads back.
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  const json::value value = json::parse(*decoded, ec, {}, options);
  const auto* items = ec ? nullptr : value.if_array();
  if (items == nullptr || items->size() != 5 || !(*items)[0].is_int64() || !(*items)[1].is_string() ||
      !(*items)[2].is_string() || !(*items)[3].is_string() || !(*items)[4].is_string()) {
    return NotACursor();
  }
  return ReplyCursor{(*items)[0].get_int64(), std::string((*items)[1].get_string()),
                     std::string((*items)[2].get_string()), std::string((*items)[3].get_string()),
                     std::string((*items)[4].get_string())};
}

}  // namespace hookline::api
