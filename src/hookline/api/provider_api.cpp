#include "hookline/api/provider_api.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/api/json_io.hpp"
#include "hookline/api/views.hpp"
#include "hookline/delivery/fan_out.hpp"
#include "hookline/delivery/operational_events.hpp"
#include "hookline/delivery/url_guard.hpp"
#include "hookline/model/catalog.hpp"
#include "hookline/provider/activity_recorder.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::api {

namespace {

using store::StoreTx;

constexpr size_t kMaxBulkLeads = 10'000;

// Unwraps a variant<T, Problem>: on a Problem, returns its response from the caller.
#define HL_TRY(var, expr)                                              \
  auto var##_result = (expr);                                          \
  if (auto* p = std::get_if<Problem>(&var##_result)) return ProblemResponse(*p); \
  auto var = std::move(std::get<0>(var##_result))

std::optional<Problem> CheckPathId(std::string_view what, std::string_view id) {
  if (IsValidDomainId(id)) return std::nullopt;
  return Problem{400, "invalid_id",
                 fmt::format("the {} id must be 1 to 128 printable characters without '/', '?', "
                             "'#', '%'",
                             what)};
}

std::variant<model::Lead, Problem> ParseLead(const json::object& body, std::string id) {
  model::Lead lead;
  lead.id = std::move(id);
  auto name = RequiredString(body, "name", 512);
  if (auto* p = std::get_if<Problem>(&name)) return *p;
  lead.name = std::get<std::string>(name);
  struct Field {
    const char* key;
    std::optional<std::string> model::Lead::*member;
  };
  static constexpr Field kFields[] = {
      {"profile_url", &model::Lead::profile_url},   {"email", &model::Lead::email},
      {"company_name", &model::Lead::company_name}, {"location", &model::Lead::location},
      {"job_title", &model::Lead::job_title},       {"profile_image", &model::Lead::profile_image},
  };
  for (const auto& f : kFields) {
    auto value = OptionalString(body, f.key);
    if (auto* p = std::get_if<Problem>(&value)) return *p;
    lead.*f.member = std::get<std::optional<std::string>>(value);
  }
  return lead;
}

json::object FunnelOf(StoreTx& tx, std::string_view company, const model::Campaign& campaign) {
  json::object funnel;
  for (const auto& stage : FunnelStages(campaign.campaign_type)) {
    funnel[stage.name] = tx.CountLeadsWithAction(company, campaign.id, stage.actions);
  }
  return funnel;
}

// The header names an endpoint may not set: hookline owns them.
bool IsReservedHeader(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "content-type", "content-length", "host", "user-agent", "webhook-id", "webhook-timestamp",
      "webhook-signature", "transfer-encoding", "connection", "expect"};
  for (auto r : kReserved) {
    if (name == r) return true;
  }
  return false;
}

bool IsHeaderToken(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

std::variant<std::optional<store::HeaderList>, Problem> ParseHeaders(const json::object& body) {
  const auto* v = body.if_contains("headers");
  if (v == nullptr) return std::optional<store::HeaderList>{};
  if (v->is_null()) return std::optional<store::HeaderList>{store::HeaderList{}};
  if (!v->is_object()) return Invalid("'headers' must be an object of header names to strings");
  if (v->get_object().size() > 32) return Invalid("'headers' may hold at most 32 headers");
  store::HeaderList headers;
  for (const auto& kv : v->get_object()) {
    std::string name(kv.key());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!IsHeaderToken(name)) return Invalid(fmt::format("'{}' is not a valid header name", name));
    if (IsReservedHeader(name)) {
      return Invalid(fmt::format("header '{}' is set by hookline and cannot be overridden", name));
    }
    if (!kv.value().is_string()) return Invalid(fmt::format("header '{}' must be a string", name));
    const auto& value = kv.value().get_string();
    if (value.size() > 4096 || value.find_first_of("\r\n") != json::string::npos) {
      return Invalid(fmt::format("header '{}' has an invalid value", name));
    }
    headers.emplace_back(std::move(name), std::string(value));
  }
  return std::optional<store::HeaderList>{std::move(headers)};
}

std::variant<std::optional<std::vector<std::string>>, Problem> ParseEventTypes(const json::object& body) {
  const auto* v = body.if_contains("event_types");
  if (v == nullptr) return std::optional<std::vector<std::string>>{};
  if (v->is_null()) return std::optional<std::vector<std::string>>{std::vector<std::string>{}};
  if (!v->is_array()) return Invalid("'event_types' must be an array of event names");
  std::vector<std::string> types;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return Invalid("'event_types' must hold strings");
    const std::string_view name = item.get_string();
    if (model::FindEvent(name) == nullptr && !delivery::IsOperationalEvent(name)) {
      return Problem{422, "unknown_event",
                     fmt::format("unknown event '{}' in 'event_types'; known events: {}, "
                                 "endpoint.disabled, endpoint.recovered, delivery.exhausted",
                                 name, model::KnownEventNames())};
    }
    if (std::find(types.begin(), types.end(), name) == types.end()) types.emplace_back(name);
  }
  return std::optional<std::vector<std::string>>{std::move(types)};
}

std::variant<std::optional<std::optional<std::int64_t>>, Problem> ParseRateLimit(const json::object& body) {
  const auto* v = body.if_contains("rate_limit_per_s");
  if (v == nullptr) return std::optional<std::optional<std::int64_t>>{};
  if (v->is_null()) return std::optional<std::optional<std::int64_t>>{std::optional<std::int64_t>{}};
  if (!v->is_int64() || v->get_int64() < 1 || v->get_int64() > 100'000) {
    return Invalid("'rate_limit_per_s' must be a whole number from 1 to 100000, or null");
  }
  return std::optional<std::optional<std::int64_t>>{v->get_int64()};
}

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

std::string NewApiKey() { return "hlk_" + crypto::HexEncode(crypto::RandomBytes(32)); }
std::string HashApiKey(std::string_view api_key) { return crypto::Sha256(api_key); }

ProviderApi::ProviderApi(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                         std::function<void()> on_new_deliveries, ProviderApiOptions options)
    : store_(store),
      secrets_(secrets),
      clock_(clock),
      on_new_deliveries_(std::move(on_new_deliveries)),
      options_(options) {
  AddRoutes();
}

http::Response ProviderApi::Handle(const http::Request& request) const {
  return router_.Route(request);
}

void ProviderApi::AddRoutes() {
  // Wraps a handler with API-key authentication: it sees only its company.
  using Authed = std::function<http::Response(RouteContext&, const store::Company&)>;
  auto authed = [this](Authed handler) {
    return [this, handler = std::move(handler)](RouteContext& ctx) -> http::Response {
      auto header = ctx.request.Header("authorization");
      constexpr std::string_view kBearer = "Bearer ";
      if (!header || header->size() <= kBearer.size() ||
          !std::equal(kBearer.begin(), kBearer.end(), header->begin(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        auto r = http::ErrorResponse(401, "unauthorized",
                                     "send the company API key as 'Authorization: Bearer <key>'");
        r.headers.emplace_back("www-authenticate", "Bearer");
        return r;
      }
      const std::string hash = HashApiKey(header->substr(kBearer.size()));
      std::optional<store::Company> company;
      store_.Read([&](StoreTx& tx) { company = tx.FindCompanyByKeyHash(hash); });
      if (!company) {
        auto r = http::ErrorResponse(401, "unauthorized", "the API key is not valid");
        r.headers.emplace_back("www-authenticate", "Bearer");
        return r;
      }
      return handler(ctx, *company);
    };
  };

  // Runs `work` as one write job. A 4xx/5xx answer rolls the job back. On POST with an
  // Idempotency-Key, the key is checked and recorded in the same transaction, so a retried
  // request returns the first answer and does nothing twice.
  using Work = std::function<http::Response(StoreTx&)>;
  auto write = [this](RouteContext& ctx, const store::Company& company, Work work) {
    std::optional<std::string> key;
    if (ctx.request.method == "POST") {
      if (auto k = ctx.request.Header("idempotency-key")) {
        if (k->empty() || k->size() > 255) {
          return http::ErrorResponse(400, "invalid_idempotency_key",
                                     "'Idempotency-Key' must be 1 to 255 characters");
        }
        key = std::string(*k);
      }
    }
    const std::string request_hash =
        key ? crypto::Sha256Hex(ctx.request.method + " " + ctx.request.target + "\n" + ctx.request.body)
            : std::string();
    const Millis now = clock_.Now();
    http::Response response;
    store_.Write([&](StoreTx& tx) {
      if (key) {
        if (auto seen = tx.GetIdempotency(company.id, *key);
            seen && now - seen->created_at < options_.idempotency_window) {
          if (seen->request_hash != request_hash) {
            response = http::ErrorResponse(409, "idempotency_key_reused",
                                           "this Idempotency-Key was used with another request");
          } else {
            response.status = seen->status;
            response.body = seen->body;
            response.headers.emplace_back("idempotent-replayed", "true");
          }
          return false;
        }
      }
      response = work(tx);
      if (response.status >= 300) return false;
      if (key) tx.PutIdempotency(company.id, *key, {request_hash, response.status, response.body, now});
      return true;
    });
    return response;
  };

  // --- senders ---
  router_.Add("PUT", "/v1/senders/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    if (auto p = CheckPathId("sender", ctx.params[0])) return ProblemResponse(*p);
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(name, RequiredString(body, "name", 512));
    HL_TRY(email, OptionalString(body, "email", 512));
    model::Sender sender{ctx.params[0], name, email};
    return write(ctx, c, [&](StoreTx& tx) {
      const bool created = tx.UpsertSender(c.id, sender);
      return JsonResponse(created ? 201 : 200, SenderView(sender));
    });
  }));
  router_.Add("GET", "/v1/senders/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<model::Sender> sender;
    store_.Read([&](StoreTx& tx) { sender = tx.GetSender(c.id, ctx.params[0]); });
    if (!sender) return ProblemResponse(NotFound(fmt::format("sender '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, SenderView(*sender));
  }));
  router_.Add("GET", "/v1/senders", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    std::vector<model::Sender> items;
    store_.Read([&](StoreTx& tx) { items = tx.ListSenders(c.id, {page.after, page.limit + 1}); });
    json::array data;
    json::value next = nullptr;
    for (size_t i = 0; i < items.size() && i < static_cast<size_t>(page.limit); ++i) {
      data.push_back(SenderView(items[i]));
      if (items.size() > static_cast<size_t>(page.limit)) next = items[i].id;
    }
    return JsonResponse(200, json::object{{"data", std::move(data)}, {"next", next}});
  }));

  // --- campaigns ---
  router_.Add("PUT", "/v1/campaigns/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    if (auto p = CheckPathId("campaign", ctx.params[0])) return ProblemResponse(*p);
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(name, RequiredString(body, "name", 512));
    HL_TRY(type_name, RequiredString(body, "campaign_type", 16));
    auto type = model::ParseChannel(type_name);
    if (!type) return ProblemResponse(Invalid("'campaign_type' must be \"linkedin\" or \"email\""));
    model::Campaign campaign{ctx.params[0], name, *type, 0, 0};
    return write(ctx, c, [&](StoreTx& tx) {
      auto existing = tx.GetCampaign(c.id, campaign.id);
      if (existing && existing->campaign_type != campaign.campaign_type &&
          tx.CampaignHasActivity(c.id, campaign.id)) {
        return ProblemResponse({409, "campaign_type_locked",
                                "the campaign already has activity; its campaign_type cannot change"});
      }
      const bool created = tx.UpsertCampaign(c.id, campaign);
      auto stored = tx.GetCampaign(c.id, campaign.id);
      return JsonResponse(created ? 201 : 200, CampaignView(*stored, FunnelOf(tx, c.id, *stored)));
    });
  }));
  router_.Add("GET", "/v1/campaigns/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      if (auto campaign = tx.GetCampaign(c.id, ctx.params[0])) {
        view = CampaignView(*campaign, FunnelOf(tx, c.id, *campaign));
      }
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("campaign '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));
  router_.Add("GET", "/v1/campaigns", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    json::array data;
    json::value next = nullptr;
    store_.Read([&](StoreTx& tx) {
      auto items = tx.ListCampaigns(c.id, {page.after, page.limit + 1});
      for (size_t i = 0; i < items.size() && i < static_cast<size_t>(page.limit); ++i) {
        data.push_back(CampaignView(items[i], FunnelOf(tx, c.id, items[i])));
        if (items.size() > static_cast<size_t>(page.limit)) next = items[i].id;
      }
    });
    return JsonResponse(200, json::object{{"data", std::move(data)}, {"next", next}});
  }));

  // --- leads ---
  router_.Add("PUT", "/v1/leads/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    if (auto p = CheckPathId("lead", ctx.params[0])) return ProblemResponse(*p);
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(lead, ParseLead(body, ctx.params[0]));
    return write(ctx, c, [&](StoreTx& tx) {
      const bool created = tx.UpsertLead(c.id, lead);
      return JsonResponse(created ? 201 : 200, LeadView(lead, tx.ListEnrollmentsOfLead(c.id, lead.id)));
    });
  }));
  router_.Add("GET", "/v1/leads/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      if (auto lead = tx.GetLead(c.id, ctx.params[0])) {
        view = LeadView(*lead, tx.ListEnrollmentsOfLead(c.id, lead->id));
      }
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("lead '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));
  router_.Add("GET", "/v1/leads", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    json::array data;
    json::value next = nullptr;
    store_.Read([&](StoreTx& tx) {
      auto items = tx.ListLeads(c.id, {page.after, page.limit + 1});
      for (size_t i = 0; i < items.size() && i < static_cast<size_t>(page.limit); ++i) {
        data.push_back(LeadView(items[i], tx.ListEnrollmentsOfLead(c.id, items[i].id)));
        if (items.size() > static_cast<size_t>(page.limit)) next = items[i].id;
      }
    });
    return JsonResponse(200, json::object{{"data", std::move(data)}, {"next", next}});
  }));

  // --- enrollment ---
  router_.Add("PUT", "/v1/campaigns/{}/leads/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    const std::string& campaign_id = ctx.params[0];
    const std::string& lead_id = ctx.params[1];
    return write(ctx, c, [&](StoreTx& tx) {
      if (!tx.GetCampaign(c.id, campaign_id)) {
        return ProblemResponse(NotFound(fmt::format("campaign '{}' does not exist", campaign_id)));
      }
      if (!tx.GetLead(c.id, lead_id)) {
        return ProblemResponse(NotFound(fmt::format("lead '{}' does not exist", lead_id)));
      }
      const bool created = tx.Enroll(c.id, campaign_id, lead_id, clock_.Now());
      auto campaign = tx.GetCampaign(c.id, campaign_id);
      return JsonResponse(created ? 201 : 200,
                          json::object{{"campaign_id", campaign_id},
                                       {"lead_id", lead_id},
                                       {"enrolled", true},
                                       {"total_leads", campaign->total_leads}});
    });
  }));
  router_.Add("POST", "/v1/campaigns/{}/leads", authed([=, this](RouteContext& ctx, const store::Company& c) {
    const std::string& campaign_id = ctx.params[0];
    HL_TRY(body, ParseObjectBody(ctx.request));
    const auto* leads_value = body.if_contains("leads");
    if (leads_value == nullptr || !leads_value->is_array()) {
      return ProblemResponse(Invalid("'leads' must be an array of lead objects"));
    }
    const auto& items = leads_value->get_array();
    if (items.empty() || items.size() > kMaxBulkLeads) {
      return ProblemResponse(Invalid(fmt::format("'leads' must hold 1 to {} leads", kMaxBulkLeads)));
    }
    std::vector<model::Lead> leads;
    leads.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_object()) return ProblemResponse(Invalid(fmt::format("leads[{}] must be an object", i)));
      const auto& item = items[i].get_object();
      auto id = RequiredString(item, "id", 128);
      if (auto* p = std::get_if<Problem>(&id)) {
        return ProblemResponse(Invalid(fmt::format("leads[{}]: {}", i, p->message)));
      }
      if (!IsValidDomainId(std::get<std::string>(id))) {
        return ProblemResponse(Invalid(fmt::format("leads[{}]: 'id' is not a valid id", i)));
      }
      auto lead = ParseLead(item, std::get<std::string>(id));
      if (auto* p = std::get_if<Problem>(&lead)) {
        return ProblemResponse(Invalid(fmt::format("leads[{}]: {}", i, p->message)));
      }
      leads.push_back(std::move(std::get<model::Lead>(lead)));
    }
    return write(ctx, c, [&](StoreTx& tx) {
      if (!tx.GetCampaign(c.id, campaign_id)) {
        return ProblemResponse(NotFound(fmt::format("campaign '{}' does not exist", campaign_id)));
      }
      const Millis now = clock_.Now();
      std::int64_t enrolled = 0;
      for (const auto& lead : leads) {
        tx.UpsertLead(c.id, lead);
        if (tx.Enroll(c.id, campaign_id, lead.id, now)) ++enrolled;
      }
      auto campaign = tx.GetCampaign(c.id, campaign_id);
      return JsonResponse(200, json::object{{"campaign_id", campaign_id},
                                            {"enrolled", enrolled},
                                            {"already_enrolled", static_cast<std::int64_t>(leads.size()) - enrolled},
                                            {"total_leads", campaign->total_leads}});
    });
  }));
  router_.Add("POST", "/v1/campaigns/{}/leads/{}/complete", authed([=, this](RouteContext& ctx, const store::Company& c) {
    const std::string& campaign_id = ctx.params[0];
    const std::string& lead_id = ctx.params[1];
    return write(ctx, c, [&](StoreTx& tx) {
      if (!tx.GetEnrollment(c.id, campaign_id, lead_id)) {
        return ProblemResponse(NotFound(fmt::format(
            "lead '{}' is not enrolled in campaign '{}' (or one of them does not exist)", lead_id, campaign_id)));
      }
      tx.MarkCompleted(c.id, campaign_id, lead_id, clock_.Now());
      auto campaign = tx.GetCampaign(c.id, campaign_id);
      return JsonResponse(200, json::object{{"campaign_id", campaign_id},
                                            {"lead_id", lead_id},
                                            {"completed", true},
                                            {"complete_end_of_sequence", campaign->complete_end_of_sequence}});
    });
  }));

  // --- activities ---
  router_.Add("POST", "/v1/activities", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(request, provider::ParseActivityRequest(body));
    int deliveries = 0;
    http::Response response = write(ctx, c, [&](StoreTx& tx) {
      auto recorded = provider::RecordActivity(tx, c.id, request, clock_.Now());
      if (auto* p = std::get_if<Problem>(&recorded)) return ProblemResponse(*p);
      auto& r = std::get<provider::RecordedActivity>(recorded);
      deliveries = r.deliveries;
      boost::system::error_code ec;
      return JsonResponse(201, json::object{{"id", r.event.id},
                                            {"event", r.event.event},
                                            {"payload", json::parse(r.event.payload, ec)}});
    });
    if (deliveries > 0 && on_new_deliveries_) on_new_deliveries_();
    return response;
  }));

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
      json::object view = EndpointView(endpoint);
      view["secret"] = secret->ToString();
      return JsonResponse(201, view);
    });
  }));
  router_.Add("GET", "/v1/endpoints", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    std::vector<store::EndpointRecord> items;
    store_.Read([&](StoreTx& tx) { items = tx.ListEndpoints(c.id, {page.after, page.limit + 1}); });
    json::array data;
    json::value next = nullptr;
    for (size_t i = 0; i < items.size() && i < static_cast<size_t>(page.limit); ++i) {
      data.push_back(EndpointView(items[i]));
      if (items.size() > static_cast<size_t>(page.limit)) next = items[i].id;
    }
    return JsonResponse(200, json::object{{"data", std::move(data)}, {"next", next}});
  }));
  router_.Add("GET", "/v1/endpoints/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<store::EndpointRecord> endpoint;
    store_.Read([&](StoreTx& tx) { endpoint = tx.GetEndpoint(c.id, ctx.params[0]); });
    if (!endpoint) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, EndpointView(*endpoint));
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
      return JsonResponse(200, EndpointView(*endpoint));
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
  router_.Add("POST", "/v1/events/{}/redeliver", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request, /*allow_empty=*/true));
    HL_TRY(endpoint_id, OptionalString(body, "endpoint_id", 128));
    int queued = 0;
    auto response = write(ctx, c, [&](StoreTx& tx) {
      auto event = tx.GetEvent(c.id, ctx.params[0]);
      if (!event) return ProblemResponse(NotFound(fmt::format("event '{}' does not exist", ctx.params[0])));
      const Millis now = clock_.Now();
      store::RequeueFilter filter;
      filter.company_id = c.id;
      filter.event_id = event->id;
      filter.endpoint_id = endpoint_id;
      filter.statuses = {store::DeliveryStatus::kSucceeded, store::DeliveryStatus::kFailed,
                         store::DeliveryStatus::kSkipped};
      if (endpoint_id) {
        if (!tx.GetEndpoint(c.id, *endpoint_id)) {
          return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", *endpoint_id)));
        }
        bool exists = false;
        for (const auto& d : tx.ListDeliveriesOfEvent(c.id, event->id)) exists |= d.endpoint_id == *endpoint_id;
        if (!exists) {
          // An endpoint made after the event (or not subscribed then) gets it now.
          tx.InsertDelivery(delivery::NewDelivery(*event, *endpoint_id, now));
          queued = 1;
        }
      }
      queued += tx.RequeueDeliveries(filter, now);
      return JsonResponse(202, json::object{{"event_id", event->id}, {"queued", queued}});
    });
    if (queued > 0 && on_new_deliveries_) on_new_deliveries_();
    return response;
  }));

  // --- events ---
  router_.Add("GET", "/v1/events", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    HL_TRY(since, ParseTimeParam(ctx, "since"));
    HL_TRY(until, ParseTimeParam(ctx, "until"));
    store::EventFilter filter;
    filter.company_id = c.id;
    auto opt = [&](std::string_view key) -> std::optional<std::string> {
      auto v = ctx.Query(key);
      return v && !v->empty() ? std::optional<std::string>(std::string(*v)) : std::nullopt;
    };
    filter.event = opt("event");
    if (filter.event && !model::FindEvent(*filter.event) && !delivery::IsOperationalEvent(*filter.event)) {
      return ProblemResponse({400, "unknown_event", fmt::format("unknown event '{}'; known events: {}",
                                                                *filter.event, model::KnownEventNames())});
    }
    filter.lead_id = opt("lead_id");
    filter.campaign_id = opt("campaign_id");
    filter.since = since;
    filter.until = until;
    if (page.after) {
      try {
        filter.before_seq = std::stoll(*page.after);
      } catch (...) {
        return ProblemResponse({400, "invalid_parameter", "'after' is not a cursor this API returned"});
      }
    }
    filter.limit = page.limit + 1;
    std::vector<store::EventRecord> items;
    store_.Read([&](StoreTx& tx) { items = tx.ListEvents(filter); });
    json::array data;
    json::value next = nullptr;
    for (size_t i = 0; i < items.size() && i < static_cast<size_t>(page.limit); ++i) {
      data.push_back(EventSummaryView(items[i]));
      if (items.size() > static_cast<size_t>(page.limit)) next = std::to_string(items[i].seq);
    }
    return JsonResponse(200, json::object{{"data", std::move(data)}, {"next", next}});
  }));
  router_.Add("GET", "/v1/events/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      auto event = tx.GetEvent(c.id, ctx.params[0]);
      if (!event) return;
      view = EventSummaryView(*event);
      json::array deliveries;
      for (const auto& d : tx.ListDeliveriesOfEvent(c.id, event->id)) {
        json::array attempts;
        for (const auto& a : tx.ListAttempts(d.id)) attempts.push_back(AttemptView(a));
        json::object dv;
        dv["endpoint_id"] = d.endpoint_id;
        dv["status"] = store::DeliveryStatusName(d.status);
        dv["attempt_count"] = d.total_attempts;
        dv["next_attempt_at"] = d.next_attempt_at ? json::value(FormatIso8601(*d.next_attempt_at)) : json::value(nullptr);
        dv["attempts"] = std::move(attempts);
        deliveries.push_back(std::move(dv));
      }
      (*view)["deliveries"] = std::move(deliveries);
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("event '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));

  router_.Add("GET", "/healthz", [](RouteContext&) {
    return JsonResponse(200, json::object{{"status", "ok"}});
  });
}

}  // namespace hookline::api
