#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hookline::signing {

//! A Standard Webhooks signing secret: "whsec_" + base64 of the raw key bytes.
class WebhookSecret {
 public:
  //! Parses "whsec_<base64>" (the prefix is optional, as the reference libraries accept).
  //! nullopt when the base64 is invalid or the key is shorter than 16 or longer than 64 bytes.
  static std::optional<WebhookSecret> Parse(std::string_view text);
  //! A fresh secret with 32 random bytes.
  static WebhookSecret Generate();

  std::string ToString() const;  //!< "whsec_..."
  const std::string& key() const { return key_; }

 private:
  explicit WebhookSecret(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

//! "v1,<base64 HMAC-SHA256(key, id + '.' + timestamp + '.' + body)>".
std::string Sign(const WebhookSecret& secret, std::string_view msg_id, std::int64_t timestamp,
                 std::string_view body);

//! Space-separated signatures, one per secret, for the webhook-signature header.
std::string SignatureHeader(std::span<const WebhookSecret> secrets, std::string_view msg_id,
                            std::int64_t timestamp, std::string_view body);

enum class VerifyOutcome {
  kValid,
  kMissingHeaders,      //!< webhook-id, -timestamp or -signature absent
  kBadTimestamp,        //!< webhook-timestamp is not an integer
  kTimestampTooOld,     //!< older than the tolerance
  kTimestampTooNew,     //!< further in the future than the tolerance
  kSignatureMismatch,   //!< no v1 entry matches any secret
};

std::string_view DescribeOutcome(VerifyOutcome outcome);

//! Verifies a delivery against any of `secrets`. Entries other than "v1,..." are skipped.
//! Comparison is constant-time. `tolerance_s` <= 0 disables the timestamp check.
VerifyOutcome Verify(std::span<const WebhookSecret> secrets, std::string_view msg_id,
                     std::string_view timestamp_header, std::string_view signature_header,
                     std::string_view body, std::int64_t now_s, std::int64_t tolerance_s);

}  // namespace hookline::signing
