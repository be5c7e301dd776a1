#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "hookline/api/endpoint_routes.hpp"
#include "hookline/api/router.hpp"
#include "hookline/http/message.hpp"
#include "hookline/http/server.hpp"
#include "hookline/receiver/ingest.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::api {

//! The consumer's HTTP API (API.md, "Consumer API"): POST /ingest/{source_id}, authenticated
//! per source, and the query API behind `Authorization: Bearer <api token>`. Thread-safe.
class ReceiverApi {
 public:
  //! `api_token_hash` is the SHA-256 of the API token; without one the query API answers 401.
  //! `on_stored` runs after a new webhook is committed; `on_rebuild` asks for a full replay.
  //! `on_forwarding` runs after forwarding deliveries were queued (wake the dispatcher).
  ReceiverApi(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
              std::optional<std::string> api_token_hash, std::function<void()> on_stored,
              std::function<void()> on_forwarding, bool allow_private_endpoints, int query_threads = 16,
              std::size_t max_queued_requests = 0);

  //! For the server's I/O threads: an ingest is answered from its group commit without a
  //! thread waiting; every other route runs on a pool of `query_threads` (503 `overloaded`
  //! past `max_queued_requests` waiting, unless 0); GET /healthz is answered inline.
  void HandleAsync(http::Request request, http::Respond respond) const;

 private:
  void AddRoutes();
  void Ingest(std::string_view source_id, http::Request request, std::optional<std::string_view> token,
              http::Respond respond) const;
  http::Response ReplayToEndpoint(const boost::json::object& body, const boost::json::object& to) const;
  Router router_;
  store::Store& store_;
  const crypto::SecretBox& secrets_;
  const Clock& clock_;
  std::optional<std::string> api_token_hash_;
  std::function<void()> on_stored_;
  std::function<void()> on_forwarding_;
  std::unique_ptr<EndpointRoutes> endpoint_routes_;
  mutable receiver::SourceCache sources_;
  mutable http::HandlerPool query_pool_;
  http::Handler route_handler_;
};

}  // namespace hookline::api
