#pragma once

#include <optional>
#include <string>

namespace hookline::app {

//! The 32-byte master key that seals endpoint secrets. From `env_value` (base64 of 32 bytes,
//! e.g. HOOKLINE_MASTER_KEY) when set; else read from `key_file`, which is created with mode
//! 0600 and a fresh random key on first start. Throws std::runtime_error with a clear
//! message when the value is malformed or the file cannot be read or made.
std::string LoadOrCreateMasterKey(const std::optional<std::string>& env_value,
                                  const std::string& key_file);

}  // namespace hookline::app
