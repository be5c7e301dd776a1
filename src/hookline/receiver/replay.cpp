#include "hookline/receiver/replay.hpp"

#include <algorithm>

#include "hookline/receiver/forwarding.hpp"

namespace hookline::receiver {

std::optional<std::int64_t> ReplayLogToEndpoint(store::Store& store, const ReplaySelection& selection,
                                                std::string_view endpoint_id, const Clock& clock) {
  bool exists = false;
  store.Read([&](store::StoreTx& tx) { exists = tx.GetEndpoint(kReceiverCompany, endpoint_id).has_value(); });
  if (!exists) return std::nullopt;
  store::ReceivedFilter filter;
  filter.status = "accepted";
  filter.limit = 500;
  filter.since = selection.since;
  filter.until = selection.until;
  filter.source_id = selection.source_id;
  const auto& event_types = selection.event_types;
  // Page through the raw log, one transaction per page, so a large replay never holds the
  // writer for long.
  std::int64_t queued = 0;
  for (;;) {
    std::vector<store::ReceivedRecord> page;
    store.Read([&](store::StoreTx& tx) { page = tx.ListReceived(filter); });
    std::int64_t page_queued = 0;
    store.Write([&](store::StoreTx& tx) {
      page_queued = 0;  // the job may run again (Store::Write)
      for (const auto& r : page) {
        if (!event_types.empty() &&
            std::find(event_types.begin(), event_types.end(), r.event.value_or("")) == event_types.end()) {
          continue;
        }
        page_queued += ReplayToEndpoint(tx, r, endpoint_id, clock.Now());
      }
      return true;
    });
    queued += page_queued;
    if (page.size() < static_cast<size_t>(filter.limit)) break;
    filter.after_seq = page.back().seq;
  }
  return queued;
}

}  // namespace hookline::receiver
