#include "hookline/model/codec.hpp"

#include <cmath>

#include "hookline/util/json_text.hpp"

namespace hookline::model {

namespace {

json::value Nullable(const std::optional<std::string>& s, const json::storage_ptr& sp) {
  return s ? json::value(*s, sp) : json::value(nullptr, sp);
}

}  // namespace

std::string RenderWebhookJson(const json::value& value) { return StringifyJson(value, 2); }

std::string RenderWebhookJson(const json::object& object) { return StringifyJson(object, 2); }

json::object BuildPayload(const PayloadParts& p, json::storage_ptr storage) {
  // Every container is made in `storage` before it is filled: one made elsewhere and moved
  // in would be copied into it.
  const json::storage_ptr& sp = storage;
  json::array activity(sp);
  activity.reserve(p.activity.size());
  for (const auto& a : p.activity) {
    json::object entry(sp);
    entry.reserve(2);
    entry.emplace("action", a.action);
    entry.emplace("action_time", FormatIso8601(a.action_time));
    activity.push_back(std::move(entry));
  }
  json::object lead(sp);
  lead.reserve(10);
  lead["id"] = p.lead.id;
  lead["name"] = p.lead.name;
  lead["profile_url"] = Nullable(p.lead.profile_url, sp);
  lead["email"] = Nullable(p.lead.email, sp);
  lead["latest_status"] = Nullable(p.latest_status, sp);
  lead["activity"] = std::move(activity);
  lead["company_name"] = Nullable(p.lead.company_name, sp);
  lead["location"] = Nullable(p.lead.location, sp);
  lead["job_title"] = Nullable(p.lead.job_title, sp);
  lead["profile_image"] = Nullable(p.lead.profile_image, sp);

  json::object campaign(sp);
  campaign.reserve(5);
  campaign["id"] = p.campaign.id;
  campaign["name"] = p.campaign.name;
  campaign["campaign_type"] = ChannelName(p.campaign.campaign_type);
  campaign["total_leads"] = p.campaign.total_leads;
  campaign["complete_end_of_sequence"] = p.campaign.complete_end_of_sequence;

  json::object sender(sp);
  sender.reserve(3);
  sender["id"] = p.sender.id;
  sender["name"] = p.sender.name;
  sender["email"] = Nullable(p.sender.email, sp);

  json::object data(sp);
  data.reserve(4);
  data["actionData"] = p.action_data;
  data["lead"] = std::move(lead);
  data["campaign"] = std::move(campaign);
  data["sender"] = std::move(sender);

  json::object doc(sp);
  doc.reserve(4);
  doc["event"] = p.spec->name;
  doc["company_id"] = p.company_id;
  doc["timestamp"] = FormatIso8601(p.timestamp);
  doc["data"] = std::move(data);
  return doc;
}

bool HasNonFiniteNumber(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return !std::isfinite(v.get_double());
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (HasNonFiniteNumber(kv.value())) return true;
      }
      return false;
    case json::kind::array:
      for (const auto& item : v.get_array()) {
        if (HasNonFiniteNumber(item)) return true;
      }
      return false;
    default:
      return false;
  }
}

std::optional<std::string_view> StringField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const auto& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

std::optional<std::int64_t> IntField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

const json::object* ObjectField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

const json::array* ArrayField(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

const json::object* WebhookEvent::Data() const { return ObjectField(document, "data"); }
const json::object* WebhookEvent::ActionData() const {
  const auto* d = Data();
  return d ? ObjectField(*d, "actionData") : nullptr;
}
const json::object* WebhookEvent::LeadObject() const {
  const auto* d = Data();
  return d ? ObjectField(*d, "lead") : nullptr;
}
const json::object* WebhookEvent::CampaignObject() const {
  const auto* d = Data();
  return d ? ObjectField(*d, "campaign") : nullptr;
}
const json::object* WebhookEvent::SenderObject() const {
  const auto* d = Data();
  return d ? ObjectField(*d, "sender") : nullptr;
}

std::optional<WebhookEvent> ParseWebhook(std::string_view body, ParseFailure* failure,
                                         json::storage_ptr storage) {
  auto fail = [&](std::string reason) -> std::optional<WebhookEvent> {
    if (failure) failure->reason = std::move(reason);
    return std::nullopt;
  };
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value parsed = ParseJsonExact(body, ec, std::move(storage), options);
  if (ec) return fail("body is not valid JSON: " + ec.message());
  if (!parsed.is_object()) return fail("body is not a JSON object");
  // Move-constructed, not assigned: an assignment would copy into the heap when `storage`
  // is another resource.
  WebhookEvent event{std::move(parsed.get_object()), {}, EventType::kUnknown, std::nullopt, std::nullopt};
  const auto name = StringField(event.document, "event");
  if (!name) return fail("body has no string field 'event'");
  event.event = std::string(*name);
  const EventSpec* spec = FindEvent(event.event);
  event.type = spec ? spec->type : EventType::kUnknown;
  if (auto company = StringField(event.document, "company_id")) event.company_id = std::string(*company);
  if (auto ts = StringField(event.document, "timestamp")) event.timestamp = ParseIso8601(*ts);
  return event;
}

}  // namespace hookline::model
