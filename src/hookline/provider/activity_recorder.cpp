#include "hookline/provider/activity_recorder.hpp"

#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "hookline/delivery/fan_out.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::provider {

namespace json = boost::json;

namespace {

std::optional<Problem> RequireId(const json::object& body, std::string_view key, std::string& out) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return Invalid(fmt::format("'{}' is required", key));
  if (!v->is_string()) return Invalid(fmt::format("'{}' must be a string", key));
  const auto& s = v->get_string();
  if (!IsValidDomainId(s)) {
    return Invalid(fmt::format("'{}' must be 1 to 128 printable characters without '/', '?', '#', '%'", key));
  }
  out.assign(s.data(), s.size());
  return std::nullopt;
}

// "an email", "a linkedin": the article a channel's name takes in a message.
std::string WithArticle(std::string_view channel) {
  const bool vowel = !channel.empty() && std::string_view("aeiou").find(channel.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", channel);
}

bool Contains(const std::vector<std::string_view>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

std::variant<ActivityRequest, Problem> ParseActivityRequest(const json::value& value) {
  const auto* body = value.if_object();
  if (body == nullptr) return Invalid("the body must be a JSON object");
  ActivityRequest request;

  const auto* event = body->if_contains("event");
  if (event == nullptr || event->is_null()) return Invalid("'event' is required");
  if (!event->is_string()) return Invalid("'event' must be a string");
  request.spec = model::FindEvent(event->get_string());
  if (request.spec == nullptr) {
    return Problem{422, "unknown_event",
                   fmt::format("unknown event '{}'; known events: {}",
                               std::string_view(event->get_string()), model::KnownEventNames())};
  }
  if (auto p = RequireId(*body, "campaign_id", request.campaign_id)) return *p;
  if (auto p = RequireId(*body, "lead_id", request.lead_id)) return *p;
  if (auto p = RequireId(*body, "sender_id", request.sender_id)) return *p;

  if (const auto* at = body->if_contains("occurred_at"); at != nullptr && !at->is_null()) {
    if (!at->is_string()) return Problem{422, "invalid_timestamp", "'occurred_at' must be an ISO-8601 string"};
    request.occurred_at = ParseIso8601(at->get_string());
    if (!request.occurred_at) {
      return Problem{422, "invalid_timestamp",
                     fmt::format("'occurred_at' is not an ISO-8601 timestamp with an offset: '{}'",
                                 std::string_view(at->get_string()))};
    }
  }
  if (const auto* st = body->if_contains("latest_status"); st != nullptr && !st->is_null()) {
    if (!st->is_string() || st->get_string().empty() || st->get_string().size() > 64) {
      return Invalid("'latest_status' must be a string of 1 to 64 characters");
    }
    request.latest_status = std::string(st->get_string());
  }
  if (const auto* ad = body->if_contains("action_data"); ad != nullptr && !ad->is_null()) {
    if (!ad->is_object()) return Invalid("'action_data' must be an object");
    request.action_data = ad->get_object();
  }
  for (const auto& field : request.spec->action_fields) {
    const auto* v = request.action_data.if_contains(field);
    if (v != nullptr && !v->is_null() && !v->is_string()) {
      return Invalid(fmt::format("'action_data.{}' must be a string or null", field));
    }
  }
  for (const auto& field : request.spec->required_fields) {
    const auto* v = request.action_data.if_contains(field);
    if (v == nullptr || !v->is_string()) {
      return Invalid(fmt::format("'{}' needs 'action_data.{}' (a string)", request.spec->name, field));
    }
  }
  return request;
}

json::object BuildActionData(const model::EventSpec& spec, const json::object& given,
                             const json::object* last_email_sent) {
  json::object out;
  for (const auto& field : spec.action_fields) {
    if (const auto* v = given.if_contains(field)) {
      out[field] = *v;
      continue;
    }
    json::value fallback = nullptr;
    if (spec.type == model::EventType::kInviteSent && field == "message") {
      fallback = "Invitation Sent Successfully";
    } else if (spec.type == model::EventType::kInviteSent && field == "invitation_id") {
      fallback = NewUuid();
    } else if (spec.type == model::EventType::kInviteAccepted && field == "message") {
      fallback = "Invitation Accepted";
    } else if ((spec.type == model::EventType::kEmailOpened ||
                spec.type == model::EventType::kEmailClicked) &&
               last_email_sent != nullptr) {
      // Opens and clicks describe the email that was sent: repeat its subject and body.
      if (const auto* v = last_email_sent->if_contains(field)) fallback = *v;
    }
    out[field] = std::move(fallback);
  }
  for (const auto& kv : given) {
    if (!Contains(spec.action_fields, kv.key())) out[kv.key()] = kv.value();
  }
  return out;
}

std::variant<RecordedActivity, Problem> RecordActivity(store::StoreTx& tx,
                                                       std::string_view company_id,
                                                       const ActivityRequest& request, Millis now,
                                                       json::storage_ptr payload_storage) {
  const model::EventSpec& spec = *request.spec;
  auto campaign = tx.GetCampaign(company_id, request.campaign_id);
  if (!campaign) {
    return Problem{404, "unknown_campaign", fmt::format("campaign '{}' does not exist", request.campaign_id)};
  }
  auto lead = tx.GetLead(company_id, request.lead_id);
  if (!lead) return Problem{404, "unknown_lead", fmt::format("lead '{}' does not exist", request.lead_id)};
  auto sender = tx.GetSender(company_id, request.sender_id);
  if (!sender) {
    return Problem{404, "unknown_sender", fmt::format("sender '{}' does not exist", request.sender_id)};
  }
  if (campaign->campaign_type != spec.channel) {
    return Problem{422, "channel_mismatch",
                   fmt::format("'{}' is {} event but campaign '{}' is {} campaign", spec.name,
                               WithArticle(model::ChannelName(spec.channel)), campaign->id,
                               WithArticle(model::ChannelName(campaign->campaign_type)))};
  }
  auto enrollment = tx.GetEnrollment(company_id, request.campaign_id, request.lead_id);
  if (!enrollment) {
    return Problem{422, "lead_not_enrolled",
                   fmt::format("lead '{}' is not enrolled in campaign '{}': enroll it with PUT "
                               "/v1/campaigns/{}/leads/{}",
                               lead->id, campaign->id, campaign->id, lead->id)};
  }

  std::optional<json::object> last_email_sent;
  if (spec.type == model::EventType::kEmailOpened || spec.type == model::EventType::kEmailClicked) {
    if (auto sent = tx.LastEventOf(company_id, request.campaign_id, request.lead_id, "email-sent")) {
      model::ParseFailure failure;
      if (auto parsed = model::ParseWebhook(sent->payload, &failure)) {
        if (const auto* ad = parsed->ActionData()) last_email_sent = *ad;
      }
    }
  }

  const Millis occurred_at = request.occurred_at.value_or(now);
  const std::string event_id = NewId("msg_", now);
  const std::optional<std::string> status =
      request.latest_status ? request.latest_status : std::string(spec.default_status);
  model::Activity activity{std::string(spec.action), occurred_at};
  tx.AppendActivity(company_id, request.campaign_id, request.lead_id, activity, event_id, status);
  // The stored history is ordered by time, ties in arrival order: insert in the same place.
  auto& history = enrollment->activity;
  history.insert(std::upper_bound(history.begin(), history.end(), occurred_at,
                                  [](Millis t, const model::Activity& a) { return t < a.action_time; }),
                 std::move(activity));

  model::PayloadParts parts;
  parts.spec = &spec;
  parts.company_id = std::string(company_id);
  parts.timestamp = occurred_at;
  parts.action_data = BuildActionData(spec, request.action_data,
                                      last_email_sent ? &*last_email_sent : nullptr);
  parts.lead = std::move(*lead);
  parts.latest_status = status;
  parts.activity = std::move(enrollment->activity);
  parts.campaign = std::move(*campaign);
  parts.sender = std::move(*sender);

  // Constructed with the payload: assigning it would copy it out of `payload_storage`.
  RecordedActivity recorded{store::EventRecord{}, model::BuildPayload(parts, std::move(payload_storage)), 0};
  auto& event = recorded.event;
  event.id = event_id;
  event.company_id = std::string(company_id);
  event.event = std::string(spec.name);
  event.campaign_id = request.campaign_id;
  event.lead_id = request.lead_id;
  event.sender_id = request.sender_id;
  event.occurred_at = occurred_at;
  event.created_at = now;
  event.payload = model::RenderWebhookJson(recorded.payload);
  tx.InsertEvent(event);

  recorded.deliveries = delivery::FanOut(tx, event, now);
  return recorded;
}

}  // namespace hookline::provider
