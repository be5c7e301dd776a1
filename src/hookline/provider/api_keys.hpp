#pragma once

#include <string>
#include <string_view>

namespace hookline::provider {

//! "hlk_" + 32 random bytes in hex: a company's API key. Only its SHA-256 is stored.
std::string NewApiKey();
//! The SHA-256 of `api_key` under which a company's key is stored and looked up.
std::string HashApiKey(std::string_view api_key);

}  // namespace hookline::provider
