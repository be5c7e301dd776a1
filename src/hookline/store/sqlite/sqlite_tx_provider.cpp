// SqliteTx, provider side: companies, senders, campaigns, leads, enrollments, activity
// history, the event log and idempotency keys.
#include "hookline/store/sqlite/sqlite_tx.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hookline/model/catalog.hpp"
#include "hookline/store/sqlite/sqlite_rows.hpp"

namespace hookline::store::sqlite {

namespace {

// An enrollment's history is stored in arrival order (appended in place) and read ordered
// by time, ties in arrival order: what a lead's timeline and every payload show.
std::vector<model::Activity> DecodeHistory(std::string_view text) {
  std::vector<model::Activity> out = DecodeActivities(text);
  auto earlier = [](const model::Activity& a, const model::Activity& b) { return a.action_time < b.action_time; };
  if (!std::is_sorted(out.begin(), out.end(), earlier)) std::stable_sort(out.begin(), out.end(), earlier);
  return out;
}

}  // namespace

bool SqliteTx::InsertCompany(const Company& c, std::string_view key_hash) {
  auto& s = db_.Prepare(
      "INSERT INTO companies (id, name, api_key_hash, created_at) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (id) DO NOTHING");
  s.Bind(1, c.id).Bind(2, c.name).BindBlob(3, key_hash).Bind(4, c.created_at).Run();
  return db_.Changes() == 1;
}

std::optional<Company> SqliteTx::FindCompanyByKeyHash(std::string_view key_hash) {
  auto& s = db_.Prepare("SELECT id, name, created_at FROM companies WHERE api_key_hash = ?1");
  s.BindBlob(1, key_hash);
  if (!s.Step()) return std::nullopt;
  return Company{s.Text(0), s.Text(1), s.Int(2)};
}

bool SqliteTx::UpsertSender(std::string_view company, const model::Sender& sender) {
  const bool existed = GetSender(company, sender.id).has_value();
  auto& s = db_.Prepare(
      "INSERT INTO senders (company_id, id, name, email, updated_at) VALUES (?1, ?2, ?3, ?4, 0) "
      "ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name, email = excluded.email");
  s.Bind(1, company).Bind(2, sender.id).Bind(3, sender.name).Bind(4, sender.email).Run();
  if (writer_) writer_->senders().Forget(company, sender.id);
  return !existed;
}

std::optional<model::Sender> SqliteTx::GetSender(std::string_view company, std::string_view id) {
  if (writer_) {
    if (const auto* kept = writer_->senders().Find(company, id)) return *kept;
  }
  auto& s = db_.Prepare("SELECT id, name, email FROM senders WHERE company_id = ?1 AND id = ?2");
  s.Bind(1, company).Bind(2, id);
  if (!s.Step()) return std::nullopt;
  model::Sender sender{s.Text(0), s.Text(1), s.OptText(2)};
  if (writer_) writer_->senders().Keep(company, sender);
  return sender;
}

std::vector<model::Sender> SqliteTx::ListSenders(std::string_view company, const PageRequest& page) {
  auto& s = db_.Prepare(
      "SELECT id, name, email FROM senders WHERE company_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
  s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
  std::vector<model::Sender> out;
  while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.OptText(2)});
  return out;
}

bool SqliteTx::UpsertCampaign(std::string_view company, const model::Campaign& c) {
  const bool existed = GetCampaign(company, c.id).has_value();
  auto& s = db_.Prepare(
      "INSERT INTO campaigns (company_id, id, name, campaign_type, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, 0) ON CONFLICT (company_id, id) DO UPDATE SET "
      "name = excluded.name, campaign_type = excluded.campaign_type");
  s.Bind(1, company).Bind(2, c.id).Bind(3, c.name).Bind(4, model::ChannelName(c.campaign_type)).Run();
  if (writer_) writer_->campaigns().Forget(company, c.id);
  return !existed;
}

