#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "hookline/http/message.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::receiver {

//! How far a signed webhook's timestamp may be from now.
inline constexpr std::int64_t kSignatureToleranceS = 300;

//! The duplicate key of a webhook for `source`: its configured JSON fields when it has any
//! (and the body is JSON), else the webhook-id header, else the SHA-256 of the raw body.
std::string DedupeKey(const store::SourceRecord& source, const http::Request& request,
                      const boost::json::object* document);

//! Handles POST /ingest/{source_id}: authenticates (signature within ±5 min, or token from
//! ?token= or Bearer), stores the raw body and headers durably, and only then answers 200
//! {"status": "accepted"|"duplicate", "id"}. A body that is not JSON or has no string
//! `event` is stored as rejected and answered 400; bad auth 401 and nothing stored.
//! Accepted webhooks are queued to the forwarding endpoints in the same transaction.
struct IngestEffects {
  bool stored = false;    //!< a new accepted webhook was committed
  int forwarded = 0;      //!< forwarding deliveries queued with it
};
http::Response Ingest(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                      std::string_view source_id, const http::Request& request,
                      std::optional<std::string_view> query_token, IngestEffects* effects);

}  // namespace hookline::receiver
