#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <boost/json.hpp>
#include <sqlite3.h>

#include "hookline/receiver/export.hpp"
#include "hookline/receiver/ingest.hpp"
#include "hookline/receiver/projector.hpp"
#include "store_fixture.hpp"
#include "test_support.hpp"

namespace hookline::receiver {
namespace {

namespace json = boost::json;

TEST(DedupeKey, FieldsThenWebhookIdThenBodyHash) {
  store::SourceRecord plain;
  http::Request request;
  request.body = R"({"event":"invite-sent","data":{"lead":{"id":"L1"}}})";
  const std::string by_body = DedupeKey(plain, request, nullptr);
  EXPECT_TRUE(by_body.starts_with("sha256:"));
  request.headers.emplace_back("webhook-id", "msg_1");
  EXPECT_EQ(DedupeKey(plain, request, nullptr), "id:msg_1");

  store::SourceRecord by_fields;
  by_fields.dedupe_fields = {"event", "data.lead.id", "timestamp"};
  const auto doc = json::parse(request.body).as_object();
  const std::string key = DedupeKey(by_fields, request, &doc);
  EXPECT_TRUE(key.starts_with("fields:"));
  // Same fields, other bytes (extra field, other header): still a duplicate.
  http::Request resend = request;
  resend.body = R"({"event":"invite-sent","x":1,"data":{"lead":{"id":"L1","name":"n"}}})";
  resend.headers = {{"webhook-id", "msg_2"}};
  const auto doc2 = json::parse(resend.body).as_object();
  EXPECT_EQ(DedupeKey(by_fields, resend, &doc2), key);
  const auto other = json::parse(R"({"event":"invite-sent","data":{"lead":{"id":"L2"}}})").as_object();
  EXPECT_NE(DedupeKey(by_fields, request, &other), key);
}

// Svix-hosted senders name the Standard Webhooks headers svix-*: read when no webhook-*
// header is there, and never mixed with the webhook-* ones.
TEST(SignatureHeadersOf, SvixHeadersWhenNoWebhookHeaders) {
  http::Request request;
  request.headers = {{"svix-id", "msg_s"}, {"svix-timestamp", "1700000000"}, {"svix-signature", "v1,c3Zp"}};
  SignatureHeaders h = SignatureHeadersOf(request);
  EXPECT_EQ(h.id, "msg_s");
  EXPECT_EQ(h.timestamp, "1700000000");
  EXPECT_EQ(h.signature, "v1,c3Zp");
  EXPECT_EQ(DedupeKey(store::SourceRecord{}, request, nullptr), "id:msg_s");

  request.headers.emplace_back("webhook-id", "msg_w");
  h = SignatureHeadersOf(request);
  EXPECT_EQ(h.id, "msg_w");
  EXPECT_EQ(h.timestamp, "");  // not svix-timestamp: one set or the other
  EXPECT_EQ(h.signature, "");
  EXPECT_EQ(DedupeKey(store::SourceRecord{}, request, nullptr), "id:msg_w");
}

//! Stores `body` as the accepted webhook number `n` of source "src".
void InsertAccepted(store::StoreTx& tx, int n, const std::string& body) {
  store::ReceivedRecord r;
  r.id = "rcv_" + std::to_string(n);
  r.source_id = "src";
  r.dedupe_key = "k" + std::to_string(n);
  r.status = "accepted";
  r.body = body;
  tx.InsertReceived(r);
}

//! Projects `bodies` into a fresh store and reads back what a client would see.
std::string ProjectAndRead(const std::vector<std::string>& bodies) {
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  store->Write([&](store::StoreTx& tx) {
    int n = 0;
    for (const auto& body : bodies) InsertAccepted(tx, n++, body);
    return true;
  });
  Projector projector(*store);
  EXPECT_EQ(projector.CatchUp(), static_cast<int>(bodies.size()));
  std::string out;
  store->Read([&](store::StoreTx& tx) {
    for (const auto& [company, lead] : tx.ListProjectedLeads(std::nullopt, std::nullopt, {std::nullopt, std::nullopt, 100})) {
      out += lead.id + "|" + lead.name + "|" + lead.email.value_or("-") + "\n";
      for (const auto& e : tx.ProjectedEnrollments(company, lead.id)) {
        out += "  " + e.campaign_id + " " + e.latest_status.value_or("-") + "\n";
        for (const auto& a : e.activity) out += "    " + a.action + "@" + FormatIso8601(a.action_time) + "\n";
      }
    }
    for (const auto& [company, c] : tx.ListProjectedCampaigns({std::nullopt, std::nullopt, 100})) {
      out += c.id + " " + std::to_string(c.total_leads) + "/" + std::to_string(c.complete_end_of_sequence) + "\n";
    }
    for (const auto& r : tx.ListReplies(std::nullopt, std::nullopt, 100, {})) out += "reply " + r.text.value_or("-") + "\n";
  });
  return out;
}

TEST(Projector, OrderAndRepetitionDoNotChangeTheResult) {
  std::vector<std::string> bodies;
  for (const char* e : {"invite-sent", "invite-accepted", "message-sent", "message-replied", "inmail-sent",
                        "inmail-replied", "email-sent", "email-opened", "email-clicked", "email-replied"}) {
    bodies.push_back(TrimTrailingNewlines(ReadTestFile(std::string("examples/") + e + ".json")));
  }
  const std::string in_order = ProjectAndRead(bodies);
  EXPECT_NE(in_order.find("Replied"), std::string::npos);
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    auto shuffled = bodies;
    shuffled.insert(shuffled.end(), bodies.begin(), bodies.begin() + 4);  // some twice
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(ProjectAndRead(shuffled), in_order);
  }
}

TEST(Projector, MergesHistoriesAndSkipsWhatItCannotUse) {
  const std::string later = R"({"event":"message-replied","timestamp":"2026-03-24T14:20:00.000Z","data":{
    "actionData":{"replay_message":"yes"},
    "lead":{"id":"L","name":"New Name","latest_status":"Replied","activity":[
      {"action":"Invite Accepted","action_time":"2026-03-22T10:00:00.000Z"},
      {"action":"Message Replied","action_time":"2026-03-24T14:20:00.000Z"}]},
    "campaign":{"id":"C","name":"c","campaign_type":"linkedin","total_leads":5,"complete_end_of_sequence":1}}})";
  const std::string earlier = R"({"event":"invite-sent","timestamp":"2026-03-21T09:00:00.000Z","data":{
    "lead":{"id":"L","name":"Old Name","latest_status":"Contacted"},
    "campaign":{"id":"C","name":"c","total_leads":3,"complete_end_of_sequence":0}}})";
  const std::string unknown = R"({"event":"meeting-booked","data":{"lead":{"id":"Z","name":"z"}}})";
  const std::string no_lead = R"({"event":"invite-sent","data":null})";
  const std::string out = ProjectAndRead({later, earlier, unknown, no_lead});
  EXPECT_EQ(out,
            "L|New Name|-\n"
            "  C Replied\n"
            "    Send connection request@2026-03-21T09:00:00.000Z\n"  // from the event itself (no history sent)
            "    Invite Accepted@2026-03-22T10:00:00.000Z\n"
            "    Message Replied@2026-03-24T14:20:00.000Z\n"
            "C 5/1\n"
            "reply yes\n");
}

