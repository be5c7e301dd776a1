#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hookline/store/sqlite/lease_table.hpp"
#include "hookline/store/store.hpp"

namespace hookline::store::sqlite {

//! Rows of one kind as the writer read them, by company and id (a row type with an `id`).
//! At most 4,096: past that, all are dropped and read again.
template <typename Row>
class KeptRows {
 public:
  const Row* Find(std::string_view company, std::string_view id) const {
    auto it = rows_.find(Key(company, id));
    return it == rows_.end() ? nullptr : &it->second;
  }
  void Keep(std::string_view company, const Row& row) {
    if (rows_.size() >= kMaxKept) rows_.clear();
    rows_.insert_or_assign(Key(company, row.id), row);
  }
  void Forget(std::string_view company, std::string_view id) { rows_.erase(Key(company, id)); }
  void Clear() { rows_.clear(); }

 private:
  static constexpr std::size_t kMaxKept = 4096;
  static std::string Key(std::string_view company, std::string_view id) {
    std::string key;
    key.reserve(company.size() + 1 + id.size());
    return key.append(company).append(1, '\0').append(id);
  }
  std::unordered_map<std::string, Row> rows_;
};

//! What the writer keeps in memory beside the database, for the one process that owns it.
//! Used only inside the writer's transactions (on its thread); RollBack and RollBackTo undo
//! with the transaction or a job's savepoint.
class WriterMemory {
 public:
  LeaseTable& leases() { return leases_; }

  //! A company's endpoints as ListAllEndpoints read them, if kept. Fan-out reads them for
  //! every event; any change to an endpoint drops them all (ForgetEndpoints).
  const std::vector<EndpointRecord>* KeptEndpoints(std::string_view company) const {
    auto it = endpoints_by_company_.find(company);
    return it == endpoints_by_company_.end() ? nullptr : &it->second;
  }
  void KeepEndpoints(std::string_view company, std::vector<EndpointRecord> endpoints) {
    if (endpoints_by_company_.size() >= kMaxCompaniesKept) endpoints_by_company_.clear();
    endpoints_by_company_.insert_or_assign(std::string(company), std::move(endpoints));
  }
  void ForgetEndpoints() { endpoints_by_company_.clear(); }

  //! Campaigns and senders as GetCampaign and GetSender read them (every recorded activity
  //! reads both). Each write to one drops it.
  KeptRows<model::Campaign>& campaigns() { return campaigns_; }
  KeptRows<model::Sender>& senders() { return senders_; }

  //! True the first time an endpoint's stats reach `minute` (or a later one): when its
  //! minutes past keeping are dropped. Not undone with a rollback: that only postpones a
  //! drop to the next minute, and reads never count minutes past their window anyway.
  bool StatsMinuteIsNew(std::string_view endpoint_id, std::int64_t minute) {
    auto it = stats_minutes_.find(endpoint_id);
    if (it != stats_minutes_.end() && it->second >= minute) return false;
    if (it == stats_minutes_.end()) {
      if (stats_minutes_.size() >= kMaxEndpointsKept) stats_minutes_.clear();
      stats_minutes_.emplace(std::string(endpoint_id), minute);
    } else {
      it->second = minute;
    }
    return true;
  }

  std::size_t Mark() const { return leases_.Mark(); }
  //! Undoes the changes since `mark`. Rows read after a change being undone would show it,
  //! so everything kept goes too.
  void RollBackTo(std::size_t mark) {
    leases_.RollBackTo(mark);
    ForgetRows();
  }
  void Commit() { leases_.Commit(); }
  void RollBack() {
    leases_.RollBack();
    ForgetRows();
  }

 private:
  static constexpr std::size_t kMaxCompaniesKept = 1024;
  static constexpr std::size_t kMaxEndpointsKept = 65536;

  void ForgetRows() {
    ForgetEndpoints();
    campaigns_.Clear();
    senders_.Clear();
  }

  LeaseTable leases_;
  std::map<std::string, std::vector<EndpointRecord>, std::less<>> endpoints_by_company_;
  KeptRows<model::Campaign> campaigns_;
  KeptRows<model::Sender> senders_;
  std::map<std::string, std::int64_t, std::less<>> stats_minutes_;  //!< newest minute by endpoint
};

}  // namespace hookline::store::sqlite
