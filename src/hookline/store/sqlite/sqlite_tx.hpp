#pragma once

#include "hookline/store/sqlite/sqlite_connection.hpp"
#include "hookline/store/sqlite/writer_memory.hpp"
#include "hookline/store/store.hpp"

namespace hookline::store::sqlite {

//! StoreTx on one SQLite connection inside a transaction the store opened. Its methods are
//! defined by area: sqlite_tx_provider.cpp (companies, campaigns, leads, events,
//! idempotency), sqlite_tx_delivery.cpp (endpoints, deliveries, claims, attempts) and
//! sqlite_tx_receiver.cpp (sources, the raw log, projections).
class SqliteTx final : public StoreTx {
 public:
  //! `writer`: what the writer keeps in memory, in the writer's transaction only (claims
  //! need it); nullptr in a read.
  explicit SqliteTx(Connection& db, WriterMemory* writer = nullptr) : db_(db), writer_(writer) {}

  // Companies, senders, campaigns, leads, enrollments, events: sqlite_tx_provider.cpp.
  bool InsertCompany(const Company& c, std::string_view key_hash) override;
  std::optional<Company> FindCompanyByKeyHash(std::string_view key_hash) override;
  bool UpsertSender(std::string_view company, const model::Sender& sender) override;
  std::optional<model::Sender> GetSender(std::string_view company, std::string_view id) override;
  std::vector<model::Sender> ListSenders(std::string_view company, const PageRequest& page) override;
  bool UpsertCampaign(std::string_view company, const model::Campaign& c) override;
  std::optional<model::Campaign> GetCampaign(std::string_view company, std::string_view id) override;
  std::vector<model::Campaign> ListCampaigns(std::string_view company, const PageRequest& page) override;
  std::int64_t CountLeadsWithAction(std::string_view company, std::string_view campaign_id,
                                    const std::vector<std::string>& actions) override;
  bool CampaignHasActivity(std::string_view company, std::string_view campaign_id) override;
  bool UpsertLead(std::string_view company, const model::Lead& l) override;
  std::optional<model::Lead> GetLead(std::string_view company, std::string_view id) override;
  std::vector<model::Lead> ListLeads(std::string_view company, const PageRequest& page) override;
  bool Enroll(std::string_view company, std::string_view campaign_id, std::string_view lead_id,
              Millis now) override;
  bool MarkCompleted(std::string_view company, std::string_view campaign_id,
                     std::string_view lead_id, Millis now) override;
  std::optional<model::Enrollment> GetEnrollment(std::string_view company,
                                                 std::string_view campaign_id,
                                                 std::string_view lead_id) override;
  std::vector<model::Enrollment> ListEnrollmentsOfLead(std::string_view company,
                                                       std::string_view lead_id) override;
  void AppendActivity(std::string_view company, std::string_view campaign_id,
                      std::string_view lead_id, const model::Activity& activity,
                      std::string_view event_id,
                      const std::optional<std::string>& latest_status) override;
  void InsertEvent(EventRecord& e) override;
  std::optional<EventRecord> GetEvent(std::string_view company, std::string_view id) override;
  std::vector<EventRecord> ListEvents(const EventFilter& f) override;
  std::optional<EventRecord> LastEventOf(std::string_view company, std::string_view campaign_id,
                                         std::string_view lead_id, std::string_view event) override;

  // Endpoints, deliveries, claims, attempts: sqlite_tx_delivery.cpp.
  void InsertEndpoint(const EndpointRecord& e) override;
  void UpdateEndpoint(const EndpointRecord& e) override;
  bool DeleteEndpoint(std::string_view company, std::string_view id, Millis now) override;
  std::optional<EndpointRecord> GetEndpoint(std::string_view company, std::string_view id) override;
  std::vector<EndpointRecord> ListEndpoints(std::string_view company, const PageRequest& page) override;
  std::vector<EndpointRecord> ListAllEndpoints(std::string_view company) override;
  void InsertDelivery(const DeliveryRecord& d) override;
  std::vector<DeliveryRecord> ListDeliveriesOfEvent(std::string_view company,
                                                    std::string_view event_id) override;
  std::vector<AttemptRecord> ListAttempts(std::int64_t delivery_id) override;
  std::vector<ClaimedDelivery> ClaimDueDeliveries(Millis now, Millis lease_until,
                                                  const ClaimLimits& limits) override;
  void ReleaseLeases(const std::vector<std::int64_t>& ids) override;
  std::vector<std::int64_t> RenewLeases(const std::vector<std::int64_t>& ids, Millis now,
                                        Millis lease_until) override;
  EndpointHealth RecordEndpointOutcome(std::string_view endpoint_id, bool success,
                                       Millis now) override;
  std::optional<EndpointRecord> GetEndpointById(std::string_view endpoint_id) override;
  int RequeueDeliveries(const RequeueFilter& f, Millis now) override;
  EndpointStats GetEndpointStats(std::string_view endpoint_id, Millis since) override;
  void AddEndpointStats(std::string_view endpoint_id, const std::vector<LatencyCount>& counts) override;
  bool RecordAttempt(const AttemptRecord& a, const DeliveryUpdate& u) override;
  std::optional<Millis> NextDueAt() override;
  void ReleaseAllLeases() override;
  void DisableEndpoint(std::string_view endpoint_id, std::string_view reason, Millis now) override;

