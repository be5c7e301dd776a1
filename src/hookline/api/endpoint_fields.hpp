#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "hookline/store/store.hpp"
#include "hookline/util/problem.hpp"

namespace hookline::api {

//! Readers of the endpoint body fields (POST and PATCH /v1/endpoints). Each answers nullopt
//! when the field is absent (PATCH leaves it alone), the parsed value otherwise (null clears
//! it), or a Problem (422) naming what is wrong. They never throw on any JSON.

//! "headers": an object of at most 32 header names (lowercased; not the ones hookline sets)
//! to string values without CR or LF.
std::variant<std::optional<store::HeaderList>, Problem> ParseHeaders(const boost::json::object& body);

//! "event_types": known event names (webhook or operational), duplicates dropped.
std::variant<std::optional<std::vector<std::string>>, Problem> ParseEventTypes(const boost::json::object& body);

//! "rate_limit_per_s": a whole number from 1 to 100000, or null for no limit.
std::variant<std::optional<std::optional<std::int64_t>>, Problem> ParseRateLimit(const boost::json::object& body);

}  // namespace hookline::api
