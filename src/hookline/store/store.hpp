#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hookline/model/entities.hpp"
#include "hookline/store/endpoint_stats.hpp"
#include "hookline/util/time.hpp"

namespace hookline::store {

//! The store failed (I/O, corruption, constraint the caller did not expect). Ends the operation.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

//! A stored value cannot be read back (edited by hand, or damaged): the store itself works.
class UnreadableValueError : public StoreError {
 public:
  using StoreError::StoreError;
};

//! The writer's queue is full (a write with WriteOptions::refuse_when_full): nothing of the
//! job ran and it was not queued. The store itself works: the client may send again later.
class StoreOverloadedError : public StoreError {
 public:
  using StoreError::StoreError;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Company {
  std::string id;
  std::string name;
  Millis created_at = 0;
};

//! Whether deliveries to an endpoint wait for earlier ones about the same lead.
enum class Ordering { kNone, kPerLead };
std::string_view OrderingName(Ordering o);  //!< "none" | "per_lead"
std::optional<Ordering> ParseOrdering(std::string_view s);

struct EndpointRecord {
  std::string id;
  std::string company_id;
  std::string url;
  std::optional<std::string> description = std::nullopt;
  std::vector<std::string> event_types;  //!< empty: every event
  HeaderList headers;                    //!< sent with every delivery
  std::optional<std::int64_t> rate_limit_per_s = std::nullopt;
  std::string secret_sealed;  //!< the whsec_ secret, AES-256-GCM sealed under the master key
  bool disabled = false;
  std::optional<std::string> disabled_reason = std::nullopt;
  Millis created_at = 0;
  Millis updated_at = 0;
  Ordering ordering = Ordering::kNone;
  //! After a rotation, the old secret keeps signing beside the new one until it expires.
  std::optional<std::string> previous_secret_sealed = std::nullopt;
  std::optional<Millis> previous_secret_expires_at = std::nullopt;
  //! Start of the current run of failed attempts (no success since); nullopt when healthy.
  std::optional<Millis> failing_since = std::nullopt;

