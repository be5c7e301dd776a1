#pragma once

#include <optional>
#include <string>

#include "harness.hpp"

namespace hookline::itest {

//! The reference example for `event`, as printed (no trailing newline).
std::string ReadExample(const std::string& event);

//! Rebuilds the reference scenario of `event` through the provider API alone: sender,
//! campaign and lead with the reference's ids and fields, enough leads enrolled and completed
//! for the counters, the lead's earlier history posted at its times, an endpoint at `url`
//! (signing with `secret` when given) that takes only this event, then the event itself.
//! The company must exist with the reference's id. Returns {event id, endpoint secret}.
std::pair<std::string, std::string> RebuildReferenceScenario(const ServeProcess& serve,
                                                             const std::string& key,
                                                             const std::string& event,
                                                             const std::string& url,
                                                             const std::optional<std::string>& secret = {});

inline constexpr char kReferenceCompany[] = "67787093-cc3a-44ca-8a12-5bf1afa3194c";

}  // namespace hookline::itest
