#include "hookline/store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/store/sqlite/migrations.hpp"
#include "hookline/store/sqlite/sqlite_connection.hpp"
#include "hookline/util/thread_name.hpp"

namespace hookline::store::sqlite {

namespace json = boost::json;

namespace {

std::string EncodeStrings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return json::serialize(a);
}

std::vector<std::string> DecodeStrings(const std::string& text) {
  std::vector<std::string> out;
  const json::value parsed = json::parse(text);
  for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}

std::string EncodeHeaders(const HeaderList& headers) {
  json::array a;
  for (const auto& [k, v] : headers) a.push_back(json::array{json::string(k), json::string(v)});
  return json::serialize(a);
}

HeaderList DecodeHeaders(const std::string& text) {
  HeaderList out;
  const json::value parsed = json::parse(text);
  for (const auto& v : parsed.as_array()) {
    const auto& pair = v.as_array();
    out.emplace_back(std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string()));
  }
  return out;
}

constexpr std::string_view kEndpointColumns =
    "id, company_id, url, description, event_types, headers, rate_limit_per_s, secret_sealed, "
    "disabled, disabled_reason, created_at, updated_at, ordering, previous_secret_sealed, "
    "previous_secret_expires_at, failing_since";

EndpointRecord ReadEndpoint(const Statement& s) {
  EndpointRecord e;
  e.id = s.Text(0);
  e.company_id = s.Text(1);
  e.url = s.Text(2);
  e.description = s.OptText(3);
  e.event_types = DecodeStrings(s.Text(4));
  e.headers = DecodeHeaders(s.Text(5));
  e.rate_limit_per_s = s.OptInt(6);
  e.secret_sealed = s.Blob(7);
  e.disabled = s.Int(8) != 0;
  e.disabled_reason = s.OptText(9);
  e.created_at = s.Int(10);
  e.updated_at = s.Int(11);
  e.ordering = ParseOrdering(s.Text(12)).value_or(Ordering::kNone);
  if (!s.IsNull(13)) e.previous_secret_sealed = s.Blob(13);
  e.previous_secret_expires_at = s.OptInt(14);
  e.failing_since = s.OptInt(15);
  return e;
}

constexpr std::string_view kEventColumns =
    "seq, id, company_id, event, campaign_id, lead_id, sender_id, occurred_at, created_at, payload";

EventRecord ReadEvent(const Statement& s) {
  EventRecord e;
  e.seq = s.Int(0);
  e.id = s.Text(1);
  e.company_id = s.Text(2);
  e.event = s.Text(3);
  e.campaign_id = s.Text(4);
  e.lead_id = s.Text(5);
  e.sender_id = s.Text(6);
  e.occurred_at = s.Int(7);
  e.created_at = s.Int(8);
  e.payload = s.Blob(9);
  return e;
}

model::Lead ReadLead(const Statement& s) {
  model::Lead l;
  l.id = s.Text(0);
  l.name = s.Text(1);
  l.profile_url = s.OptText(2);
  l.email = s.OptText(3);
  l.company_name = s.OptText(4);
  l.location = s.OptText(5);
  l.job_title = s.OptText(6);
  l.profile_image = s.OptText(7);
  return l;
}

model::Campaign ReadCampaign(const Statement& s) {
  model::Campaign c;
  c.id = s.Text(0);
  c.name = s.Text(1);
  c.campaign_type = model::ParseChannel(s.Text(2)).value_or(model::Channel::kLinkedin);
  c.total_leads = s.Int(3);
  c.complete_end_of_sequence = s.Int(4);
  return c;
}

// Binds the mutable columns of an endpoint: ?3..?10 and ?12..?16 (?1, ?2, ?11 are the
// caller's: ids and created_at).
void BindEndpointState(Statement& s, const EndpointRecord& e) {
  s.Bind(3, e.url).Bind(4, e.description).Bind(5, EncodeStrings(e.event_types))
      .Bind(6, EncodeHeaders(e.headers)).Bind(7, e.rate_limit_per_s).BindBlob(8, e.secret_sealed)
      .Bind(9, std::int64_t{e.disabled ? 1 : 0}).Bind(10, e.disabled_reason).Bind(12, e.updated_at)
      .Bind(13, OrderingName(e.ordering)).Bind(15, e.previous_secret_expires_at)
      .Bind(16, e.failing_since);
  if (e.previous_secret_sealed) {
    s.BindBlob(14, *e.previous_secret_sealed);
  } else {
    s.BindNull(14);
  }
}

class SqliteTx final : public StoreTx {
 public:
  explicit SqliteTx(Connection& db) : db_(db) {}

  bool InsertCompany(const Company& c, std::string_view key_hash) override {
    auto& s = db_.Prepare(
        "INSERT INTO companies (id, name, api_key_hash, created_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (id) DO NOTHING");
    s.Bind(1, c.id).Bind(2, c.name).BindBlob(3, key_hash).Bind(4, c.created_at).Run();
    return db_.Changes() == 1;
  }

  std::optional<Company> FindCompanyByKeyHash(std::string_view key_hash) override {
    auto& s = db_.Prepare("SELECT id, name, created_at FROM companies WHERE api_key_hash = ?1");
    s.BindBlob(1, key_hash);
    if (!s.Step()) return std::nullopt;
    return Company{s.Text(0), s.Text(1), s.Int(2)};
  }

  bool UpsertSender(std::string_view company, const model::Sender& sender) override {
    const bool existed = GetSender(company, sender.id).has_value();
    auto& s = db_.Prepare(
        "INSERT INTO senders (company_id, id, name, email, updated_at) VALUES (?1, ?2, ?3, ?4, 0) "
        "ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name, email = excluded.email");
    s.Bind(1, company).Bind(2, sender.id).Bind(3, sender.name).Bind(4, sender.email).Run();
    return !existed;
  }

  std::optional<model::Sender> GetSender(std::string_view company, std::string_view id) override {
    auto& s = db_.Prepare("SELECT id, name, email FROM senders WHERE company_id = ?1 AND id = ?2");
    s.Bind(1, company).Bind(2, id);
    if (!s.Step()) return std::nullopt;
    return model::Sender{s.Text(0), s.Text(1), s.OptText(2)};
  }

