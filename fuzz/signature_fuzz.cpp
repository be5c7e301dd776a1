// libFuzzer target for Standard Webhooks verification: any webhook-id, webhook-timestamp and
// webhook-signature values and any secret text must verify or fail cleanly, a secret that
// parses must render back to itself, and what Sign makes must verify (alone, among other
// entries, with either of two secrets), and only for its own body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/signing/webhook_signature.hpp"

namespace {

using hookline::signing::Sign;
using hookline::signing::SignatureHeader;
using hookline::signing::Verify;
using hookline::signing::VerifyOutcome;
using hookline::signing::WebhookSecret;

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string secret_text = in.ConsumeRandomLengthString(128);
  const std::string id = in.ConsumeRandomLengthString(256);
  const std::string timestamp = in.ConsumeRandomLengthString(64);
  const std::string signature = in.ConsumeRandomLengthString(1024);
  const std::int64_t skew = in.ConsumeIntegralInRange<std::int64_t>(-400, 400);
  const std::string body = in.ConsumeRemainingBytesAsString();

  static const WebhookSecret kOther = *WebhookSecret::Parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  const auto parsed = WebhookSecret::Parse(secret_text);
  if (parsed) {
    Require(parsed->key().size() >= 16 && parsed->key().size() <= 64);
    const auto again = WebhookSecret::Parse(parsed->ToString());
    Require(again && again->key() == parsed->key());
  }
  const WebhookSecret secret = parsed.value_or(kOther);
  const WebhookSecret both[] = {kOther, secret};
  constexpr std::int64_t kNow = 1'700'000'000, kTolerance = 300;

  // Whatever the headers hold: an outcome, never a crash.
  const auto outcome = Verify(both, id, timestamp, signature, body, kNow, kTolerance);
  (void)Verify(both, id, timestamp, signature, body, kNow, 0);
  if (outcome == VerifyOutcome::kValid) Require(!id.empty() && !timestamp.empty() && !signature.empty());

  if (id.empty()) return 0;
  const std::int64_t ts = kNow + skew;
  const std::string ts_text = std::to_string(ts);
  const std::string mine = Sign(secret, id, ts, body);
  const bool in_window = skew >= -kTolerance && skew <= kTolerance;
  const auto expected_outcome = in_window       ? VerifyOutcome::kValid
                                : skew < 0      ? VerifyOutcome::kTimestampTooOld
                                                : VerifyOutcome::kTimestampTooNew;
  Require(Verify(both, id, ts_text, mine, body, kNow, kTolerance) == expected_outcome);
  Require(Verify(both, id, ts_text, mine, body, kNow, 0) == VerifyOutcome::kValid);
  Require(Verify(both, id, ts_text, signature + " " + mine, body, kNow, 0) == VerifyOutcome::kValid);
  Require(Verify(both, id, ts_text, mine + " " + signature, body, kNow, 0) == VerifyOutcome::kValid);
  const WebhookSecret pair[] = {secret, kOther};
  const std::string header = SignatureHeader(pair, id, ts, body);
  Require(Verify(std::span(&secret, 1), id, ts_text, header, body, kNow, 0) == VerifyOutcome::kValid);
  Require(Verify(std::span(&kOther, 1), id, ts_text, header, body, kNow, 0) == VerifyOutcome::kValid);
  // Only for its own body, id and time.
  Require(Verify(both, id, ts_text, mine, body + "x", kNow, 0) == VerifyOutcome::kSignatureMismatch);
  Require(Verify(both, id + "x", ts_text, mine, body, kNow, 0) == VerifyOutcome::kSignatureMismatch);
  Require(Verify(both, id, std::to_string(ts + 1), mine, body, kNow, 0) == VerifyOutcome::kSignatureMismatch);
  return 0;
}
