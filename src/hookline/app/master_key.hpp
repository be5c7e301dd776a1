#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hookline::app {

//! The 32-byte master key that seals secrets at rest, from `env_value` (base64 of 32 bytes,
//! e.g. HOOKLINE_MASTER_KEY) when set, else from `key_file`. Creates nothing: returns
//! nullopt when neither is there and the file can be made (CreateMasterKeyFile then makes
//! it). Throws std::runtime_error with a clear message when a value is malformed, the file
//! cannot be read, or its folder cannot take a new file.
std::optional<std::string> ReadMasterKey(const std::optional<std::string>& env_value,
                                         const std::string& key_file);

//! Makes `key_file` with mode 0600 and a fresh random key, syncs it and its folder, and
//! warns that `sealed_what` (e.g. "endpoint secrets") cannot be read without it. Throws
//! std::runtime_error when the file exists or cannot be made.
std::string CreateMasterKeyFile(const std::string& key_file, std::string_view sealed_what);

//! ReadMasterKey, or else CreateMasterKeyFile.
std::string LoadOrCreateMasterKey(const std::optional<std::string>& env_value,
                                  const std::string& key_file, std::string_view sealed_what);

}  // namespace hookline::app
