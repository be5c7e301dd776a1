// SqliteTx, delivery side: endpoints, deliveries, claims of due deliveries, attempts and
// endpoint health.
#include "hookline/store/sqlite/sqlite_tx.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "hookline/store/sqlite/sqlite_rows.hpp"

namespace hookline::store::sqlite {

namespace {
// The condition of deliveries_unsent_by_endpoint (migration 11), written out in a query that
// wants that index: SQLite uses a partial index only for a query whose WHERE contains its
// condition as written; "status = 'failed'" alone does not count.
constexpr std::string_view kUnsent = "status NOT IN ('pending', 'succeeded')";
}  // namespace

void SqliteTx::InsertEndpoint(const EndpointRecord& e) {
  auto& s = db_.Prepare(fmt::format("INSERT INTO endpoints ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                    "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                                    kEndpointColumns));
  s.Bind(1, e.id).Bind(2, e.company_id).Bind(11, e.created_at);
  BindEndpointState(s, e);
  s.Run();
  if (writer_) writer_->ForgetEndpoints();
}

void SqliteTx::UpdateEndpoint(const EndpointRecord& e) {
  if (writer_) writer_->ForgetEndpoints();
  auto& before = db_.Prepare("SELECT ordering FROM endpoints WHERE company_id = ?1 AND id = ?2");
  before.Bind(1, e.company_id).Bind(2, e.id);
  const bool ordering_changed = before.Step() && before.Text(0) != OrderingName(e.ordering);
  before.Reset();
  auto& s = db_.Prepare(
      "UPDATE endpoints SET url = ?3, description = ?4, event_types = ?5, headers = ?6, "
      "rate_limit_per_s = ?7, secret_sealed = ?8, disabled = ?9, disabled_reason = ?10, "
      "updated_at = ?12, ordering = ?13, previous_secret_sealed = ?14, "
      "previous_secret_expires_at = ?15, failing_since = ?16 "
      "WHERE company_id = ?1 AND id = ?2 AND deleted_at IS NULL");
  s.Bind(1, e.company_id).Bind(2, e.id);
  BindEndpointState(s, e);
  s.Run();
  if (ordering_changed) {
    // The per-lead index covers only deliveries flagged lead_ordered (migration 5), so the
    // flag of everything pending follows the endpoint's ordering.
    db_.Prepare(
           "UPDATE deliveries INDEXED BY deliveries_available_by_endpoint SET lead_ordered = ?2 "
           "WHERE endpoint_id = ?1 AND status = 'pending'")
        .Bind(1, e.id).Bind(2, std::int64_t{e.ordering == Ordering::kPerLead}).Run();
  }
}

bool SqliteTx::DeleteEndpoint(std::string_view company, std::string_view id, Millis now) {
  if (writer_) writer_->ForgetEndpoints();
  db_.Prepare(
         "UPDATE endpoints SET deleted_at = ?3, updated_at = ?3 WHERE company_id = ?1 AND id = ?2 "
         "AND deleted_at IS NULL")
      .Bind(1, company).Bind(2, id).Bind(3, now).Run();
  if (db_.Changes() == 0) return false;
  // Pending and skipped apart, each through its own index (the skipped through the partial
  // one, whose condition kUnsent writes out).
  db_.Prepare(
         "UPDATE deliveries INDEXED BY deliveries_available_by_endpoint SET status = 'cancelled', "
         "next_attempt_at = NULL, updated_at = ?2 WHERE endpoint_id = ?1 AND status = 'pending'")
      .Bind(1, id).Bind(2, now).Run();
  db_.Prepare(fmt::format(
         "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?2 "
         "WHERE endpoint_id = ?1 AND status = 'skipped' AND {}", kUnsent))
      .Bind(1, id).Bind(2, now).Run();
  db_.Prepare("DELETE FROM endpoint_stats WHERE endpoint_id = ?1").Bind(1, id).Run();
  return true;
}

std::optional<EndpointRecord> SqliteTx::GetEndpoint(std::string_view company, std::string_view id) {
  auto& s = db_.Prepare(fmt::format(
      "SELECT {} FROM endpoints WHERE company_id = ?1 AND id = ?2 AND deleted_at IS NULL",
      kEndpointColumns));
  s.Bind(1, company).Bind(2, id);
  if (!s.Step()) return std::nullopt;
  return ReadEndpoint(s);
}

std::vector<EndpointRecord> SqliteTx::ListEndpoints(std::string_view company, const PageRequest& page) {
  auto& s = db_.Prepare(fmt::format(
      "SELECT {} FROM endpoints WHERE company_id = ?1 AND deleted_at IS NULL AND id > ?2 "
      "ORDER BY id LIMIT ?3",
      kEndpointColumns));
  s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
  std::vector<EndpointRecord> out;
  while (s.Step()) out.push_back(ReadEndpoint(s));
  return out;
}

std::vector<EndpointRecord> SqliteTx::ListAllEndpoints(std::string_view company) {
  if (writer_) {
    if (const auto* kept = writer_->KeptEndpoints(company)) return *kept;
  }
  static const std::string sql = fmt::format(
      "SELECT {} FROM endpoints WHERE company_id = ?1 AND deleted_at IS NULL ORDER BY id", kEndpointColumns);
  auto& s = db_.Prepare(sql);
  s.Bind(1, company);
  std::vector<EndpointRecord> out;
  while (s.Step()) out.push_back(ReadEndpoint(s));
  if (writer_) writer_->KeepEndpoints(company, out);
  return out;
}

void SqliteTx::InsertDelivery(const DeliveryRecord& d) {
  db_.Prepare(
         "INSERT INTO deliveries (event_id, endpoint_id, company_id, status, attempts, "
         "next_attempt_at, created_at, updated_at, lead_id, occurred_at, event_seq, lead_ordered) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
         " coalesce(?12, (SELECT ordering = 'per_lead' FROM endpoints WHERE id = ?2), 0))")
      .Bind(1, d.event_id).Bind(2, d.endpoint_id).Bind(3, d.company_id)
      .Bind(4, DeliveryStatusName(d.status)).Bind(5, std::int64_t{d.attempts})
      .Bind(6, d.next_attempt_at).Bind(7, d.created_at).Bind(8, d.updated_at)
      .Bind(9, d.lead_id).Bind(10, d.occurred_at).Bind(11, d.event_seq)
      .Bind(12, d.lead_ordered ? std::optional<std::int64_t>(*d.lead_ordered) : std::nullopt).Run();
}

std::vector<DeliveryRecord> SqliteTx::ListDeliveriesOfEvent(std::string_view company,
                                                            std::string_view event_id) {
  auto& s = db_.Prepare(
      "SELECT id, event_id, endpoint_id, company_id, status, attempts, next_attempt_at, "
      "created_at, updated_at, lead_id, occurred_at, event_seq, "
      "(SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = deliveries.id) "
      "FROM deliveries WHERE company_id = ?1 AND event_id = ?2 ORDER BY id");
  s.Bind(1, company).Bind(2, event_id);
  std::vector<DeliveryRecord> out;
  while (s.Step()) {
    DeliveryRecord d;
    d.id = s.Int(0);
    d.event_id = s.Text(1);
    d.endpoint_id = s.Text(2);
    d.company_id = s.Text(3);
    d.status = ParseDeliveryStatus(s.Text(4)).value_or(DeliveryStatus::kPending);
    d.attempts = static_cast<int>(s.Int(5));
    d.next_attempt_at = s.OptInt(6);
    d.created_at = s.Int(7);
    d.updated_at = s.Int(8);
    d.lead_id = s.Text(9);
    d.occurred_at = s.Int(10);
    d.event_seq = s.Int(11);
    d.total_attempts = static_cast<int>(s.Int(12));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<AttemptRecord> SqliteTx::ListAttempts(std::int64_t delivery_id) {
  auto& s = db_.Prepare(
      "SELECT id, delivery_id, started_at, duration_ms, status_code, error, response_head "
      "FROM attempts WHERE delivery_id = ?1 ORDER BY id");
  s.Bind(1, delivery_id);
  std::vector<AttemptRecord> out;
  while (s.Step()) {
    AttemptRecord a;
    a.id = s.Int(0);
    a.delivery_id = s.Int(1);
    a.started_at = s.Int(2);
    a.duration_ms = s.Int(3);
    if (auto code = s.OptInt(4)) a.status_code = static_cast<int>(*code);
    a.error = s.OptText(5);
    a.response_head = s.Blob(6);
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

// When a pending delivery may be claimed: when it is due and nobody holds a lease on it.
// Written exactly as in the index deliveries_available_by_endpoint (migration 6), so that a
// claim reads only what it may take: were the lease a condition beside the index, every
// claim would step over the deliveries already claimed and still in flight (up to 128 per
// endpoint), each a table lookup.
constexpr std::string_view kAvailableAt = "max(d.next_attempt_at, coalesce(d.lease_until, 0))";

// The ids of endpoints with something pending, as `pending(id)`, found by hopping from one
// endpoint id to the next in the pending-only index (one seek per such endpoint): idle
// endpoints cost nothing, however many there are. Its last row is NULL.
constexpr std::string_view kEndpointsWithPending =
    "WITH RECURSIVE pending(id) AS ("
    " SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_available_by_endpoint"
    "  WHERE status = 'pending')"
    " UNION ALL"
    " SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_available_by_endpoint"
    "  WHERE status = 'pending' AND endpoint_id > pending.id)"
    " FROM pending WHERE pending.id IS NOT NULL)";

}  // namespace

std::vector<ClaimedDelivery> SqliteTx::ClaimDueDeliveries(Millis now, Millis lease_until,
                                                          const ClaimLimits& limits) {
  if (!writer_) throw std::logic_error("deliveries are claimed in the writer's transaction only");
  writer_->leases().SetNow(now);
  // Each endpoint's due deliveries come from its own index range, so a claim costs the same
  // with ten or a million pending, and a backlog at one endpoint (or one left out of the
  // claim) is never scanned to reach another's; endpoints with nothing pending are not
  // visited at all. Candidates are ids only; the payloads are
  // read for the chosen few.
  const std::set<std::string, std::less<>> skip(limits.skip_endpoints.begin(), limits.skip_endpoints.end());
  // What a delivery takes from its endpoint, read once per claim, not once per delivery.
  struct ClaimedEndpoint {
    std::string id;
    bool per_lead = false;
    std::string url;
    std::string secret_sealed;
    HeaderList headers;
    std::optional<std::string> previous_secret_sealed;
    std::optional<std::int64_t> rate_limit_per_s;
  };
  std::vector<ClaimedEndpoint> endpoints;
  {
    // Only enabled endpoints with something pending.
    static const std::string sql =
        std::string(kEndpointsWithPending) +
        " SELECT e.id, e.ordering, e.url, e.secret_sealed, e.headers,"
        " CASE WHEN e.previous_secret_expires_at > ?1 THEN e.previous_secret_sealed END, e.rate_limit_per_s"
        " FROM pending JOIN endpoints e ON e.id = pending.id WHERE e.disabled = 0 AND e.deleted_at IS NULL";
    auto& s = db_.Prepare(sql);
    s.Bind(1, now);
    while (s.Step()) {
      std::string id = s.Text(0);
      if (skip.contains(id)) continue;
      ClaimedEndpoint& e = endpoints.emplace_back();
      e.id = std::move(id);
      e.per_lead = s.Text(1) == "per_lead";
      e.url = s.Text(2);
      e.secret_sealed = s.Blob(3);
      e.headers = DecodeHeaders(s.Text(4));
      if (!s.IsNull(5)) e.previous_secret_sealed = s.Blob(5);
      e.rate_limit_per_s = s.OptInt(6);
    }
    s.Reset();
  }
  struct Candidate {
    std::int64_t rank;  //!< place in its endpoint's due order
    Millis due;
    std::int64_t id;
    std::size_t endpoint;  //!< index in `endpoints`
    auto operator<=>(const Candidate&) const = default;
  };
  std::vector<Candidate> candidates;
  static const std::string due = fmt::format(
      "SELECT d.id, {0} FROM deliveries d WHERE d.endpoint_id = ?1 AND d.status = 'pending' AND {0} <= ?2",
      kAvailableAt);
  constexpr std::string_view kEarlierPendingForLead =
      "  AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = d.endpoint_id"
      "   AND p.lead_id = d.lead_id AND p.status = 'pending' AND p.lead_ordered = 1"
      "   AND (p.occurred_at < d.occurred_at"
      "   OR (p.occurred_at = d.occurred_at AND p.event_seq < d.event_seq)))";
  static const std::string order = fmt::format(" ORDER BY {}, d.id LIMIT ?3", kAvailableAt);
  static const std::string due_sql = due + order;
  static const std::string due_per_lead_sql = due + std::string(kEarlierPendingForLead) + order;
  // No endpoint can bring more than the whole claim takes: under load a claim refills the
  // few slots answers just freed, and reading a full per-endpoint batch from each endpoint to
  // keep a handful was most of its cost.
  const std::int64_t per_endpoint = std::max(0, std::min(limits.per_endpoint, limits.limit));
  // Leased deliveries are still pending in the table and, claimed first, sit at the front of
  // their endpoint's range: the scan reads past at most every lease to find the unleased.
  const auto leased = static_cast<std::int64_t>(writer_->leases().CountAtMost());
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto& s = db_.Prepare(endpoints[i].per_lead ? due_per_lead_sql : due_sql);
    s.Bind(1, endpoints[i].id).Bind(2, now).Bind(3, per_endpoint + leased);
    std::int64_t found = 0;
    while (found < per_endpoint && s.Step()) {
      if (writer_->leases().Held(s.Int(0), now)) continue;
      candidates.push_back({found, s.Int(1), s.Int(0), i});
      ++found;
    }
    s.Reset();
  }
  // The limit is shared out in turns: each endpoint's first due, then each one's second, ...
  // Taking the oldest due across endpoints instead handed a whole claim to whichever endpoint
  // was furthest behind (in a backlog all due at once, the lowest ids), and the others' queues
  // ran dry until a later claim.
  std::sort(candidates.begin(), candidates.end());
  if (candidates.size() > static_cast<std::size_t>(std::max(limits.limit, 0))) {
    candidates.resize(static_cast<std::size_t>(std::max(limits.limit, 0)));
  }
  // The event by its rowid (event_seq), not through the index on its text id: one b-tree
  // descent per delivery instead of two.
  auto& row = db_.Prepare(
      "SELECT d.id, d.event_id, d.company_id, d.attempts, ev.payload, ev.event, d.lead_id"
      " FROM deliveries d JOIN events ev ON ev.seq = d.event_seq AND ev.id = d.event_id WHERE d.id = ?1");
  std::vector<ClaimedDelivery> out;
  out.reserve(candidates.size());
  for (const auto& candidate : candidates) {
    row.Reset().Bind(1, candidate.id);
    if (!row.Step()) continue;
    const ClaimedEndpoint& e = endpoints[candidate.endpoint];
    ClaimedDelivery c;
    c.delivery_id = row.Int(0);
    c.event_id = row.Text(1);
    c.endpoint_id = e.id;
    c.company_id = row.Text(2);
    c.attempts = static_cast<int>(row.Int(3));
    c.url = e.url;
    c.secret_sealed = e.secret_sealed;
    c.headers = e.headers;
    c.payload = row.Blob(4);
    c.event = row.Text(5);
    c.lead_id = row.Text(6);
    c.previous_secret_sealed = e.previous_secret_sealed;
    c.rate_limit_per_s = e.rate_limit_per_s;
    writer_->leases().Take(c.delivery_id, lease_until);
    out.push_back(std::move(c));
  }
  row.Reset();
  return out;
}

void SqliteTx::ReleaseLeases(const std::vector<std::int64_t>& ids) {
  if (!writer_) throw std::logic_error("leases are released in the writer's transaction only");
  for (auto id : ids) writer_->leases().Drop(id);
}

std::vector<std::int64_t> SqliteTx::RenewLeases(const std::vector<std::int64_t>& ids, Millis now,
                                                Millis lease_until) {
  if (!writer_) throw std::logic_error("leases are renewed in the writer's transaction only");
  LeaseTable& leases = writer_->leases();
  leases.SetNow(now);
  std::vector<std::int64_t> lost;
  // One process owns a SQLite database, so a lease that ran out while its delivery was held
  // here (the process stalled, the clock stepped) is still this dispatcher's: it is taken
  // again. If a claim took it meanwhile, that claim was this dispatcher's too, which drops a
  // delivery it already holds. Nothing is ever lost here.
  for (auto id : ids) leases.Take(id, lease_until);
  return lost;
}

EndpointHealth SqliteTx::RecordEndpointOutcome(std::string_view endpoint_id, bool success,
                                               Millis now) {
  EndpointHealth health;
  auto& s = db_.Prepare("SELECT failing_since FROM endpoints WHERE id = ?1");
  s.Bind(1, endpoint_id);
  if (!s.Step()) return health;
  health.failing_since_before = s.OptInt(0);
  health.failing_since_after = success ? std::nullopt : std::optional<Millis>(health.failing_since_before.value_or(now));
  if (health.failing_since_after != health.failing_since_before) {
    if (writer_) writer_->ForgetEndpoints();
    db_.Prepare("UPDATE endpoints SET failing_since = ?2 WHERE id = ?1")
        .Bind(1, endpoint_id).Bind(2, health.failing_since_after).Run();
  }
  return health;
}

std::optional<EndpointRecord> SqliteTx::GetEndpointById(std::string_view endpoint_id) {
  auto& s = db_.Prepare(fmt::format(
      "SELECT {} FROM endpoints WHERE id = ?1 AND deleted_at IS NULL", kEndpointColumns));
  s.Bind(1, endpoint_id);
  if (!s.Step()) return std::nullopt;
  return ReadEndpoint(s);
}

int SqliteTx::RequeueDeliveries(const RequeueFilter& f, Millis now) {
  std::vector<std::string> statuses;
  bool only_unsent = true;  // no pending or succeeded one asked for
  for (auto st : f.statuses) {
    statuses.emplace_back(DeliveryStatusName(st));
    only_unsent = only_unsent && st != DeliveryStatus::kPending && st != DeliveryStatus::kSucceeded;
  }
  // The event, endpoint and time conditions are written only when given: as "(?2 IS NULL OR
  // event_id = ?2)" SQLite could use no index, and redelivering one event scanned every
  // delivery, in the writer, holding up every other write meanwhile. Unsent ones of an
  // endpoint come from their own index; others of an endpoint in a time range from its
  // range of deliveries_by_endpoint_created.
  db_.Prepare(fmt::format(
         "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?7, "
         "lease_until = NULL, updated_at = ?7, lead_ordered = coalesce((SELECT ordering = 'per_lead'"
         " FROM endpoints WHERE endpoints.id = deliveries.endpoint_id), 0) WHERE company_id = ?1{}{}{}{} "
         "AND status IN (SELECT value FROM json_each(?4)) "
         "AND endpoint_id IN (SELECT id FROM endpoints WHERE deleted_at IS NULL){}",
         f.event_id ? " AND event_id = ?2" : "", f.endpoint_id ? " AND endpoint_id = ?3" : "",
         f.since ? " AND created_at >= ?5" : "", f.until ? " AND created_at < ?6" : "",
         f.endpoint_id && only_unsent ? fmt::format(" AND {}", kUnsent) : ""))
      .Bind(1, f.company_id).Bind(2, f.event_id).Bind(3, f.endpoint_id)
      .Bind(4, EncodeStrings(statuses)).Bind(5, f.since).Bind(6, f.until).Bind(7, now).Run();
  return db_.Changes();
}

EndpointStats SqliteTx::GetEndpointStats(std::string_view endpoint_id, Millis since) {
  const std::int64_t first_minute = StatsMinuteOf(since);
  auto& s = db_.Prepare(
      "SELECT bucket, SUM(attempts), SUM(succeeded) FROM endpoint_stats"
      " WHERE endpoint_id = ?1 AND minute >= ?2 GROUP BY bucket");
  s.Bind(1, endpoint_id).Bind(2, first_minute);
  std::vector<LatencyCount> counts;
  while (s.Step()) counts.push_back({0, static_cast<int>(s.Int(0)), s.Int(1), s.Int(2)});
  s.Reset();
  return SummarizeLatencyCounts(counts);
}

void SqliteTx::AddEndpointStats(std::string_view endpoint_id, const std::vector<LatencyCount>& counts) {
  if (counts.empty()) return;
  auto& add = db_.Prepare(
      "INSERT INTO endpoint_stats (endpoint_id, minute, bucket, attempts, succeeded)"
      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (endpoint_id, minute, bucket) DO UPDATE SET"
      " attempts = attempts + excluded.attempts, succeeded = succeeded + excluded.succeeded");
  std::int64_t newest = counts.front().minute;
  for (const auto& c : counts) {
    add.Reset().Bind(1, endpoint_id).Bind(2, c.minute).Bind(3, std::int64_t{c.bucket})
        .Bind(4, c.attempts).Bind(5, c.succeeded).Run();
    newest = std::max(newest, c.minute);
  }
  // Old minutes go once per endpoint and new minute, not at every batch: one range delete
  // in the endpoint's own rows.
  if (writer_ && !writer_->StatsMinuteIsNew(endpoint_id, newest)) return;
  db_.Prepare("DELETE FROM endpoint_stats WHERE endpoint_id = ?1 AND minute <= ?2")
      .Bind(1, endpoint_id).Bind(2, newest - kStatsMinutesKept).Run();
}

bool SqliteTx::RecordAttempt(const AttemptRecord& a, const DeliveryUpdate& u) {
  if (writer_) writer_->leases().Drop(u.delivery_id);
  // The attempt is always logged; the delivery moves only while pending: a second copy's
  // answer (a lease lost mid-attempt) cannot undo a recorded success, nor an answer revive a
  // delivery cancelled while it was in flight.
  db_.Prepare(
         "INSERT INTO attempts (delivery_id, started_at, duration_ms, status_code, error, "
         "response_head) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .Bind(1, a.delivery_id).Bind(2, a.started_at).Bind(3, a.duration_ms)
      .Bind(4, a.status_code ? std::optional<std::int64_t>(*a.status_code) : std::nullopt)
      .Bind(5, a.error).BindBlob(6, a.response_head).Run();
  db_.Prepare(
         "UPDATE deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
         "lease_until = NULL, updated_at = ?5 WHERE id = ?1 AND status = 'pending'")
      .Bind(1, u.delivery_id).Bind(2, DeliveryStatusName(u.status))
      .Bind(3, std::int64_t{u.attempts}).Bind(4, u.next_attempt_at).Bind(5, u.now).Run();
  return db_.Changes() > 0;
}

std::optional<Millis> SqliteTx::NextDueAt() {
  // Disabled and deleted endpoints' deliveries are never claimed, so they are not due: a
  // dispatcher waiting for them would wake (and claim nothing) in a loop. A leased delivery
  // is due when its lease runs out. One seek per endpoint with something pending, as in
  // the claim.
  static const std::string sql = fmt::format(
      "{} SELECT MIN((SELECT MIN({}) FROM deliveries d INDEXED BY deliveries_available_by_endpoint"
      "  WHERE d.endpoint_id = e.id AND d.status = 'pending'))"
      " FROM pending JOIN endpoints e ON e.id = pending.id WHERE e.disabled = 0 AND e.deleted_at IS NULL",
      kEndpointsWithPending, kAvailableAt);
  auto& s = db_.Prepare(sql);
  if (!s.Step()) return std::nullopt;
  return s.OptInt(0);
}

void SqliteTx::ReleaseAllLeases() {
  if (!writer_) throw std::logic_error("leases are released in the writer's transaction only");
  writer_->leases().DropAll();
  // Leases were once kept in the table: a database written then may still hold some.
  db_.Prepare("UPDATE deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL").Run();
}

void SqliteTx::DisableEndpoint(std::string_view endpoint_id, std::string_view reason, Millis now) {
  if (writer_) writer_->ForgetEndpoints();
  db_.Prepare(
         "UPDATE endpoints SET disabled = 1, disabled_reason = ?2, updated_at = ?3 WHERE id = ?1")
      .Bind(1, endpoint_id).Bind(2, reason).Bind(3, now).Run();
}

}  // namespace hookline::store::sqlite