  // Sources, the raw log, projections: sqlite_tx_receiver.cpp.
  void InsertSource(const SourceRecord& src) override;
  static SourceRecord ReadSource(const Statement& s);
  std::optional<SourceRecord> GetSource(std::string_view id) override;
  std::vector<SourceRecord> ListSources() override;
  std::optional<std::string> InsertReceived(ReceivedRecord& r) override;
  static constexpr std::string_view kReceivedColumns =
      "seq, id, source_id, dedupe_key, status, reason, event, received_at, headers, body";
  //! As kReceivedColumns, with the headers and body left out (NULL) and the body's size after.
  static constexpr std::string_view kReceivedSummaryColumns =
      "seq, id, source_id, dedupe_key, status, reason, event, received_at, NULL, NULL, length(body)";
  static ReceivedRecord ReadReceived(const Statement& s);
  std::optional<ReceivedRecord> GetReceived(std::string_view id) override;
  std::vector<ReceivedRecord> ListReceived(const ReceivedFilter& f) override;
  std::vector<ReceivedRecord> AcceptedAfter(std::int64_t after_seq, int limit,
                                            std::size_t max_bytes) override;
  std::int64_t ProjectionCheckpoint() override;
  std::int64_t CountAcceptedAfter(std::int64_t seq) override;
  void SetProjectionCheckpoint(std::int64_t seq) override;
  void ClearProjections() override;
  void PutProjectedLead(std::string_view company_id, const model::Lead& l, std::string_view version) override;
  std::optional<ProjectedEnrollment> GetProjectedEnrollment(std::string_view company_id, std::string_view lead_id,
                                                            std::string_view campaign_id) override;
  void PutProjectedEnrollment(std::string_view company_id, std::string_view lead_id, std::string_view campaign_id,
                              const ProjectedEnrollment& e) override;
  void PutProjectedCampaign(std::string_view company_id, const model::Campaign& c, bool type_known,
                            std::string_view version) override;
  void PutProjectedSender(std::string_view company_id, const model::Sender& sn, std::string_view version) override;
  void AddReply(const ReplyRecord& r) override;
  std::optional<model::Lead> GetProjectedLead(std::string_view company_id, std::string_view id) override;
  std::vector<std::string> CompaniesWithProjectedLead(std::string_view id) override;
  std::vector<CompanyLead> ListProjectedLeads(const std::optional<std::string>& campaign_id,
                                              const std::optional<std::string>& status,
                                              const CompanyPage& page) override;
  std::vector<model::Enrollment> ProjectedEnrollments(std::string_view company_id, std::string_view lead_id) override;
  std::optional<model::Campaign> GetProjectedCampaign(std::string_view company_id, std::string_view id) override;
  std::vector<std::string> CompaniesWithProjectedCampaign(std::string_view id) override;
  std::vector<CompanyCampaign> ListProjectedCampaigns(const CompanyPage& page) override;
  std::int64_t CountProjectedLeadsWithAction(std::string_view company_id, std::string_view campaign_id,
                                             const std::vector<std::string>& actions) override;
  std::int64_t CountReceived(std::optional<Millis> since) override;
  std::int64_t CountProjectedLeads(const std::optional<std::string>& company_id) override;
  std::int64_t CountReplies(const std::optional<std::string>& company_id, std::optional<Millis> since) override;
  std::vector<ReplyRecord> ListReplies(const std::optional<std::string>& company_id, std::optional<Millis> since,
                                       int limit, const std::optional<ReplyRecord>& after) override;

  // Idempotency keys: sqlite_tx_provider.cpp.
  std::optional<IdempotencyRecord> GetIdempotency(std::string_view company,
                                                  std::string_view key) override;
  void PutIdempotency(std::string_view company, std::string_view key,
                      const IdempotencyRecord& r) override;

 private:
  Connection& db_;
  WriterMemory* writer_;
};

}  // namespace hookline::store::sqlite
