#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

//! JSON text as JavaScript writes and reads it. Every JSON hookline writes (webhook bodies, API
//! answers, exports) goes through StringifyJson, so a double always reads as JSON.stringify
//! would write it; every JSON whose doubles are written again is read with ParseJsonExact.
namespace hookline {

//! Appends `value` as ECMAScript's Number::toString writes it, which is what JSON.stringify
//! writes: the fewest digits that read back as `value` (std::to_chars), in plain decimal when
//! the decimal exponent is in [-7, 21) (`100`, `0.000001`, `1.5`), else as `1e+300`,
//! `1.5e-7`; -0 as `0`; NaN and the infinities as `null`. Never fails.
void AppendJsNumber(std::string& out, double value);

//! The JSON text of `value` byte for byte as JSON.stringify(value, null, indent) writes it,
//! keys in the object's own order: indent 0 writes no whitespace at all; otherwise one item
//! per line, `"key": value`, and an empty container as `{}` / `[]`. Doubles as
//! AppendJsNumber (so a non-finite one as null); int64/uint64 as their digits; strings and
//! keys escaped by Boost.JSON's serializer. No trailing newline. Never fails.
std::string StringifyJson(const boost::json::value& value, int indent = 0);
//! The same for an object, without first copying it into a json::value.
std::string StringifyJson(const boost::json::object& object, int indent = 0);

//! Parses like boost::json::parse (the whole of `text`, one value; on failure `ec` is set
//! and null returned), except that a number with a fraction or an exponent is the double
//! nearest to its text, as JavaScript reads it (std::from_chars): Boost.JSON 1.81's own
//! conversion is an ulp off for some 16- and 17-digit numbers (`12.100000000000001` reads as
//! 12.1). A number beyond the double range stays as Boost.JSON reads it (1e999: infinity).
//! Allocated from `storage`, which must outlive the result.
boost::json::value ParseJsonExact(std::string_view text, boost::system::error_code& ec,
                                  boost::json::storage_ptr storage = {},
                                  const boost::json::parse_options& options = {});

//! True when `bytes` is well-formed UTF-8 (Unicode 15, table 3-7): no overlong forms, no
//! surrogates, nothing above U+10FFFF, no truncated sequence. Only such bytes can be a JSON
//! string.
bool IsValidUtf8(std::string_view bytes);

//! `bytes` with each byte that starts no well-formed UTF-8 sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view bytes);

}  // namespace hookline