// Two companies sending the same lead id in the same campaign id to one receiver were merged
// into one lead, one campaign and one funnel. Each company's are now its own, and so are its
// replies; a payload without a company_id is kept under the company "".
// Regression: a batch keyed each enrollment by company, lead and campaign joined with \x1f,
// so company "X\x1fY" with lead "Z" and company "X" with lead "Y\x1fZ" shared one entry and
// one company's status and timeline were written into the other's row.
TEST(Projector, IdsHoldingTheSeparatorDoNotCollideAcrossCompanies) {
  auto webhook = [](const std::string& company, const std::string& lead, const std::string& status,
                    const std::string& action) {
    return R"({"event":"invite-sent","company_id":")" + company +
           R"(","timestamp":"2026-03-21T09:00:00.000Z","data":{"actionData":{},"lead":{"id":")" + lead +
           R"(","name":"n","latest_status":")" + status + R"(","activity":[{"action":")" + action +
           R"(","action_time":"2026-03-21T09:00:00.000Z"}]},"campaign":{"id":"C","name":"c","campaign_type":"linkedin"},"sender":{"id":"S","name":"s"}}})";
  };
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  store->Write([&](store::StoreTx& tx) {
    InsertAccepted(tx, 0, webhook("X\\u001fY", "Z", "Contacted", "Send connection request"));
    InsertAccepted(tx, 1, webhook("X", "Y\\u001fZ", "Engaged", "Invite Accepted"));
    return true;
  });
  Projector projector(*store);
  ASSERT_EQ(projector.CatchUp(), 2);  // one batch
  store->Read([&](store::StoreTx& tx) {
    auto first = tx.ProjectedEnrollments("X\x1fY", "Z");
    auto second = tx.ProjectedEnrollments("X", "Y\x1fZ");
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(first[0].latest_status, "Contacted");
    EXPECT_EQ(second[0].latest_status, "Engaged");
    ASSERT_EQ(first[0].activity.size(), 1u);
    EXPECT_EQ(first[0].activity[0].action, "Send connection request");
  });
}

