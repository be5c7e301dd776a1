#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "hookline/api/endpoint_routes.hpp"
#include "hookline/api/router.hpp"
#include "hookline/http/message.hpp"
#include "hookline/http/server.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::api {

struct ProviderApiOptions {
  bool allow_private_endpoints = false;
  Millis idempotency_window = 24 * 3'600'000;
  //! How long a rotated-out secret keeps signing beside the new one.
  Millis secret_overlap = 24 * 3'600'000;
  //! Threads for the routes that wait on the store (all but recording an activity).
  int handler_threads = 32;
  //! Requests waiting for a handler thread past which one is answered 503 `overloaded`
  //! (http::HandlerPool); 0: no bound.
  std::size_t max_queued_requests = 0;
};

//! The provider's REST API (API.md, "Provider API"). Handlers are plain functions of the
//! request: they validate, run one write job or read, and answer. Thread-safe.
class ProviderApi {
 public:
  //! `on_new_deliveries` is called after a commit that created pending deliveries.
  ProviderApi(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
              std::function<void()> on_new_deliveries, ProviderApiOptions options);

  //! Answers `request` through `respond`: POST /v1/activities from its group commit, so no
  //! thread waits for it; GET /healthz inline; every other route on the API's handler pool.
  void HandleAsync(http::Request request, http::Respond respond) const;

 private:
  void AddRoutes();
  void RecordActivityAsync(http::Request request, http::Respond respond) const;
  //! The company of the request's API key, or the 401 to answer.
  std::variant<store::Company, http::Response> Authenticate(const http::Request& request) const;
  //! The company of an API key hash: remembered for a minute after a store lookup (a key is
  //! never changed, only made), so a request does not open a read transaction to
  //! authenticate. Unknown keys are always looked up.
  std::optional<store::Company> CompanyOfKey(const std::string& key_hash) const;
  Router router_;
  std::unique_ptr<EndpointRoutes> endpoint_routes_;
  store::Store& store_;
  const crypto::SecretBox& secrets_;
  const Clock& clock_;
  std::function<void()> on_new_deliveries_;
  ProviderApiOptions options_;
  struct KnownKey {
    store::Company company;
    Millis until = 0;
  };
  mutable std::mutex keys_mu_;
  mutable std::unordered_map<std::string, KnownKey> known_keys_;
  http::Handler route_handler_;
  mutable http::HandlerPool pool_;  // last: destroyed first, once its handlers are done
};

}  // namespace hookline::api
