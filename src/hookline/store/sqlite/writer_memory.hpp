#pragma once

#include <map>
#include <string>
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

  std::size_t Mark() const { return leases_.Mark(); }
  //! Undoes the changes since `mark`. Endpoint lists read after a change being undone would
  //! show it, so every kept list goes too.
  void RollBackTo(std::size_t mark) {
    leases_.RollBackTo(mark);
    ForgetEndpoints();
  }
  void Commit() { leases_.Commit(); }
  void RollBack() {
    leases_.RollBack();
    ForgetEndpoints();
  }

 private:
  static constexpr std::size_t kMaxCompaniesKept = 1024;
  LeaseTable leases_;
  std::map<std::string, std::vector<EndpointRecord>, std::less<>> endpoints_by_company_;
};

}  // namespace hookline::store::sqlite
