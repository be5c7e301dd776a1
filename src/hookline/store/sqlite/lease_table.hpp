#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "hookline/util/time.hpp"

namespace hookline::store::sqlite {

//! The leases on claimed deliveries, kept in memory instead of in the deliveries table. One
//! process owns a SQLite database (the dispatcher drops every lease at start), so a lease
//! needs no row update: claiming then writes nothing, where the update moved an index entry
//! and dirtied pages that every commit wrote to the WAL again.
//!
//! Transactional like the rows it stands beside: changes made in the writer's transaction
//! are seen by that transaction at once, count for everyone once it commits, and are undone
//! when it rolls back (whole, or one job's savepoint via Mark/RollBackTo). Only the writer
//! thread uses it, so it has no lock.
class LeaseTable {
 public:
  //! True when `delivery_id` has a lease running past `now`.
  bool Held(std::int64_t delivery_id, Millis now) const;
  //! The claiming clock's time: leases that ran out by then are swept in time.
  void SetNow(Millis now) { now_ = std::max(now_, now); }
  void Take(std::int64_t delivery_id, Millis until);
  void Drop(std::int64_t delivery_id);
  void DropAll();
  //! At least the number of leases held (expired ones may still be counted).
  std::size_t CountAtMost() const { return committed_.size() + pending_.size(); }

  //! A point in the open transaction that RollBackTo returns to.
  std::size_t Mark() const { return undo_.size(); }
  void RollBackTo(std::size_t mark);
  void Commit();
  void RollBack();

 private:
  //! A pending change: the new expiry, or nullopt for "dropped".
  using Change = std::optional<Millis>;
  struct Undo {
    std::int64_t delivery_id;
    std::optional<Change> before;  //!< the pending change it replaced; none: there was none
  };
  void Set(std::int64_t delivery_id, Change change);

  std::unordered_map<std::int64_t, Millis> committed_;
  std::unordered_map<std::int64_t, Change> pending_;
  std::vector<Undo> undo_;
  Millis now_ = 0;
  std::size_t sweep_at_ = 4096;  //!< committed_ size at which expired leases are swept
};

}  // namespace hookline::store::sqlite
