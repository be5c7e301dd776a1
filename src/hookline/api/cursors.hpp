#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "hookline/util/problem.hpp"
#include "hookline/util/time.hpp"

namespace hookline::api {

//! The `?after=` cursor of a list ordered by a log sequence number (events, received
//! webhooks): the decimal sequence number of the last item shown.
std::string FormatSeqCursor(std::int64_t seq);

//! Reads a cursor FormatSeqCursor made: decimal digits only, at most INT64_MAX. Anything else
//! is a Problem 400 invalid_parameter naming 'after'. Never throws.
std::variant<std::int64_t, Problem> ParseSeqCursor(std::string_view after);

//! Where a page of replies ends: the sort key of the last reply shown.
struct ReplyCursor {
  Millis replied_at = 0;
  std::string lead_id;
  std::string campaign_id;
  std::string event;
  std::string company_id;  //!< the reply's company (projections are kept per company)

  bool operator==(const ReplyCursor&) const = default;
};

//! Hex of the JSON array [replied_at, lead_id, campaign_id, event, company_id]: opaque to callers, and
//! safe in a query string without escaping.
std::string FormatReplyCursor(const ReplyCursor& cursor);

//! Reads a cursor FormatReplyCursor made. Not hex, not JSON, not such an array or an item of
//! the wrong type: a Problem 400 invalid_parameter naming 'after'. Never throws.
std::variant<ReplyCursor, Problem> ParseReplyCursor(std::string_view after);

}  // namespace hookline::api
