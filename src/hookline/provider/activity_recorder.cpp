#include "hookline/provider/activity_recorder.hpp"

#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "hookline/delivery/fan_out.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::provider {

namespace json = boost::json;

namespace {

// "an email", "a linkedin": the article a channel's name takes in a message.
std::string WithArticle(std::string_view channel) {
  const bool vowel = !channel.empty() && std::string_view("aeiou").find(channel.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", channel);
}

bool Contains(const std::vector<std::string_view>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

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
