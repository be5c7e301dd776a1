#include "hookline/views/json_views.hpp"

#include <boost/json.hpp>

#include "hookline/util/crypto.hpp"
#include "hookline/util/json_text.hpp"
#include "hookline/util/time.hpp"

namespace hookline::views {

namespace json = boost::json;

namespace {
json::value Nullable(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}
}  // namespace

json::object SenderView(const model::Sender& s) {
  return {{"id", s.id}, {"name", s.name}, {"email", Nullable(s.email)}};
}

json::object LeadView(const model::Lead& l, const std::vector<model::Enrollment>& enrollments,
                      bool with_completion) {
  json::object o;
  o["id"] = l.id;
  o["name"] = l.name;
  o["profile_url"] = Nullable(l.profile_url);
  o["email"] = Nullable(l.email);
  o["company_name"] = Nullable(l.company_name);
  o["location"] = Nullable(l.location);
  o["job_title"] = Nullable(l.job_title);
  o["profile_image"] = Nullable(l.profile_image);
  json::array campaigns;
  for (const auto& e : enrollments) {
    json::array activity;
    for (const auto& a : e.activity) {
      activity.push_back(json::object{{"action", a.action}, {"action_time", FormatIso8601(a.action_time)}});
    }
    json::object c{{"campaign_id", e.campaign_id}, {"latest_status", Nullable(e.latest_status)}};
    if (with_completion) c["completed"] = e.completed;
    c["activity"] = std::move(activity);
    campaigns.push_back(std::move(c));
  }
  o["campaigns"] = std::move(campaigns);
  return o;
}

json::object CampaignView(const model::Campaign& c, json::object funnel) {
  json::object o;
  o["id"] = c.id;
  o["name"] = c.name;
  o["campaign_type"] = model::ChannelName(c.campaign_type);
  o["total_leads"] = c.total_leads;
  o["complete_end_of_sequence"] = c.complete_end_of_sequence;
  o["funnel"] = std::move(funnel);
  return o;
}

json::object EndpointView(const store::EndpointRecord& e) {
  json::object o;
  o["id"] = e.id;
  o["url"] = e.url;
  o["description"] = Nullable(e.description);
  json::array types;
  for (const auto& t : e.event_types) types.emplace_back(t);
  o["event_types"] = std::move(types);
  json::object headers;
  for (const auto& [k, v] : e.headers) headers[k] = v;
  o["headers"] = std::move(headers);
  o["rate_limit_per_s"] = e.rate_limit_per_s ? json::value(*e.rate_limit_per_s) : json::value(nullptr);
  o["ordering"] = store::OrderingName(e.ordering);
  o["disabled"] = e.disabled;
  o["disabled_reason"] = Nullable(e.disabled_reason);
  o["failing_since"] = e.failing_since ? json::value(FormatIso8601(*e.failing_since)) : json::value(nullptr);
  o["created_at"] = FormatIso8601(e.created_at);
  o["updated_at"] = FormatIso8601(e.updated_at);
  return o;
}

json::object SourceView(const store::SourceRecord& s) {
  json::array fields;
  for (const auto& f : s.dedupe_fields) fields.emplace_back(f);
  return {{"id", s.id},
          {"name", s.name},
          {"auth", s.auth == store::SourceAuth::kSignature ? "signature" : "token"},
          {"ingest_path", "/ingest/" + s.id},
          {"dedupe_fields", std::move(fields)},
          {"created_at", FormatIso8601(s.created_at)}};
}

json::object EventSummaryView(const store::EventRecord& e) {
  json::object o;
  o["id"] = e.id;
  o["event"] = e.event;
  // Operational events (endpoint.*, delivery.*) are about no campaign, lead or sender.
  auto id_or_null = [](const std::string& id) { return id.empty() ? json::value(nullptr) : json::value(id); };
  o["campaign_id"] = id_or_null(e.campaign_id);
  o["lead_id"] = id_or_null(e.lead_id);
  o["sender_id"] = id_or_null(e.sender_id);
  o["occurred_at"] = FormatIso8601(e.occurred_at);
  o["created_at"] = FormatIso8601(e.created_at);
  boost::system::error_code ec;
  o["payload"] = ParseJsonExact(e.payload, ec);
  return o;
}

json::object AttemptView(const store::AttemptRecord& a) {
  json::object o;
  o["at"] = FormatIso8601(a.started_at);
  o["duration_ms"] = a.duration_ms;
  o["status_code"] = a.status_code ? json::value(*a.status_code) : json::value(nullptr);
  o["error"] = Nullable(a.error);
  PutRawBytes(o, "response", a.response_head);
  return o;
}

json::object ReplyView(const store::ReplyRecord& r) {
  return {{"company_id", r.company_id},
          {"lead_id", r.lead_id},
          {"campaign_id", r.campaign_id},
          {"channel", Nullable(r.channel)},
          {"event", r.event},
          {"text", Nullable(r.text)},
          {"replied_at", FormatIso8601(r.replied_at)},
          {"received_id", r.received_id}};
}

void PutRawBytes(json::object& view, std::string_view key, std::string_view bytes) {
  if (IsValidUtf8(bytes)) {
    view[key] = bytes;
  } else {
    view[std::string(key) + "_base64"] = crypto::Base64Encode(bytes);
  }
}

namespace {
// `view` with "company_id" right after its "id".
json::object WithCompany(std::string_view company_id, json::object view) {
  json::object o;
  o.reserve(view.size() + 1);
  for (auto& [key, value] : view) {
    o.emplace(key, std::move(value));
    if (key == "id") o.emplace("company_id", company_id);
  }
  return o;
}
}  // namespace

json::object ProjectedLeadView(std::string_view company_id, const model::Lead& lead,
                               const std::vector<model::Enrollment>& enrollments) {
  return WithCompany(company_id, LeadView(lead, enrollments, false));
}

json::object ProjectedCampaignView(std::string_view company_id, const model::Campaign& campaign,
                                   json::object funnel) {
  return WithCompany(company_id, CampaignView(campaign, std::move(funnel)));
}

}  // namespace hookline::views
