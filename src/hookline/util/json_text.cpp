#include "hookline/util/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value_stack.hpp>

namespace hookline {

namespace json = boost::json;

namespace {

void AppendZeros(std::string& out, int n) { out.append(static_cast<size_t>(n), '0'); }

// Writes values into one string; the scalars other than doubles and the keys go through one
// Boost.JSON serializer and a stack buffer, not a string allocated per field.
class JsonWriter {
 public:
  JsonWriter(std::string& out, int indent) : out_(out), indent_(indent) {}

  void Object(const json::object& o, int depth) {
    Container(o, '{', '}', depth, [&](const json::key_value_pair& kv) {
      String(kv.key());
      out_ += indent_ > 0 ? ": " : ":";
      Value(kv.value(), depth + 1);
    });
  }

  void Value(const json::value& v, int depth) {
    switch (v.kind()) {
      case json::kind::object:
        Object(v.get_object(), depth);
        return;
      case json::kind::array:
        Container(v.get_array(), '[', ']', depth, [&](const json::value& item) { Value(item, depth + 1); });
        return;
      case json::kind::double_:
        AppendJsNumber(out_, v.get_double());
        return;
      case json::kind::string:
        String(v.get_string());
        return;
      default:
        serializer_.reset(&v);
        Drain();
    }
  }

 private:
  // `open`, the items (one indented item per line when indenting), `close`; an empty
  // container on one line.
  template <typename Items, typename WriteItem>
  void Container(const Items& items, char open, char close, int depth, WriteItem&& write_item) {
    out_ += open;
    if (items.empty()) {
      out_ += close;
      return;
    }
    bool first = true;
    for (const auto& item : items) {
      if (!first) out_ += ',';
      first = false;
      NewLine(depth + 1);
      write_item(item);
    }
    NewLine(depth);
    out_ += close;
  }

  void NewLine(int depth) {
    if (indent_ <= 0) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(depth) * static_cast<size_t>(indent_), ' ');
  }

  // A string or key as JSON text. Bytes that are not UTF-8 (a header or a path a client
  // sent) would make the whole document invalid JSON: each is written as U+FFFD, as a
  // decoder such as JavaScript's TextDecoder reads them.
  void String(json::string_view text) {
    if (IsValidUtf8(text)) {
      serializer_.reset(text);
    } else {
      replaced_ = ToValidUtf8(text);
      serializer_.reset(json::string_view(replaced_));
    }
    Drain();
  }

  void Drain() {
    char buffer[256];
    while (!serializer_.done()) out_.append(serializer_.read(buffer));
  }

  std::string& out_;
  const int indent_;
  json::serializer serializer_;
  std::string replaced_;  // a string made valid UTF-8, while the serializer reads it
};

// The handler Boost.JSON's own parser uses (a value_stack fed event by event), except that a
// double is read again from its text with std::from_chars, which rounds correctly.
class ExactNumberHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  ExactNumberHandler(json::storage_ptr temp_storage, unsigned char* buffer, std::size_t size)
      : stack(std::move(temp_storage), buffer, size) {}

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    std::string_view text(s.data(), s.size());
    if (!number_.empty()) {  // the number came in more than one piece
      number_.append(text);
      text = number_;
    }
    double exact = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), exact);
    // Out of range (1e999, 1e-400): keep Boost.JSON's infinity or zero.
    if (ec == std::errc{} && end == text.data() + text.size()) d = exact;
    number_.clear();
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value_stack stack;

 private:
  std::string number_;
};

}  // namespace

void AppendJsNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0) {  // -0 too
    out += '0';
    return;
  }
  // The shortest round-trip digits, as d[.ddd]e±x; then ECMAScript's layout of them
  // (Number::toString, steps 5 to 10) with k digits and the point after n of them.
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  const char* p = buffer;
  if (*p == '-') {
    out += '-';
    ++p;
  }
  char digits[20];
  int k = 0;
  for (; *p != 'e'; ++p) {
    if (*p != '.') digits[k++] = *p;
  }
  ++p;  // 'e'
  const bool negative_exponent = *p == '-';
  ++p;  // the exponent's sign, always written
  int exponent = 0;
  std::from_chars(p, result.ptr, exponent);
  if (negative_exponent) exponent = -exponent;
  const int n = exponent + 1;
  const std::string_view d(digits, static_cast<size_t>(k));
  if (k <= n && n <= 21) {
    out += d;
    AppendZeros(out, n - k);
  } else if (0 < n && n <= 21) {
    out += d.substr(0, static_cast<size_t>(n));
    out += '.';
    out += d.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    AppendZeros(out, -n);
    out += d;
  } else {
    out += d[0];
    if (k > 1) {
      out += '.';
      out += d.substr(1);
    }
    out += n - 1 < 0 ? "e-" : "e+";
    char exp_text[8];
    const auto exp_end = std::to_chars(exp_text, exp_text + sizeof exp_text, std::abs(n - 1)).ptr;
    out.append(exp_text, exp_end);
  }
}

std::string StringifyJson(const json::value& value, int indent) {
  std::string out;
  out.reserve(indent > 0 ? 2048 : 256);
  JsonWriter(out, indent).Value(value, 0);
  return out;
}

std::string StringifyJson(const json::object& object, int indent) {
  std::string out;
  out.reserve(indent > 0 ? 2048 : 256);
  JsonWriter(out, indent).Object(object, 0);
  return out;
}

json::value ParseJsonExact(std::string_view text, boost::system::error_code& ec, json::storage_ptr storage,
                           const json::parse_options& options) {
  // As boost::json::parse does: a stack buffer for the parser's temporaries, the result in
  // `storage`.
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<ExactNumberHandler> parser(options, json::storage_ptr(), temp, sizeof temp);
  parser.handler().stack.reset(std::move(storage));
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return parser.handler().stack.release();
}

namespace {

// The length of the well-formed UTF-8 sequence at `p` (Unicode Table 3-7), or 0 when the
// bytes there are not one.
std::size_t SequenceAt(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = *p;
  if (lead < 0x80) return 1;
  // The lead byte fixes the length and the range of the second byte (which excludes
  // overlong forms, surrogates and code points above U+10FFFF); later bytes are 80..BF.
  int trailing = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    trailing = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    trailing = 2;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    trailing = 3;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (end - p <= trailing) return 0;
  if (p[1] < low || p[1] > high) return 0;
  for (int i = 2; i <= trailing; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return static_cast<std::size_t>(trailing) + 1;
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end) {
    const std::size_t n = SequenceAt(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end) {
    if (const std::size_t n = SequenceAt(p, end); n > 0) {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for the byte that starts no sequence
      ++p;
    }
  }
  return out;
}

}  // namespace hookline
