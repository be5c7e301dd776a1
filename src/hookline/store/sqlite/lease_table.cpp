#include "hookline/store/sqlite/lease_table.hpp"

namespace hookline::store::sqlite {

bool LeaseTable::Held(std::int64_t delivery_id, Millis now) const {
  if (auto it = pending_.find(delivery_id); it != pending_.end()) return it->second && *it->second > now;
  auto it = committed_.find(delivery_id);
  return it != committed_.end() && it->second > now;
}

void LeaseTable::Set(std::int64_t delivery_id, Change change) {
  auto [it, inserted] = pending_.try_emplace(delivery_id, change);
  undo_.push_back(Undo{delivery_id, inserted ? std::nullopt : std::optional<Change>(it->second)});
  it->second = change;
}

void LeaseTable::Take(std::int64_t delivery_id, Millis until) { Set(delivery_id, until); }

void LeaseTable::Drop(std::int64_t delivery_id) {
  // Most deliveries recorded were leased; one that was not needs no change to undo.
  if (!pending_.contains(delivery_id) && !committed_.contains(delivery_id)) return;
  Set(delivery_id, std::nullopt);
}

void LeaseTable::DropAll() {
  std::vector<std::int64_t> ids;
  ids.reserve(committed_.size() + pending_.size());
  for (const auto& [id, until] : committed_) ids.push_back(id);
  for (const auto& [id, change] : pending_) ids.push_back(id);
  for (auto id : ids) Set(id, std::nullopt);
}

void LeaseTable::RollBackTo(std::size_t mark) {
  while (undo_.size() > mark) {
    const Undo& undo = undo_.back();
    if (undo.before) {
      pending_[undo.delivery_id] = *undo.before;
    } else {
      pending_.erase(undo.delivery_id);
    }
    undo_.pop_back();
  }
}

void LeaseTable::Commit() {
  for (const auto& [id, change] : pending_) {
    if (change) {
      committed_[id] = *change;
    } else {
      committed_.erase(id);
    }
  }
  pending_.clear();
  undo_.clear();
  // A lease whose delivery is never recorded (its record failed to commit, or it was
  // cancelled meanwhile) stays until it runs out: swept when the table has doubled.
  if (committed_.size() >= sweep_at_) {
    std::erase_if(committed_, [this](const auto& lease) { return lease.second <= now_; });
    sweep_at_ = std::max<std::size_t>(4096, 2 * committed_.size());
  }
}

void LeaseTable::RollBack() {
  pending_.clear();
  undo_.clear();
}

}  // namespace hookline::store::sqlite
