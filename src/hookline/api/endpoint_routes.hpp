#pragma once

#include <functional>
#include <memory>

#include "hookline/api/idempotency.hpp"
#include "hookline/api/router.hpp"
#include "hookline/http/message.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::api {

//! A handler that runs for an authenticated company.
using CompanyHandler = std::function<http::Response(RouteContext&, const store::Company&)>;
//! Wraps a CompanyHandler with the API's authentication.
using AuthWrap = std::function<RouteHandler(CompanyHandler)>;
using WriteFn = std::function<http::Response(RouteContext&, const store::Company&, WriteWork)>;

struct EndpointRouteOptions {
  bool allow_private_endpoints = false;
  //! How long a rotated-out secret keeps signing beside the new one.
  Millis secret_overlap = 24 * 3'600'000;
};

//! The endpoint routes shared by the provider and the consumer: /v1/endpoints (create, list,
//! get, secret, update, delete, rotate-secret, recover, stats). Must outlive the router.
class EndpointRoutes {
 public:
  EndpointRoutes(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                 std::function<void()> on_new_deliveries, EndpointRouteOptions options);
  void AddTo(Router& router, const AuthWrap& authed, const WriteFn& write);

 private:
  store::Store& store_;
  const crypto::SecretBox& secrets_;
  const Clock& clock_;
  std::function<void()> on_new_deliveries_;
  EndpointRouteOptions options_;
};

}  // namespace hookline::api
