// libFuzzer target for hookline's JSON text (util/json_text): doubles must be written as
// ECMAScript's Number::toString writes them, and the UTF-8 check must agree with Boost.JSON's.
//  - The first 8 bytes, as a double: the text reads back as the same double (bit for bit; -0
//    as 0, NaN and the infinities as null), has the fewest digits (std::to_chars's shortest),
//    and follows the grammar: exponent form (lowercase e, explicit sign) exactly when the
//    decimal exponent is below -6 or above 20, no leading '+', no superfluous zeros.
//  - All the bytes as JSON: what parses is written compact and with an indent, and each reads
//    back (ParseJsonExact) as the same document, every double as above.
//  - All the bytes as the inside of a JSON string (when they hold no quote, backslash or
//    control character): IsValidUtf8 says yes exactly when Boost.JSON parses the string.
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "same_document.hpp"

#include "hookline/util/json_text.hpp"

namespace {

namespace json = boost::json;
using hookline::fuzz::SameDocument;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Digits without leading zeros: "0" or [1-9][0-9]*.
bool IsWhole(std::string_view s) { return !s.empty() && (s == "0" || (s[0] != '0' && s.find_first_not_of("0123456789") == std::string_view::npos)); }

void CheckNumber(double d, const std::string& text) {
  if (!std::isfinite(d)) {
    if (text != "null") std::abort();
    return;
  }
  if (d == 0) {
    if (text != "0") std::abort();
    return;
  }
  // Reads back to the identical double.
  double back = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
  if (ec != std::errc{} || end != text.data() + text.size()) std::abort();
  if (std::memcmp(&back, &d, sizeof d) != 0) std::abort();

  // The shortest digits and the decimal exponent, from std::to_chars.
  char sci[32];
  const char* sci_end = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific).ptr;
  std::string digits;
  const char* p = sci + (sci[0] == '-');
  for (; *p != 'e'; ++p) {
    if (*p != '.') digits += *p;
  }
  int exponent = 0;
  const char* exp_text = p + 1 + (p[1] == '+');
  std::from_chars(exp_text, sci_end, exponent);

  std::string_view s(text);
  if (d < 0) {
    if (s[0] != '-') std::abort();
    s.remove_prefix(1);
  }
  if (s.empty() || s[0] == '+' || s[0] == '-') std::abort();
  const size_t e = s.find('e');
  const bool exponent_form = exponent < -6 || exponent > 20;
  if ((e != std::string_view::npos) != exponent_form) std::abort();
  std::string_view mantissa = s.substr(0, e);
  if (exponent_form) {
    // d[.ddd]e±x, lowercase e, explicit sign, no leading zeros in x.
    const std::string_view exp = s.substr(e + 1);
    if (exp.size() < 2 || (exp[0] != '+' && exp[0] != '-') || !IsWhole(exp.substr(1))) std::abort();
    int written = 0;
    std::from_chars(exp.data() + 1, exp.data() + exp.size(), written);
    if ((exp[0] == '-' ? -written : written) != exponent) std::abort();
    if (!IsDigit(mantissa[0]) || mantissa[0] == '0') std::abort();
    if (mantissa.size() > 1 && (mantissa[1] != '.' || mantissa.size() < 3)) std::abort();
  }
  // No superfluous zeros: a fraction does not end in 0, an integer part has no leading 0.
  const size_t dot = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, dot);
  if (!IsWhole(whole)) std::abort();
  if (dot != std::string_view::npos) {
    const std::string_view fraction = mantissa.substr(dot + 1);
    if (fraction.empty() || fraction.back() == '0' || fraction.find_first_not_of("0123456789") != std::string_view::npos) {
      std::abort();
    }
  }
  // The same significant digits as the shortest: strip the point, the leading zeros and, in
  // a whole number, the zeros that only place it.
  std::string significant;
  for (char c : mantissa) {
    if (c != '.') significant += c;
  }
  significant.erase(0, significant.find_first_not_of('0'));
  if (dot == std::string_view::npos && !exponent_form) significant.erase(significant.find_last_not_of('0') + 1);
  if (significant != digits) std::abort();
}

void CheckDoubles(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: {
      std::string text;
      hookline::AppendJsNumber(text, v.get_double());
      CheckNumber(v.get_double(), text);
      return;
    }
    case json::kind::object:
      for (const auto& kv : v.get_object()) CheckDoubles(kv.value());
      return;
    case json::kind::array:
      for (const auto& item : v.get_array()) CheckDoubles(item);
      return;
    default:
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  if (size >= sizeof(double)) {
    double d;
    std::memcpy(&d, data, sizeof d);
    std::string text;
    hookline::AppendJsNumber(text, d);
    CheckNumber(d, text);
  }

  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  const json::value doc = hookline::ParseJsonExact(bytes, ec, {}, options);
  if (!ec) {
    CheckDoubles(doc);
    for (int indent : {0, 2}) {
      const std::string text = hookline::StringifyJson(doc, indent);
      const json::value again = hookline::ParseJsonExact(text, ec, {}, options);
      if (ec || !SameDocument(doc, again)) std::abort();
    }
  }

  bool plain = true;
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\' || c < 0x20) plain = false;
  }
  if (plain) {
    json::parse("\"" + std::string(bytes) + "\"", ec);
    if (hookline::IsValidUtf8(bytes) != !ec) std::abort();
  }
  return 0;
}