  //! True when this endpoint subscribes to `event`. Empty event_types means every
  //! Outboundry event; operational events (endpoint.*, delivery.*) only when named.
  bool Subscribes(std::string_view event) const;
};

struct EventRecord {
  std::int64_t seq = 0;  //!< store-assigned order; set on insert
  std::string id;        //!< msg_...
  std::string company_id;
  std::string event;
  std::string campaign_id;
  std::string lead_id;
  std::string sender_id;
  Millis occurred_at = 0;
  Millis created_at = 0;
  std::string payload;  //!< the exact bytes every delivery sends
};

enum class DeliveryStatus { kPending, kSucceeded, kFailed, kSkipped, kCancelled };
std::string_view DeliveryStatusName(DeliveryStatus s);
std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view s);

struct DeliveryRecord {
  std::int64_t id = 0;
  std::string event_id;
  std::string endpoint_id;
  std::string company_id;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;  //!< attempts in the current round (the retry schedule's position)
  int total_attempts = 0;  //!< every attempt ever recorded (read only)
  std::string lead_id;     //!< for per-lead ordering ("" for operational events)
  Millis occurred_at = 0;  //!< the event's time, for per-lead ordering
  std::int64_t event_seq = 0;
  std::optional<Millis> next_attempt_at = std::nullopt;
  Millis created_at = 0;
  Millis updated_at = 0;
  //! At insert: whether the endpoint orders per lead, when the caller knows (fan-out has
  //! the endpoint at hand); unset, the store looks it up.
  std::optional<bool> lead_ordered = std::nullopt;
};

struct AttemptRecord {
  std::int64_t id = 0;
  std::int64_t delivery_id = 0;
  Millis started_at = 0;
  std::int64_t duration_ms = 0;
  std::optional<int> status_code = std::nullopt;    //!< the HTTP status, when an answer came
  std::optional<std::string> error = std::nullopt;  //!< timeout, connection error, ...
  std::string response_head;         //!< first 1 KiB of the answer body
};

//! A due delivery leased to one dispatcher, with everything needed to send it.
struct ClaimedDelivery {
  std::int64_t delivery_id = 0;
  std::string event_id;
  std::string endpoint_id;
  std::string company_id;
  std::string url;
  std::string secret_sealed;
  HeaderList headers;
  int attempts = 0;  //!< attempts made before this one
  std::string payload;
  std::string event;    //!< the event name
  std::string lead_id;  //!< "" for operational events
  std::optional<std::string> previous_secret_sealed = std::nullopt;  //!< still valid at claim time
  std::optional<std::int64_t> rate_limit_per_s = std::nullopt;
};

//! What a claim must leave alone.
struct ClaimLimits {
  int limit = 128;                      //!< deliveries in all
  int per_endpoint = 16;                //!< deliveries per endpoint
  std::vector<std::string> skip_endpoints = {};  //!< at capacity, rate limited or circuit open
};

//! Which deliveries to queue again.
struct RequeueFilter {
  std::string company_id;
  std::optional<std::string> event_id = std::nullopt;
  std::optional<std::string> endpoint_id = std::nullopt;
  std::vector<DeliveryStatus> statuses = {};  //!< only deliveries in one of these
  std::optional<Millis> since = std::nullopt;  //!< delivery created_at >= since
  std::optional<Millis> until = std::nullopt;  //!< delivery created_at < until
};

//! An endpoint's failure streak before and after one attempt's outcome.
struct EndpointHealth {
  std::optional<Millis> failing_since_before = std::nullopt;
  std::optional<Millis> failing_since_after = std::nullopt;
};

//! The outcome of one attempt, applied to its delivery.
struct DeliveryUpdate {
  std::int64_t delivery_id = 0;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  std::optional<Millis> next_attempt_at = std::nullopt;  //!< set when status stays pending
  Millis now = 0;
};

struct EventFilter {
  std::string company_id;
  std::optional<std::string> event = std::nullopt;
  std::optional<std::string> lead_id = std::nullopt;
  std::optional<std::string> campaign_id = std::nullopt;
  std::optional<Millis> since = std::nullopt;  //!< occurred_at >= since
  std::optional<Millis> until = std::nullopt;  //!< occurred_at < until
  std::optional<std::int64_t> before_seq = std::nullopt;  //!< cursor: only events older than this
  int limit = 50;
};

//! A page of a list ordered by id: items after the cursor `after`.
struct PageRequest {
  std::optional<std::string> after = std::nullopt;
  int limit = 50;
};

struct IdempotencyRecord {
  std::string request_hash;
  int status = 0;
  std::string body;
  Millis created_at = 0;
};

// ---- The receiver (hookline receive) ----

enum class SourceAuth { kSignature, kToken };

//! Where webhooks come in, and how they prove who sent them.
struct SourceRecord {
  std::string id;  //!< src_...
  std::string name;
  SourceAuth auth = SourceAuth::kToken;
  std::optional<std::string> secret_sealed = std::nullopt;  //!< kSignature: the whsec_ secret, sealed
  std::optional<std::string> token_hash = std::nullopt;     //!< kToken: SHA-256 of the token
  std::vector<std::string> dedupe_fields = {};  //!< JSON paths that make the duplicate key
  Millis created_at = 0;
};

//! One webhook as it arrived: the raw log.
struct ReceivedRecord {
  std::int64_t seq = 0;
  std::string id;  //!< rcv_...
  std::string source_id;
  std::string dedupe_key;
  std::string status;  //!< "accepted" | "rejected"
  std::optional<std::string> reason = std::nullopt;
  std::optional<std::string> event = std::nullopt;
  Millis received_at = 0;
  HeaderList headers;
  std::string body;
  std::int64_t body_bytes = 0;  //!< the body's size, set by reads (also when the body is left out)
};

struct ReceivedFilter {
  std::optional<std::string> source_id = std::nullopt;
  std::optional<std::string> event = std::nullopt;
  std::optional<std::string> status = std::nullopt;
  std::optional<Millis> since = std::nullopt;
  std::optional<Millis> until = std::nullopt;
  std::optional<std::int64_t> after_seq = std::nullopt;  //!< cursor: only newer than this
  int limit = 50;
  bool bodies = true;  //!< false: headers and body are not read (body_bytes still is)
};

//! A projected value with the version that wrote it: a write wins only with a greater
//! version, so projections do not depend on arrival order or repeats.
struct ProjectedLead {
  model::Lead lead;
  std::string version;
};

//! A lead's projected standing in one campaign: the newest status (by `version`) and the
//! timeline merged from every history seen, oldest first (by time, then action), each
//! (action, time) once.
struct ProjectedEnrollment {
  std::optional<std::string> latest_status = std::nullopt;
  std::string version;  //!< of latest_status; "" is older than any
  std::vector<model::Activity> timeline;
};

//! The order of a projected timeline: by time, then action.
inline bool EarlierInTimeline(const model::Activity& a, const model::Activity& b) {
  return a.action_time != b.action_time ? a.action_time < b.action_time : a.action < b.action;
}

struct ReplyRecord {
  std::string lead_id;
  std::string campaign_id;
  Millis replied_at = 0;
  std::optional<std::string> channel = std::nullopt;
  std::string event;
  std::optional<std::string> text = std::nullopt;
  std::string received_id;
  std::string company_id = "";  //!< the payload's company_id ("" when it had none)
};

//! A page of a receiver list of leads or campaigns, ordered by company, then id: every
//! company's rows, or one company's, after the row (company_id, id) that ended the last page.
struct CompanyPage {
  std::optional<std::string> company_id = std::nullopt;  //!< only this company's rows
  std::optional<std::pair<std::string, std::string>> after = std::nullopt;  //!< (company_id, id)
  int limit = 50;
};

//! A projected lead, and the company whose webhooks it came from.
struct CompanyLead {
  std::string company_id;
  model::Lead lead;
};

//! A projected campaign, and the company whose webhooks it came from.
struct CompanyCampaign {
  std::string company_id;
  model::Campaign campaign;
};

//! One transaction's view of the store. Obtained only through Store::Read or Store::Write, used
//! only on the calling thread, never kept past the callback. Every method scopes by company
//! where the data belongs to one. Methods throw StoreError on store failure.
class StoreTx {
 public:
  virtual ~StoreTx() = default;

