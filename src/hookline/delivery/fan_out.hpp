#pragma once

#include <string_view>

#include "hookline/store/store.hpp"

namespace hookline::delivery {

//! A delivery of `event` to `endpoint_id`, pending and due at `now`.
store::DeliveryRecord NewDelivery(const store::EventRecord& event, std::string_view endpoint_id,
                                  Millis now);

//! The outbox: inserts one delivery of `event` (already inserted, seq set) per endpoint of its
//! company that subscribes to it: pending, or skipped while the endpoint is disabled (kept
//! for recovery). `except_endpoint_id` gets none. Returns how many were inserted.
int FanOut(store::StoreTx& tx, const store::EventRecord& event, Millis now,
           std::string_view except_endpoint_id = {});

}  // namespace hookline::delivery
