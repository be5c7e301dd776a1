#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hookline/store/store.hpp"
#include "hookline/util/time.hpp"

namespace hookline::receiver {

//! Which accepted webhooks of the raw log a replay sends again; what is unset selects all.
struct ReplaySelection {
  std::optional<Millis> since;  //!< as store::ReceivedFilter::since
  std::optional<Millis> until;  //!< as store::ReceivedFilter::until
  std::optional<std::string> source_id;
  std::vector<std::string> event_types;  //!< empty: every event
};

//! Queues every accepted webhook of `selection` again to the forwarding endpoint
//! `endpoint_id` (ReplayToEndpoint, one webhook at a time), paging through the raw log one
//! transaction per page. Returns how many deliveries were queued, or nullopt when the
//! endpoint does not exist. Store errors propagate; pages already written stay queued.
std::optional<std::int64_t> ReplayLogToEndpoint(store::Store& store, const ReplaySelection& selection,
                                                std::string_view endpoint_id, const Clock& clock);

}  // namespace hookline::receiver
