#include "hookline/api/endpoint_routes.hpp"

#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "hookline/api/endpoint_fields.hpp"
#include "hookline/api/json_io.hpp"
#include "hookline/delivery/operational_events.hpp"
#include "hookline/delivery/url_guard.hpp"
#include "hookline/model/catalog.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"
#include "hookline/views/json_views.hpp"

namespace hookline::api {

namespace {

using store::StoreTx;


std::variant<std::optional<store::Ordering>, Problem> ParseOrderingField(const json::object& body) {
  const auto* v = body.if_contains("ordering");
  if (v == nullptr || v->is_null()) return std::optional<store::Ordering>{};
  auto ordering = v->is_string() ? store::ParseOrdering(v->get_string()) : std::nullopt;
  if (!ordering) return Invalid("'ordering' must be \"none\" or \"per_lead\"");
  return ordering;
}

json::object StatsView(const store::EndpointStats& s) {
  auto opt = [](const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); };
  return {{"attempts", s.attempts},
          {"succeeded", s.succeeded},
          {"success_rate", s.attempts ? json::value(static_cast<double>(s.succeeded) / static_cast<double>(s.attempts))
                                      : json::value(nullptr)},
          {"latency_ms", json::object{{"p50", opt(s.p50_ms)}, {"p99", opt(s.p99_ms)}}}};
}

}  // namespace

EndpointRoutes::EndpointRoutes(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                               std::function<void()> on_new_deliveries, EndpointRouteOptions options)
    : store_(store),
      secrets_(secrets),
      clock_(clock),
      on_new_deliveries_(std::move(on_new_deliveries)),
      options_(options) {}

