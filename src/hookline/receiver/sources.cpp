#include "hookline/receiver/sources.hpp"

#include "hookline/util/json_text.hpp"

#include <boost/json.hpp>

#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"
#include "hookline/views/json_views.hpp"

namespace hookline::receiver {

namespace json = boost::json;

std::optional<std::string> SourceRequestProblem(const std::string& name,
                                                const std::optional<std::string>& secret,
                                                const std::optional<std::string>& token,
                                                const std::vector<std::string>& dedupe_fields) {
  if (name.empty() || name.size() > 256) return "'name' must be 1 to 256 characters";
  if (secret && token) return "give either a secret (signed webhooks) or a token, not both";
  if (dedupe_fields.size() > 16) return "at most 16 dedupe fields";
  for (const auto& field : dedupe_fields) {
    // Stored as JSON text and read back by every ingest: bytes that are not UTF-8 would make
    // the source unreadable.
    if (field.empty() || field.size() > 256 || !IsValidUtf8(field)) {
      return "each dedupe field must be a JSON path of 1 to 256 characters of UTF-8, e.g. data.lead.id";
    }
  }
  if (secret && !signing::WebhookSecret::Parse(*secret)) {
    return "the secret must be \"whsec_\" followed by base64 of 16 to 64 bytes";
  }
  if (token && (token->size() < 16 || token->size() > 256)) return "the token must be 16 to 256 characters";
  return std::nullopt;
}

std::optional<json::object> CreateSource(store::Store& store, const crypto::SecretBox& secrets,
                                         Millis now, const std::string& name,
                                         const std::optional<std::string>& secret,
                                         const std::optional<std::string>& token,
                                         const std::vector<std::string>& dedupe_fields,
                                         std::string* error) {
  if (auto problem = SourceRequestProblem(name, secret, token, dedupe_fields)) {
    *error = std::move(*problem);
    return std::nullopt;
  }
  store::SourceRecord source;
  source.id = NewId("src_", now);
  source.name = name;
  source.dedupe_fields = dedupe_fields;
  source.created_at = now;
  json::object view;
  if (secret) {
    source.auth = store::SourceAuth::kSignature;
    source.secret_sealed = secrets.Seal(signing::WebhookSecret::Parse(*secret)->ToString());
  } else {
    const std::string shown = token.value_or("tok_" + crypto::HexEncode(crypto::RandomBytes(24)));
    source.auth = store::SourceAuth::kToken;
    source.token_hash = crypto::Sha256(shown);
    view["token"] = shown;  // shown once; only its hash is stored
  }
  store.Write([&](store::StoreTx& tx) {
    tx.InsertSource(source);
    return true;
  });
  json::object out = views::SourceView(source);
  for (auto& kv : view) out[kv.key()] = kv.value();
  return out;
}

}  // namespace hookline::receiver