TEST(Projector, KeepsCompaniesLeadsFunnelsAndRepliesApart) {
  auto webhook = [](const std::string& company, const std::string& event, const std::string& at,
                    const std::string& name, const std::string& status, const std::string& action,
                    const std::string& campaign_name) {
    const std::string company_field = company.empty() ? "" : R"("company_id":")" + company + R"(",)";
    return R"({"event":")" + event + R"(",)" + company_field + R"("timestamp":")" + at +
           R"(","data":{"actionData":{"replay_message":"reply from )" + name + R"("},"lead":{"id":"rahul","name":")" +
           name + R"(","latest_status":")" + status + R"(","activity":[{"action":")" + action +
           R"(","action_time":")" + at + R"("}]},"campaign":{"id":"C","name":")" + campaign_name +
           R"(","campaign_type":"linkedin","total_leads":5},"sender":{"id":"S","name":")" + name + R"("}}})";
  };
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  store->Write([&](store::StoreTx& tx) {
    int n = 0;
    InsertAccepted(tx, n++, webhook("A", "invite-sent", "2026-03-21T09:00:00.000Z", "Rahul A", "Contacted",
                                    "Send connection request", "A's campaign"));
    InsertAccepted(tx, n++, webhook("B", "invite-sent", "2026-03-21T10:00:00.000Z", "Rahul B", "Contacted",
                                    "Send connection request", "B's campaign"));
    InsertAccepted(tx, n++, webhook("A", "message-replied", "2026-03-23T09:00:00.000Z", "Rahul A", "Replied",
                                    "Message Replied", "A's campaign"));
    InsertAccepted(tx, n++, webhook("B", "invite-accepted", "2026-03-22T09:00:00.000Z", "Rahul B", "Engaged",
                                    "Invite Accepted", "B's campaign"));
    InsertAccepted(tx, n++, webhook("", "invite-sent", "2026-03-24T09:00:00.000Z", "Rahul", "Contacted",
                                    "Send connection request", "no one's campaign"));
    return true;
  });
  Projector projector(*store);
  ASSERT_EQ(projector.CatchUp(), 5);
  store->Read([&](store::StoreTx& tx) {
    std::vector<std::string> leads;
    for (const auto& [company, lead] : tx.ListProjectedLeads(std::nullopt, std::nullopt, {std::nullopt, std::nullopt, 10})) {
      leads.push_back(company + "/" + lead.id + "/" + lead.name);
    }
    EXPECT_EQ(leads, (std::vector<std::string>{"/rahul/Rahul", "A/rahul/Rahul A", "B/rahul/Rahul B"}));
    EXPECT_EQ(tx.CompaniesWithProjectedLead("rahul"), (std::vector<std::string>{"", "A", "B"}));
    EXPECT_TRUE(tx.CompaniesWithProjectedLead("nobody").empty());

    auto timeline = [&](const std::string& company) {
      std::string out;
      for (const auto& e : tx.ProjectedEnrollments(company, "rahul")) {
        out += e.campaign_id + " " + e.latest_status.value_or("-") + ":";
        for (const auto& a : e.activity) out += " " + a.action;
      }
      return out;
    };
    EXPECT_EQ(timeline("A"), "C Replied: Send connection request Message Replied");
    EXPECT_EQ(timeline("B"), "C Engaged: Send connection request Invite Accepted");
    EXPECT_EQ(timeline(""), "C Contacted: Send connection request");

    std::vector<std::string> campaigns;
    for (const auto& [company, c] : tx.ListProjectedCampaigns({std::nullopt, std::nullopt, 10})) {
      campaigns.push_back(company + "/" + c.id + "/" + c.name);
    }
    EXPECT_EQ(campaigns, (std::vector<std::string>{"/C/no one's campaign", "A/C/A's campaign", "B/C/B's campaign"}));
    EXPECT_EQ(tx.CompaniesWithProjectedCampaign("C"), (std::vector<std::string>{"", "A", "B"}));
    EXPECT_EQ(tx.GetProjectedCampaign("B", "C")->name, "B's campaign");
    // The funnels: each company's lead counts in its own campaign only.
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("A", "C", {"Message Replied"}), 1);
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("B", "C", {"Message Replied"}), 0);
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("A", "C", {"Invite Accepted"}), 0);
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("B", "C", {"Invite Accepted"}), 1);
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("", "C", {"Send connection request"}), 1);

    const auto replies = tx.ListReplies(std::nullopt, std::nullopt, 10, std::nullopt);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].company_id, "A");
    EXPECT_EQ(replies[0].text, "reply from Rahul A");
    EXPECT_EQ(tx.ListReplies("A", std::nullopt, 10, std::nullopt).size(), 1u);
    EXPECT_TRUE(tx.ListReplies("B", std::nullopt, 10, std::nullopt).empty());
    EXPECT_EQ(tx.CountReplies("B", std::nullopt), 0);
    EXPECT_EQ(tx.CountProjectedLeads("A"), 1);
    EXPECT_EQ(tx.CountProjectedLeads(std::nullopt), 3);
  });
}