  // Companies. API keys are looked up by their SHA-256 hash only.
  virtual bool InsertCompany(const Company& company, std::string_view api_key_hash) = 0;
  virtual std::optional<Company> FindCompanyByKeyHash(std::string_view api_key_hash) = 0;

  // Senders, campaigns, leads: Upsert returns true when the row was created.
  virtual bool UpsertSender(std::string_view company, const model::Sender& sender) = 0;
  virtual std::optional<model::Sender> GetSender(std::string_view company, std::string_view id) = 0;
  virtual std::vector<model::Sender> ListSenders(std::string_view company, const PageRequest& page) = 0;

  virtual bool UpsertCampaign(std::string_view company, const model::Campaign& campaign) = 0;
  virtual std::optional<model::Campaign> GetCampaign(std::string_view company, std::string_view id) = 0;
  virtual std::vector<model::Campaign> ListCampaigns(std::string_view company, const PageRequest& page) = 0;
  //! True when any activity was recorded in the campaign (its type is then fixed).
  //! Distinct leads of the campaign whose history holds any of `actions`.
  virtual std::int64_t CountLeadsWithAction(std::string_view company, std::string_view campaign_id,
                                            const std::vector<std::string>& actions) = 0;
  virtual bool CampaignHasActivity(std::string_view company, std::string_view campaign_id) = 0;

  virtual bool UpsertLead(std::string_view company, const model::Lead& lead) = 0;
  virtual std::optional<model::Lead> GetLead(std::string_view company, std::string_view id) = 0;
  virtual std::vector<model::Lead> ListLeads(std::string_view company, const PageRequest& page) = 0;

