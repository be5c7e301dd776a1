#include "hookline/store/store.hpp"

#include <algorithm>

#include "hookline/store/sqlite/sqlite_store.hpp"

namespace hookline::store {

bool EndpointRecord::Subscribes(std::string_view event) const {
  return event_types.empty() ||
         std::find(event_types.begin(), event_types.end(), event) != event_types.end();
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

std::unique_ptr<Store> OpenStore(std::string_view url) {
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
  return sqlite::OpenSqliteStore({.path = std::string(path)});
}

}  // namespace hookline::store
