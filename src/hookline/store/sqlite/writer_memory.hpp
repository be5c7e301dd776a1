#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hookline/store/sqlite/lease_table.hpp"
#include "hookline/store/store.hpp"

namespace hookline::store::sqlite {

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
  //! reads both). Each write to one drops it (ForgetCampaign, ForgetSender).
  const model::Campaign* KeptCampaign(std::string_view company, std::string_view id) const {
    auto it = campaigns_.find(Key(company, id));
    return it == campaigns_.end() ? nullptr : &it->second;
  }
  void KeepCampaign(std::string_view company, const model::Campaign& campaign) {
    if (campaigns_.size() >= kMaxRowsKept) campaigns_.clear();
    campaigns_.insert_or_assign(Key(company, campaign.id), campaign);
  }
  void ForgetCampaign(std::string_view company, std::string_view id) { campaigns_.erase(Key(company, id)); }
  const model::Sender* KeptSender(std::string_view company, std::string_view id) const {
    auto it = senders_.find(Key(company, id));
    return it == senders_.end() ? nullptr : &it->second;
  }
  void KeepSender(std::string_view company, const model::Sender& sender) {
    if (senders_.size() >= kMaxRowsKept) senders_.clear();
    senders_.insert_or_assign(Key(company, sender.id), sender);
  }
  void ForgetSender(std::string_view company, std::string_view id) { senders_.erase(Key(company, id)); }

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
  static constexpr std::size_t kMaxRowsKept = 4096;

  static std::string Key(std::string_view company, std::string_view id) {
    std::string key;
    key.reserve(company.size() + 1 + id.size());
    return key.append(company).append(1, '\0').append(id);
  }
  void ForgetRows() {
    ForgetEndpoints();
    campaigns_.clear();
    senders_.clear();
  }

  LeaseTable leases_;
  std::map<std::string, std::vector<EndpointRecord>, std::less<>> endpoints_by_company_;
  std::unordered_map<std::string, model::Campaign> campaigns_;
  std::unordered_map<std::string, model::Sender> senders_;
};

}  // namespace hookline::store::sqlite