  std::vector<model::Sender> ListSenders(std::string_view company, const PageRequest& page) override {
    auto& s = db_.Prepare(
        "SELECT id, name, email FROM senders WHERE company_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
    std::vector<model::Sender> out;
    while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.OptText(2)});
    return out;
  }

  bool UpsertCampaign(std::string_view company, const model::Campaign& c) override {
    const bool existed = GetCampaign(company, c.id).has_value();
    auto& s = db_.Prepare(
        "INSERT INTO campaigns (company_id, id, name, campaign_type, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, 0) ON CONFLICT (company_id, id) DO UPDATE SET "
        "name = excluded.name, campaign_type = excluded.campaign_type");
    s.Bind(1, company).Bind(2, c.id).Bind(3, c.name).Bind(4, model::ChannelName(c.campaign_type)).Run();
    return !existed;
  }

  std::optional<model::Campaign> GetCampaign(std::string_view company, std::string_view id) override {
    auto& s = db_.Prepare(
        "SELECT id, name, campaign_type, total_leads, completed_leads FROM campaigns "
        "WHERE company_id = ?1 AND id = ?2");
    s.Bind(1, company).Bind(2, id);
    if (!s.Step()) return std::nullopt;
    return ReadCampaign(s);
  }

  std::vector<model::Campaign> ListCampaigns(std::string_view company, const PageRequest& page) override {
    auto& s = db_.Prepare(
        "SELECT id, name, campaign_type, total_leads, completed_leads FROM campaigns "
        "WHERE company_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
    std::vector<model::Campaign> out;
    while (s.Step()) out.push_back(ReadCampaign(s));
    return out;
  }

  std::int64_t CountLeadsWithAction(std::string_view company, std::string_view campaign_id,
                                    const std::vector<std::string>& actions) override {
    std::string placeholders;
    for (size_t i = 0; i < actions.size(); ++i) {
      placeholders += (i ? ", ?" : "?") + std::to_string(i + 3);
    }
    if (actions.empty()) return 0;
    auto& s = db_.Prepare(fmt::format(
        "SELECT COUNT(DISTINCT lead_id) FROM activities WHERE company_id = ?1 AND campaign_id = ?2 "
        "AND action IN ({})",
        placeholders));
    s.Bind(1, company).Bind(2, campaign_id);
    for (size_t i = 0; i < actions.size(); ++i) s.Bind(static_cast<int>(i + 3), actions[i]);
    return s.Step() ? s.Int(0) : 0;
  }

  bool CampaignHasActivity(std::string_view company, std::string_view campaign_id) override {
    auto& s = db_.Prepare(
        "SELECT 1 FROM activities WHERE company_id = ?1 AND campaign_id = ?2 LIMIT 1");
    s.Bind(1, company).Bind(2, campaign_id);
    return s.Step();
  }

  bool UpsertLead(std::string_view company, const model::Lead& l) override {
    const bool existed = GetLead(company, l.id).has_value();
    auto& s = db_.Prepare(
        "INSERT INTO leads (company_id, id, name, profile_url, email, company_name, location, "
        "job_title, profile_image, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0) "
        "ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name, "
        "profile_url = excluded.profile_url, email = excluded.email, "
        "company_name = excluded.company_name, location = excluded.location, "
        "job_title = excluded.job_title, profile_image = excluded.profile_image");
    s.Bind(1, company).Bind(2, l.id).Bind(3, l.name).Bind(4, l.profile_url).Bind(5, l.email)
        .Bind(6, l.company_name).Bind(7, l.location).Bind(8, l.job_title).Bind(9, l.profile_image)
        .Run();
    return !existed;
  }

  std::optional<model::Lead> GetLead(std::string_view company, std::string_view id) override {
    auto& s = db_.Prepare(
        "SELECT id, name, profile_url, email, company_name, location, job_title, profile_image "
        "FROM leads WHERE company_id = ?1 AND id = ?2");
    s.Bind(1, company).Bind(2, id);
    if (!s.Step()) return std::nullopt;
    return ReadLead(s);
  }

  std::vector<model::Lead> ListLeads(std::string_view company, const PageRequest& page) override {
    auto& s = db_.Prepare(
        "SELECT id, name, profile_url, email, company_name, location, job_title, profile_image "
        "FROM leads WHERE company_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
    std::vector<model::Lead> out;
    while (s.Step()) out.push_back(ReadLead(s));
    return out;
  }

  bool Enroll(std::string_view company, std::string_view campaign_id, std::string_view lead_id,
              Millis now) override {
    auto& s = db_.Prepare(
        "INSERT INTO enrollments (company_id, campaign_id, lead_id, enrolled_at) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
    s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, now).Run();
    if (db_.Changes() == 0) return false;
    db_.Prepare("UPDATE campaigns SET total_leads = total_leads + 1 WHERE company_id = ?1 AND id = ?2")
        .Bind(1, company).Bind(2, campaign_id).Run();
    return true;
  }

  bool MarkCompleted(std::string_view company, std::string_view campaign_id,
                     std::string_view lead_id, Millis now) override {
    auto& s = db_.Prepare(
        "UPDATE enrollments SET completed_at = ?4 WHERE company_id = ?1 AND campaign_id = ?2 "
        "AND lead_id = ?3 AND completed_at IS NULL");
    s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, now).Run();
    if (db_.Changes() == 0) return false;
    db_.Prepare(
           "UPDATE campaigns SET completed_leads = completed_leads + 1 "
           "WHERE company_id = ?1 AND id = ?2")
        .Bind(1, company).Bind(2, campaign_id).Run();
    return true;
  }

  std::optional<model::Enrollment> GetEnrollment(std::string_view company,
                                                 std::string_view campaign_id,
                                                 std::string_view lead_id) override {
    auto& s = db_.Prepare(
        "SELECT latest_status, completed_at FROM enrollments "
        "WHERE company_id = ?1 AND campaign_id = ?2 AND lead_id = ?3");
    s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id);
    if (!s.Step()) return std::nullopt;
    model::Enrollment e;
    e.campaign_id = std::string(campaign_id);
    e.lead_id = std::string(lead_id);
    e.latest_status = s.OptText(0);
    e.completed = !s.IsNull(1);
    e.activity = History(company, campaign_id, lead_id);
    return e;
  }

  std::vector<model::Enrollment> ListEnrollmentsOfLead(std::string_view company,
                                                       std::string_view lead_id) override {
    auto& s = db_.Prepare(
        "SELECT campaign_id, latest_status, completed_at FROM enrollments "
        "WHERE company_id = ?1 AND lead_id = ?2 ORDER BY enrolled_at, campaign_id");
    s.Bind(1, company).Bind(2, lead_id);
    std::vector<model::Enrollment> out;
    while (s.Step()) {
      model::Enrollment e;
      e.campaign_id = s.Text(0);
      e.lead_id = std::string(lead_id);
      e.latest_status = s.OptText(1);
      e.completed = !s.IsNull(2);
      out.push_back(std::move(e));
    }
    for (auto& e : out) e.activity = History(company, e.campaign_id, lead_id);
    return out;
  }

  void AppendActivity(std::string_view company, std::string_view campaign_id,
                      std::string_view lead_id, const model::Activity& activity,
                      std::string_view event_id,
                      const std::optional<std::string>& latest_status) override {
    db_.Prepare(
           "INSERT INTO activities (company_id, campaign_id, lead_id, action, action_time, event_id) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, activity.action)
        .Bind(5, activity.action_time).Bind(6, event_id).Run();
    db_.Prepare(
           "UPDATE enrollments SET latest_status = ?4 WHERE company_id = ?1 AND campaign_id = ?2 "
           "AND lead_id = ?3")
        .Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, latest_status).Run();
  }

  void InsertEvent(EventRecord& e) override {
    db_.Prepare(
           "INSERT INTO events (id, company_id, event, campaign_id, lead_id, sender_id, "
           "occurred_at, created_at, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        .Bind(1, e.id).Bind(2, e.company_id).Bind(3, e.event).Bind(4, e.campaign_id)
        .Bind(5, e.lead_id).Bind(6, e.sender_id).Bind(7, e.occurred_at).Bind(8, e.created_at)
        .BindBlob(9, e.payload).Run();
    e.seq = db_.LastInsertRowId();
  }

  std::optional<EventRecord> GetEvent(std::string_view company, std::string_view id) override {
    auto& s = db_.Prepare(fmt::format("SELECT {} FROM events WHERE company_id = ?1 AND id = ?2",
                                      kEventColumns));
    s.Bind(1, company).Bind(2, id);
    if (!s.Step()) return std::nullopt;
    return ReadEvent(s);
  }

  std::vector<EventRecord> ListEvents(const EventFilter& f) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM events WHERE company_id = ?1 AND (?2 IS NULL OR event = ?2) "
        "AND (?3 IS NULL OR lead_id = ?3) AND (?4 IS NULL OR campaign_id = ?4) "
        "AND (?5 IS NULL OR occurred_at >= ?5) AND (?6 IS NULL OR occurred_at < ?6) "
        "AND (?7 IS NULL OR seq < ?7) ORDER BY seq DESC LIMIT ?8",
        kEventColumns));
    s.Bind(1, f.company_id).Bind(2, f.event).Bind(3, f.lead_id).Bind(4, f.campaign_id)
        .Bind(5, f.since).Bind(6, f.until).Bind(7, f.before_seq).Bind(8, std::int64_t{f.limit});
    std::vector<EventRecord> out;
    while (s.Step()) out.push_back(ReadEvent(s));
    return out;
  }

  std::optional<EventRecord> LastEventOf(std::string_view company, std::string_view campaign_id,
                                         std::string_view lead_id, std::string_view event) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM events WHERE company_id = ?1 AND campaign_id = ?2 AND lead_id = ?3 "
        "AND event = ?4 ORDER BY occurred_at DESC, seq DESC LIMIT 1",
        kEventColumns));
    s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, event);
    if (!s.Step()) return std::nullopt;
    return ReadEvent(s);
  }

  void InsertEndpoint(const EndpointRecord& e) override {
    auto& s = db_.Prepare(fmt::format("INSERT INTO endpoints ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                                      kEndpointColumns));
    s.Bind(1, e.id).Bind(2, e.company_id).Bind(11, e.created_at);
    BindEndpointState(s, e);
    s.Run();
  }

  void UpdateEndpoint(const EndpointRecord& e) override {
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
             "UPDATE deliveries SET lead_ordered = ?2 WHERE endpoint_id = ?1 AND status = 'pending'")
          .Bind(1, e.id).Bind(2, std::int64_t{e.ordering == Ordering::kPerLead}).Run();
    }
  }

  bool DeleteEndpoint(std::string_view company, std::string_view id, Millis now) override {
    db_.Prepare(
           "UPDATE endpoints SET deleted_at = ?3, updated_at = ?3 WHERE company_id = ?1 AND id = ?2 "
           "AND deleted_at IS NULL")
        .Bind(1, company).Bind(2, id).Bind(3, now).Run();
    if (db_.Changes() == 0) return false;
    db_.Prepare(
           "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?2 "
           "WHERE endpoint_id = ?1 AND status IN ('pending', 'skipped')")
        .Bind(1, id).Bind(2, now).Run();
    return true;
  }

  std::optional<EndpointRecord> GetEndpoint(std::string_view company, std::string_view id) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM endpoints WHERE company_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        kEndpointColumns));
    s.Bind(1, company).Bind(2, id);
    if (!s.Step()) return std::nullopt;
    return ReadEndpoint(s);
  }

  std::vector<EndpointRecord> ListEndpoints(std::string_view company, const PageRequest& page) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM endpoints WHERE company_id = ?1 AND deleted_at IS NULL AND id > ?2 "
        "ORDER BY id LIMIT ?3",
        kEndpointColumns));
    s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
    std::vector<EndpointRecord> out;
    while (s.Step()) out.push_back(ReadEndpoint(s));
    return out;
  }

  std::vector<EndpointRecord> ListAllEndpoints(std::string_view company) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM endpoints WHERE company_id = ?1 AND deleted_at IS NULL ORDER BY id",
        kEndpointColumns));
    s.Bind(1, company);
    std::vector<EndpointRecord> out;
    while (s.Step()) out.push_back(ReadEndpoint(s));
    return out;
  }

  void InsertDelivery(const DeliveryRecord& d) override {
    db_.Prepare(
           "INSERT INTO deliveries (event_id, endpoint_id, company_id, status, attempts, "
           "next_attempt_at, created_at, updated_at, lead_id, occurred_at, event_seq, lead_ordered) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
           " coalesce((SELECT ordering = 'per_lead' FROM endpoints WHERE id = ?2), 0))")
        .Bind(1, d.event_id).Bind(2, d.endpoint_id).Bind(3, d.company_id)
        .Bind(4, DeliveryStatusName(d.status)).Bind(5, std::int64_t{d.attempts})
        .Bind(6, d.next_attempt_at).Bind(7, d.created_at).Bind(8, d.updated_at)
        .Bind(9, d.lead_id).Bind(10, d.occurred_at).Bind(11, d.event_seq).Run();
  }

  std::vector<DeliveryRecord> ListDeliveriesOfEvent(std::string_view company,
                                                    std::string_view event_id) override {
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

  std::vector<AttemptRecord> ListAttempts(std::int64_t delivery_id) override {
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

  std::vector<ClaimedDelivery> ClaimDueDeliveries(Millis now, Millis lease_until,
                                                  const ClaimLimits& limits) override {
    // Each endpoint's due deliveries come from its own index range, so a claim costs the same
    // with ten or a million pending, and a backlog at one endpoint (or one left out of the
    // claim) is never scanned to reach another's; endpoints with nothing pending are not
    // visited at all. Candidates are ids only; the payloads are
    // read for the chosen few.
    const std::set<std::string, std::less<>> skip(limits.skip_endpoints.begin(), limits.skip_endpoints.end());
    std::vector<std::pair<std::string, bool>> endpoints;  // id, per-lead ordering
    {
      // Only endpoints with something pending, found by hopping from one endpoint id to the
      // next in the pending-only index (one seek per such endpoint): idle endpoints cost
      // nothing, however many there are.
      auto& s = db_.Prepare(
          "WITH RECURSIVE pending(id) AS ("
          " SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_due_by_endpoint"
          "  WHERE status = 'pending')"
          " UNION ALL"
          " SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_due_by_endpoint"
          "  WHERE status = 'pending' AND endpoint_id > pending.id)"
          " FROM pending WHERE pending.id IS NOT NULL)"
          " SELECT e.id, e.ordering FROM pending JOIN endpoints e ON e.id = pending.id"
          " WHERE e.disabled = 0 AND e.deleted_at IS NULL");
      while (s.Step()) {
        std::string id = s.Text(0);
        if (!skip.contains(id)) endpoints.emplace_back(std::move(id), s.Text(1) == "per_lead");
      }
    }
    struct Candidate {
      Millis due;
      std::int64_t id;
      auto operator<=>(const Candidate&) const = default;
    };
    std::vector<Candidate> candidates;
    constexpr std::string_view kDue =
        "SELECT d.id, d.next_attempt_at FROM deliveries d"
        " WHERE d.endpoint_id = ?1 AND d.status = 'pending' AND d.next_attempt_at <= ?2"
        "  AND (d.lease_until IS NULL OR d.lease_until <= ?2)";
    constexpr std::string_view kEarlierPendingForLead =
        "  AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.endpoint_id = d.endpoint_id"
        "   AND p.lead_id = d.lead_id AND p.status = 'pending' AND p.lead_ordered = 1"
        "   AND (p.occurred_at < d.occurred_at"
        "   OR (p.occurred_at = d.occurred_at AND p.event_seq < d.event_seq)))";
    constexpr std::string_view kOrder = " ORDER BY d.next_attempt_at, d.id LIMIT ?3";
    static const std::string due_sql = std::string(kDue) + std::string(kOrder);
    static const std::string due_per_lead_sql =
        std::string(kDue) + std::string(kEarlierPendingForLead) + std::string(kOrder);
    for (const auto& [endpoint_id, per_lead] : endpoints) {
      auto& s = db_.Prepare(per_lead ? due_per_lead_sql : due_sql);
      s.Bind(1, endpoint_id).Bind(2, now).Bind(3, std::int64_t{limits.per_endpoint});
      while (s.Step()) candidates.push_back({s.Int(1), s.Int(0)});
    }
    std::sort(candidates.begin(), candidates.end());  // oldest due first, across endpoints
    if (candidates.size() > static_cast<std::size_t>(std::max(limits.limit, 0))) {
      candidates.resize(static_cast<std::size_t>(std::max(limits.limit, 0)));
    }
    auto& row = db_.Prepare(
        "SELECT d.id, d.event_id, d.endpoint_id, d.company_id, d.attempts, e.url, e.secret_sealed,"
        " e.headers, ev.payload, ev.event, d.lead_id,"
        " CASE WHEN e.previous_secret_expires_at > ?2 THEN e.previous_secret_sealed END,"
        " e.rate_limit_per_s"
        " FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id JOIN events ev ON ev.id = d.event_id"
        " WHERE d.id = ?1");
    auto& lease = db_.Prepare("UPDATE deliveries SET lease_until = ?2 WHERE id = ?1");
    std::vector<ClaimedDelivery> out;
    out.reserve(candidates.size());
    for (const auto& candidate : candidates) {
      row.Reset().Bind(1, candidate.id).Bind(2, now);
      if (!row.Step()) continue;
      ClaimedDelivery c;
      c.delivery_id = row.Int(0);
      c.event_id = row.Text(1);
      c.endpoint_id = row.Text(2);
      c.company_id = row.Text(3);
      c.attempts = static_cast<int>(row.Int(4));
      c.url = row.Text(5);
      c.secret_sealed = row.Blob(6);
      c.headers = DecodeHeaders(row.Text(7));
      c.payload = row.Blob(8);
      c.event = row.Text(9);
      c.lead_id = row.Text(10);
      if (!row.IsNull(11)) c.previous_secret_sealed = row.Blob(11);
      c.rate_limit_per_s = row.OptInt(12);
      lease.Reset().Bind(1, c.delivery_id).Bind(2, lease_until).Run();
      out.push_back(std::move(c));
    }
    return out;
  }

  void ReleaseLeases(const std::vector<std::int64_t>& ids) override {
    auto& s = db_.Prepare("UPDATE deliveries SET lease_until = NULL WHERE id = ?1");
    for (auto id : ids) s.Reset().Bind(1, id).Run();
  }

  EndpointHealth RecordEndpointOutcome(std::string_view endpoint_id, bool success,
                                       Millis now) override {
    EndpointHealth health;
    auto& s = db_.Prepare("SELECT failing_since FROM endpoints WHERE id = ?1");
    s.Bind(1, endpoint_id);
    if (!s.Step()) return health;
    health.failing_since_before = s.OptInt(0);
    health.failing_since_after = success ? std::nullopt : std::optional<Millis>(health.failing_since_before.value_or(now));
    if (health.failing_since_after != health.failing_since_before) {
      db_.Prepare("UPDATE endpoints SET failing_since = ?2 WHERE id = ?1")
          .Bind(1, endpoint_id).Bind(2, health.failing_since_after).Run();
    }
    return health;
  }

  std::optional<EndpointRecord> GetEndpointById(std::string_view endpoint_id) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM endpoints WHERE id = ?1 AND deleted_at IS NULL", kEndpointColumns));
    s.Bind(1, endpoint_id);
    if (!s.Step()) return std::nullopt;
    return ReadEndpoint(s);
  }

  int RequeueDeliveries(const RequeueFilter& f, Millis now) override {
    std::vector<std::string> statuses;
    for (auto st : f.statuses) statuses.emplace_back(DeliveryStatusName(st));
    db_.Prepare(
           "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?7, "
           "lease_until = NULL, updated_at = ?7, lead_ordered = coalesce((SELECT ordering = 'per_lead'"
           " FROM endpoints WHERE endpoints.id = deliveries.endpoint_id), 0) WHERE company_id = ?1 "
           "AND (?2 IS NULL OR event_id = ?2) AND (?3 IS NULL OR endpoint_id = ?3) "
           "AND status IN (SELECT value FROM json_each(?4)) "
           "AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6) "
           "AND endpoint_id IN (SELECT id FROM endpoints WHERE deleted_at IS NULL)")
        .Bind(1, f.company_id).Bind(2, f.event_id).Bind(3, f.endpoint_id)
        .Bind(4, EncodeStrings(statuses)).Bind(5, f.since).Bind(6, f.until).Bind(7, now).Run();
    return db_.Changes();
  }

  EndpointStats GetEndpointStats(std::string_view endpoint_id, Millis since) override {
    EndpointStats stats;
    constexpr std::string_view kFrom =
        "FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
        "WHERE d.endpoint_id = ?1 AND a.started_at >= ?2";
    auto& count = db_.Prepare(fmt::format(
        "SELECT COUNT(*), COALESCE(SUM(a.status_code BETWEEN 200 AND 299), 0) {}", kFrom));
    count.Bind(1, endpoint_id).Bind(2, since);
    if (count.Step()) {
      stats.attempts = count.Int(0);
      stats.succeeded = count.Int(1);
    }
    if (stats.attempts == 0) return stats;
    auto& nth = db_.Prepare(fmt::format("SELECT a.duration_ms {} ORDER BY a.duration_ms LIMIT 1 OFFSET ?3", kFrom));
    auto at_rank = [&](double q) {
      const auto rank = static_cast<std::int64_t>(q * static_cast<double>(stats.attempts - 1) + 0.5);
      nth.Reset().Bind(1, endpoint_id).Bind(2, since).Bind(3, rank);
      return nth.Step() ? std::optional<std::int64_t>(nth.Int(0)) : std::nullopt;
    };
    stats.p50_ms = at_rank(0.50);
    stats.p99_ms = at_rank(0.99);
    return stats;
  }

  void RecordAttempt(const AttemptRecord& a, const DeliveryUpdate& u) override {
    db_.Prepare(
           "INSERT INTO attempts (delivery_id, started_at, duration_ms, status_code, error, "
           "response_head) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .Bind(1, a.delivery_id).Bind(2, a.started_at).Bind(3, a.duration_ms)
        .Bind(4, a.status_code ? std::optional<std::int64_t>(*a.status_code) : std::nullopt)
        .Bind(5, a.error).BindBlob(6, a.response_head).Run();
    db_.Prepare(
           "UPDATE deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
           "lease_until = NULL, updated_at = ?5 WHERE id = ?1")
        .Bind(1, u.delivery_id).Bind(2, DeliveryStatusName(u.status))
        .Bind(3, std::int64_t{u.attempts}).Bind(4, u.next_attempt_at).Bind(5, u.now).Run();
  }

  std::optional<Millis> NextDueAt() override {
    auto& s = db_.Prepare(
        "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'");
    if (!s.Step()) return std::nullopt;
    return s.OptInt(0);
  }

  void ReleaseAllLeases() override {
    db_.Prepare("UPDATE deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL").Run();
  }

  void DisableEndpoint(std::string_view endpoint_id, std::string_view reason, Millis now) override {
    db_.Prepare(
           "UPDATE endpoints SET disabled = 1, disabled_reason = ?2, updated_at = ?3 WHERE id = ?1")
        .Bind(1, endpoint_id).Bind(2, reason).Bind(3, now).Run();
  }

  // ---- receiver ----

  void InsertSource(const SourceRecord& src) override {
    auto& s = db_.Prepare(
        "INSERT INTO sources (id, name, auth, secret_sealed, token_hash, dedupe_fields, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    s.Bind(1, src.id).Bind(2, src.name).Bind(3, src.auth == SourceAuth::kSignature ? "signature" : "token");
    if (src.secret_sealed) s.BindBlob(4, *src.secret_sealed); else s.BindNull(4);
    if (src.token_hash) s.BindBlob(5, *src.token_hash); else s.BindNull(5);
    s.Bind(6, EncodeStrings(src.dedupe_fields)).Bind(7, src.created_at).Run();
  }

  static SourceRecord ReadSource(const Statement& s) {
    SourceRecord src;
    src.id = s.Text(0);
    src.name = s.Text(1);
    src.auth = s.Text(2) == "signature" ? SourceAuth::kSignature : SourceAuth::kToken;
    if (!s.IsNull(3)) src.secret_sealed = s.Blob(3);
    if (!s.IsNull(4)) src.token_hash = s.Blob(4);
    src.dedupe_fields = DecodeStrings(s.Text(5));
    src.created_at = s.Int(6);
    return src;
  }

  std::optional<SourceRecord> GetSource(std::string_view id) override {
    auto& s = db_.Prepare(
        "SELECT id, name, auth, secret_sealed, token_hash, dedupe_fields, created_at FROM sources WHERE id = ?1");
    s.Bind(1, id);
    if (!s.Step()) return std::nullopt;
    return ReadSource(s);
  }

  std::vector<SourceRecord> ListSources() override {
    auto& s = db_.Prepare(
        "SELECT id, name, auth, secret_sealed, token_hash, dedupe_fields, created_at FROM sources ORDER BY id");
    std::vector<SourceRecord> out;
    while (s.Step()) out.push_back(ReadSource(s));
    return out;
  }

  std::optional<std::string> InsertReceived(ReceivedRecord& r) override {
    if (r.status == "accepted") {
      auto& seen = db_.Prepare(
          "SELECT id FROM received WHERE source_id = ?1 AND dedupe_key = ?2 AND status = 'accepted'");
      seen.Bind(1, r.source_id).Bind(2, r.dedupe_key);
      if (seen.Step()) return seen.Text(0);
    }
    db_.Prepare(
           "INSERT INTO received (id, source_id, dedupe_key, status, reason, event, received_at, "
           "headers, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        .Bind(1, r.id).Bind(2, r.source_id).Bind(3, r.dedupe_key).Bind(4, r.status).Bind(5, r.reason)
        .Bind(6, r.event).Bind(7, r.received_at).Bind(8, EncodeHeaders(r.headers)).BindBlob(9, r.body).Run();
    r.seq = db_.LastInsertRowId();
    return std::nullopt;
  }

  static constexpr std::string_view kReceivedColumns =
      "seq, id, source_id, dedupe_key, status, reason, event, received_at, headers, body";

  static ReceivedRecord ReadReceived(const Statement& s) {
    ReceivedRecord r;
    r.seq = s.Int(0);
    r.id = s.Text(1);
    r.source_id = s.Text(2);
    r.dedupe_key = s.Text(3);
    r.status = s.Text(4);
    r.reason = s.OptText(5);
    r.event = s.OptText(6);
    r.received_at = s.Int(7);
    r.headers = DecodeHeaders(s.Text(8));
    r.body = s.Blob(9);
    return r;
  }

  std::optional<ReceivedRecord> GetReceived(std::string_view id) override {
    auto& s = db_.Prepare(fmt::format("SELECT {} FROM received WHERE id = ?1", kReceivedColumns));
    s.Bind(1, id);
    if (!s.Step()) return std::nullopt;
    return ReadReceived(s);
  }

  std::vector<ReceivedRecord> ListReceived(const ReceivedFilter& f) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM received WHERE (?1 IS NULL OR source_id = ?1) AND (?2 IS NULL OR event = ?2) "
        "AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR received_at >= ?4) "
        "AND (?5 IS NULL OR received_at < ?5) AND (?6 IS NULL OR seq > ?6) ORDER BY seq LIMIT ?7",
        kReceivedColumns));
    s.Bind(1, f.source_id).Bind(2, f.event).Bind(3, f.status).Bind(4, f.since).Bind(5, f.until)
        .Bind(6, f.after_seq).Bind(7, std::int64_t{f.limit});
    std::vector<ReceivedRecord> out;
    while (s.Step()) out.push_back(ReadReceived(s));
    return out;
  }

  std::vector<ReceivedRecord> AcceptedAfter(std::int64_t after_seq, int limit) override {
    auto& s = db_.Prepare(fmt::format(
        "SELECT {} FROM received WHERE seq > ?1 AND status = 'accepted' ORDER BY seq LIMIT ?2",
        kReceivedColumns));
    s.Bind(1, after_seq).Bind(2, std::int64_t{limit});
    std::vector<ReceivedRecord> out;
    while (s.Step()) out.push_back(ReadReceived(s));
    return out;
  }

  std::int64_t ProjectionCheckpoint() override {
    auto& s = db_.Prepare("SELECT last_seq FROM projection_state WHERE name = 'receiver'");
    return s.Step() ? s.Int(0) : 0;
  }

  std::int64_t CountAcceptedAfter(std::int64_t seq) override {
    auto& s = db_.Prepare("SELECT COUNT(*) FROM received WHERE seq > ?1 AND status = 'accepted'");
    s.Bind(1, seq);
    return s.Step() ? s.Int(0) : 0;
  }

  void SetProjectionCheckpoint(std::int64_t seq) override {
    db_.Prepare(
           "INSERT INTO projection_state (name, last_seq) VALUES ('receiver', ?1) "
           "ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq")
        .Bind(1, seq).Run();
  }

  void ClearProjections() override {
    for (const char* table : {"rx_leads", "rx_lead_campaigns", "rx_activity", "rx_campaigns",
                              "rx_senders", "rx_replies"}) {
      db_.Prepare(std::string("DELETE FROM ") + table).Run();
    }
    SetProjectionCheckpoint(0);
  }

  void PutProjectedLead(const model::Lead& l, std::string_view version) override {
    db_.Prepare(
           "INSERT INTO rx_leads (id, name, profile_url, email, company_name, location, job_title, "
           "profile_image, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
           "ON CONFLICT (id) DO UPDATE SET name = excluded.name, profile_url = excluded.profile_url, "
           "email = excluded.email, company_name = excluded.company_name, location = excluded.location, "
           "job_title = excluded.job_title, profile_image = excluded.profile_image, "
           "version = excluded.version WHERE excluded.version > rx_leads.version")
        .Bind(1, l.id).Bind(2, l.name).Bind(3, l.profile_url).Bind(4, l.email).Bind(5, l.company_name)
        .Bind(6, l.location).Bind(7, l.job_title).Bind(8, l.profile_image).Bind(9, version).Run();
  }

  void PutLeadCampaignStatus(std::string_view lead_id, std::string_view campaign_id,
                             const std::optional<std::string>& status, std::string_view version) override {
    db_.Prepare(
           "INSERT INTO rx_lead_campaigns (lead_id, campaign_id, latest_status, version) "
           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (lead_id, campaign_id) DO UPDATE SET "
           "latest_status = excluded.latest_status, version = excluded.version "
           "WHERE excluded.version > rx_lead_campaigns.version")
        .Bind(1, lead_id).Bind(2, campaign_id).Bind(3, status).Bind(4, version).Run();
  }

  void AddProjectedActivity(std::string_view lead_id, std::string_view campaign_id,
                            const model::Activity& a) override {
    db_.Prepare(
           "INSERT INTO rx_activity (lead_id, campaign_id, action, action_time) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT DO NOTHING")
        .Bind(1, lead_id).Bind(2, campaign_id).Bind(3, a.action).Bind(4, a.action_time).Run();
  }

  void PutProjectedCampaign(const model::Campaign& c, bool type_known, std::string_view version) override {
    auto& s = db_.Prepare(
        "INSERT INTO rx_campaigns (id, name, campaign_type, total_leads, complete_end_of_sequence, version) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
        "campaign_type = COALESCE(excluded.campaign_type, rx_campaigns.campaign_type), "
        "total_leads = excluded.total_leads, complete_end_of_sequence = excluded.complete_end_of_sequence, "
        "version = excluded.version WHERE excluded.version > rx_campaigns.version");
    s.Bind(1, c.id).Bind(2, c.name).Bind(4, c.total_leads).Bind(5, c.complete_end_of_sequence).Bind(6, version);
    if (type_known) s.Bind(3, model::ChannelName(c.campaign_type)); else s.BindNull(3);
    s.Run();
  }

  void PutProjectedSender(const model::Sender& sn, std::string_view version) override {
    db_.Prepare(
           "INSERT INTO rx_senders (id, name, email, version) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, "
           "version = excluded.version WHERE excluded.version > rx_senders.version")
        .Bind(1, sn.id).Bind(2, sn.name).Bind(3, sn.email).Bind(4, version).Run();
  }

  void AddReply(const ReplyRecord& r) override {
    db_.Prepare(
           "INSERT INTO rx_replies (lead_id, campaign_id, replied_at, channel, event, text, received_id) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING")
        .Bind(1, r.lead_id).Bind(2, r.campaign_id).Bind(3, r.replied_at).Bind(4, r.channel)
        .Bind(5, r.event).Bind(6, r.text).Bind(7, r.received_id).Run();
  }

  std::optional<model::Lead> GetProjectedLead(std::string_view id) override {
    auto& s = db_.Prepare(
        "SELECT id, COALESCE(name, ''), profile_url, email, company_name, location, job_title, "
        "profile_image FROM rx_leads WHERE id = ?1");
    s.Bind(1, id);
    if (!s.Step()) return std::nullopt;
    return ReadLead(s);
  }

  std::vector<model::Lead> ListProjectedLeads(const std::optional<std::string>& campaign_id,
                                              const std::optional<std::string>& status,
                                              const PageRequest& page) override {
    auto& s = db_.Prepare(
        "SELECT id, COALESCE(name, ''), profile_url, email, company_name, location, job_title, "
        "profile_image FROM rx_leads l WHERE id > ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 FROM "
        "rx_lead_campaigns c WHERE c.lead_id = l.id AND c.campaign_id = ?2 AND (?3 IS NULL OR "
        "c.latest_status = ?3))) AND (?3 IS NULL OR ?2 IS NOT NULL OR EXISTS (SELECT 1 FROM "
        "rx_lead_campaigns c WHERE c.lead_id = l.id AND c.latest_status = ?3)) ORDER BY id LIMIT ?4");
    s.Bind(1, page.after.value_or("")).Bind(2, campaign_id).Bind(3, status).Bind(4, std::int64_t{page.limit});
    std::vector<model::Lead> out;
    while (s.Step()) out.push_back(ReadLead(s));
    return out;
  }

  std::vector<model::Enrollment> ProjectedEnrollments(std::string_view lead_id) override {
    // Every campaign the lead appears in: by status or by timeline alone.
    auto& s = db_.Prepare(
        "SELECT campaign_id, MAX(latest_status) FROM (SELECT campaign_id, latest_status FROM "
        "rx_lead_campaigns WHERE lead_id = ?1 UNION ALL SELECT DISTINCT campaign_id, NULL FROM "
        "rx_activity WHERE lead_id = ?1) GROUP BY campaign_id ORDER BY campaign_id");
    s.Bind(1, lead_id);
    std::vector<model::Enrollment> out;
    while (s.Step()) {
      model::Enrollment e;
      e.campaign_id = s.Text(0);
      e.lead_id = std::string(lead_id);
      e.latest_status = s.OptText(1);
      out.push_back(std::move(e));
    }
    auto& a = db_.Prepare(
        "SELECT action, action_time FROM rx_activity WHERE lead_id = ?1 AND campaign_id = ?2 "
        "ORDER BY action_time, action");
    for (auto& e : out) {
      a.Reset().Bind(1, lead_id).Bind(2, e.campaign_id);
      while (a.Step()) e.activity.push_back({a.Text(0), a.Int(1)});
    }
    return out;
  }

  std::optional<model::Campaign> GetProjectedCampaign(std::string_view id) override {
    auto& s = db_.Prepare(
        "SELECT id, COALESCE(name, ''), COALESCE(campaign_type, ''), COALESCE(total_leads, 0), "
        "COALESCE(complete_end_of_sequence, 0) FROM rx_campaigns WHERE id = ?1");
    s.Bind(1, id);
    if (!s.Step()) return std::nullopt;
    return ReadCampaign(s);
  }

  std::vector<model::Campaign> ListProjectedCampaigns(const PageRequest& page) override {
    auto& s = db_.Prepare(
        "SELECT id, COALESCE(name, ''), COALESCE(campaign_type, ''), COALESCE(total_leads, 0), "
        "COALESCE(complete_end_of_sequence, 0) FROM rx_campaigns WHERE id > ?1 ORDER BY id LIMIT ?2");
    s.Bind(1, page.after.value_or("")).Bind(2, std::int64_t{page.limit});
    std::vector<model::Campaign> out;
    while (s.Step()) out.push_back(ReadCampaign(s));
    return out;
  }

  std::int64_t CountProjectedLeadsWithAction(std::string_view campaign_id,
                                             const std::vector<std::string>& actions) override {
    auto& s = db_.Prepare(
        "SELECT COUNT(DISTINCT lead_id) FROM rx_activity WHERE campaign_id = ?1 "
        "AND action IN (SELECT value FROM json_each(?2))");
    s.Bind(1, campaign_id).Bind(2, EncodeStrings(actions));
    return s.Step() ? s.Int(0) : 0;
  }

  std::int64_t CountReceived(std::optional<Millis> since) override {
    auto& s = db_.Prepare("SELECT COUNT(*) FROM received WHERE ?1 IS NULL OR received_at >= ?1");
    s.Bind(1, since);
    return s.Step() ? s.Int(0) : 0;
  }

  std::int64_t CountProjectedLeads() override {
    auto& s = db_.Prepare("SELECT COUNT(*) FROM rx_leads");
    return s.Step() ? s.Int(0) : 0;
  }

  std::int64_t CountReplies(std::optional<Millis> since) override {
    auto& s = db_.Prepare("SELECT COUNT(*) FROM rx_replies WHERE ?1 IS NULL OR replied_at >= ?1");
    s.Bind(1, since);
    return s.Step() ? s.Int(0) : 0;
  }

  std::vector<ReplyRecord> ListReplies(std::optional<Millis> since, int limit,
                                       const std::optional<ReplyRecord>& after) override {
    auto& s = db_.Prepare(
        "SELECT lead_id, campaign_id, replied_at, channel, event, text, received_id FROM rx_replies "
        "WHERE (?1 IS NULL OR replied_at >= ?1) AND (?3 IS NULL OR "
        "(replied_at, lead_id, campaign_id, event) > (?3, ?4, ?5, ?6)) "
        "ORDER BY replied_at, lead_id, campaign_id, event LIMIT ?2");
    s.Bind(1, since).Bind(2, std::int64_t{limit});
    if (after) s.Bind(3, after->replied_at).Bind(4, after->lead_id).Bind(5, after->campaign_id).Bind(6, after->event);
    std::vector<ReplyRecord> out;
    while (s.Step()) {
      out.push_back({s.Text(0), s.Text(1), s.Int(2), s.OptText(3), s.Text(4), s.OptText(5), s.Text(6)});
    }
    return out;
  }

  std::optional<IdempotencyRecord> GetIdempotency(std::string_view company,
                                                  std::string_view key) override {
    auto& s = db_.Prepare(
        "SELECT request_hash, status, body, created_at FROM idempotency_keys "
        "WHERE company_id = ?1 AND key = ?2");
    s.Bind(1, company).Bind(2, key);
    if (!s.Step()) return std::nullopt;
    return IdempotencyRecord{s.Text(0), static_cast<int>(s.Int(1)), s.Blob(2), s.Int(3)};
  }

  void PutIdempotency(std::string_view company, std::string_view key,
                      const IdempotencyRecord& r) override {
    db_.Prepare(
           "INSERT INTO idempotency_keys (company_id, key, request_hash, status, body, created_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (company_id, key) DO UPDATE SET "
           "request_hash = excluded.request_hash, status = excluded.status, body = excluded.body, "
           "created_at = excluded.created_at")
        .Bind(1, company).Bind(2, key).Bind(3, r.request_hash).Bind(4, std::int64_t{r.status})
        .BindBlob(5, r.body).Bind(6, r.created_at).Run();
  }

 private:
  std::vector<model::Activity> History(std::string_view company, std::string_view campaign_id,
                                       std::string_view lead_id) {
    auto& s = db_.Prepare(
        "SELECT action, action_time FROM activities WHERE company_id = ?1 AND campaign_id = ?2 "
        "AND lead_id = ?3 ORDER BY action_time, seq");
    s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id);
    std::vector<model::Activity> out;
    while (s.Step()) out.push_back({s.Text(0), s.Int(1)});
    return out;
  }

  Connection& db_;
};