// A batch of many webhooks reduced in memory gives what webhook-by-webhook projection gives,
// and a second catch-up over the same log (the timeline memory now warm) changes nothing.
TEST(Projector, ReducedBatchesEqualOneByOne) {
  std::vector<std::string> bodies;
  for (const char* e : {"invite-sent", "invite-accepted", "message-sent", "message-replied", "inmail-sent",
                        "inmail-replied", "email-sent", "email-opened", "email-clicked", "email-replied"}) {
    bodies.push_back(TrimTrailingNewlines(ReadTestFile(std::string("examples/") + e + ".json")));
  }
  std::mt19937 rng(11);
  auto shuffled = bodies;
  shuffled.insert(shuffled.end(), bodies.begin(), bodies.end());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);

  hookline::testing::TempDir dir;
  auto one_by_one = store::OpenStore("sqlite:" + dir.File("a"));
  auto batched = store::OpenStore("sqlite:" + dir.File("b"));
  ProjectionBatch batch;
  int n = 0;
  for (const auto& body : shuffled) {
    store::ReceivedRecord r;
    r.id = "rcv_" + std::to_string(n++);
    r.status = "accepted";
    r.body = body;
    one_by_one->Write([&](store::StoreTx& tx) {
      ProjectWebhook(tx, r);
      return true;
    });
    batch.Add(r);
  }
  batched->Write([&](store::StoreTx& tx) {
    batch.Apply(tx);
    return true;
  });
  auto dump = [](store::Store& s) {
    std::string out;
    s.Read([&](store::StoreTx& tx) {
      for (const auto& [company, lead] : tx.ListProjectedLeads(std::nullopt, std::nullopt, {std::nullopt, std::nullopt, 100})) {
        out += lead.id + "|" + lead.name + "|" + lead.email.value_or("-") + "|" + lead.job_title.value_or("-") + "\n";
        for (const auto& e : tx.ProjectedEnrollments(company, lead.id)) {
          out += e.campaign_id + " " + e.latest_status.value_or("-") + " " + std::to_string(e.activity.size()) + "\n";
        }
      }
      for (const auto& [company, c] : tx.ListProjectedCampaigns({std::nullopt, std::nullopt, 100})) {
        out += c.id + " " + c.name + " " + std::to_string(c.total_leads) + "\n";
      }
      out += std::to_string(tx.CountReplies(std::nullopt, std::nullopt)) + " replies\n";
    });
    return out;
  };
  EXPECT_EQ(dump(*batched), dump(*one_by_one));
  EXPECT_NE(dump(*batched).find("replies"), std::string::npos);
}

