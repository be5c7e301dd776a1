#include "hookline/delivery/operational_events.hpp"

#include <boost/json.hpp>

#include "hookline/model/codec.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::delivery {

bool IsOperationalEvent(std::string_view event) {
  return event == kEndpointDisabled || event == kEndpointRecovered || event == kDeliveryExhausted;
}

int EmitOperationalEvent(store::StoreTx& tx, std::string_view company_id, std::string_view event,
                         boost::json::object data, std::string_view about_endpoint_id, Millis now) {
  boost::json::object doc;
  doc["event"] = event;
  doc["company_id"] = company_id;
  doc["timestamp"] = FormatIso8601(now);
  doc["data"] = std::move(data);
  store::EventRecord record;
  record.id = NewId("msg_", now);
  record.company_id = std::string(company_id);
  record.event = std::string(event);
  record.occurred_at = now;
  record.created_at = now;
  record.payload = model::RenderWebhookJson(doc);
  tx.InsertEvent(record);
  int deliveries = 0;
  for (const auto& endpoint : tx.ListAllEndpoints(company_id)) {
    if (endpoint.id == about_endpoint_id || !endpoint.Subscribes(event)) continue;
    store::DeliveryRecord delivery;
    delivery.event_id = record.id;
    delivery.endpoint_id = endpoint.id;
    delivery.company_id = record.company_id;
    delivery.status = endpoint.disabled ? store::DeliveryStatus::kSkipped : store::DeliveryStatus::kPending;
    if (!endpoint.disabled) delivery.next_attempt_at = now;
    delivery.created_at = now;
    delivery.updated_at = now;
    delivery.occurred_at = now;
    delivery.event_seq = record.seq;
    tx.InsertDelivery(delivery);
    ++deliveries;
  }
  return deliveries;
}

}  // namespace hookline::delivery
