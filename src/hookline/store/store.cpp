#include "hookline/store/store.hpp"

#include <algorithm>

#include "hookline/store/sqlite/sqlite_store.hpp"

namespace hookline::store {

bool EndpointRecord::Subscribes(std::string_view event) const {
  if (std::find(event_types.begin(), event_types.end(), event) != event_types.end()) return true;
  return event_types.empty() && !event.starts_with("endpoint.") && !event.starts_with("delivery.");
}

std::string_view OrderingName(Ordering o) { return o == Ordering::kPerLead ? "per_lead" : "none"; }

std::optional<Ordering> ParseOrdering(std::string_view s) {
  if (s == "none") return Ordering::kNone;
  if (s == "per_lead") return Ordering::kPerLead;
  return std::nullopt;
}

std::string_view DeliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kSucceeded: return "succeeded";
    case DeliveryStatus::kFailed: return "failed";
    case DeliveryStatus::kSkipped: return "skipped";
    case DeliveryStatus::kCancelled: return "cancelled";
  }
  return "pending";
}

std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view s) {
  for (auto status : {DeliveryStatus::kPending, DeliveryStatus::kSucceeded, DeliveryStatus::kFailed,
                      DeliveryStatus::kSkipped, DeliveryStatus::kCancelled}) {
    if (DeliveryStatusName(status) == s) return status;
  }
  return std::nullopt;
}

std::unique_ptr<Store> OpenStore(std::string_view url, StoreUse use, std::size_t max_queued_writes) {
  std::string_view path = url;
  if (path.starts_with("sqlite://")) {
    path.remove_prefix(9);
  } else if (path.starts_with("sqlite:")) {
    path.remove_prefix(7);
  } else if (path.starts_with("postgres://") || path.starts_with("postgresql://")) {
    throw StoreError(
        "PostgreSQL is not supported by this build yet: use --db sqlite:PATH");
  }
  if (path.empty()) throw StoreError("the database path is empty: use --db sqlite:PATH");
  return sqlite::OpenSqliteStore({.path = std::string(path),
                                  .one_server = use == StoreUse::kServer,
                                  .max_queued_writes = max_queued_writes});
}

}  // namespace hookline::store