void EndpointRoutes::AddTo(Router& router_, const AuthWrap& authed, const WriteFn& write) {
  // --- endpoints ---
  router_.Add("POST", "/v1/endpoints", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(url, RequiredString(body, "url", 2048));
    if (auto bad = delivery::CheckEndpointUrl(url, options_.allow_private_endpoints)) {
      return ProblemResponse({422, "invalid_url", *bad});
    }
    HL_TRY(description, OptionalString(body, "description", 1024));
    HL_TRY(event_types, ParseEventTypes(body));
    HL_TRY(headers, ParseHeaders(body));
    HL_TRY(rate_limit, ParseRateLimit(body));
    HL_TRY(secret_text, OptionalString(body, "secret", 256));
    HL_TRY(ordering, ParseOrderingField(body));
    std::optional<signing::WebhookSecret> secret =
        secret_text ? signing::WebhookSecret::Parse(*secret_text) : signing::WebhookSecret::Generate();
    if (!secret) {
      return ProblemResponse(Invalid("'secret' must be \"whsec_\" followed by base64 of 16 to 64 bytes"));
    }
    const Millis now = clock_.Now();
    store::EndpointRecord endpoint;
    endpoint.id = NewId("ep_", now);
    endpoint.company_id = c.id;
    endpoint.url = url;
    endpoint.description = description;
    endpoint.event_types = event_types.value_or(std::vector<std::string>{});
    endpoint.headers = headers.value_or(store::HeaderList{});
    endpoint.rate_limit_per_s = rate_limit.value_or(std::nullopt);
    endpoint.secret_sealed = secrets_.Seal(secret->ToString());
    endpoint.ordering = ordering.value_or(store::Ordering::kNone);
    endpoint.created_at = now;
    endpoint.updated_at = now;
    return write(ctx, c, [&](StoreTx& tx) {
      tx.InsertEndpoint(endpoint);
      json::object view = views::EndpointView(endpoint);
      view["secret"] = secret->ToString();
      return JsonResponse(201, view);
    });
  }));
  router_.Add("GET", "/v1/endpoints", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    std::vector<store::EndpointRecord> items;
    store_.Read([&](StoreTx& tx) { items = tx.ListEndpoints(c.id, {page.after, page.limit + 1}); });
    return JsonResponse(200, ListPage(items, page.limit, [](const auto& e) { return views::EndpointView(e); }, [](const auto& x) { return json::value(x.id); }));
  }));
  router_.Add("GET", "/v1/endpoints/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<store::EndpointRecord> endpoint;
    store_.Read([&](StoreTx& tx) { endpoint = tx.GetEndpoint(c.id, ctx.params[0]); });
    if (!endpoint) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, views::EndpointView(*endpoint));
  }));
  router_.Add("GET", "/v1/endpoints/{}/secret", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<store::EndpointRecord> endpoint;
    store_.Read([&](StoreTx& tx) { endpoint = tx.GetEndpoint(c.id, ctx.params[0]); });
    if (!endpoint) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
    auto secret = secrets_.Open(endpoint->secret_sealed);
    if (!secret) {
      return http::ErrorResponse(500, "secret_unreadable",
                                 "the endpoint secret cannot be opened with this master key");
    }
    return JsonResponse(200, json::object{{"secret", *secret}});
  }));
  router_.Add("PATCH", "/v1/endpoints/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request));
    std::optional<std::string> url;
    if (body.contains("url")) {
      HL_TRY(u, RequiredString(body, "url", 2048));
      if (auto bad = delivery::CheckEndpointUrl(u, options_.allow_private_endpoints)) {
        return ProblemResponse({422, "invalid_url", *bad});
      }
      url = u;
    }
    HL_TRY(description, OptionalString(body, "description", 1024));
    HL_TRY(event_types, ParseEventTypes(body));
    HL_TRY(headers, ParseHeaders(body));
    HL_TRY(rate_limit, ParseRateLimit(body));
    HL_TRY(ordering, ParseOrderingField(body));
    std::optional<bool> disabled;
    if (const auto* d = body.if_contains("disabled")) {
      if (!d->is_bool()) return ProblemResponse(Invalid("'disabled' must be true or false"));
      disabled = d->get_bool();
    }
    for (const auto& kv : body) {
      static constexpr std::string_view kKnown[] = {"url", "description", "event_types", "headers",
                                                    "rate_limit_per_s", "disabled", "ordering"};
      if (std::find(std::begin(kKnown), std::end(kKnown), kv.key()) == std::end(kKnown)) {
        return ProblemResponse(Invalid(fmt::format("'{}' cannot be changed with PATCH", std::string_view(kv.key()))));
      }
    }
    const bool has_description = body.contains("description");
    int requeued = 0;
    auto response = write(ctx, c, [&](StoreTx& tx) {
      auto endpoint = tx.GetEndpoint(c.id, ctx.params[0]);
      if (!endpoint) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
      if (url) endpoint->url = *url;
      if (has_description) endpoint->description = description;
      if (event_types) endpoint->event_types = *event_types;
      if (headers) endpoint->headers = *headers;
      if (rate_limit) endpoint->rate_limit_per_s = *rate_limit;
      if (ordering) endpoint->ordering = *ordering;
      if (disabled && *disabled != endpoint->disabled) {
        endpoint->disabled = *disabled;
        endpoint->disabled_reason = *disabled ? std::optional<std::string>("disabled by the API") : std::nullopt;
        // Enabled again: a fresh start, or the old failure streak would disable it at once.
        if (!*disabled) endpoint->failing_since = std::nullopt;
      }
      endpoint->updated_at = clock_.Now();
      tx.UpdateEndpoint(*endpoint);
      if (disabled && !*disabled) {
        // Enabled again: what waited for it is due now, on a fresh retry schedule.
        store::RequeueFilter waiting;
        waiting.company_id = c.id;
        waiting.endpoint_id = endpoint->id;
        waiting.statuses = {store::DeliveryStatus::kPending};
        requeued = tx.RequeueDeliveries(waiting, clock_.Now());
      }
      return JsonResponse(200, views::EndpointView(*endpoint));
    });
    if (requeued > 0 && on_new_deliveries_) on_new_deliveries_();
    return response;
  }));
  router_.Add("DELETE", "/v1/endpoints/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    return write(ctx, c, [&](StoreTx& tx) {
      if (!tx.DeleteEndpoint(c.id, ctx.params[0], clock_.Now())) {
        return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
      }
      http::Response r;
      r.status = 204;
      return r;
    });
  }));

  router_.Add("POST", "/v1/endpoints/{}/rotate-secret", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request, /*allow_empty=*/true));
    HL_TRY(secret_text, OptionalString(body, "secret", 256));
    std::optional<signing::WebhookSecret> secret =
        secret_text ? signing::WebhookSecret::Parse(*secret_text) : signing::WebhookSecret::Generate();
    if (!secret) {
      return ProblemResponse(Invalid("'secret' must be \"whsec_\" followed by base64 of 16 to 64 bytes"));
    }
    const Millis now = clock_.Now();
    return write(ctx, c, [&](StoreTx& tx) {
      auto endpoint = tx.GetEndpoint(c.id, ctx.params[0]);
      if (!endpoint) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
      endpoint->previous_secret_sealed = endpoint->secret_sealed;
      endpoint->previous_secret_expires_at = now + options_.secret_overlap;
      endpoint->secret_sealed = secrets_.Seal(secret->ToString());
      endpoint->updated_at = now;
      tx.UpdateEndpoint(*endpoint);
      return JsonResponse(200, json::object{{"endpoint_id", endpoint->id},
                                            {"secret", secret->ToString()},
                                            {"previous_secret_expires_at",
                                             FormatIso8601(*endpoint->previous_secret_expires_at)}});
    });
  }));
  router_.Add("POST", "/v1/endpoints/{}/recover", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(since_text, RequiredString(body, "since", 64));
    HL_TRY(until_text, OptionalString(body, "until", 64));
    store::RequeueFilter filter;
    filter.company_id = c.id;
    filter.endpoint_id = ctx.params[0];
    filter.statuses = {store::DeliveryStatus::kFailed, store::DeliveryStatus::kSkipped};
    filter.since = ParseIso8601(since_text);
    if (!filter.since) return ProblemResponse({422, "invalid_timestamp", "'since' must be an ISO-8601 timestamp with an offset"});
    if (until_text) {
      filter.until = ParseIso8601(*until_text);
      if (!filter.until) return ProblemResponse({422, "invalid_timestamp", "'until' must be an ISO-8601 timestamp with an offset"});
    }
    int queued = 0;
    auto response = write(ctx, c, [&](StoreTx& tx) {
      if (!tx.GetEndpoint(c.id, ctx.params[0])) {
        return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
      }
      queued = tx.RequeueDeliveries(filter, clock_.Now());
      return JsonResponse(202, json::object{{"endpoint_id", ctx.params[0]}, {"queued", queued}});
    });
    if (queued > 0 && on_new_deliveries_) on_new_deliveries_();
    return response;
  }));
  router_.Add("GET", "/v1/endpoints/{}/stats", authed([this](RouteContext& ctx, const store::Company& c) {
    const Millis now = clock_.Now();
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      if (!tx.GetEndpoint(c.id, ctx.params[0])) return;
      view = json::object{{"endpoint_id", ctx.params[0]},
                          {"last_hour", StatsView(tx.GetEndpointStats(ctx.params[0], now - 3'600'000))},
                          {"last_day", StatsView(tx.GetEndpointStats(ctx.params[0], now - 86'400'000))}};
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));
}

}  // namespace hookline::api
