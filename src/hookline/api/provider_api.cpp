#include "hookline/api/provider_api.hpp"

#include <cstddef>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/api/cursors.hpp"
#include "hookline/api/idempotency.hpp"
#include "hookline/api/json_io.hpp"
#include "hookline/delivery/fan_out.hpp"
#include "hookline/delivery/operational_events.hpp"
#include "hookline/delivery/url_guard.hpp"
#include "hookline/model/catalog.hpp"
#include "hookline/model/funnel.hpp"
#include "hookline/provider/activity_recorder.hpp"
#include "hookline/provider/api_keys.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"
#include "hookline/views/json_views.hpp"

namespace hookline::api {

namespace {

using store::StoreTx;

constexpr size_t kMaxBulkLeads = 10'000;


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

// Records an activity and answers 201 with its event, or the Problem (nothing written).
http::Response RecordActivityAnswer(StoreTx& tx, std::string_view company_id,
                                    const provider::ActivityRequest& request, Millis now, int* deliveries) {
  // The payload and the 201 that embeds it live in an arena until the 201 is serialized:
  // Boost.JSON then drops them at once instead of node by node.
  alignas(std::max_align_t) unsigned char arena_buffer[8192];
  json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
  auto recorded = provider::RecordActivity(tx, company_id, request, now, &arena);
  if (auto* p = std::get_if<Problem>(&recorded)) return ProblemResponse(*p);
  auto& r = std::get<provider::RecordedActivity>(recorded);
  *deliveries = r.deliveries;
  // The payload as built (the rendering stored and sent has the same values), not parsed
  // back from its rendering; moved in, in the same storage (an initializer list, an object
  // passed as a json::value const&, or one in another storage would copy it).
  json::object body(&arena);
  body.reserve(3);
  body.emplace("id", r.event.id);
  body.emplace("event", r.event.event);
  body.emplace("payload", std::move(r.payload));
  return JsonResponse(201, json::value(std::move(body)));
}

json::object FunnelOf(StoreTx& tx, std::string_view company, const model::Campaign& campaign) {
  json::object funnel;
  for (const auto& stage : model::FunnelStages(campaign.campaign_type)) {
    funnel[stage.name] = tx.CountLeadsWithAction(company, campaign.id, stage.actions);
  }
  return funnel;
}

}  // namespace

ProviderApi::ProviderApi(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                         std::function<void()> on_new_deliveries, ProviderApiOptions options)
    : store_(store),
      secrets_(secrets),
      clock_(clock),
      on_new_deliveries_(std::move(on_new_deliveries)),
      options_(options),
      route_handler_([this](const http::Request& r) { return router_.Route(r); }),
      pool_(options.handler_threads, options.max_queued_requests) {
  endpoint_routes_ = std::make_unique<EndpointRoutes>(
      store_, secrets_, clock_, on_new_deliveries_,
      EndpointRouteOptions{options_.allow_private_endpoints, options_.secret_overlap});
  AddRoutes();
}

void ProviderApi::HandleAsync(http::Request request, http::Respond respond) const {
  const std::string_view target = request.target;
  if (request.method == "GET" && target == "/healthz") {
    return respond(JsonResponse(200, json::object{{"status", "ok"}}));  // never queued behind the pool
  }
  constexpr std::string_view kActivities = "/v1/activities";
  if (request.method == "POST" && target.starts_with(kActivities) &&
      (target.size() == kActivities.size() || target[kActivities.size()] == '?')) {
    RecordActivityAsync(std::move(request), std::move(respond));
    return;
  }
  pool_.Run(route_handler_, std::move(request), std::move(respond));
}

// The same checks and answers as the router's POST /v1/activities, but the answer comes
// from the write's completion: no handler thread is parked on the commit, and the writer
// hands the answer to an I/O thread instead of waking a waiting one.
void ProviderApi::RecordActivityAsync(http::Request request, http::Respond respond) const {
  auto company = Authenticate(request);
  if (auto* refused = std::get_if<http::Response>(&company)) return respond(std::move(*refused));
  auto body = ParseObjectBody(request);
  if (auto* problem = std::get_if<Problem>(&body)) return respond(ProblemResponse(*problem));
  auto activity = provider::ParseActivityRequest(std::get<json::object>(body));
  if (auto* problem = std::get_if<Problem>(&activity)) return respond(ProblemResponse(*problem));
  auto guard = ReadIdempotencyGuard(request);
  if (auto* refused = std::get_if<http::Response>(&guard)) return respond(std::move(*refused));

  struct Pending {
    store::Company company;
    provider::ActivityRequest activity;
    IdempotencyGuard guard;
    http::Response response;
    int deliveries = 0;
  };
  auto pending = std::make_shared<Pending>(Pending{std::get<store::Company>(std::move(company)),
                                                   std::get<provider::ActivityRequest>(std::move(activity)),
                                                   std::get<IdempotencyGuard>(std::move(guard)), {}, 0});
  const Millis now = clock_.Now();
  auto job = [this, pending, now](StoreTx& tx) {
    bool keep = false;
    pending->deliveries = 0;  // the job may run twice (Store::WriteAsync)
    pending->response = RunIdempotent(
        tx, pending->guard, pending->company, now, options_.idempotency_window,
        [&](StoreTx& t) { return RecordActivityAnswer(t, pending->company.id, pending->activity, now, &pending->deliveries); },
        &keep);
    // A refused activity wrote nothing (RecordActivity checks everything before its first
    // write; a replay or a reused key only reads), so it does not fail the job: a failed job
    // costs every other activity in its batch a second run.
    return true;
  };
  auto done = [this, pending, respond](bool, std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("recording an activity failed: {}", e.what());
      }
      respond(http::ErrorResponse(503, "store_unavailable", "the activity could not be recorded; send it again"));
      return;
    }
    if (pending->deliveries > 0 && on_new_deliveries_) on_new_deliveries_();
    respond(std::move(pending->response));
  };
  try {
    store_.WriteAsync(std::move(job), {.refuse_when_full = true}, std::move(done));
  } catch (const store::StoreOverloadedError&) {
    respond(http::OverloadedResponse("too many writes are waiting; send this activity again shortly"));
  } catch (const std::exception& e) {  // the store is shutting down
    spdlog::warn("recording an activity refused: {}", e.what());
    respond(http::ErrorResponse(503, "store_unavailable", "the activity could not be recorded; send it again"));
  }
}

