// hookline's JSON writer against node's own JSON.stringify: doubles byte for byte over a table
// (tiny, huge, negative, integral, subnormal, the boundaries of the notation, powers of ten,
// random bit patterns with a fixed seed), and whole documents read by both sides.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "harness.hpp"
#include "hookline/util/json_text.hpp"

namespace hookline::itest {
namespace {

double FromText(const std::string& text) {
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  return d;
}

std::vector<double> DoubleTable() {
  using limits = std::numeric_limits<double>;
  std::vector<double> table = {
      0.0, -0.0, 1.0, -1.0, 1.5, -1.5, 0.1, 0.2, 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 100.0, 123456789012.0,
      1e21, 1e20, 1e-7, 1e-6, 0.000001, 1.5e-7, 123e-20, 9007199254740992.0, 9007199254740994.0,
      18446744073709551616.0, 1e300, -1e300, 1.7976931348623157e308, limits::max(), limits::lowest(),
      limits::min(), -limits::min(), limits::denorm_min(), -limits::denorm_min(),
      2.2250738585072009e-308,  // the largest subnormal
      limits::quiet_NaN(), limits::infinity(), -limits::infinity(), 12.100000000000001,
      5.409760742964738e+124, 0.30000000000000004, 4.35, 0.5, 2.5, 1e15, 1e16, 1e17, 123456789.125};
  // Each side of the notation's boundaries.
  for (double edge : {1e21, 1e-7, 1e-6, 1e20, 1.0, 1e15, 1e16}) {
    for (double d = edge, i = 0; i < 3; ++i) d = std::nextafter(d, 0.0), table.push_back(d);
    for (double d = edge, i = 0; i < 3; ++i) d = std::nextafter(d, limits::infinity()), table.push_back(d);
  }
  for (int e = -325; e <= 309; ++e) {
    for (const char* mantissa : {"1", "1.5", "-7.25", "9.999999999999999", "4.9"}) {
      table.push_back(FromText(fmt::format("{}e{}", mantissa, e)));
    }
  }
  std::mt19937_64 random(20260318);
  for (int i = 0; i < 4000; ++i) {
    std::uint64_t bits = random();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    table.push_back(d);
  }
  std::uniform_int_distribution<int> power(0, 70);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (int i = 0; i < 1000; ++i) {
    table.push_back(std::floor(std::ldexp(unit(random), power(random))));  // integral
    table.push_back(std::round(unit(random) * 1e6) / 100);                  // cents
    table.push_back(unit(random) * std::pow(10.0, power(random) - 35));
  }
  return table;
}

// Number texts as a sender may spell them: as JavaScript does, shortest, 15 and 17
// significant digits, 21 digits in exponent form, and a few literal spellings. Left out: a
// whole number of more than 15 digits spelled without a point or an exponent, which is read
// as an integer and written back as it came, where JavaScript would round it to a double
// (JSON.stringify itself never writes one that a double would not read back the same).
std::vector<std::string> NumberTexts() {
  std::vector<std::string> texts;
  auto add = [&texts](std::string text) {
    const bool integer = text.find_first_of(".eE") == std::string::npos;
    if (!integer || text.size() - (text[0] == '-') <= 15) texts.push_back(std::move(text));
  };
  for (const char* text : {"1.5", "1e300", "-0.0", "-0", "0e0", "1E2", "1.0", "100", "1e-7", "1e21", "1e20",
                           "1e999", "-1e999", "1e-400", "5e-324", "0.1", "12.100000000000001", "123456789012",
                           "2.4703282292062328e-324", "1.7976931348623158e308", "9007199254740993.0",
                           "53165205877497300", "-123456789012345"}) {
    texts.emplace_back(text);
  }
  std::mt19937_64 random(7);
  for (int i = 0; i < 1500; ++i) {
    std::uint64_t bits = random();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    std::string as_javascript;
    AppendJsNumber(as_javascript, d);
    texts.push_back(as_javascript);
    char shortest[32];
    add(std::string(shortest, std::to_chars(shortest, shortest + sizeof shortest, d).ptr));
    add(fmt::format("{:.15g}", d));
    add(fmt::format("{:.17g}", d));
    add(fmt::format("{:.20e}", d));
  }
  for (int i = 0; i < 500; ++i) add(fmt::format("{:.17g}", static_cast<double>(i) * 0.1 + 0.2));
  return texts;
}

TEST(JsonNumbers, DoublesAndDocumentsAreWrittenAsJavaScriptWritesThem) {
  const std::vector<double> doubles = DoubleTable();
  json::array bits;
  for (double d : doubles) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    bits.emplace_back(fmt::format("{:016x}", b));
  }
  json::array documents;
  for (const auto& n : NumberTexts()) {
    documents.emplace_back(fmt::format(R"({{"a": [{0}, {{"b": {0}, "e": {{}}, "z": []}}], "s": "q\"\\/\u0001\n\t é", "n": {0}}})", n));
  }
  TempDir dir;
  const std::string input = dir.File("input.json");
  std::ofstream(input) << json::serialize(json::object{{"bits", bits}, {"documents", documents}});

  std::string out, err;
  ASSERT_EQ(RunCommand({"/usr/bin/env", "node", JsDir() + "/stringify_numbers.cjs", input}, &out, &err), 0) << err;
  const json::object node = json::parse(out).as_object();

  int mismatches = 0;
  const auto& numbers = node.at("numbers").as_array();
  ASSERT_EQ(numbers.size(), doubles.size());
  for (size_t i = 0; i < doubles.size(); ++i) {
    std::string ours;
    AppendJsNumber(ours, doubles[i]);
    if (ours != numbers[i].as_string() && ++mismatches <= 10) {
      ADD_FAILURE() << "bits " << bits[i].as_string() << ": node " << numbers[i].as_string() << ", ours " << ours;
    }
  }
  const auto& pretty = node.at("pretty").as_array();
  const auto& compact = node.at("compact").as_array();
  ASSERT_EQ(pretty.size(), documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    boost::system::error_code ec;
    const json::value v = ParseJsonExact(documents[i].as_string(), ec);
    ASSERT_FALSE(ec) << documents[i].as_string();
    for (const auto& [indent, theirs] : {std::pair{2, &pretty[i]}, std::pair{0, &compact[i]}}) {
      const std::string ours = StringifyJson(v, indent);
      if (ours != theirs->as_string() && ++mismatches <= 10) {
        ADD_FAILURE() << documents[i].as_string() << "\nnode:\n" << theirs->as_string() << "\nours:\n" << ours;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace hookline::itest
