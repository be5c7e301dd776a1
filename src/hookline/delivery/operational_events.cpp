#include "hookline/delivery/operational_events.hpp"

#include <boost/json.hpp>

#include "hookline/delivery/fan_out.hpp"
#include "hookline/model/codec.hpp"
#include "hookline/util/ids.hpp"

namespace hookline::delivery {

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
  return FanOut(tx, record, now, about_endpoint_id);
}

}  // namespace hookline::delivery
