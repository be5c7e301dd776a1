#include "hookline/api/idempotency.hpp"

#include "hookline/util/crypto.hpp"

namespace hookline::api {

namespace {
using store::StoreTx;
}  // namespace

std::variant<IdempotencyGuard, http::Response> ReadIdempotencyGuard(const http::Request& request) {
  IdempotencyGuard guard;
  if (request.method != "POST") return guard;
  const auto key = request.Header("idempotency-key");
  if (!key) return guard;
  if (key->empty() || key->size() > 255) {
    return http::ErrorResponse(400, "invalid_idempotency_key", "'Idempotency-Key' must be 1 to 255 characters");
  }
  guard.key = std::string(*key);
  guard.request_hash = crypto::Sha256Hex(request.method + " " + request.target + "\n" + request.body);
  return guard;
}

http::Response RunIdempotent(StoreTx& tx, const IdempotencyGuard& guard, const store::Company& company,
                             Millis now, Millis window, const WriteWork& work, bool* keep) {
  *keep = false;
  if (guard.key) {
    if (auto seen = tx.GetIdempotency(company.id, *guard.key); seen && now - seen->created_at < window) {
      if (seen->request_hash != guard.request_hash) {
        return http::ErrorResponse(409, "idempotency_key_reused", "this Idempotency-Key was used with another request");
      }
      http::Response replayed;
      replayed.status = seen->status;
      replayed.body = seen->body;
      replayed.headers.emplace_back("idempotent-replayed", "true");
      return replayed;
    }
  }
  http::Response response = work(tx);
  if (response.status >= 300) return response;
  if (guard.key) tx.PutIdempotency(company.id, *guard.key, {guard.request_hash, response.status, response.body, now});
  *keep = true;
  return response;
}

http::Response WriteIdempotent(store::Store& store, const Clock& clock, Millis window,
                               RouteContext& ctx, const store::Company& company, WriteWork work) {
  auto guard = ReadIdempotencyGuard(ctx.request);
  if (auto* refused = std::get_if<http::Response>(&guard)) return std::move(*refused);
  const Millis now = clock.Now();
  http::Response response;
  // Under a savepoint of its own: a refused request (4xx) or a replay undoes only itself,
  // where a failed job without one rolled back its whole group commit and ran it again.
  try {
    store.Write([&](StoreTx& tx) {
      bool keep = false;
      response = RunIdempotent(tx, std::get<IdempotencyGuard>(guard), company, now, window, work, &keep);
      return keep;
    }, {.refuse_when_full = true, .own_savepoint = true});
  } catch (const store::StoreOverloadedError&) {
    return http::OverloadedResponse("too many writes are waiting; send this request again shortly");
  }
  return response;
}

}  // namespace hookline::api