  // Enrollment. Enroll and MarkCompleted keep the campaign's counters.
  //! True when newly enrolled; false when it already was.
  virtual bool Enroll(std::string_view company, std::string_view campaign_id,
                      std::string_view lead_id, Millis now) = 0;
  //! True when newly completed. The lead must be enrolled.
  virtual bool MarkCompleted(std::string_view company, std::string_view campaign_id,
                             std::string_view lead_id, Millis now) = 0;
  //! The enrollment with its whole activity history (oldest first), or nullopt.
  virtual std::optional<model::Enrollment> GetEnrollment(std::string_view company,
                                                         std::string_view campaign_id,
                                                         std::string_view lead_id) = 0;
  virtual std::vector<model::Enrollment> ListEnrollmentsOfLead(std::string_view company,
                                                               std::string_view lead_id) = 0;
  //! Appends to the lead's history in the campaign and sets its latest status.
  virtual void AppendActivity(std::string_view company, std::string_view campaign_id,
                              std::string_view lead_id, const model::Activity& activity,
                              std::string_view event_id,
                              const std::optional<std::string>& latest_status) = 0;

  // The event log.
  virtual void InsertEvent(EventRecord& event) = 0;  //!< sets event.seq
  virtual std::optional<EventRecord> GetEvent(std::string_view company, std::string_view id) = 0;
  virtual std::vector<EventRecord> ListEvents(const EventFilter& filter) = 0;
  //! The newest event of that name for the lead in the campaign.
  virtual std::optional<EventRecord> LastEventOf(std::string_view company,
                                                 std::string_view campaign_id,
                                                 std::string_view lead_id,
                                                 std::string_view event) = 0;

  // Endpoints. Deleted endpoints are gone from every read.
  virtual void InsertEndpoint(const EndpointRecord& endpoint) = 0;
  virtual void UpdateEndpoint(const EndpointRecord& endpoint) = 0;
  //! Deletes and cancels its pending deliveries. False when there was no such endpoint.
  virtual bool DeleteEndpoint(std::string_view company, std::string_view id, Millis now) = 0;
  virtual std::optional<EndpointRecord> GetEndpoint(std::string_view company, std::string_view id) = 0;
  virtual std::vector<EndpointRecord> ListEndpoints(std::string_view company, const PageRequest& page) = 0;
  virtual std::vector<EndpointRecord> ListAllEndpoints(std::string_view company) = 0;