std::variant<store::Company, http::Response> ProviderApi::Authenticate(const http::Request& request) const {
  auto header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!header || header->size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header->begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    auto r = http::ErrorResponse(401, "unauthorized", "send the company API key as 'Authorization: Bearer <key>'");
    r.headers.emplace_back("www-authenticate", "Bearer");
    return r;
  }
  std::optional<store::Company> company = CompanyOfKey(provider::HashApiKey(header->substr(kBearer.size())));
  if (!company) {
    auto r = http::ErrorResponse(401, "unauthorized", "the API key is not valid");
    r.headers.emplace_back("www-authenticate", "Bearer");
    return r;
  }
  return *std::move(company);
}

std::optional<store::Company> ProviderApi::CompanyOfKey(const std::string& key_hash) const {
  constexpr Millis kRemember = 60'000;
  constexpr std::size_t kMaxKeys = 10'000;
  const Millis now = clock_.Now();
  {
    std::lock_guard lock(keys_mu_);
    if (auto it = known_keys_.find(key_hash); it != known_keys_.end() && now < it->second.until) {
      return it->second.company;
    }
  }
  std::optional<store::Company> company;
  store_.Read([&](StoreTx& tx) { company = tx.FindCompanyByKeyHash(key_hash); });
  if (company) {
    std::lock_guard lock(keys_mu_);
    if (known_keys_.size() >= kMaxKeys) known_keys_.clear();
    known_keys_[key_hash] = KnownKey{*company, now + kRemember};
  }
  return company;
}

