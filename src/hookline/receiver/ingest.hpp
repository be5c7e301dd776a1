#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/object.hpp>

#include "hookline/http/message.hpp"
#include "hookline/receiver/dedupe_key.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::receiver {

//! How far a signed webhook's timestamp may be from now.
inline constexpr std::int64_t kSignatureToleranceS = 300;

//! What an ingest changed, for waking the projector and the forwarding dispatcher.
struct IngestEffects {
  bool stored = false;    //!< a new accepted webhook was committed
  int forwarded = 0;      //!< forwarding deliveries queued with it
};

//! Sources by id, remembered after the first lookup (a source never changes once made), so
//! an ingest does not open a read transaction. Thread-safe.
class SourceCache {
 public:
  explicit SourceCache(store::Store& store) : store_(store) {}
  std::shared_ptr<const store::SourceRecord> Find(std::string_view id);

 private:
  static constexpr std::size_t kMaxEntries = 10'000;
  store::Store& store_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const store::SourceRecord>> sources_;
};

using IngestDone = std::function<void(http::Response response, IngestEffects effects)>;

//! Handles POST /ingest/{source_id}: authenticates (signature within ±5 min, or token from
//! ?token= or Bearer), stores the raw body and headers durably, and only then answers 200
//! {"status": "accepted"|"duplicate", "id"}. A body that is not JSON or has no string
//! `event` is stored as rejected and answered 400; bad auth 401 and nothing stored.
//! Accepted webhooks are queued to the forwarding endpoints in the same transaction.
//! Never waits for the commit: `done` is called once, on this thread when the answer needs
//! no write, else on the store's writer thread after the commit (so it must be quick).
void IngestAsync(store::Store& store, SourceCache& sources, const crypto::SecretBox& secrets,
                 const Clock& clock, std::string_view source_id, http::Request request,
                 std::optional<std::string_view> query_token, IngestDone done);

}  // namespace hookline::receiver