  // Deliveries and attempts.
  virtual void InsertDelivery(const DeliveryRecord& delivery) = 0;
  virtual std::vector<DeliveryRecord> ListDeliveriesOfEvent(std::string_view company,
                                                            std::string_view event_id) = 0;
  virtual std::vector<AttemptRecord> ListAttempts(std::int64_t delivery_id) = 0;
  //! Leases pending deliveries due at `now` until `lease_until`: endpoint enabled and not in
  //! `limits.skip_endpoints`, no live lease, at most `limits.per_endpoint` per endpoint, and
  //! for per-lead endpoints only when no earlier delivery about the same lead is still
  //! pending. Each endpoint's are taken oldest due first, and `limits.limit` is shared out
  //! in turns (every endpoint's first, then every endpoint's second, ...), in that order.
  virtual std::vector<ClaimedDelivery> ClaimDueDeliveries(Millis now, Millis lease_until,
                                                          const ClaimLimits& limits) = 0;
  //! Gives claimed deliveries back at once (not sent after all).
  virtual void ReleaseLeases(const std::vector<std::int64_t>& delivery_ids) = 0;
  //! Extends to `lease_until` the leases on `delivery_ids` (claimed and not yet recorded or
  //! given back). Returns the ids it could not extend because another dispatcher may hold
  //! them now. On SQLite, whose one server process owns every lease, a lease that ran out is
  //! simply taken again and nothing is returned (the dispatcher drops a second claim of a
  //! delivery it holds).
  virtual std::vector<std::int64_t> RenewLeases(const std::vector<std::int64_t>& delivery_ids,
                                                Millis now, Millis lease_until) = 0;
  //! Keeps the endpoint's failure streak: a success ends it, a failure starts it if needed.
  virtual EndpointHealth RecordEndpointOutcome(std::string_view endpoint_id, bool success,
                                               Millis now) = 0;
  virtual std::optional<EndpointRecord> GetEndpointById(std::string_view endpoint_id) = 0;
  //! Makes matching deliveries pending again with a fresh retry schedule; returns how many.
  virtual int RequeueDeliveries(const RequeueFilter& filter, Millis now) = 0;
  //! The endpoint's attempts from the minute holding `since` on, from its per-minute counts
  //! (percentiles to a latency bucket: endpoint_stats.hpp).
  virtual EndpointStats GetEndpointStats(std::string_view endpoint_id, Millis since) = 0;
  //! Adds attempts to the endpoint's per-minute counts, which GetEndpointStats reads; the
  //! caller records them in the transaction that records the attempts. Counts older than
  //! kStatsMinutesKept before the newest minute added may be dropped.
  virtual void AddEndpointStats(std::string_view endpoint_id, const std::vector<LatencyCount>& counts) = 0;
  //! Logs the attempt and moves the delivery as `update` says, only while it is pending.
  //! Returns false when it was not (a late second answer, a delivery cancelled in flight):
  //! then nothing follows from the answer but its line in the attempt log.
  virtual bool RecordAttempt(const AttemptRecord& attempt, const DeliveryUpdate& update) = 0;
  //! When the next pending delivery of an enabled endpoint falls due, if any.
  virtual std::optional<Millis> NextDueAt() = 0;
  //! Drops every lease (a single-node store at start: no other process holds any).
  virtual void ReleaseAllLeases() = 0;
  virtual void DisableEndpoint(std::string_view endpoint_id, std::string_view reason, Millis now) = 0;

  // Receiver: sources and the raw log.
  virtual void InsertSource(const SourceRecord& source) = 0;
  virtual std::optional<SourceRecord> GetSource(std::string_view id) = 0;
  virtual std::vector<SourceRecord> ListSources() = 0;
  //! Stores `record` (setting seq). An accepted record whose (source, dedupe key) was already
  //! accepted is not stored: returns the id of the first instead.
  virtual std::optional<std::string> InsertReceived(ReceivedRecord& record) = 0;
  virtual std::optional<ReceivedRecord> GetReceived(std::string_view id) = 0;
  virtual std::vector<ReceivedRecord> ListReceived(const ReceivedFilter& filter) = 0;
  //! Accepted records after `after_seq`, oldest first: at most `limit`, and none after the
  //! one whose body brings their bodies' total to `max_bytes` (so at least one, if any).
  virtual std::vector<ReceivedRecord> AcceptedAfter(std::int64_t after_seq, int limit,
                                                    std::size_t max_bytes) = 0;
  virtual std::int64_t ProjectionCheckpoint() = 0;
  //! How many accepted records come after `seq` (the projector's backlog).
  virtual std::int64_t CountAcceptedAfter(std::int64_t seq) = 0;
  virtual void SetProjectionCheckpoint(std::int64_t seq) = 0;
  //! Empties every projection and resets the checkpoint (a rebuild from the raw log).
  virtual void ClearProjections() = 0;

  // Receiver projections, each keyed by the payload's company_id ("" for payloads without
  // one) as well: two companies' leads, campaigns, senders and replies never merge.
  // PutProjectedLead, -Campaign and -Sender write only when `version` is greater than the
  // stored one.
  virtual void PutProjectedLead(std::string_view company_id, const model::Lead& lead,
                                std::string_view version) = 0;
  //! The lead's row in the campaign, or nullopt.
  virtual std::optional<ProjectedEnrollment> GetProjectedEnrollment(std::string_view company_id,
                                                                    std::string_view lead_id,
                                                                    std::string_view campaign_id) = 0;
  //! Creates or replaces the lead's row in the campaign. The caller merged it with what
  //! GetProjectedEnrollment gave (the version rule above is the caller's to keep here).
  virtual void PutProjectedEnrollment(std::string_view company_id, std::string_view lead_id,
                                      std::string_view campaign_id,
                                      const ProjectedEnrollment& enrollment) = 0;
  virtual void PutProjectedCampaign(std::string_view company_id, const model::Campaign& campaign,
                                    bool type_known, std::string_view version) = 0;
  virtual void PutProjectedSender(std::string_view company_id, const model::Sender& sender,
                                  std::string_view version) = 0;
  virtual void AddReply(const ReplyRecord& reply) = 0;

