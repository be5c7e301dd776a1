#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/value.hpp>

#include "hookline/model/codec.hpp"
#include "hookline/provider/activity_request.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/problem.hpp"

namespace hookline::provider {

struct RecordedActivity {
  store::EventRecord event;
  //! The payload as built, before rendering: `event.payload` is its rendering.
  boost::json::object payload;
  int deliveries = 0;
};

//! Records the activity inside `tx`: checks the campaign, lead, sender and enrollment exist and
//! the channel matches, appends the action to the lead's history, renders the payload once
//! and stores it with one delivery per subscribed endpoint. On a Problem nothing was written.
//! The payload is allocated from `payload_storage` (default: the heap), which must outlive it.
std::variant<RecordedActivity, Problem> RecordActivity(store::StoreTx& tx,
                                                       std::string_view company_id,
                                                       const ActivityRequest& request, Millis now,
                                                       boost::json::storage_ptr payload_storage = {});

//! The actionData object for `spec`: known fields in the reference's order (given values,
//! else defaults, else null), then the caller's extra fields in their order.
boost::json::object BuildActionData(const model::EventSpec& spec,
                                    const boost::json::object& given,
                                    const boost::json::object* last_email_sent_action_data);

}  // namespace hookline::provider
