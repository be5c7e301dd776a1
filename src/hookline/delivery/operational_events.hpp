#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "hookline/store/store.hpp"

namespace hookline::delivery {

//! Events about delivery itself, sent only to endpoints that name them in event_types.
inline constexpr std::string_view kEndpointDisabled = "endpoint.disabled";
inline constexpr std::string_view kEndpointRecovered = "endpoint.recovered";
inline constexpr std::string_view kDeliveryExhausted = "delivery.exhausted";

//! True for the three operational event names. Inline so that body parsers use it without
//! linking the store (the fuzz targets compile only what they test).
inline bool IsOperationalEvent(std::string_view event) {
  return event == kEndpointDisabled || event == kEndpointRecovered || event == kDeliveryExhausted;
}

//! Records an operational event for `company_id` in `tx`: payload
//! {"event", "company_id", "timestamp", "data"} rendered like the reference's, and one
//! pending delivery per enabled endpoint that subscribes to it, except `about_endpoint_id`
//! (a disabled endpoint is not told it was disabled). Returns the number of deliveries.
int EmitOperationalEvent(store::StoreTx& tx, std::string_view company_id, std::string_view event,
                         boost::json::object data, std::string_view about_endpoint_id, Millis now);

}  // namespace hookline::delivery