  // Receiver views.
  virtual std::optional<model::Lead> GetProjectedLead(std::string_view company_id, std::string_view id) = 0;
  //! The companies that have a projected lead `id`, in order (none, one, or more: lead ids
  //! are only unique within a company).
  virtual std::vector<std::string> CompaniesWithProjectedLead(std::string_view id) = 0;
  //! Leads ordered by company and id, optionally only those in `campaign_id` (with `status`).
  virtual std::vector<CompanyLead> ListProjectedLeads(const std::optional<std::string>& campaign_id,
                                                      const std::optional<std::string>& status,
                                                      const CompanyPage& page) = 0;
  //! The lead's campaigns in its company, with status and merged timeline (oldest first).
  virtual std::vector<model::Enrollment> ProjectedEnrollments(std::string_view company_id,
                                                              std::string_view lead_id) = 0;
  virtual std::optional<model::Campaign> GetProjectedCampaign(std::string_view company_id,
                                                              std::string_view id) = 0;
  //! The companies that have a projected campaign `id`, in order.
  virtual std::vector<std::string> CompaniesWithProjectedCampaign(std::string_view id) = 0;
  virtual std::vector<CompanyCampaign> ListProjectedCampaigns(const CompanyPage& page) = 0;
  //! Distinct leads of the company's campaign whose merged timeline holds any of `actions`.
  virtual std::int64_t CountProjectedLeadsWithAction(std::string_view company_id, std::string_view campaign_id,
                                                     const std::vector<std::string>& actions) = 0;
  //! Sizes for progress reporting; `company_id` counts only that company's.
  virtual std::int64_t CountReceived(std::optional<Millis> since) = 0;
  virtual std::int64_t CountProjectedLeads(const std::optional<std::string>& company_id) = 0;
  virtual std::int64_t CountReplies(const std::optional<std::string>& company_id, std::optional<Millis> since) = 0;
  //! Replies oldest first (then by company, lead, campaign, event), optionally only those of
  //! `company_id`; `after` is the last reply of the previous page.
  virtual std::vector<ReplyRecord> ListReplies(const std::optional<std::string>& company_id,
                                               std::optional<Millis> since, int limit,
                                               const std::optional<ReplyRecord>& after) = 0;

  // Idempotency keys.
  virtual std::optional<IdempotencyRecord> GetIdempotency(std::string_view company,
                                                          std::string_view key) = 0;
  virtual void PutIdempotency(std::string_view company, std::string_view key,
                              const IdempotencyRecord& record) = 0;
};

//! How a write is queued (Store::Write and WriteAsync with options).
struct WriteOptions {
  //! Refused at once with StoreOverloadedError, instead of queued, while the writer already
  //! holds its limit of write jobs (queued, running or waiting for their sync; lease jobs do
  //! not count): for a request's write, whose client can send it again. Without it a write
  //! always queues (the store's own work: attempt records, projections; their producers
  //! bound them), and it counts toward the limit all the same.
  bool refuse_when_full = false;
  //! Runs the job under a savepoint of its own from its first run: when it fails, only its
  //! own changes are undone and the rest of its batch commits without a second run. For a
  //! job that fails often (a request a client can get refused); costs one savepoint.
  bool own_savepoint = false;
};

//! What the store's writer did since the store opened. For tests and operators.
struct WriterCounters {
  std::uint64_t commits = 0;       //!< batches of write jobs committed
  std::uint64_t jobs = 0;          //!< write and lease jobs answered
  std::uint64_t batch_reruns = 0;  //!< batches rolled back and run again under savepoints
  std::uint64_t refused = 0;       //!< writes refused with StoreOverloadedError
  std::uint64_t unanswered = 0;    //!< write jobs now queued, running or waiting for their sync
  std::uint64_t queued = 0;        //!< write jobs ever put in the writer's queue
};

//! Durable storage for both roles. Thread-safe.
class Store {
 public:
  virtual ~Store() = default;