// `cache_kib`: the page cache of this connection; readers keep a small one (the OS page
// cache is shared), the writer a larger one (it walks the indexes of every insert).
void ConfigureConnection(Connection& db, int cache_kib) {
  db.Exec("PRAGMA foreign_keys = OFF");
  db.Exec("PRAGMA synchronous = FULL");
  db.Exec("PRAGMA temp_store = MEMORY");
  db.Exec("PRAGMA cache_size = -" + std::to_string(cache_kib));
}

void ApplyMigrations(Connection& db) {
  db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  int current = 0;
  {
    auto& s = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (s.Step()) current = static_cast<int>(s.Int(0));
    db.ResetStatements();
  }
  const auto& all = Migrations();
  if (!all.empty() && current > all.back().version) {
    throw StoreError(fmt::format(
        "database schema version {} is newer than this hookline knows ({}): upgrade hookline",
        current, all.back().version));
  }
  for (const auto& m : all) {
    if (m.version <= current) continue;
    db.Exec("BEGIN IMMEDIATE");
    try {
      db.Exec(m.sql);
      db.Prepare("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)")
          .Bind(1, std::int64_t{m.version}).Bind(2, m.description)
          .Bind(3, SystemClock::Instance().Now()).Run();
      db.ResetStatements();
      db.Exec("COMMIT");
    } catch (...) {
      db.Exec("ROLLBACK");
      throw;
    }
    spdlog::info("applied schema migration {}: {}", m.version, m.description);
  }
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteOptions& options) : options_(options) {
    writer_db_ = std::make_unique<Connection>(options.path, false);
    writer_db_->Exec("PRAGMA journal_mode = WAL");
    ConfigureConnection(*writer_db_, kWriterCacheKib);
    ApplyMigrations(*writer_db_);
    // Checkpoints copy the WAL into the database and fsync it: done on their own thread and
    // connection, so commits (and the callers waiting on them) never wait for one.
    writer_db_->Exec("PRAGMA wal_autocheckpoint = 0");
    sqlite3_wal_hook(writer_db_->handle(), &SqliteStore::OnWalCommit, this);
    checkpoint_db_ = std::make_unique<Connection>(options.path, false);
    ConfigureConnection(*checkpoint_db_, kReaderCacheKib);
    writer_ = std::thread([this] {
      NameThisThread("hl-sql-writer");
      WriterLoop();
    });
    checkpointer_ = std::thread([this] {
      NameThisThread("hl-sql-ckpt");
      CheckpointLoop();
    });
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpointer_.join();
  }

  void Read(const std::function<void(StoreTx&)>& fn) override {
    std::unique_ptr<Connection> db = TakeReader();
    struct Return {
      SqliteStore* self;
      std::unique_ptr<Connection>& db;
      ~Return() { self->GiveBackReader(std::move(db)); }
    } give_back{this, db};
    // Prepared once per connection: a read is often a single indexed lookup, and parsing
    // BEGIN and COMMIT each time cost as much.
    db->Prepare("BEGIN").Run();
    try {
      SqliteTx tx(*db);
      fn(tx);
    } catch (...) {
      db->ResetStatements();
      db->Prepare("ROLLBACK").Run();
      db->ResetStatements();
      throw;
    }
    db->ResetStatements();
    db->Prepare("COMMIT").Run();
    db->ResetStatements();
  }

  bool Write(std::function<bool(StoreTx&)> job) override {
    std::promise<bool> promise;
    std::future<bool> result = promise.get_future();
    WriteAsync(std::move(job), [&promise](bool ok, std::exception_ptr error) {
      if (error) {
        promise.set_exception(error);
      } else {
        promise.set_value(ok);
      }
    });
    return result.get();
  }

  void WriteAsync(std::function<bool(StoreTx&)> job, WriteDone done) override {
    auto pending = std::make_unique<PendingJob>();
    pending->fn = std::move(job);
    pending->done = std::move(done);
    {
      std::lock_guard lock(mu_);
      if (stopping_) throw StoreError("the store is shutting down");
      queue_.push_back(std::move(pending));
    }
    cv_.notify_one();
  }

  std::string_view Kind() const override { return "sqlite"; }

 private:
  struct PendingJob {
    std::function<bool(StoreTx&)> fn;
    WriteDone done;
    bool ok = false;
    std::exception_ptr error;
  };

  void WriterLoop() {
    std::vector<std::unique_ptr<PendingJob>> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        while (!queue_.empty() && batch.size() < static_cast<size_t>(options_.max_jobs_per_commit)) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      RunBatch(batch);
      batch.clear();
    }
  }

  // Runs each job under its own savepoint inside one transaction, commits once (one fsync
  // for the whole batch), then answers every caller.
  void RunBatch(std::vector<std::unique_ptr<PendingJob>>& batch) {
    Connection& db = *writer_db_;
    std::exception_ptr commit_error;
    try {
      db.Exec("BEGIN IMMEDIATE");
      SqliteTx tx(db);
      for (auto& job : batch) {
        db.Prepare("SAVEPOINT job").Run();
        try {
          job->ok = job->fn(tx);
        } catch (...) {
          job->error = std::current_exception();
          job->ok = false;
        }
        db.ResetStatements();
        if (!job->ok) db.Prepare("ROLLBACK TO job").Run();
        db.Prepare("RELEASE job").Run();
      }
      db.Exec("COMMIT");
    } catch (...) {
      commit_error = std::current_exception();
      db.ResetStatements();
      try {
        if (!sqlite3_get_autocommit(db.handle())) db.Exec("ROLLBACK");
      } catch (const std::exception& e) {
        spdlog::error("rollback after a failed commit failed: {}", e.what());
      }
    }
    for (auto& job : batch) {
      try {
        if (commit_error) {
          job->done(false, commit_error);
        } else {
          job->done(job->ok, job->error);
        }
      } catch (const std::exception& e) {
        spdlog::error("a write's completion failed: {}", e.what());
      }
    }
  }

  static constexpr int kWriterCacheKib = 8'000;
  static constexpr int kReaderCacheKib = 2'000;
  // WAL frames (pages) after which a checkpoint is started: ~4 MiB, SQLite's default.
  static constexpr int kCheckpointFrames = 1'000;

  // Called by SQLite on the writer thread after each commit with the WAL's size in frames.
  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    if (frames >= kCheckpointFrames) {
      auto* store = static_cast<SqliteStore*>(self);
      {
        std::lock_guard lock(store->checkpoint_mu_);
        store->checkpoint_wanted_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_wanted_; });
        if (checkpoint_stop_) break;
        checkpoint_wanted_ = false;
      }
      // PASSIVE: copies what no reader still needs, never blocks the writer or readers. The
      // writer starts the WAL over once everything in it has been copied.
      int log_frames = 0, copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(checkpoint_db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               &log_frames, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("WAL checkpoint failed: {}", sqlite3_errmsg(checkpoint_db_->handle()));
      }
    }
    // On shutdown, leave a small WAL behind.
    sqlite3_wal_checkpoint_v2(checkpoint_db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  std::unique_ptr<Connection> TakeReader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        auto db = std::move(readers_.back());
        readers_.pop_back();
        return db;
      }
    }
    auto db = std::make_unique<Connection>(options_.path, false);
    ConfigureConnection(*db, kReaderCacheKib);
    db->Exec("PRAGMA query_only = ON");
    return db;
  }

  void GiveBackReader(std::unique_ptr<Connection> db) {
    std::lock_guard lock(readers_mu_);
    if (readers_.size() < static_cast<size_t>(options_.read_connections)) {
      readers_.push_back(std::move(db));
    }
  }

  SqliteOptions options_;
  std::unique_ptr<Connection> writer_db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<PendingJob>> queue_;
  bool stopping_ = false;
  std::thread writer_;
  std::unique_ptr<Connection> checkpoint_db_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

}  // namespace

std::unique_ptr<Store> OpenSqliteStore(const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(options);
}

}  // namespace hookline::store::sqlite
