#include "hookline/signing/webhook_signature.hpp"

#include <charconv>

#include "hookline/util/crypto.hpp"

namespace hookline::signing {

namespace {
constexpr std::string_view kPrefix = "whsec_";
}

std::optional<WebhookSecret> WebhookSecret::Parse(std::string_view text) {
  if (text.starts_with(kPrefix)) text.remove_prefix(kPrefix.size());
  auto key = crypto::Base64Decode(text);
  if (!key || key->size() < 16 || key->size() > 64) return std::nullopt;
  return WebhookSecret(std::move(*key));
}

WebhookSecret WebhookSecret::Generate() { return WebhookSecret(crypto::RandomBytes(32)); }

std::string WebhookSecret::ToString() const {
  return std::string(kPrefix) + crypto::Base64Encode(key_);
}

namespace {
std::string Mac(const WebhookSecret& secret, std::string_view msg_id, std::string_view timestamp,
                std::string_view body) {
  return crypto::HmacSha256Concat(secret.key(), {msg_id, ".", timestamp, ".", body});
}
}  // namespace

std::string Sign(const WebhookSecret& secret, std::string_view msg_id, std::int64_t timestamp,
                 std::string_view body) {
  return "v1," + crypto::Base64Encode(Mac(secret, msg_id, std::to_string(timestamp), body));
}

std::string SignatureHeader(std::span<const WebhookSecret> secrets, std::string_view msg_id,
                            std::int64_t timestamp, std::string_view body) {
  std::string header;
  for (const auto& secret : secrets) {
    if (!header.empty()) header += ' ';
    header += Sign(secret, msg_id, timestamp, body);
  }
  return header;
}

std::string_view DescribeOutcome(VerifyOutcome outcome) {
  switch (outcome) {
    case VerifyOutcome::kValid: return "valid";
    case VerifyOutcome::kMissingHeaders: return "missing webhook-id, webhook-timestamp or webhook-signature header";
    case VerifyOutcome::kBadTimestamp: return "webhook-timestamp is not a unix time in seconds";
    case VerifyOutcome::kTimestampTooOld: return "webhook-timestamp is too old";
    case VerifyOutcome::kTimestampTooNew: return "webhook-timestamp is too far in the future";
    case VerifyOutcome::kSignatureMismatch: return "no signature matches";
  }
  return "unknown";
}

VerifyOutcome Verify(std::span<const WebhookSecret> secrets, std::string_view msg_id,
                     std::string_view timestamp_header, std::string_view signature_header,
                     std::string_view body, std::int64_t now_s, std::int64_t tolerance_s) {
  if (msg_id.empty() || timestamp_header.empty() || signature_header.empty()) {
    return VerifyOutcome::kMissingHeaders;
  }
  std::int64_t ts = 0;
  const auto [end, ec] =
      std::from_chars(timestamp_header.data(), timestamp_header.data() + timestamp_header.size(), ts);
  if (ec != std::errc{} || end != timestamp_header.data() + timestamp_header.size()) {
    return VerifyOutcome::kBadTimestamp;
  }
  if (tolerance_s > 0) {
    if (ts < now_s - tolerance_s) return VerifyOutcome::kTimestampTooOld;
    if (ts > now_s + tolerance_s) return VerifyOutcome::kTimestampTooNew;
  }
  bool matched = false;
  for (const auto& secret : secrets) {
    const std::string expected = crypto::Base64Encode(Mac(secret, msg_id, timestamp_header, body));
    std::string_view rest = signature_header;
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      const std::string_view entry = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
      if (!entry.starts_with("v1,")) continue;
      // Every entry is compared (no early exit) so timing says nothing about which matched.
      matched |= crypto::ConstantTimeEquals(entry.substr(3), expected);
    }
  }
  return matched ? VerifyOutcome::kValid : VerifyOutcome::kSignatureMismatch;
}

}  // namespace hookline::signing