  //! Runs `fn` in a read-only transaction (a consistent snapshot).
  virtual void Read(const std::function<void(StoreTx&)>& fn) = 0;

  //! Runs `job` in a write transaction that may be shared with other concurrent callers
  //! (group commit) and returns only once that transaction is durably committed. If `job`
  //! returns false or throws, its own changes are rolled back and the others still commit;
  //! the exception is rethrown here. Returns what `job` returned. Throws StoreError if the
  //! commit fails (then nothing of `job` was stored).
  //!
  //! `job` may run twice before its transaction commits: when any job sharing the
  //! transaction fails, the whole batch is rolled back and run again, each job under its own
  //! savepoint. So a job sets, never accumulates, what it hands back, and leaves its inputs
  //! as they were; only its last run counts. A job that changed nothing should not fail
  //! (return false) merely to report something: that costs the whole batch a second run.
  //! (A job queued with WriteOptions::own_savepoint fails alone: no second run.)
  virtual bool Write(std::function<bool(StoreTx&)> job) = 0;

  //! What an asynchronous write reports: what the job returned, or the exception it (or the
  //! commit) threw.
  using WriteDone = std::function<void(bool ok, std::exception_ptr error)>;

  //! Write without waiting: `job` runs in a shared transaction as for Write, and `done` is
  //! called once that transaction is durably committed (or failed). `done` runs on the
  //! store's writer thread: it must be quick and must not call the store.
  virtual void WriteAsync(std::function<bool(StoreTx&)> job, WriteDone done) = 0;

  //! For a `job` that only takes, renews or gives back delivery leases (ClaimDueDeliveries,
  //! RenewLeases, ReleaseLeases): where leases live in the writer's memory (SQLite), it runs ahead of the
  //! writes queued, in a transaction of its own that sees only committed rows (so nothing it
  //! hands out can vanish with a later failed commit), and `done` is called as soon as it
  //! ran, without waiting for a sync. A job that writes rows there fails with
  //! std::logic_error and leaves nothing behind. Where leases are rows, a WriteAsync. `done`
  //! runs on the store's writer thread, as for WriteAsync.
  virtual void LeaseAsync(std::function<bool(StoreTx&)> job, WriteDone done) = 0;

  //! Write, queued as `options` say. Throws StoreOverloadedError when refused (see
  //! WriteOptions::refuse_when_full).
  virtual bool Write(std::function<bool(StoreTx&)> job, WriteOptions options) = 0;
  //! WriteAsync, queued as `options` say. Throws StoreOverloadedError when refused, and then
  //! never calls `done`.
  virtual void WriteAsync(std::function<bool(StoreTx&)> job, WriteOptions options, WriteDone done) = 0;

  //! A snapshot of the writer's counters. Thread-safe, lock-free.
  virtual WriterCounters Counters() const = 0;

  //! Human-readable kind, e.g. "sqlite".
  virtual std::string_view Kind() const = 0;
};

//! Who opens a store.
enum class StoreUse {
  kTool,    //!< a command that reads or writes a few rows and exits (company create, export)
  //! A server (serve, receive): it sends deliveries and its writer keeps leases and rows in
  //! memory, which holds only while no other server writes the same SQLite file. A second
  //! server on one file is refused (StoreError); tools may run beside it.
  kServer,
};

//! Opens the store named by `url`: "sqlite:PATH" (or a bare path). Applies pending
//! migrations. Throws StoreError with a clear message when it cannot. `max_queued_writes`:
//! see WriteOptions::refuse_when_full (0: never refused).
std::unique_ptr<Store> OpenStore(std::string_view url, StoreUse use = StoreUse::kTool,
                                 std::size_t max_queued_writes = 0);

}  // namespace hookline::store
