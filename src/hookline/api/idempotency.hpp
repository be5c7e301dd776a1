#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "hookline/api/router.hpp"
#include "hookline/http/message.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/time.hpp"

namespace hookline::api {

//! A write job's work: runs in the job's transaction and answers the request.
using WriteWork = std::function<http::Response(store::StoreTx&)>;

//! The Idempotency-Key of a POST (none for other methods or when absent) and the hash of
//! the request it guards.
struct IdempotencyGuard {
  std::optional<std::string> key;
  std::string request_hash;
};

//! Reads the guard of `request`: a 400 answer when the key is malformed.
std::variant<IdempotencyGuard, http::Response> ReadIdempotencyGuard(const http::Request& request);

//! The body of an idempotent write job: a request already seen under its key within
//! `window` gets the first answer (409 if the key came with another request) and `work`
//! does not run; otherwise `work` runs and a 2xx answer is recorded under the key. Sets
//! `*keep` to whether the job's writes are to be kept (not for a replay or a 4xx/5xx).
http::Response RunIdempotent(store::StoreTx& tx, const IdempotencyGuard& guard, const store::Company& company,
                             Millis now, Millis window, const WriteWork& work, bool* keep);

//! Runs `work` as one write job. A 4xx/5xx answer rolls the job back (only it: it runs
//! under a savepoint of its own). On POST with an Idempotency-Key, the key is checked and
//! recorded in the same transaction, so a retried request returns the first answer and does
//! nothing twice (409 when the body differs). 503 `overloaded` when the store's writer is
//! full (WriteOptions::refuse_when_full).
http::Response WriteIdempotent(store::Store& store, const Clock& clock, Millis window,
                               RouteContext& ctx, const store::Company& company, WriteWork work);

}  // namespace hookline::api
