#include "hookline/util/json_text.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>

#include <boost/json.hpp>

namespace hookline {
namespace {

namespace json = boost::json;

std::string Js(double d) {
  std::string out;
  AppendJsNumber(out, d);
  return out;
}

json::value Exact(std::string_view text) {
  boost::system::error_code ec;
  json::value v = ParseJsonExact(text, ec);
  EXPECT_FALSE(ec) << text << ": " << ec.message();
  return v;
}

// Issue 18: action_data {"score": 1.5, "big": 1e300, "n": -0.0} was stored and delivered as
// 1.5E0, 1E300, -0E0.
TEST(JsonText, DoublesAreWrittenAsJavaScriptWritesThem) {
  EXPECT_EQ(Js(1.5), "1.5");
  EXPECT_EQ(Js(1e300), "1e+300");
  EXPECT_EQ(Js(-0.0), "0");
  EXPECT_EQ(Js(0.0), "0");
  EXPECT_EQ(Js(1e-7), "1e-7");
  EXPECT_EQ(Js(0.000001), "0.000001");
  EXPECT_EQ(Js(100.0), "100");
  EXPECT_EQ(Js(123456789012.0), "123456789012");
  EXPECT_EQ(Js(1e21), "1e+21");
  EXPECT_EQ(Js(1e20), "100000000000000000000");
  EXPECT_EQ(Js(-1.5e-10), "-1.5e-10");
  EXPECT_EQ(Js(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Js(123.456), "123.456");
  EXPECT_EQ(Js(1.25e-7), "1.25e-7");
  EXPECT_EQ(Js(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(Js(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(Js(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(Js(std::numeric_limits<double>::quiet_NaN()), "null");

  EXPECT_EQ(StringifyJson(Exact(R"({"score": 1.5, "big": 1e300, "n": -0.0, "i": 100, "d": 100.0})")),
            R"({"score":1.5,"big":1e+300,"n":0,"i":100,"d":100})");
  EXPECT_EQ(StringifyJson(json::value(1.0)), "1");  // an API's success_rate was 1E0
}

TEST(JsonText, EverythingButDoublesIsWrittenAsBoostJsonWritesIt) {
  const json::value v = json::parse(
      R"({"s": "q\"\\/\u0001\u001f\n\t é \u2028 😀", "i": -9223372036854775808, "u": 18446744073709551615,
          "t": true, "f": false, "n": null, "o": {}, "a": [], "nested": {"k": [1, {"x": "y"}, []]}})");
  EXPECT_EQ(StringifyJson(v), json::serialize(v));
  EXPECT_EQ(StringifyJson(v.get_object()), json::serialize(v));
  EXPECT_EQ(StringifyJson(json::value("plain")), "\"plain\"");
  EXPECT_EQ(StringifyJson(json::parse(R"({"a": [1, {}], "b": {"c": []}})"), 2),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": []\n  }\n}");
}

// Boost.JSON 1.81 reads some 16- and 17-digit numbers an ulp off, so a number a JavaScript
// client sent was written back other than it came.
TEST(JsonText, ParseJsonExactReadsTheDoubleNearestToTheText) {
  for (std::string_view text : {"12.100000000000001", "5.409760742964738e+124", "1.3927926388013963e-143",
                                "7.1428571428571436e-06", "0.30000000000000004", "5e-324",
                                "2.2250738585072014e-308", "1.7976931348623157e308"}) {
    double nearest = 0;
    std::from_chars(text.data(), text.data() + text.size(), nearest);
    const json::value v = Exact(text);
    ASSERT_TRUE(v.is_double()) << text;
    EXPECT_EQ(v.get_double(), nearest) << text;
    EXPECT_EQ(Js(v.get_double()), text.find('e') == std::string_view::npos ? std::string(text) : Js(nearest));
  }
  EXPECT_EQ(StringifyJson(Exact(R"([12.100000000000001, 5.409760742964738e+124])")),
            "[12.100000000000001,5.409760742964738e+124]");
  EXPECT_NE(json::parse("12.100000000000001").get_double(), Exact("12.100000000000001").get_double())
      << "Boost.JSON reads it exactly now: ParseJsonExact may be no longer needed";

  EXPECT_TRUE(Exact("100").is_int64());
  EXPECT_TRUE(Exact("18446744073709551615").is_uint64());
  EXPECT_TRUE(std::isinf(Exact("1e999").get_double()));
  EXPECT_EQ(Exact("1e-400").get_double(), 0.0);
  EXPECT_EQ(Exact(R"({"a": [1, "x", null, true], "b": {"c": 2.5}})"),
            json::parse(R"({"a": [1, "x", null, true], "b": {"c": 2.5}})"));
}

TEST(JsonText, ParseJsonExactFailsAsBoostJsonDoes) {
  for (std::string_view text : {"", "{", "{} x", "[1,]", "\"\xff\"", "nul", "01", "[1e]"}) {
    boost::system::error_code ec;
    const json::value v = ParseJsonExact(text, ec);
    EXPECT_TRUE(ec) << text;
    EXPECT_TRUE(v.is_null()) << text;
  }
  json::parse_options shallow;
  shallow.max_depth = 2;
  boost::system::error_code ec;
  ParseJsonExact("[[[1]]]", ec, {}, shallow);
  EXPECT_EQ(ec, json::error::too_deep);
  ParseJsonExact(" [[1.5]] ", ec, {}, shallow);
  EXPECT_FALSE(ec);
  // The result lives in the storage given.
  json::monotonic_resource arena;
  const json::value v = ParseJsonExact(R"({"a": [1.5]})", ec, &arena);
  EXPECT_EQ(v.storage().get(), &arena);
}

// Bytes that are not UTF-8 in a string (a header or a path a client sent) made the whole
// answer invalid JSON; each is written as U+FFFD.
TEST(JsonText, StringsThatAreNotUtf8AreWrittenWithReplacementCharacters) {
  EXPECT_EQ(ToValidUtf8("M\xfcller"), "M\xef\xbf\xbdller");
  EXPECT_EQ(ToValidUtf8("ok \xc3\xa9"), "ok \xc3\xa9");
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  const std::string text = StringifyJson(boost::json::object{{"k\xff", "v\xfe"}});
  EXPECT_EQ(text, "{\"k\xef\xbf\xbd\":\"v\xef\xbf\xbd\"}");
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  EXPECT_FALSE(ec);
}

TEST(JsonText, IsValidUtf8FollowsUnicodeTable3_7) {
  struct Case {
    std::string_view bytes;
    bool valid;
  };
  const Case cases[] = {
      {"", true},
      {"plain ascii", true},
      {"\x7f", true},
      {"caf\xc3\xa9", true},                // é
      {"\xe2\x82\xac", true},               // €
      {"\xf0\x9f\x98\x80", true},           // U+1F600
      {"\xef\xbf\xbf", true},               // U+FFFF
      {"\xf4\x8f\xbf\xbf", true},           // U+10FFFF
      {"\xed\x9f\xbf", true},               // U+D7FF, just below the surrogates
      {"\xee\x80\x80", true},               // U+E000, just above
      {"\x80", false},                      // a lone continuation byte
      {"\xbf", false},
      {"\xc0\x80", false},                  // overlong NUL
      {"\xc1\xbf", false},                  // overlong
      {"\xe0\x80\x80", false},              // overlong
      {"\xe0\x9f\xbf", false},              // overlong
      {"\xf0\x80\x80\x80", false},          // overlong
      {"\xf0\x8f\xbf\xbf", false},          // overlong
      {"\xed\xa0\x80", false},              // U+D800, a surrogate
      {"\xed\xbf\xbf", false},              // U+DFFF
      {"\xf4\x90\x80\x80", false},          // U+110000
      {"\xf5\x80\x80\x80", false},
      {"\xff", false},
      {"\xfe\xff", false},
      {"\xc3", false},                      // truncated
      {"\xe2\x82", false},
      {"\xf0\x9f\x98", false},
      {"ok\xc3(", false},                   // a continuation byte missing
      {"\xe2\x28\xa1", false},
      {std::string_view("a\0b", 3), true},  // NUL is a character
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsValidUtf8(c.bytes), c.valid) << testing::PrintToString(std::string(c.bytes));
  }
}

}  // namespace
}  // namespace hookline