std::optional<model::Campaign> SqliteTx::GetCampaign(std::string_view company, std::string_view id) {
  if (writer_) {
    if (const auto* kept = writer_->campaigns().Find(company, id)) return *kept;
  }
  auto& s = db_.Prepare(
      "SELECT id, name, campaign_type, total_leads, completed_leads FROM campaigns "
      "WHERE company_id = ?1 AND id = ?2");
  s.Bind(1, company).Bind(2, id);
  if (!s.Step()) return std::nullopt;
  model::Campaign campaign = ReadCampaign(s);
  if (writer_) writer_->campaigns().Keep(company, campaign);
  return campaign;
}

std::vector<model::Campaign> SqliteTx::ListCampaigns(std::string_view company, const PageRequest& page) {
  auto& s = db_.Prepare(
      "SELECT id, name, campaign_type, total_leads, completed_leads FROM campaigns "
      "WHERE company_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
  s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
  std::vector<model::Campaign> out;
  while (s.Step()) out.push_back(ReadCampaign(s));
  return out;
}

std::int64_t SqliteTx::CountLeadsWithAction(std::string_view company, std::string_view campaign_id,
                                            const std::vector<std::string>& actions) {
  if (actions.empty()) return 0;
  // Catalog actions are bits of `actions`, counted from enrollments_by_campaign alone; any
  // other label is looked for in the histories themselves.
  std::int64_t bits = 0;
  std::vector<std::string> others;
  for (const auto& action : actions) {
    if (auto bit = model::ActionBit(action)) bits |= std::int64_t{1} << *bit; else others.push_back(action);
  }
  if (others.empty()) {  // the funnel's stages: a covering index range
    auto& s = db_.Prepare(
        "SELECT COUNT(*) FROM enrollments WHERE company_id = ?1 AND campaign_id = ?2 AND (actions & ?3) != 0");
    s.Bind(1, company).Bind(2, campaign_id).Bind(3, bits);
    return s.Step() ? s.Int(0) : 0;
  }
  auto& s = db_.Prepare(
      "SELECT COUNT(*) FROM enrollments WHERE company_id = ?1 AND campaign_id = ?2 AND ((actions & ?3) != 0 "
      "OR EXISTS (SELECT 1 FROM json_each(history) h "
      "WHERE json_extract(h.value, '$[0]') IN (SELECT value FROM json_each(?4))))");
  s.Bind(1, company).Bind(2, campaign_id).Bind(3, bits).Bind(4, EncodeStrings(others));
  return s.Step() ? s.Int(0) : 0;
}

bool SqliteTx::CampaignHasActivity(std::string_view company, std::string_view campaign_id) {
  // Catalog actions (every one the provider records) show in the bits, from
  // enrollments_by_campaign; only without any are the histories read.
  auto& by_bits = db_.Prepare(
      "SELECT 1 FROM enrollments WHERE company_id = ?1 AND campaign_id = ?2 AND actions != 0 LIMIT 1");
  by_bits.Bind(1, company).Bind(2, campaign_id);
  if (by_bits.Step()) return true;
  auto& s = db_.Prepare(
      "SELECT 1 FROM enrollments WHERE company_id = ?1 AND campaign_id = ?2 AND history != '[]' LIMIT 1");
  s.Bind(1, company).Bind(2, campaign_id);
  return s.Step();
}

bool SqliteTx::UpsertLead(std::string_view company, const model::Lead& l) {
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

std::optional<model::Lead> SqliteTx::GetLead(std::string_view company, std::string_view id) {
  auto& s = db_.Prepare(
      "SELECT id, name, profile_url, email, company_name, location, job_title, profile_image "
      "FROM leads WHERE company_id = ?1 AND id = ?2");
  s.Bind(1, company).Bind(2, id);
  if (!s.Step()) return std::nullopt;
  return ReadLead(s);
}

std::vector<model::Lead> SqliteTx::ListLeads(std::string_view company, const PageRequest& page) {
  auto& s = db_.Prepare(
      "SELECT id, name, profile_url, email, company_name, location, job_title, profile_image "
      "FROM leads WHERE company_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
  s.Bind(1, company).Bind(2, page.after.value_or("")).Bind(3, std::int64_t{page.limit});
  std::vector<model::Lead> out;
  while (s.Step()) out.push_back(ReadLead(s));
  return out;
}

bool SqliteTx::Enroll(std::string_view company, std::string_view campaign_id, std::string_view lead_id,
                      Millis now) {
  auto& s = db_.Prepare(
      "INSERT INTO enrollments (company_id, campaign_id, lead_id, enrolled_at) "
      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
  s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, now).Run();
  if (db_.Changes() == 0) return false;
  db_.Prepare("UPDATE campaigns SET total_leads = total_leads + 1 WHERE company_id = ?1 AND id = ?2")
      .Bind(1, company).Bind(2, campaign_id).Run();
  if (writer_) writer_->campaigns().Forget(company, campaign_id);
  return true;
}

bool SqliteTx::MarkCompleted(std::string_view company, std::string_view campaign_id,
                             std::string_view lead_id, Millis now) {
  auto& s = db_.Prepare(
      "UPDATE enrollments SET completed_at = ?4 WHERE company_id = ?1 AND campaign_id = ?2 "
      "AND lead_id = ?3 AND completed_at IS NULL");
  s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, now).Run();
  if (db_.Changes() == 0) return false;
  db_.Prepare(
         "UPDATE campaigns SET completed_leads = completed_leads + 1 "
         "WHERE company_id = ?1 AND id = ?2")
      .Bind(1, company).Bind(2, campaign_id).Run();
  if (writer_) writer_->campaigns().Forget(company, campaign_id);
  return true;
}

std::optional<model::Enrollment> SqliteTx::GetEnrollment(std::string_view company,
                                                         std::string_view campaign_id,
                                                         std::string_view lead_id) {
  auto& s = db_.Prepare(
      "SELECT latest_status, completed_at, history FROM enrollments "
      "WHERE company_id = ?1 AND campaign_id = ?2 AND lead_id = ?3");
  s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id);
  if (!s.Step()) return std::nullopt;
  model::Enrollment e;
  e.campaign_id = std::string(campaign_id);
  e.lead_id = std::string(lead_id);
  e.latest_status = s.OptText(0);
  e.completed = !s.IsNull(1);
  e.activity = DecodeHistory(s.Text(2));
  return e;
}

std::vector<model::Enrollment> SqliteTx::ListEnrollmentsOfLead(std::string_view company,
                                                               std::string_view lead_id) {
  auto& s = db_.Prepare(
      "SELECT campaign_id, latest_status, completed_at, history FROM enrollments "
      "WHERE company_id = ?1 AND lead_id = ?2 ORDER BY enrolled_at, campaign_id");
  s.Bind(1, company).Bind(2, lead_id);
  std::vector<model::Enrollment> out;
  while (s.Step()) {
    model::Enrollment e;
    e.campaign_id = s.Text(0);
    e.lead_id = std::string(lead_id);
    e.latest_status = s.OptText(1);
    e.completed = !s.IsNull(2);
    e.activity = DecodeHistory(s.Text(3));
    out.push_back(std::move(e));
  }
  return out;
}

void SqliteTx::AppendActivity(std::string_view company, std::string_view campaign_id,
                              std::string_view lead_id, const model::Activity& activity,
                              std::string_view /*event_id: the event row names the activity*/,
                              const std::optional<std::string>& latest_status) {
  const auto bit = model::ActionBit(activity.action);
  // Appended in arrival order, in place; DecodeHistory orders by time on the way out.
  db_.Prepare(
         "UPDATE enrollments SET latest_status = ?4, history = json_insert(history, '$[#]', "
         "json_array(?5, ?6)), actions = actions | ?7 WHERE company_id = ?1 AND campaign_id = ?2 "
         "AND lead_id = ?3")
      .Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, latest_status)
      .Bind(5, activity.action).Bind(6, activity.action_time).Bind(7, bit ? std::int64_t{1} << *bit : 0).Run();
}

