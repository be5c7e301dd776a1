#include "hookline/receiver/forwarding.hpp"

#include "hookline/delivery/fan_out.hpp"

namespace hookline::receiver {

namespace {

// The event-log entry that forwarding deliveries point at: the raw body, unchanged.
store::EventRecord ForwardedEvent(const store::ReceivedRecord& record, const ForwardingFacts* facts, Millis now) {
  store::EventRecord e;
  e.id = record.id;
  e.company_id = std::string(kReceiverCompany);
  e.event = record.event.value_or("");
  if (facts) {
    e.lead_id = facts->lead_id;  // for per-lead ordering on forwarding endpoints
    e.campaign_id = facts->campaign_id;
    e.sender_id = facts->sender_id;
  }
  e.occurred_at = facts && facts->timestamp ? *facts->timestamp : record.received_at;
  e.created_at = now;
  e.payload = record.body;
  return e;
}

}  // namespace

ForwardingFacts FactsOf(const model::WebhookEvent& event) {
  auto id_of = [](const boost::json::object* o) {
    auto v = o ? model::StringField(*o, "id") : std::nullopt;
    return v ? std::string(*v) : std::string();
  };
  return {event.event, id_of(event.LeadObject()), id_of(event.CampaignObject()), id_of(event.SenderObject()),
          event.timestamp};
}

int ForwardReceived(store::StoreTx& tx, const store::ReceivedRecord& record,
                    const ForwardingFacts& facts, Millis now) {
  bool subscribed = false;
  for (const auto& endpoint : tx.ListAllEndpoints(kReceiverCompany)) subscribed |= endpoint.Subscribes(facts.event);
  if (!subscribed) return 0;  // no copy of the body unless something will send it
  store::EventRecord forwarded = ForwardedEvent(record, &facts, now);
  tx.InsertEvent(forwarded);
  return delivery::FanOut(tx, forwarded, now);
}

int ReplayToEndpoint(store::StoreTx& tx, const store::ReceivedRecord& record,
                     std::string_view endpoint_id, Millis now) {
  auto forwarded = tx.GetEvent(kReceiverCompany, record.id);
  if (!forwarded) {
    model::ParseFailure failure;
    auto event = model::ParseWebhook(record.body, &failure);
    const auto facts = event ? std::optional<ForwardingFacts>(FactsOf(*event)) : std::nullopt;
    forwarded = ForwardedEvent(record, facts ? &*facts : nullptr, now);
    tx.InsertEvent(*forwarded);
  }
  for (const auto& d : tx.ListDeliveriesOfEvent(kReceiverCompany, record.id)) {
    if (d.endpoint_id != endpoint_id) continue;
    if (d.status == store::DeliveryStatus::kPending) return 0;
    store::RequeueFilter filter;
    filter.company_id = std::string(kReceiverCompany);
    filter.event_id = record.id;
    filter.endpoint_id = std::string(endpoint_id);
    filter.statuses = {store::DeliveryStatus::kSucceeded, store::DeliveryStatus::kFailed,
                       store::DeliveryStatus::kSkipped, store::DeliveryStatus::kCancelled};
    return tx.RequeueDeliveries(filter, now);
  }
  tx.InsertDelivery(delivery::NewDelivery(*forwarded, endpoint_id, now));
  return 1;
}

}  // namespace hookline::receiver
