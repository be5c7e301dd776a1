#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace hookline::crypto {

//! Raw SHA-256 digest (32 bytes) of `data`.
std::string Sha256(std::string_view data);
//! Raw SHA-256 of the concatenation of `parts`, without building it.
std::string Sha256Concat(std::initializer_list<std::string_view> parts);
//! Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
//! Raw HMAC-SHA256 (32 bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
//! Raw HMAC-SHA256 of the concatenation of `parts`, without building it.
std::string HmacSha256Concat(std::string_view key, std::initializer_list<std::string_view> parts);

//! Standard base64 with padding.
std::string Base64Encode(std::string_view data);
//! Decodes standard base64 (padding required when the length needs it). nullopt if invalid.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view data);
//! Lowercase or uppercase hex to bytes; nullopt when not hex.
std::optional<std::string> HexDecode(std::string_view text);

//! `n` bytes from the OpenSSL CSPRNG. Throws std::runtime_error if the CSPRNG fails.
std::string RandomBytes(size_t n);

//! Compares in time independent of where the inputs differ (equal lengths) .
bool ConstantTimeEquals(std::string_view a, std::string_view b);

//! AES-256-GCM sealing of small secrets at rest. The sealed form is
//! nonce(12) || ciphertext || tag(16). Thread-safe; the key is copied.
class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;
  explicit SecretBox(std::string key);  // key must be 32 bytes (checked, throws)

  std::string Seal(std::string_view plaintext) const;
  //! nullopt when the data was not sealed under this key or was altered.
  std::optional<std::string> Open(std::string_view sealed) const;

 private:
  std::string key_;
};

}  // namespace hookline::crypto
