#include "hookline/delivery/fan_out.hpp"

namespace hookline::delivery {

store::DeliveryRecord NewDelivery(const store::EventRecord& event, std::string_view endpoint_id,
                                  Millis now) {
  store::DeliveryRecord delivery;
  delivery.event_id = event.id;
  delivery.endpoint_id = std::string(endpoint_id);
  delivery.company_id = event.company_id;
  delivery.status = store::DeliveryStatus::kPending;
  delivery.next_attempt_at = now;
  delivery.created_at = now;
  delivery.updated_at = now;
  delivery.lead_id = event.lead_id;
  delivery.occurred_at = event.occurred_at;
  delivery.event_seq = event.seq;
  return delivery;
}

int FanOut(store::StoreTx& tx, const store::EventRecord& event, Millis now,
           std::string_view except_endpoint_id) {
  int count = 0;
  for (const auto& endpoint : tx.ListAllEndpoints(event.company_id)) {
    if (endpoint.id == except_endpoint_id || !endpoint.Subscribes(event.event)) continue;
    store::DeliveryRecord delivery = NewDelivery(event, endpoint.id, now);
    delivery.lead_ordered = endpoint.ordering == store::Ordering::kPerLead;
    if (endpoint.disabled) {
      delivery.status = store::DeliveryStatus::kSkipped;
      delivery.next_attempt_at.reset();
    }
    tx.InsertDelivery(delivery);
    ++count;
  }
  return count;
}

}  // namespace hookline::delivery
