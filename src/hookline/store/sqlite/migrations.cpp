#include "hookline/store/sqlite/migrations.hpp"

#include <sqlite3.h>

#include "hookline/store/endpoint_stats.hpp"
#include "hookline/store/sqlite/sqlite_connection.hpp"
#include "hookline/store/store.hpp"

namespace hookline::store::sqlite {

void RegisterMigrationFunctions(Connection& db) {
  auto latency_bucket = [](sqlite3_context* context, int, sqlite3_value** args) {
    sqlite3_result_int(context, LatencyBucket(sqlite3_value_int64(args[0])));
  };
  if (sqlite3_create_function_v2(db.handle(), "hookline_latency_bucket", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, latency_bucket,
                                 nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw StoreError("cannot add the SQL function hookline_latency_bucket");
  }
}

// Append only: a released migration is never edited; a change is a new entry.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
      {1, "provider: companies, leads, campaigns, events, endpoints, deliveries", R"sql(
CREATE TABLE companies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  api_key_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE senders (
  company_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (company_id, id)
) WITHOUT ROWID;
CREATE TABLE campaigns (
  company_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  campaign_type TEXT NOT NULL,
  total_leads INTEGER NOT NULL DEFAULT 0,
  completed_leads INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (company_id, id)
) WITHOUT ROWID;
CREATE TABLE leads (
  company_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  profile_url TEXT,
  email TEXT,
  company_name TEXT,
  location TEXT,
  job_title TEXT,
  profile_image TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (company_id, id)
) WITHOUT ROWID;
CREATE TABLE enrollments (
  company_id TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  latest_status TEXT,
  enrolled_at INTEGER NOT NULL,
  completed_at INTEGER,
  PRIMARY KEY (company_id, campaign_id, lead_id)
) WITHOUT ROWID;
CREATE INDEX enrollments_by_lead ON enrollments (company_id, lead_id);
CREATE TABLE activities (
  seq INTEGER PRIMARY KEY,
  company_id TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  action TEXT NOT NULL,
  action_time INTEGER NOT NULL,
  event_id TEXT NOT NULL
);
CREATE INDEX activities_by_enrollment ON activities (company_id, campaign_id, lead_id, action_time, seq);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  company_id TEXT NOT NULL,
  event TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  payload BLOB NOT NULL
);
CREATE INDEX events_by_company ON events (company_id, seq);
CREATE INDEX events_by_lead ON events (company_id, lead_id, seq);
CREATE INDEX events_by_campaign ON events (company_id, campaign_id, seq);
CREATE INDEX events_by_enrollment_event ON events (company_id, campaign_id, lead_id, event, occurred_at);
CREATE TABLE endpoints (
  id TEXT PRIMARY KEY,
  company_id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT NOT NULL,
  headers TEXT NOT NULL,
  rate_limit_per_s INTEGER,
  secret_sealed BLOB NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  disabled_reason TEXT,
  deleted_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX endpoints_by_company ON endpoints (company_id, id);
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  company_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, status);
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_head BLOB NOT NULL
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);
CREATE TABLE idempotency_keys (
  company_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (company_id, key)
) WITHOUT ROWID;
)sql"},
      {2, "delivery engine: ordering, secret rotation, failure streaks", R"sql(
ALTER TABLE endpoints ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none';
ALTER TABLE endpoints ADD COLUMN previous_secret_sealed BLOB;
ALTER TABLE endpoints ADD COLUMN previous_secret_expires_at INTEGER;
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;
ALTER TABLE deliveries ADD COLUMN lead_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN occurred_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET lead_id = (SELECT lead_id FROM events WHERE events.id = deliveries.event_id),
  occurred_at = (SELECT occurred_at FROM events WHERE events.id = deliveries.event_id),
  event_seq = (SELECT seq FROM events WHERE events.id = deliveries.event_id);
CREATE INDEX deliveries_per_lead ON deliveries (endpoint_id, lead_id, occurred_at, event_seq)
  WHERE status = 'pending';
CREATE INDEX attempts_by_time ON attempts (started_at);
)sql"},
      {3, "receiver: sources, the raw log, projections", R"sql(
CREATE TABLE sources (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  auth TEXT NOT NULL,
  secret_sealed BLOB,
  token_hash BLOB,
  dedupe_fields TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE received (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  source_id TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  event TEXT,
  received_at INTEGER NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE UNIQUE INDEX received_dedupe ON received (source_id, dedupe_key) WHERE status = 'accepted';
CREATE INDEX received_by_time ON received (received_at);
CREATE TABLE projection_state (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE rx_leads (
  id TEXT PRIMARY KEY, name TEXT, profile_url TEXT, email TEXT, company_name TEXT,
  location TEXT, job_title TEXT, profile_image TEXT, version TEXT NOT NULL
);
CREATE TABLE rx_lead_campaigns (
  lead_id TEXT NOT NULL, campaign_id TEXT NOT NULL, latest_status TEXT, version TEXT NOT NULL,
  PRIMARY KEY (lead_id, campaign_id)
) WITHOUT ROWID;
CREATE INDEX rx_lead_campaigns_by_campaign ON rx_lead_campaigns (campaign_id, latest_status);
CREATE TABLE rx_activity (
  lead_id TEXT NOT NULL, campaign_id TEXT NOT NULL, action TEXT NOT NULL, action_time INTEGER NOT NULL,
  PRIMARY KEY (lead_id, campaign_id, action, action_time)
) WITHOUT ROWID;
CREATE INDEX rx_activity_by_campaign ON rx_activity (campaign_id, action, lead_id);
CREATE TABLE rx_campaigns (
  id TEXT PRIMARY KEY, name TEXT, campaign_type TEXT, total_leads INTEGER,
  complete_end_of_sequence INTEGER, version TEXT NOT NULL
);
CREATE TABLE rx_senders (id TEXT PRIMARY KEY, name TEXT, email TEXT, version TEXT NOT NULL);
CREATE TABLE rx_replies (
  lead_id TEXT NOT NULL, campaign_id TEXT NOT NULL, replied_at INTEGER NOT NULL, channel TEXT,
  event TEXT NOT NULL, text TEXT, received_id TEXT NOT NULL,
  PRIMARY KEY (lead_id, campaign_id, replied_at, event)
) WITHOUT ROWID;
CREATE INDEX rx_replies_by_time ON rx_replies (replied_at);
)sql"},
      {4, "claims per endpoint: due deliveries by endpoint", R"sql(
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at)
  WHERE status = 'pending';
)sql"},
      {5, "per-lead ordering indexes only the deliveries of per-lead endpoints", R"sql(
ALTER TABLE deliveries ADD COLUMN lead_ordered INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET lead_ordered = 1 WHERE status = 'pending'
  AND endpoint_id IN (SELECT id FROM endpoints WHERE ordering = 'per_lead');
DROP INDEX deliveries_per_lead;
CREATE INDEX deliveries_per_lead ON deliveries (endpoint_id, lead_id, occurred_at, event_seq)
  WHERE status = 'pending' AND lead_ordered = 1;
)sql"},
      {6, "claims read only claimable deliveries; two indexes nothing reads are dropped", R"sql(
DROP INDEX deliveries_due;
DROP INDEX attempts_by_time;
DROP INDEX deliveries_due_by_endpoint;
CREATE INDEX deliveries_available_by_endpoint
  ON deliveries (endpoint_id, max(next_attempt_at, coalesce(lease_until, 0)))
  WHERE status = 'pending';
)sql"},
      {7, "receiver timelines: one row per lead and campaign, with its catalog actions as bits", R"sql(
ALTER TABLE rx_lead_campaigns ADD COLUMN timeline TEXT NOT NULL DEFAULT '[]';
ALTER TABLE rx_lead_campaigns ADD COLUMN actions INTEGER NOT NULL DEFAULT 0;
INSERT INTO rx_lead_campaigns (lead_id, campaign_id, latest_status, version)
  SELECT DISTINCT lead_id, campaign_id, NULL, '' FROM rx_activity a WHERE NOT EXISTS (
    SELECT 1 FROM rx_lead_campaigns c WHERE c.lead_id = a.lead_id AND c.campaign_id = a.campaign_id);
UPDATE rx_lead_campaigns SET
  timeline = (SELECT json_group_array(json_array(action, action_time)) FROM (
    SELECT action, action_time FROM rx_activity a
    WHERE a.lead_id = rx_lead_campaigns.lead_id AND a.campaign_id = rx_lead_campaigns.campaign_id
    ORDER BY action_time, action)),
  actions = (SELECT coalesce(sum(DISTINCT CASE action
      WHEN 'Send connection request' THEN 1 WHEN 'Invite Accepted' THEN 2 WHEN 'Send Message' THEN 4
      WHEN 'Message Replied' THEN 8 WHEN 'InMail' THEN 16 WHEN 'Send Email' THEN 32
      WHEN 'Email Opened' THEN 64 WHEN 'Link Clicked' THEN 128 WHEN 'Mail Replied' THEN 256 END), 0)
    FROM rx_activity a WHERE a.lead_id = rx_lead_campaigns.lead_id AND a.campaign_id = rx_lead_campaigns.campaign_id);
DROP TABLE rx_activity;
DROP INDEX rx_lead_campaigns_by_campaign;
CREATE INDEX rx_lead_campaigns_by_campaign ON rx_lead_campaigns (campaign_id, latest_status, actions);
)sql"},
      {8, "provider histories: in the enrollment row, with its catalog actions as bits", R"sql(
ALTER TABLE enrollments ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE enrollments ADD COLUMN actions INTEGER NOT NULL DEFAULT 0;
UPDATE enrollments SET
  history = (SELECT json_group_array(json_array(action, action_time)) FROM (
    SELECT action, action_time FROM activities a
    WHERE a.company_id = enrollments.company_id AND a.campaign_id = enrollments.campaign_id
      AND a.lead_id = enrollments.lead_id
    ORDER BY action_time, seq)),
  actions = (SELECT coalesce(sum(DISTINCT CASE action
      WHEN 'Send connection request' THEN 1 WHEN 'Invite Accepted' THEN 2 WHEN 'Send Message' THEN 4
      WHEN 'Message Replied' THEN 8 WHEN 'InMail' THEN 16 WHEN 'Send Email' THEN 32
      WHEN 'Email Opened' THEN 64 WHEN 'Link Clicked' THEN 128 WHEN 'Mail Replied' THEN 256 END), 0)
    FROM activities a WHERE a.company_id = enrollments.company_id
      AND a.campaign_id = enrollments.campaign_id AND a.lead_id = enrollments.lead_id)
WHERE EXISTS (SELECT 1 FROM activities a WHERE a.company_id = enrollments.company_id
  AND a.campaign_id = enrollments.campaign_id AND a.lead_id = enrollments.lead_id);
DROP TABLE activities;
)sql"},
      {9, "the last event of a kind in an enrollment is found through events_by_lead", R"sql(
DROP INDEX events_by_enrollment_event;
)sql"},
      {10, "the receiver's leads of a campaign, in lead order", R"sql(
CREATE INDEX rx_lead_campaigns_by_campaign_lead ON rx_lead_campaigns (campaign_id, lead_id);
)sql"},
      // (endpoint_id, status) moved its entry at every answer (pending -> succeeded): ~9k of
      // the writer's 67k instructions per delivery in a drain. Its lookups are served by
      // indexes an answer does not touch: pending ones by deliveries_available_by_endpoint,
      // failed, skipped and cancelled ones by a partial index a success never enters, the
      // rest (stats, replays of succeeded ones) by endpoint and creation time.
      {11, "an answer moves no index entry but the pending one it leaves", R"sql(
DROP INDEX deliveries_by_endpoint;
CREATE INDEX deliveries_by_endpoint_created ON deliveries (endpoint_id, created_at);
CREATE INDEX deliveries_unsent_by_endpoint ON deliveries (endpoint_id, status)
  WHERE status NOT IN ('pending', 'succeeded');
)sql"},
      // The stats read every attempt an endpoint ever had (0.04 s at 50k, growing for
      // good); now they read its minutes. The newest day of attempts is counted in, once:
      // two passes over the attempts, ~0.4 s per 200k (hookline_latency_bucket is
      // LatencyBucket, registered for migrations).
      {12, "endpoint stats per minute and latency bucket", R"sql(
CREATE TABLE endpoint_stats (
  endpoint_id TEXT NOT NULL,
  minute INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  succeeded INTEGER NOT NULL,
  PRIMARY KEY (endpoint_id, minute, bucket)
) WITHOUT ROWID;
INSERT INTO endpoint_stats (endpoint_id, minute, bucket, attempts, succeeded)
  SELECT d.endpoint_id, a.started_at / 60000, hookline_latency_bucket(a.duration_ms), COUNT(*),
    COALESCE(SUM(a.status_code BETWEEN 200 AND 299), 0)
  FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
  WHERE a.started_at >= ((SELECT MAX(started_at) FROM attempts) / 60000 - 1440) * 60000
  GROUP BY 1, 2, 3;
)sql"},
      // Two companies sending the same lead (or campaign) id were merged into one. The
      // projections are rebuilt from the raw log rather than converted: their rows do not
      // say which company they came from. Without a checkpoint, the projector starts over
      // at the first webhook when the receiver starts. The by-campaign indexes lead with the
      // campaign, so that a campaign's leads are found with or without a company; with a
      // status, a company's page is one range of rx_lead_campaigns_by_campaign (the funnel
      // still counts from it alone). Replies are keyed by company and time: one company's
      // are read from the key, everyone's through rx_replies_by_time.
      {13, "receiver projections keyed by the payload's company_id too; rebuilt from the raw log", R"sql(
DROP TABLE rx_leads;
DROP TABLE rx_lead_campaigns;
DROP TABLE rx_campaigns;
DROP TABLE rx_senders;
DROP TABLE rx_replies;
CREATE TABLE rx_leads (
  company_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT, profile_url TEXT, email TEXT,
  company_name TEXT, location TEXT, job_title TEXT, profile_image TEXT, version TEXT NOT NULL,
  PRIMARY KEY (company_id, id)
);
CREATE TABLE rx_lead_campaigns (
  company_id TEXT NOT NULL, lead_id TEXT NOT NULL, campaign_id TEXT NOT NULL, latest_status TEXT,
  version TEXT NOT NULL, timeline TEXT NOT NULL DEFAULT '[]', actions INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (company_id, lead_id, campaign_id)
) WITHOUT ROWID;
CREATE INDEX rx_lead_campaigns_by_campaign ON rx_lead_campaigns (campaign_id, company_id, latest_status, lead_id, actions);
CREATE INDEX rx_lead_campaigns_by_campaign_lead ON rx_lead_campaigns (campaign_id, company_id, lead_id);
CREATE TABLE rx_campaigns (
  company_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT, campaign_type TEXT, total_leads INTEGER,
  complete_end_of_sequence INTEGER, version TEXT NOT NULL,
  PRIMARY KEY (company_id, id)
);
CREATE TABLE rx_senders (
  company_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT, email TEXT, version TEXT NOT NULL,
  PRIMARY KEY (company_id, id)
);
CREATE TABLE rx_replies (
  company_id TEXT NOT NULL, replied_at INTEGER NOT NULL, lead_id TEXT NOT NULL, campaign_id TEXT NOT NULL,
  event TEXT NOT NULL, channel TEXT, text TEXT, received_id TEXT NOT NULL,
  PRIMARY KEY (company_id, replied_at, lead_id, campaign_id, event)
) WITHOUT ROWID;
CREATE INDEX rx_replies_by_time ON rx_replies (replied_at);
DELETE FROM projection_state WHERE name = 'receiver';
)sql"},
  };
  return *migrations;
}

}  // namespace hookline::store::sqlite
