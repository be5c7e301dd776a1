#pragma once

#include <string>
#include <string_view>

#include "hookline/util/time.hpp"

namespace hookline {

//! A new system-made id: `prefix` + 26 Crockford base32 characters (48-bit millisecond time,
//! then 80 random bits). Ids of one prefix sort by creation time, so they double as cursors.
std::string NewId(std::string_view prefix, Millis now);

//! A random (version 4) UUID in lowercase 8-4-4-4-12 form.
std::string NewUuid();

//! True when `id` is a valid caller-chosen domain id: 1 to 128 printable ASCII characters
//! without '/', whitespace or control characters.
bool IsValidDomainId(std::string_view id);

}  // namespace hookline