// A timeline row edited by hand into something unreadable does not stop the projector: that
// row starts over from the next webhook's history (a replay rebuilds the rest), and the
// webhooks of every other lead are projected as usual.
// A batch holds at most `batch_bytes` of bodies (and one body past them), as well as at most
// `batch` webhooks: large webhooks take several transactions, and every one is projected.
TEST(Projector, BatchesAreBoundedInBytesAsWellAsInWebhooks) {
  hookline::testing::TempDir dir;
  auto store = store::OpenStore("sqlite:" + dir.File("db"));
  const std::string padding(1'024, 'x');
  store->Write([&](store::StoreTx& tx) {
    for (int n = 0; n < 10; ++n) {
      InsertAccepted(tx, n, R"({"event":"message-sent","timestamp":"2026-03-21T09:00:00.000Z","padding":")" +
                                padding + R"(","data":{"lead":{"id":"L)" + std::to_string(n) +
                                R"(","name":"n"},"campaign":{"id":"C","name":"c"}}})");
    }
    return true;
  });
  const std::uint64_t commits_before = store->Counters().commits;
  Projector projector(*store, /*batch=*/1'000, /*batch_bytes=*/3 * 1'024);
  EXPECT_EQ(projector.CatchUp(), 10);
  EXPECT_EQ(store->Counters().commits - commits_before, 4u);  // 3 + 3 + 3 + 1 webhooks
  store->Read([](store::StoreTx& tx) {
    EXPECT_EQ(tx.ListProjectedLeads(std::nullopt, std::nullopt, {std::nullopt, std::nullopt, 100}).size(), 10u);
    EXPECT_EQ(tx.CountAcceptedAfter(tx.ProjectionCheckpoint()), 0);
  });
}

TEST(Projector, AnUnreadableTimelineStartsOverAndOthersStillProject) {
  // A message-sent webhook whose history holds its own action only.
  auto webhook = [](const std::string& lead, const std::string& at) {
    return R"({"event":"message-sent","timestamp":")" + at + R"(","data":{"lead":{"id":")" + lead +
           R"(","name":"n","latest_status":"Contacted","activity":[{"action":"Send Message",)"
           R"("action_time":")" + at + R"("}]},"campaign":{"id":"C","name":"c"}}})";
  };
  hookline::testing::TempDir dir;
  const std::string path = dir.File("db");
  auto store = store::OpenStore("sqlite:" + path);
  int n = 0;
  auto receive = [&](const std::string& body) {
    const int number = n++;  // outside the job, which a group commit may run twice
    store->Write([&](store::StoreTx& tx) {
      InsertAccepted(tx, number, body);
      return true;
    });
  };
  receive(webhook("L", "2026-03-21T09:00:00.000Z"));
  Projector projector(*store);
  ASSERT_EQ(projector.CatchUp(), 1);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, "UPDATE rx_lead_campaigns SET timeline = '[[\"Send Message\"' WHERE lead_id = 'L'",
                              nullptr, nullptr, &error);
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK);
  // Until then, a read of it names what is damaged and how to rebuild it.
  store->Read([&](store::StoreTx& tx) {
    try {
      tx.ProjectedEnrollments("", "L");
      ADD_FAILURE() << "an unreadable timeline was read";
    } catch (const store::UnreadableValueError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("lead 'L' in campaign 'C'"), std::string::npos) << what;
      EXPECT_NE(what.find("POST /v1/replay"), std::string::npos) << what;
    }
  });

  receive(webhook("L", "2026-03-22T09:00:00.000Z"));
  receive(webhook("M", "2026-03-22T10:00:00.000Z"));
  EXPECT_EQ(projector.CatchUp(), 2);
  store->Read([&](store::StoreTx& tx) {
    const auto l = tx.ProjectedEnrollments("", "L");
    ASSERT_EQ(l.size(), 1u);
    ASSERT_EQ(l[0].activity.size(), 1u);  // the unreadable 21 March entry is gone
    EXPECT_EQ(FormatIso8601(l[0].activity[0].action_time), "2026-03-22T09:00:00.000Z");
    const auto m = tx.ProjectedEnrollments("", "M");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].campaign_id, "C");
  });
}

// Issue 18: reply texts are written by strangers, and a spreadsheet opening the export ran a
// cell like =HYPERLINK(...) as a formula. OWASP: a cell starting with = + - @ tab or CR gets
// a leading quote; RFC 4180 quoting still applies after it.
TEST(CsvField, NeutralizesWhatASpreadsheetWouldRunAsAFormula) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},
      {"plain", "plain"},
      {"=1+2", "'=1+2"},
      {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
      {"+1", "'+1"},
      {"-5", "'-5"},
      {"@SUM(A1)", "'@SUM(A1)"},
      {"\tx", "'\tx"},
      {"\rx", "\"'\rx\""},
      {"-1,2", "\"'-1,2\""},
      {"a=b", "a=b"},  // only the first character counts
      {" =1", " =1"},
      {"'=1", "'=1"},
      {"x,y", "\"x,y\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
  };
  for (const auto& [value, field] : cases) EXPECT_EQ(CsvField(value), field) << value;
}

}  // namespace
}  // namespace hookline::receiver