void SqliteTx::InsertEvent(EventRecord& e) {
  db_.Prepare(
         "INSERT INTO events (id, company_id, event, campaign_id, lead_id, sender_id, "
         "occurred_at, created_at, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
      .Bind(1, e.id).Bind(2, e.company_id).Bind(3, e.event).Bind(4, e.campaign_id)
      .Bind(5, e.lead_id).Bind(6, e.sender_id).Bind(7, e.occurred_at).Bind(8, e.created_at)
      .BindBlob(9, e.payload).Run();
  e.seq = db_.LastInsertRowId();
}

std::optional<EventRecord> SqliteTx::GetEvent(std::string_view company, std::string_view id) {
  auto& s = db_.Prepare(fmt::format("SELECT {} FROM events WHERE company_id = ?1 AND id = ?2",
                                    kEventColumns));
  s.Bind(1, company).Bind(2, id);
  if (!s.Step()) return std::nullopt;
  return ReadEvent(s);
}

std::vector<EventRecord> SqliteTx::ListEvents(const EventFilter& f) {
  // The lead, campaign and cursor conditions are written only when given: written as
  // "(?3 IS NULL OR lead_id = ?3)" they kept SQLite from using events_by_lead or
  // events_by_campaign, or the cursor's range, and every filtered page scanned the
  // company's events from the newest. (One cached statement per combination.)
  auto& s = db_.Prepare(fmt::format(
      "SELECT {} FROM events WHERE company_id = ?1 AND (?2 IS NULL OR event = ?2){}{} "
      "AND (?5 IS NULL OR occurred_at >= ?5) AND (?6 IS NULL OR occurred_at < ?6){} "
      "ORDER BY seq DESC LIMIT ?8",
      kEventColumns, f.lead_id ? " AND lead_id = ?3" : "", f.campaign_id ? " AND campaign_id = ?4" : "",
      f.before_seq ? " AND seq < ?7" : ""));
  s.Bind(1, f.company_id).Bind(2, f.event).Bind(3, f.lead_id).Bind(4, f.campaign_id)
      .Bind(5, f.since).Bind(6, f.until).Bind(7, f.before_seq).Bind(8, std::int64_t{f.limit});
  std::vector<EventRecord> out;
  while (s.Step()) out.push_back(ReadEvent(s));
  return out;
}

std::optional<EventRecord> SqliteTx::LastEventOf(std::string_view company, std::string_view campaign_id,
                                                 std::string_view lead_id, std::string_view event) {
  // A lead's events are few; a campaign's are many (left alone, SQLite picked
  // events_by_campaign and read every event of the campaign).
  static const std::string sql = fmt::format(
      "SELECT {} FROM events INDEXED BY events_by_lead WHERE company_id = ?1 AND lead_id = ?3 "
      "AND campaign_id = ?2 AND event = ?4 ORDER BY occurred_at DESC, seq DESC LIMIT 1",
      kEventColumns);
  auto& s = db_.Prepare(sql);
  s.Bind(1, company).Bind(2, campaign_id).Bind(3, lead_id).Bind(4, event);
  if (!s.Step()) return std::nullopt;
  return ReadEvent(s);
}

std::optional<IdempotencyRecord> SqliteTx::GetIdempotency(std::string_view company,
                                                          std::string_view key) {
  auto& s = db_.Prepare(
      "SELECT request_hash, status, body, created_at FROM idempotency_keys "
      "WHERE company_id = ?1 AND key = ?2");
  s.Bind(1, company).Bind(2, key);
  if (!s.Step()) return std::nullopt;
  return IdempotencyRecord{s.Text(0), static_cast<int>(s.Int(1)), s.Blob(2), s.Int(3)};
}

void SqliteTx::PutIdempotency(std::string_view company, std::string_view key,
                              const IdempotencyRecord& r) {
  db_.Prepare(
         "INSERT INTO idempotency_keys (company_id, key, request_hash, status, body, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (company_id, key) DO UPDATE SET "
         "request_hash = excluded.request_hash, status = excluded.status, body = excluded.body, "
         "created_at = excluded.created_at")
      .Bind(1, company).Bind(2, key).Bind(3, r.request_hash).Bind(4, std::int64_t{r.status})
      .BindBlob(5, r.body).Bind(6, r.created_at).Run();
}


}  // namespace hookline::store::sqlite
