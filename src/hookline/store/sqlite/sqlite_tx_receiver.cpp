// SqliteTx, receiver side: sources, the raw log of received webhooks, and the projections
// (leads, campaigns, senders, timelines, replies) built from it.
#include "hookline/store/sqlite/sqlite_tx.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hookline/model/catalog.hpp"
#include "hookline/store/sqlite/sqlite_rows.hpp"

namespace hookline::store::sqlite {

namespace {

// Written oldest first; migration 7's backfill may not have been (aggregate input order).
std::vector<model::Activity> DecodeTimeline(std::string_view text) {
  std::vector<model::Activity> out = DecodeActivities(text);
  if (!std::is_sorted(out.begin(), out.end(), EarlierInTimeline)) {
    std::sort(out.begin(), out.end(), EarlierInTimeline);
  }
  return out;
}

}  // namespace

void SqliteTx::InsertSource(const SourceRecord& src) {
  auto& s = db_.Prepare(
      "INSERT INTO sources (id, name, auth, secret_sealed, token_hash, dedupe_fields, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.Bind(1, src.id).Bind(2, src.name).Bind(3, src.auth == SourceAuth::kSignature ? "signature" : "token");
  if (src.secret_sealed) s.BindBlob(4, *src.secret_sealed); else s.BindNull(4);
  if (src.token_hash) s.BindBlob(5, *src.token_hash); else s.BindNull(5);
  s.Bind(6, EncodeStrings(src.dedupe_fields)).Bind(7, src.created_at).Run();
}

SourceRecord SqliteTx::ReadSource(const Statement& s) {
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

std::optional<SourceRecord> SqliteTx::GetSource(std::string_view id) {
  auto& s = db_.Prepare(
      "SELECT id, name, auth, secret_sealed, token_hash, dedupe_fields, created_at FROM sources WHERE id = ?1");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadSource(s);
}

std::vector<SourceRecord> SqliteTx::ListSources() {
  auto& s = db_.Prepare(
      "SELECT id, name, auth, secret_sealed, token_hash, dedupe_fields, created_at FROM sources ORDER BY id");
  std::vector<SourceRecord> out;
  while (s.Step()) out.push_back(ReadSource(s));
  return out;
}

std::optional<std::string> SqliteTx::InsertReceived(ReceivedRecord& r) {
  // One statement for the usual case, a new webhook: the dedupe index is searched once, by
  // the insert itself. Only a duplicate (nothing inserted) looks up the first one's id.
  db_.Prepare(
         "INSERT INTO received (id, source_id, dedupe_key, status, reason, event, received_at, "
         "headers, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
         "ON CONFLICT (source_id, dedupe_key) WHERE status = 'accepted' DO NOTHING")
      .Bind(1, r.id).Bind(2, r.source_id).Bind(3, r.dedupe_key).Bind(4, r.status).Bind(5, r.reason)
      .Bind(6, r.event).Bind(7, r.received_at).Bind(8, EncodeHeaders(r.headers)).BindBlob(9, r.body).Run();
  if (db_.Changes() == 1) {
    r.seq = db_.LastInsertRowId();
    return std::nullopt;
  }
  auto& first = db_.Prepare(
      "SELECT id FROM received WHERE source_id = ?1 AND dedupe_key = ?2 AND status = 'accepted'");
  first.Bind(1, r.source_id).Bind(2, r.dedupe_key);
  if (!first.Step()) throw StoreError("a webhook was neither stored nor a duplicate");
  return first.Text(0);
}

ReceivedRecord SqliteTx::ReadReceived(const Statement& s) {
  ReceivedRecord r;
  r.seq = s.Int(0);
  r.id = s.Text(1);
  r.source_id = s.Text(2);
  r.dedupe_key = s.Text(3);
  r.status = s.Text(4);
  r.reason = s.OptText(5);
  r.event = s.OptText(6);
  r.received_at = s.Int(7);
  // Left out of a list without bodies (kReceivedSummaryColumns), which reads their size.
  if (!s.IsNull(8)) r.headers = DecodeHeaders(s.Text(8));
  if (s.IsNull(9)) {
    r.body_bytes = s.Int(10);
  } else {
    r.body = s.Blob(9);
    r.body_bytes = static_cast<std::int64_t>(r.body.size());
  }
  return r;
}

std::optional<ReceivedRecord> SqliteTx::GetReceived(std::string_view id) {
  auto& s = db_.Prepare(fmt::format("SELECT {} FROM received WHERE id = ?1", kReceivedColumns));
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadReceived(s);
}

std::vector<ReceivedRecord> SqliteTx::ListReceived(const ReceivedFilter& f) {
  // The cursor as a plain range on seq (seqs start at 1): written "(?6 IS NULL OR seq > ?6)"
  // it made every page scan the table from the start, so an export or replay paging through
  // N webhooks read on the order of N^2 rows.
  auto& s = db_.Prepare(fmt::format(
      "SELECT {} FROM received WHERE (?1 IS NULL OR source_id = ?1) AND (?2 IS NULL OR event = ?2) "
      "AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR received_at >= ?4) "
      "AND (?5 IS NULL OR received_at < ?5) AND seq > coalesce(?6, 0) ORDER BY seq LIMIT ?7",
      f.bodies ? kReceivedColumns : kReceivedSummaryColumns));
  s.Bind(1, f.source_id).Bind(2, f.event).Bind(3, f.status).Bind(4, f.since).Bind(5, f.until)
      .Bind(6, f.after_seq).Bind(7, std::int64_t{f.limit});
  std::vector<ReceivedRecord> out;
  while (s.Step()) out.push_back(ReadReceived(s));
  return out;
}

std::vector<ReceivedRecord> SqliteTx::AcceptedAfter(std::int64_t after_seq, int limit,
                                                    std::size_t max_bytes) {
  auto& s = db_.Prepare(fmt::format(
      "SELECT {} FROM received WHERE seq > ?1 AND status = 'accepted' ORDER BY seq LIMIT ?2",
      kReceivedColumns));
  s.Bind(1, after_seq).Bind(2, std::int64_t{limit});
  std::vector<ReceivedRecord> out;
  std::size_t bytes = 0;
  while (bytes < max_bytes && s.Step()) {
    out.push_back(ReadReceived(s));
    bytes += out.back().body.size();
  }
  return out;
}

std::int64_t SqliteTx::ProjectionCheckpoint() {
  auto& s = db_.Prepare("SELECT last_seq FROM projection_state WHERE name = 'receiver'");
  return s.Step() ? s.Int(0) : 0;
}

std::int64_t SqliteTx::CountAcceptedAfter(std::int64_t seq) {
  auto& s = db_.Prepare("SELECT COUNT(*) FROM received WHERE seq > ?1 AND status = 'accepted'");
  s.Bind(1, seq);
  return s.Step() ? s.Int(0) : 0;
}

void SqliteTx::SetProjectionCheckpoint(std::int64_t seq) {
  db_.Prepare(
         "INSERT INTO projection_state (name, last_seq) VALUES ('receiver', ?1) "
         "ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq")
      .Bind(1, seq).Run();
}

void SqliteTx::ClearProjections() {
  for (const char* table : {"rx_leads", "rx_lead_campaigns", "rx_campaigns",
                            "rx_senders", "rx_replies"}) {
    db_.Prepare(std::string("DELETE FROM ") + table).Run();
  }
  SetProjectionCheckpoint(0);
}

void SqliteTx::PutProjectedLead(std::string_view company_id, const model::Lead& l, std::string_view version) {
  db_.Prepare(
         "INSERT INTO rx_leads (company_id, id, name, profile_url, email, company_name, location, job_title, "
         "profile_image, version) VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
         "ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name, profile_url = excluded.profile_url, "
         "email = excluded.email, company_name = excluded.company_name, location = excluded.location, "
         "job_title = excluded.job_title, profile_image = excluded.profile_image, "
         "version = excluded.version WHERE excluded.version > rx_leads.version")
      .Bind(1, l.id).Bind(2, l.name).Bind(3, l.profile_url).Bind(4, l.email).Bind(5, l.company_name)
      .Bind(6, l.location).Bind(7, l.job_title).Bind(8, l.profile_image).Bind(9, version).Bind(10, company_id).Run();
}

std::optional<ProjectedEnrollment> SqliteTx::GetProjectedEnrollment(std::string_view company_id,
                                                                    std::string_view lead_id,
                                                                    std::string_view campaign_id) {
  auto& s = db_.Prepare(
      "SELECT latest_status, version, timeline FROM rx_lead_campaigns "
      "WHERE company_id = ?3 AND lead_id = ?1 AND campaign_id = ?2");
  s.Bind(1, lead_id).Bind(2, campaign_id).Bind(3, company_id);
  if (!s.Step()) return std::nullopt;
  ProjectedEnrollment e;
  e.latest_status = s.OptText(0);
  e.version = s.Text(1);
  e.timeline = DecodeTimeline(s.Text(2));
  return e;
}

void SqliteTx::PutProjectedEnrollment(std::string_view company_id, std::string_view lead_id,
                                      std::string_view campaign_id, const ProjectedEnrollment& e) {
  db_.Prepare(
         "INSERT INTO rx_lead_campaigns (company_id, lead_id, campaign_id, latest_status, version, timeline, actions) "
         "VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (company_id, lead_id, campaign_id) DO UPDATE SET "
         "latest_status = excluded.latest_status, version = excluded.version, "
         "timeline = excluded.timeline, actions = excluded.actions")
      .Bind(1, lead_id).Bind(2, campaign_id).Bind(3, e.latest_status).Bind(4, e.version)
      .Bind(5, EncodeActivities(e.timeline)).Bind(6, ActionBits(e.timeline)).Bind(7, company_id).Run();
}

void SqliteTx::PutProjectedCampaign(std::string_view company_id, const model::Campaign& c, bool type_known,
                                    std::string_view version) {
  auto& s = db_.Prepare(
      "INSERT INTO rx_campaigns (company_id, id, name, campaign_type, total_leads, complete_end_of_sequence, "
      "version) VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name, "
      "campaign_type = COALESCE(excluded.campaign_type, rx_campaigns.campaign_type), "
      "total_leads = excluded.total_leads, complete_end_of_sequence = excluded.complete_end_of_sequence, "
      "version = excluded.version WHERE excluded.version > rx_campaigns.version");
  s.Bind(1, c.id).Bind(2, c.name).Bind(4, c.total_leads).Bind(5, c.complete_end_of_sequence).Bind(6, version)
      .Bind(7, company_id);
  if (type_known) s.Bind(3, model::ChannelName(c.campaign_type)); else s.BindNull(3);
  s.Run();
}

void SqliteTx::PutProjectedSender(std::string_view company_id, const model::Sender& sn, std::string_view version) {
  db_.Prepare(
         "INSERT INTO rx_senders (company_id, id, name, email, version) VALUES (?5, ?1, ?2, ?3, ?4) "
         "ON CONFLICT (company_id, id) DO UPDATE SET name = excluded.name, email = excluded.email, "
         "version = excluded.version WHERE excluded.version > rx_senders.version")
      .Bind(1, sn.id).Bind(2, sn.name).Bind(3, sn.email).Bind(4, version).Bind(5, company_id).Run();
}

void SqliteTx::AddReply(const ReplyRecord& r) {
  db_.Prepare(
         "INSERT INTO rx_replies (company_id, lead_id, campaign_id, replied_at, channel, event, text, received_id) "
         "VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING")
      .Bind(1, r.lead_id).Bind(2, r.campaign_id).Bind(3, r.replied_at).Bind(4, r.channel)
      .Bind(5, r.event).Bind(6, r.text).Bind(7, r.received_id).Bind(8, r.company_id).Run();
}

std::optional<model::Lead> SqliteTx::GetProjectedLead(std::string_view company_id, std::string_view id) {
  auto& s = db_.Prepare(
      "SELECT id, COALESCE(name, ''), profile_url, email, company_name, location, job_title, "
      "profile_image FROM rx_leads WHERE company_id = ?2 AND id = ?1");
  s.Bind(1, id).Bind(2, company_id);
  if (!s.Step()) return std::nullopt;
  return ReadLead(s);
}

namespace {

// The companies of `table` (keyed by company_id, id) that hold the row `id`, without an index
// on id alone: the recursive part steps from each company to the next through the key (a
// receiver holds few companies), and each company is probed for `id`. An index on id would
// cost every new lead a write for the sake of this one lookup.
std::string CompaniesHoldingSql(std::string_view table) {
  return fmt::format(
      "WITH RECURSIVE companies(id) AS (SELECT min(company_id) FROM {0} UNION ALL "
      "SELECT (SELECT min(company_id) FROM {0} WHERE company_id > companies.id) FROM companies "
      "WHERE companies.id IS NOT NULL) "
      "SELECT companies.id FROM companies WHERE companies.id IS NOT NULL AND EXISTS "
      "(SELECT 1 FROM {0} t WHERE t.company_id = companies.id AND t.id = ?1) ORDER BY companies.id",
      table);
}

std::vector<std::string> CompaniesHolding(Connection& db, const std::string& sql, std::string_view id) {
  auto& s = db.Prepare(sql);
  s.Bind(1, id);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

}  // namespace

std::vector<std::string> SqliteTx::CompaniesWithProjectedLead(std::string_view id) {
  static const std::string sql = CompaniesHoldingSql("rx_leads");
  return CompaniesHolding(db_, sql, id);
}

std::vector<CompanyLead> SqliteTx::ListProjectedLeads(const std::optional<std::string>& campaign_id,
                                                      const std::optional<std::string>& status,
                                                      const CompanyPage& page) {
  // One statement per filter, each with the plan it needs: written as "?3 IS NULL OR ..."
  // a campaign's filter walked every lead to find the campaign's (SQLite plans a statement
  // once, for any binding). By campaign, a page reads only the campaign's rows from the
  // cursor on: rx_lead_campaigns_by_campaign_lead (campaign, company, lead), or for one
  // company with a status rx_lead_campaigns_by_campaign (campaign, company, status, lead).
  // By status alone no index helps: each lead's campaigns are looked up as the leads go by.
  // One company's page starts at its lead `after` (the key's company, then id); every
  // company's at the pair `after`.
  static constexpr std::string_view kColumns =
      "l.id, COALESCE(l.name, ''), l.profile_url, l.email, l.company_name, l.location, l.job_title, "
      "l.profile_image, l.company_id";
  static const auto sql_for = [](bool by_company, bool by_campaign, bool by_status) {
    const std::string_view t = by_campaign ? "c" : "l";  // whose key the page follows
    const std::string from = by_campaign
        ? "rx_lead_campaigns c JOIN rx_leads l ON l.company_id = c.company_id AND l.id = c.lead_id"
        : "rx_leads l";
    std::string where = by_company
        ? fmt::format("{0}.company_id = ?6 AND {0}.{1} > ?2", t, by_campaign ? "lead_id" : "id")
        : fmt::format("({0}.company_id, {0}.{1}) > (?1, ?2)", t, by_campaign ? "lead_id" : "id");
    if (by_campaign) where += " AND c.campaign_id = ?3";
    if (by_campaign && by_status) where += " AND c.latest_status = ?4";
    if (!by_campaign && by_status) {
      where += " AND EXISTS (SELECT 1 FROM rx_lead_campaigns c WHERE c.company_id = l.company_id"
               " AND c.lead_id = l.id AND c.latest_status = ?4)";
    }
    return fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {}.company_id, {}.{} LIMIT ?5", kColumns, from, where,
                       t, t, by_campaign ? "lead_id" : "id");
  };
  static const std::string statements[8] = {
      sql_for(false, false, false), sql_for(false, false, true), sql_for(false, true, false),
      sql_for(false, true, true),   sql_for(true, false, false), sql_for(true, false, true),
      sql_for(true, true, false),   sql_for(true, true, true)};
  auto& s = db_.Prepare(statements[(page.company_id ? 4 : 0) + (campaign_id ? 2 : 0) + (status ? 1 : 0)]);
  s.Bind(5, std::int64_t{page.limit});
  if (page.after) {
    s.Bind(1, page.after->first).Bind(2, page.after->second);
  } else {
    s.Bind(1, "").Bind(2, "");
  }
  if (campaign_id) s.Bind(3, *campaign_id);
  if (status) s.Bind(4, *status);
  if (page.company_id) s.Bind(6, *page.company_id);
  std::vector<CompanyLead> out;
  while (s.Step()) out.push_back({s.Text(8), ReadLead(s)});
  return out;
}

std::vector<model::Enrollment> SqliteTx::ProjectedEnrollments(std::string_view company_id, std::string_view lead_id) {
  auto& s = db_.Prepare(
      "SELECT campaign_id, latest_status, timeline FROM rx_lead_campaigns WHERE company_id = ?2 AND lead_id = ?1 "
      "ORDER BY campaign_id");
  s.Bind(1, lead_id).Bind(2, company_id);
  std::vector<model::Enrollment> out;
  while (s.Step()) {
    model::Enrollment e;
    e.campaign_id = s.Text(0);
    e.lead_id = std::string(lead_id);
    e.latest_status = s.OptText(1);
    try {
      e.activity = DecodeTimeline(s.Text(2));
    } catch (const UnreadableValueError& damaged) {
      throw UnreadableValueError(fmt::format(
          "the timeline of lead '{}' in campaign '{}' (company '{}') cannot be read back ({}); "
          "POST /v1/replay {{\"to\": \"projections\"}} rebuilds it from the raw log",
          lead_id, e.campaign_id, company_id, damaged.what()));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<model::Campaign> SqliteTx::GetProjectedCampaign(std::string_view company_id, std::string_view id) {
  auto& s = db_.Prepare(
      "SELECT id, COALESCE(name, ''), COALESCE(campaign_type, ''), COALESCE(total_leads, 0), "
      "COALESCE(complete_end_of_sequence, 0) FROM rx_campaigns WHERE company_id = ?2 AND id = ?1");
  s.Bind(1, id).Bind(2, company_id);
  if (!s.Step()) return std::nullopt;
  return ReadCampaign(s);
}

std::vector<std::string> SqliteTx::CompaniesWithProjectedCampaign(std::string_view id) {
  static const std::string sql = CompaniesHoldingSql("rx_campaigns");
  return CompaniesHolding(db_, sql, id);
}

std::vector<CompanyCampaign> SqliteTx::ListProjectedCampaigns(const CompanyPage& page) {
  static constexpr std::string_view kColumns =
      "id, COALESCE(name, ''), COALESCE(campaign_type, ''), COALESCE(total_leads, 0), "
      "COALESCE(complete_end_of_sequence, 0), company_id";
  static const std::string all = fmt::format(
      "SELECT {} FROM rx_campaigns WHERE (company_id, id) > (?1, ?2) ORDER BY company_id, id LIMIT ?3", kColumns);
  static const std::string of_company = fmt::format(
      "SELECT {} FROM rx_campaigns WHERE company_id = ?4 AND id > ?2 ORDER BY id LIMIT ?3", kColumns);
  auto& s = db_.Prepare(page.company_id ? of_company : all);
  s.Bind(3, std::int64_t{page.limit});
  if (page.after) {
    s.Bind(1, page.after->first).Bind(2, page.after->second);
  } else {
    s.Bind(1, "").Bind(2, "");
  }
  if (page.company_id) s.Bind(4, *page.company_id);
  std::vector<CompanyCampaign> out;
  while (s.Step()) out.push_back({s.Text(5), ReadCampaign(s)});
  return out;
}

std::int64_t SqliteTx::CountProjectedLeadsWithAction(std::string_view company_id, std::string_view campaign_id,
                                                     const std::vector<std::string>& actions) {
  // Catalog actions are bits of `actions`, read from the by-campaign index without touching
  // the rows; any other label is looked for in the timelines themselves.
  std::int64_t bits = 0;
  std::vector<std::string> others;
  for (const auto& action : actions) {
    if (auto bit = model::ActionBit(action)) bits |= std::int64_t{1} << *bit; else others.push_back(action);
  }
  if (others.empty()) {  // the usual case (funnel stages): a covering index range
    auto& s = db_.Prepare(
        "SELECT COUNT(*) FROM rx_lead_campaigns WHERE campaign_id = ?1 AND company_id = ?3 AND (actions & ?2) != 0");
    s.Bind(1, campaign_id).Bind(2, bits).Bind(3, company_id);
    return s.Step() ? s.Int(0) : 0;
  }
  auto& s = db_.Prepare(
      "SELECT COUNT(*) FROM rx_lead_campaigns WHERE campaign_id = ?1 AND company_id = ?4 AND ((actions & ?2) != 0 "
      "OR EXISTS (SELECT 1 FROM json_each(timeline) t "
      "WHERE json_extract(t.value, '$[0]') IN (SELECT value FROM json_each(?3))))");
  s.Bind(1, campaign_id).Bind(2, bits).Bind(3, EncodeStrings(others)).Bind(4, company_id);
  return s.Step() ? s.Int(0) : 0;
}

std::int64_t SqliteTx::CountReceived(std::optional<Millis> since) {
  auto& s = db_.Prepare("SELECT COUNT(*) FROM received WHERE ?1 IS NULL OR received_at >= ?1");
  s.Bind(1, since);
  return s.Step() ? s.Int(0) : 0;
}

std::int64_t SqliteTx::CountProjectedLeads(const std::optional<std::string>& company_id) {
  auto& s = db_.Prepare(company_id ? "SELECT COUNT(*) FROM rx_leads WHERE company_id = ?1"
                                   : "SELECT COUNT(*) FROM rx_leads");
  if (company_id) s.Bind(1, *company_id);
  return s.Step() ? s.Int(0) : 0;
}

std::int64_t SqliteTx::CountReplies(const std::optional<std::string>& company_id, std::optional<Millis> since) {
  auto& s = db_.Prepare(
      company_id ? "SELECT COUNT(*) FROM rx_replies WHERE company_id = ?2 AND replied_at >= coalesce(?1, -9223372036854775808)"
                 : "SELECT COUNT(*) FROM rx_replies WHERE ?1 IS NULL OR replied_at >= ?1");
  s.Bind(1, since);
  if (company_id) s.Bind(2, *company_id);
  return s.Step() ? s.Int(0) : 0;
}

std::vector<ReplyRecord> SqliteTx::ListReplies(const std::optional<std::string>& company_id,
                                               std::optional<Millis> since, int limit,
                                               const std::optional<ReplyRecord>& after) {
  // One lower bound on replied_at (the later of `since` and the cursor's), written so that
  // SQLite can start the index range there: with "?1 IS NULL OR ..." every page scanned the
  // replies from the oldest, and an export paging through N replies read ~N^2 rows. Every
  // company's replies are read through rx_replies_by_time, one company's through the key
  // (company, time).
  static constexpr std::string_view kSelect =
      "SELECT lead_id, campaign_id, replied_at, channel, event, text, received_id, company_id FROM rx_replies "
      "WHERE replied_at >= max(coalesce(?1, -9223372036854775808), coalesce(?3, -9223372036854775808)) "
      "AND (?3 IS NULL OR (replied_at, company_id, lead_id, campaign_id, event) > (?3, ?7, ?4, ?5, ?6)) ";
  static const std::string all =
      fmt::format("{}ORDER BY replied_at, company_id, lead_id, campaign_id, event LIMIT ?2", kSelect);
  static const std::string of_company =
      fmt::format("{}AND company_id = ?8 ORDER BY replied_at, lead_id, campaign_id, event LIMIT ?2", kSelect);
  auto& s = db_.Prepare(company_id ? of_company : all);
  s.Bind(1, since).Bind(2, std::int64_t{limit});
  if (after) {
    s.Bind(3, after->replied_at).Bind(4, after->lead_id).Bind(5, after->campaign_id).Bind(6, after->event)
        .Bind(7, after->company_id);
  }
  if (company_id) s.Bind(8, *company_id);
  std::vector<ReplyRecord> out;
  while (s.Step()) {
    out.push_back({s.Text(0), s.Text(1), s.Int(2), s.OptText(3), s.Text(4), s.OptText(5), s.Text(6), s.Text(7)});
  }
  return out;
}

}  // namespace hookline::store::sqlite
