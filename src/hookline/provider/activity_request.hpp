#pragma once

#include <optional>
#include <string>
#include <variant>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "hookline/model/catalog.hpp"
#include "hookline/util/problem.hpp"
#include "hookline/util/time.hpp"

namespace hookline::provider {

//! The body of POST /v1/activities, validated for shape (not yet against stored state).
struct ActivityRequest {
  const model::EventSpec* spec = nullptr;
  std::string campaign_id;
  std::string lead_id;
  std::string sender_id;
  std::optional<Millis> occurred_at;  //!< absent: now
  std::optional<std::string> latest_status;  //!< absent: the event's default
  boost::json::object action_data;  //!< as given, in the caller's order
};

//! Checks the body's shape: required ids, known event name, timestamp, types of the known
//! actionData fields and presence of the ones the event requires. Never throws on any JSON.
std::variant<ActivityRequest, Problem> ParseActivityRequest(const boost::json::value& body);

}  // namespace hookline::provider