void ProviderApi::AddRoutes() {
  // Wraps a handler with API-key authentication: it sees only its company.
  AuthWrap authed = [this](CompanyHandler handler) -> RouteHandler {
    return [this, handler = std::move(handler)](RouteContext& ctx) -> http::Response {
      auto company = Authenticate(ctx.request);
      if (auto* refused = std::get_if<http::Response>(&company)) return std::move(*refused);
      return handler(ctx, std::get<store::Company>(company));
    };
  };

  // Runs `work` as one write job. A 4xx/5xx answer rolls the job back. On POST with an
  // Idempotency-Key, the key is checked and recorded in the same transaction, so a retried
  // request returns the first answer and does nothing twice.
  WriteFn write = [this](RouteContext& ctx, const store::Company& company, WriteWork work) {
    return WriteIdempotent(store_, clock_, options_.idempotency_window, ctx, company, std::move(work));
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
      return JsonResponse(created ? 201 : 200, views::SenderView(sender));
    });
  }));
  router_.Add("GET", "/v1/senders/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<model::Sender> sender;
    store_.Read([&](StoreTx& tx) { sender = tx.GetSender(c.id, ctx.params[0]); });
    if (!sender) return ProblemResponse(NotFound(fmt::format("sender '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, views::SenderView(*sender));
  }));
  router_.Add("GET", "/v1/senders", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    std::vector<model::Sender> items;
    store_.Read([&](StoreTx& tx) { items = tx.ListSenders(c.id, {page.after, page.limit + 1}); });
    return JsonResponse(200, ListPage(items, page.limit, [](const auto& s) { return views::SenderView(s); }, [](const auto& x) { return json::value(x.id); }));
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
      return JsonResponse(created ? 201 : 200, views::CampaignView(*stored, FunnelOf(tx, c.id, *stored)));
    });
  }));
  router_.Add("GET", "/v1/campaigns/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      if (auto campaign = tx.GetCampaign(c.id, ctx.params[0])) {
        view = views::CampaignView(*campaign, FunnelOf(tx, c.id, *campaign));
      }
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("campaign '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));
  router_.Add("GET", "/v1/campaigns", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    json::object list;
    store_.Read([&](StoreTx& tx) {
      list = ListPage(tx.ListCampaigns(c.id, {page.after, page.limit + 1}), page.limit,
                      [&](const auto& campaign) { return views::CampaignView(campaign, FunnelOf(tx, c.id, campaign)); }, [](const auto& x) { return json::value(x.id); });
    });
    return JsonResponse(200, list);
  }));

  // --- leads ---
  router_.Add("PUT", "/v1/leads/{}", authed([=, this](RouteContext& ctx, const store::Company& c) {
    if (auto p = CheckPathId("lead", ctx.params[0])) return ProblemResponse(*p);
    HL_TRY(body, ParseObjectBody(ctx.request));
    HL_TRY(lead, ParseLead(body, ctx.params[0]));
    return write(ctx, c, [&](StoreTx& tx) {
      const bool created = tx.UpsertLead(c.id, lead);
      return JsonResponse(created ? 201 : 200, views::LeadView(lead, tx.ListEnrollmentsOfLead(c.id, lead.id)));
    });
  }));
  router_.Add("GET", "/v1/leads/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      if (auto lead = tx.GetLead(c.id, ctx.params[0])) {
        view = views::LeadView(*lead, tx.ListEnrollmentsOfLead(c.id, lead->id));
      }
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("lead '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));
  router_.Add("GET", "/v1/leads", authed([this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(page, ParseListParams(ctx));
    json::object list;
    store_.Read([&](StoreTx& tx) {
      list = ListPage(tx.ListLeads(c.id, {page.after, page.limit + 1}), page.limit,
                      [&](const auto& lead) { return views::LeadView(lead, tx.ListEnrollmentsOfLead(c.id, lead.id)); }, [](const auto& x) { return json::value(x.id); });
    });
    return JsonResponse(200, list);
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
      return RecordActivityAnswer(tx, c.id, request, clock_.Now(), &deliveries);
    });
    if (deliveries > 0 && on_new_deliveries_) on_new_deliveries_();
    return response;
  }));

  endpoint_routes_->AddTo(router_, authed, write);

  router_.Add("POST", "/v1/events/{}/redeliver", authed([=, this](RouteContext& ctx, const store::Company& c) {
    HL_TRY(body, ParseObjectBody(ctx.request, /*allow_empty=*/true));
    HL_TRY(endpoint_id, OptionalString(body, "endpoint_id", 128));
    int queued = 0;
    auto response = write(ctx, c, [&](StoreTx& tx) {
      queued = 0;  // the job may run again (Store::Write)
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
      HL_TRY(before_seq, ParseSeqCursor(*page.after));
      filter.before_seq = before_seq;
    }
    filter.limit = page.limit + 1;
    std::vector<store::EventRecord> items;
    store_.Read([&](StoreTx& tx) { items = tx.ListEvents(filter); });
    return JsonResponse(200, ListPage(items, page.limit, [](const auto& e) { return views::EventSummaryView(e); }, [](const auto& x) { return json::value(FormatSeqCursor(x.seq)); }));
  }));
  router_.Add("GET", "/v1/events/{}", authed([this](RouteContext& ctx, const store::Company& c) {
    std::optional<json::object> view;
    store_.Read([&](StoreTx& tx) {
      auto event = tx.GetEvent(c.id, ctx.params[0]);
      if (!event) return;
      view = views::EventSummaryView(*event);
      json::array deliveries;
      for (const auto& d : tx.ListDeliveriesOfEvent(c.id, event->id)) {
        json::array attempts;
        for (const auto& a : tx.ListAttempts(d.id)) attempts.push_back(views::AttemptView(a));
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
