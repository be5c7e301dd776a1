#include "hookline/api/receiver_api.hpp"

#include <future>

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/api/cursors.hpp"
#include "hookline/api/idempotency.hpp"
#include "hookline/api/json_io.hpp"
#include "hookline/model/funnel.hpp"
#include "hookline/receiver/forwarding.hpp"
#include "hookline/receiver/ingest.hpp"
#include "hookline/receiver/replay.hpp"
#include "hookline/receiver/sources.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/util/ids.hpp"
#include "hookline/views/json_views.hpp"

namespace hookline::api {

namespace {

json::object ReceivedView(const store::ReceivedRecord& r, bool with_body) {
  json::object o{{"id", r.id},
                 {"source_id", r.source_id},
                 {"status", r.status},
                 {"reason", r.reason ? json::value(*r.reason) : nullptr},
                 {"event", r.event ? json::value(*r.event) : nullptr},
                 {"received_at", FormatIso8601(r.received_at)},
                 {"body_bytes", r.body_bytes}};
  if (with_body) {
    json::object headers;
    for (const auto& [k, v] : r.headers) headers[k] = v;
    o["headers"] = std::move(headers);
    views::PutRawBytes(o, "body", r.body);  // rejected bodies may be neither JSON nor UTF-8
  }
  return o;
}

// ?company_id=: only that company's projections. Present but empty, it selects what came
// in payloads without a company_id (kept under the company "").
std::optional<std::string> CompanyParam(const RouteContext& ctx) {
  auto v = ctx.Query("company_id");
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

// The cursor of a list ordered by company, then id: hex of the last row's [company_id, id].
json::value CompanyCursor(std::string_view company_id, std::string_view id) {
  return json::value(crypto::HexEncode(json::serialize(json::array{json::string(company_id), json::string(id)})));
}

std::variant<store::CompanyPage, Problem> ParseCompanyPage(const RouteContext& ctx) {
  auto list = ParseListParams(ctx);
  if (auto* p = std::get_if<Problem>(&list)) return *p;
  const auto& params = std::get<ListParams>(list);
  store::CompanyPage page;
  page.company_id = CompanyParam(ctx);
  page.limit = params.limit;
  if (params.after) {
    boost::system::error_code ec;
    auto decoded = crypto::HexDecode(*params.after);
    auto cursor = decoded ? json::parse(*decoded, ec) : json::value();
    const auto* pair = !ec ? cursor.if_array() : nullptr;
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      return Problem{400, "invalid_parameter", "'after' is not a cursor this API returned"};
    }
    page.after.emplace(std::string((*pair)[0].get_string()), std::string((*pair)[1].get_string()));
    // A cursor of another listing would be read against other rows: skipped or repeated.
    if (page.company_id && page.after->first != *page.company_id) {
      return Problem{400, "invalid_parameter", "'after' is a cursor of another company_id's list"};
    }
  }
  return page;
}

// A lookup by id alone that matches rows of several companies: they are never merged into
// one answer; the caller names the company.
http::Response Ambiguous(std::string_view what, std::string_view id, const std::vector<std::string>& companies) {
  std::string named;
  for (size_t i = 0; i < companies.size() && i < 5; ++i) named += fmt::format("{}'{}'", i ? ", " : "", companies[i]);
  if (companies.size() > 5) named += ", ...";
  return ProblemResponse({409, fmt::format("ambiguous_{}", what),
                          fmt::format("{} '{}' exists in {} companies ({}): pass ?company_id= to choose one", what,
                                      id, companies.size(), named)});
}

}  // namespace

ReceiverApi::ReceiverApi(store::Store& store, const crypto::SecretBox& secrets, const Clock& clock,
                         std::optional<std::string> api_token_hash, std::function<void()> on_stored,
                         std::function<void()> on_forwarding, bool allow_private_endpoints, int query_threads,
                         std::size_t max_queued_requests)
    : store_(store),
      secrets_(secrets),
      clock_(clock),
      api_token_hash_(std::move(api_token_hash)),
      on_stored_(std::move(on_stored)),
      on_forwarding_(std::move(on_forwarding)),
      sources_(store),
      query_pool_(query_threads, max_queued_requests),
      route_handler_([this](const http::Request& r) { return router_.Route(r); }) {
  endpoint_routes_ = std::make_unique<EndpointRoutes>(store_, secrets_, clock_, on_forwarding_,
                                                      EndpointRouteOptions{allow_private_endpoints});
  AddRoutes();
}

void ReceiverApi::HandleAsync(http::Request request, http::Respond respond) const {
  if (request.method == "GET" && request.target == "/healthz") {
    return respond(JsonResponse(200, json::object{{"status", "ok"}}));  // never queued behind the pool
  }
  if (request.method == "POST" && request.target.starts_with("/ingest/")) {
    auto target = boost::urls::parse_origin_form(request.target);
    if (target && target->segments().size() == 2) {
      const std::string source_id = *std::next(target->segments().begin());
      std::optional<std::string> token;
      if (auto it = target->params().find_last("token"); it != target->params().end() && (*it).has_value) {
        token = (*it).value;
      }
      Ingest(source_id, std::move(request), token, std::move(respond));
      return;
    }
  }
  query_pool_.Run(route_handler_, std::move(request), std::move(respond));
}

void ReceiverApi::Ingest(std::string_view source_id, http::Request request,
                         std::optional<std::string_view> token, http::Respond respond) const {
  receiver::IngestAsync(store_, sources_, secrets_, clock_, source_id, std::move(request), token,
                        [this, respond = std::move(respond)](http::Response response, receiver::IngestEffects effects) {
                          if (effects.stored && on_stored_) on_stored_();
                          if (effects.forwarded > 0 && on_forwarding_) on_forwarding_();
                          respond(std::move(response));
                        });
}

void ReceiverApi::AddRoutes() {
  router_.Add("POST", "/ingest/{}", [this](RouteContext& ctx) {
    std::promise<http::Response> answered;
    auto answer = answered.get_future();
    Ingest(ctx.params[0], ctx.request, ctx.Query("token"),
           [&answered](http::Response response) { answered.set_value(std::move(response)); });
    return answer.get();
  });
  router_.Add("GET", "/healthz", [](RouteContext&) { return JsonResponse(200, json::object{{"status", "ok"}}); });

  using Handler = std::function<http::Response(RouteContext&)>;
  auto authed = [this](Handler handler) {
    return [this, handler = std::move(handler)](RouteContext& ctx) -> http::Response {
      if (!api_token_hash_) {
        return http::ErrorResponse(401, "unauthorized",
                                   "the query API is off: start hookline receive with --api-token");
      }
      auto header = ctx.request.Header("authorization");
      if (!header || !header->starts_with("Bearer ") ||
          !crypto::ConstantTimeEquals(crypto::Sha256(header->substr(7)), *api_token_hash_)) {
        return http::ErrorResponse(401, "unauthorized", "send the API token as 'Authorization: Bearer <token>'");
      }
      try {
        return handler(ctx);
      } catch (const store::UnreadableValueError& e) {
        // Damaged data, not a failing server: say which and how to rebuild it.
        spdlog::error("{} {}: {}", ctx.request.method, ctx.request.target, e.what());
        return http::ErrorResponse(500, "stored_value_unreadable", e.what());
      }
    };
  };

  // Forwarding endpoints: the provider's endpoint API, owned by the receiver's one tenant.
  const AuthWrap as_receiver = [authed](CompanyHandler handler) -> RouteHandler {
    return authed([handler = std::move(handler)](RouteContext& ctx) {
      const store::Company owner{std::string(receiver::kReceiverCompany), "receiver", 0};
      return handler(ctx, owner);
    });
  };
  const WriteFn write = [this](RouteContext& ctx, const store::Company& company, WriteWork work) {
    return WriteIdempotent(store_, clock_, 24 * 3'600'000, ctx, company, std::move(work));
  };
  endpoint_routes_->AddTo(router_, as_receiver, write);

  router_.Add("POST", "/v1/sources", authed([this](RouteContext& ctx) {
    auto body = ParseObjectBody(ctx.request);
    if (auto* p = std::get_if<Problem>(&body)) return ProblemResponse(*p);
    const auto& o = std::get<json::object>(body);
    auto name = RequiredString(o, "name", 256);
    auto secret = OptionalString(o, "secret", 256);
    auto token = OptionalString(o, "token", 256);
    if (auto* p = std::get_if<Problem>(&name)) return ProblemResponse(*p);
    if (auto* p = std::get_if<Problem>(&secret)) return ProblemResponse(*p);
    if (auto* p = std::get_if<Problem>(&token)) return ProblemResponse(*p);
    std::vector<std::string> fields;
    if (const auto* f = o.if_contains("dedupe_fields"); f && !f->is_null()) {
      if (!f->is_array()) return ProblemResponse(Invalid("'dedupe_fields' must be an array of JSON paths"));
      for (const auto& item : f->get_array()) {
        if (!item.is_string() || item.get_string().empty()) {
          return ProblemResponse(Invalid("'dedupe_fields' must hold paths like \"data.lead.id\""));
        }
        fields.emplace_back(item.get_string());
      }
    }
    std::string error;
    auto view = receiver::CreateSource(store_, secrets_, clock_.Now(), std::get<std::string>(name),
                                       std::get<std::optional<std::string>>(secret),
                                       std::get<std::optional<std::string>>(token), fields, &error);
    if (!view) return ProblemResponse(Invalid(error));
    return JsonResponse(201, *view);
  }));
  router_.Add("GET", "/v1/sources", authed([this](RouteContext&) {
    json::array data;
    store_.Read([&](store::StoreTx& tx) {
      for (const auto& s : tx.ListSources()) data.push_back(views::SourceView(s));
    });
    return JsonResponse(200, json::object{{"data", std::move(data)}, {"next", nullptr}});
  }));

  router_.Add("GET", "/v1/received", authed([this](RouteContext& ctx) {
    auto page = ParseListParams(ctx);
    if (auto* p = std::get_if<Problem>(&page)) return ProblemResponse(*p);
    auto since = ParseTimeParam(ctx, "since");
    if (auto* p = std::get_if<Problem>(&since)) return ProblemResponse(*p);
    auto until = ParseTimeParam(ctx, "until");
    if (auto* p = std::get_if<Problem>(&until)) return ProblemResponse(*p);
    store::ReceivedFilter filter;
    auto opt = [&](std::string_view key) -> std::optional<std::string> {
      auto v = ctx.Query(key);
      return v && !v->empty() ? std::optional<std::string>(std::string(*v)) : std::nullopt;
    };
    filter.source_id = opt("source_id");
    filter.event = opt("event");
    filter.status = opt("status");
    filter.since = std::get<std::optional<long long>>(since);
    filter.until = std::get<std::optional<long long>>(until);
    const auto& p = std::get<ListParams>(page);
    if (p.after) {
      auto after_seq = ParseSeqCursor(*p.after);
      if (auto* problem = std::get_if<Problem>(&after_seq)) return ProblemResponse(*problem);
      filter.after_seq = std::get<std::int64_t>(after_seq);
    }
    filter.limit = p.limit + 1;
    filter.bodies = false;  // the list shows neither: a page of 1 MB bodies is not read for nothing
    std::vector<store::ReceivedRecord> items;
    store_.Read([&](store::StoreTx& tx) { items = tx.ListReceived(filter); });
    return JsonResponse(200, ListPage(items, p.limit, [](const auto& r) { return ReceivedView(r, false); }, [](const auto& x) { return json::value(FormatSeqCursor(x.seq)); }));
  }));
  router_.Add("GET", "/v1/received/{}", authed([this](RouteContext& ctx) {
    std::optional<json::object> view;
    store_.Read([&](store::StoreTx& tx) {
      auto r = tx.GetReceived(ctx.params[0]);
      if (!r) return;
      view = ReceivedView(*r, true);
      json::array forwarding;  // per forwarding endpoint: status and attempts
      for (const auto& d : tx.ListDeliveriesOfEvent(receiver::kReceiverCompany, r->id)) {
        json::array attempts;
        for (const auto& a : tx.ListAttempts(d.id)) attempts.push_back(views::AttemptView(a));
        forwarding.push_back(json::object{{"endpoint_id", d.endpoint_id},
                                          {"status", store::DeliveryStatusName(d.status)},
                                          {"attempt_count", d.total_attempts},
                                          {"attempts", std::move(attempts)}});
      }
      (*view)["forwarding"] = std::move(forwarding);
    });
    if (!view) return ProblemResponse(NotFound(fmt::format("received webhook '{}' does not exist", ctx.params[0])));
    return JsonResponse(200, *view);
  }));

  // Projections are per company (the payload's company_id): funnels count one company's
  // leads, lists name each row's company, and a lookup by id alone never merges companies.
  auto funnel_of = [](store::StoreTx& tx, const std::string& company_id, const model::Campaign& c) {
    json::object funnel;
    for (const auto& stage : model::FunnelStages(c.campaign_type)) {
      funnel[stage.name] = tx.CountProjectedLeadsWithAction(company_id, c.id, stage.actions);
    }
    return funnel;
  };
  auto not_seen = [](std::string_view what, std::string_view id, const std::optional<std::string>& company) {
    return ProblemResponse(NotFound(company ? fmt::format("{} '{}' has not been seen in company '{}'", what, id, *company)
                                            : fmt::format("{} '{}' has not been seen", what, id)));
  };
  router_.Add("GET", "/v1/campaigns", authed([this, funnel_of](RouteContext& ctx) {
    auto page = ParseCompanyPage(ctx);
    if (auto* p = std::get_if<Problem>(&page)) return ProblemResponse(*p);
    const auto& p = std::get<store::CompanyPage>(page);
    json::object list;
    store_.Read([&](store::StoreTx& tx) {
      list = ListPage(tx.ListProjectedCampaigns({p.company_id, p.after, p.limit + 1}), p.limit,
                      [&](const store::CompanyCampaign& c) {
                        return views::ProjectedCampaignView(c.company_id, c.campaign, funnel_of(tx, c.company_id, c.campaign));
                      },
                      [](const store::CompanyCampaign& c) { return CompanyCursor(c.company_id, c.campaign.id); });
    });
    return JsonResponse(200, list);
  }));
  router_.Add("GET", "/v1/campaigns/{}", authed([this, funnel_of, not_seen](RouteContext& ctx) {
    const std::string& id = ctx.params[0];
    const auto company = CompanyParam(ctx);
    std::vector<std::string> companies;
    std::optional<json::object> view;
    store_.Read([&](store::StoreTx& tx) {
      companies = company ? std::vector<std::string>{*company} : tx.CompaniesWithProjectedCampaign(id);
      if (companies.size() != 1) return;
      if (auto c = tx.GetProjectedCampaign(companies[0], id)) {
        view = views::ProjectedCampaignView(companies[0], *c, funnel_of(tx, companies[0], *c));
      }
    });
    if (companies.size() > 1) return Ambiguous("campaign", id, companies);
    if (!view) return not_seen("campaign", id, company);
    return JsonResponse(200, *view);
  }));
  router_.Add("GET", "/v1/leads", authed([this](RouteContext& ctx) {
    auto page = ParseCompanyPage(ctx);
    if (auto* p = std::get_if<Problem>(&page)) return ProblemResponse(*p);
    const auto& p = std::get<store::CompanyPage>(page);
    auto opt = [&](std::string_view key) -> std::optional<std::string> {
      auto v = ctx.Query(key);
      return v && !v->empty() ? std::optional<std::string>(std::string(*v)) : std::nullopt;
    };
    json::object list;
    store_.Read([&](store::StoreTx& tx) {
      list = ListPage(tx.ListProjectedLeads(opt("campaign_id"), opt("status"), {p.company_id, p.after, p.limit + 1}), p.limit,
                      [&](const store::CompanyLead& l) {
                        return views::ProjectedLeadView(l.company_id, l.lead, tx.ProjectedEnrollments(l.company_id, l.lead.id));
                      },
                      [](const store::CompanyLead& l) { return CompanyCursor(l.company_id, l.lead.id); });
    });
    return JsonResponse(200, list);
  }));
  router_.Add("GET", "/v1/leads/{}", authed([this, not_seen](RouteContext& ctx) {
    const std::string& id = ctx.params[0];
    const auto company = CompanyParam(ctx);
    std::vector<std::string> companies;
    std::optional<json::object> view;
    store_.Read([&](store::StoreTx& tx) {
      companies = company ? std::vector<std::string>{*company} : tx.CompaniesWithProjectedLead(id);
      if (companies.size() != 1) return;
      if (auto l = tx.GetProjectedLead(companies[0], id)) {
        view = views::ProjectedLeadView(companies[0], *l, tx.ProjectedEnrollments(companies[0], id));
      }
    });
    if (companies.size() > 1) return Ambiguous("lead", id, companies);
    if (!view) return not_seen("lead", id, company);
    return JsonResponse(200, *view);
  }));
  router_.Add("GET", "/v1/replies", authed([this](RouteContext& ctx) {
    auto page = ParseListParams(ctx);
    if (auto* p = std::get_if<Problem>(&page)) return ProblemResponse(*p);
    auto since = ParseTimeParam(ctx, "since");
    if (auto* p = std::get_if<Problem>(&since)) return ProblemResponse(*p);
    const auto& p = std::get<ListParams>(page);
    // The cursor is the last reply of the previous page.
    std::optional<store::ReplyRecord> after;
    if (p.after) {
      auto cursor = ParseReplyCursor(*p.after);
      if (auto* problem = std::get_if<Problem>(&cursor)) return ProblemResponse(*problem);
      auto& c = std::get<ReplyCursor>(cursor);
      after = store::ReplyRecord{};
      after->replied_at = c.replied_at;
      after->lead_id = std::move(c.lead_id);
      after->campaign_id = std::move(c.campaign_id);
      after->event = std::move(c.event);
      after->company_id = std::move(c.company_id);
      if (const auto company = CompanyParam(ctx); company && *company != after->company_id) {
        return ProblemResponse({400, "invalid_parameter", "'after' is a cursor of another company_id's list"});
      }
    }
    std::vector<store::ReplyRecord> items;
    store_.Read([&](store::StoreTx& tx) {
      items = tx.ListReplies(CompanyParam(ctx), std::get<std::optional<long long>>(since), p.limit + 1, after);
    });
    return JsonResponse(200, ListPage(items, p.limit, [](const auto& r) { return views::ReplyView(r); },
                                      [](const store::ReplyRecord& r) {
                                        return json::value(
                                            FormatReplyCursor({r.replied_at, r.lead_id, r.campaign_id, r.event, r.company_id}));
                                      }));
  }));
  router_.Add("GET", "/v1/projections", authed([this](RouteContext&) {
    std::int64_t checkpoint = 0, backlog = 0;
    store_.Read([&](store::StoreTx& tx) {
      checkpoint = tx.ProjectionCheckpoint();
      backlog = tx.CountAcceptedAfter(checkpoint);
    });
    return JsonResponse(200, json::object{{"checkpoint", checkpoint}, {"backlog", backlog}});
  }));
  router_.Add("POST", "/v1/replay", authed([this](RouteContext& ctx) {
    auto body = ParseObjectBody(ctx.request, /*allow_empty=*/true);
    if (auto* p = std::get_if<Problem>(&body)) return ProblemResponse(*p);
    const auto& o = std::get<json::object>(body);
    const auto* to = o.if_contains("to");
    if (to != nullptr && to->is_object()) return ReplayToEndpoint(o, to->get_object());
    if (to != nullptr && !(to->is_string() && to->get_string() == "projections")) {
      return ProblemResponse(Invalid("'to' must be \"projections\" or {\"endpoint_id\": \"ep_...\"}"));
    }
    // Rebuild: empty the projections and let the projector run the whole log again.
    store_.Write([](store::StoreTx& tx) {
      tx.ClearProjections();
      return true;
    });
    if (on_stored_) on_stored_();
    return JsonResponse(202, json::object{{"to", "projections"}, {"rebuilding", true}});
  }));
}

http::Response ReceiverApi::ReplayToEndpoint(const json::object& body, const json::object& to) const {
  auto endpoint_id = RequiredString(to, "endpoint_id", 128);
  if (auto* p = std::get_if<Problem>(&endpoint_id)) return ProblemResponse(*p);
  receiver::ReplaySelection selection;
  for (const char* key : {"since", "until"}) {
    auto text = OptionalString(body, key, 64);
    if (auto* p = std::get_if<Problem>(&text)) return ProblemResponse(*p);
    if (auto& t = std::get<std::optional<std::string>>(text)) {
      auto at = ParseIso8601(*t);
      if (!at) return ProblemResponse({422, "invalid_timestamp", fmt::format("'{}' must be an ISO-8601 timestamp", key)});
      (std::string_view(key) == "since" ? selection.since : selection.until) = *at;
    }
  }
  auto source_id = OptionalString(body, "source_id", 128);
  if (auto* p = std::get_if<Problem>(&source_id)) return ProblemResponse(*p);
  selection.source_id = std::get<std::optional<std::string>>(source_id);
  if (const auto* types = body.if_contains("event_types"); types && !types->is_null()) {
    if (!types->is_array()) return ProblemResponse(Invalid("'event_types' must be an array of event names"));
    for (const auto& t : types->get_array()) {
      if (!t.is_string()) return ProblemResponse(Invalid("'event_types' must hold strings"));
      selection.event_types.emplace_back(t.get_string());
    }
  }
  const std::string& endpoint = std::get<std::string>(endpoint_id);
  const auto queued = receiver::ReplayLogToEndpoint(store_, selection, endpoint, clock_);
  if (!queued) return ProblemResponse(NotFound(fmt::format("endpoint '{}' does not exist", endpoint)));
  if (*queued > 0 && on_forwarding_) on_forwarding_();
  return JsonResponse(202, json::object{{"to", json::object{{"endpoint_id", endpoint}}}, {"queued", *queued}});
}

}  // namespace hookline::api
