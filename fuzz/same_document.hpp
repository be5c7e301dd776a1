// What the fuzz targets compare a document with after writing it as JSON text and reading it
// back (util/json_text): the same document, keys in the same order. Not symmetric: `a` is
// the document written, `b` the one read back.
#pragma once

#include <cmath>
#include <cstring>

#include <boost/json.hpp>

namespace hookline::fuzz {

namespace json = boost::json;

// Equal, doubles bit for bit, except that -0 reads back as the integer 0 and a non-finite
// double as null.
inline bool SameDocument(const json::value& a, const json::value& b) {
  if (a.is_double()) {
    const double x = a.get_double();
    if (!std::isfinite(x)) return b.is_null();
    if (x == 0) return b.is_int64() && b.get_int64() == 0;
    if (b.is_int64()) return static_cast<double>(b.get_int64()) == x;  // 100.0 is written 100
    if (b.is_uint64()) return static_cast<double>(b.get_uint64()) == x;
    if (!b.is_double()) return false;
    const double y = b.get_double();
    return std::memcmp(&x, &y, sizeof x) == 0;
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

}  // namespace hookline::fuzz
