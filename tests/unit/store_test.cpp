#include "hookline/store/store.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "hookline/api/idempotency.hpp"
#include "hookline/receiver/projector.hpp"
#include "hookline/store/sqlite/lease_table.hpp"
#include "hookline/store/sqlite/migrations.hpp"
#include "hookline/store/sqlite/sqlite_connection.hpp"
#include "hookline/store/sqlite/sqlite_store.hpp"
#include "store_fixture.hpp"

namespace hookline::store {
namespace {

using hookline::testing::kCompany;
using hookline::testing::TempDir;

TEST(SqliteStore, ConcurrentWritersShareCommitsAndAllLand) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "C", 0}, "hash"); });
  constexpr int kThreads = 16, kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store->Write([&](StoreTx& tx) {
          tx.UpsertLead("c", {"lead-" + std::to_string(t) + "-" + std::to_string(i), "N"});
          return true;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t count = 0;
  store->Read([&](StoreTx& tx) { count = tx.ListLeads("c", {std::nullopt, 1000}).size(); });
  EXPECT_EQ(count, static_cast<size_t>(kThreads * kPerThread));
}

TEST(SqliteStore, WriteAsyncReportsAfterTheCommitWithoutWaiting) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "C", 0}, "hash"); });
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, committed = 0, rolled_back = 0, failed = 0;
  auto report = [&](bool ok, std::exception_ptr error) {
    std::lock_guard lock(mu);
    ++done;
    if (error) {
      ++failed;
    } else if (ok) {
      ++committed;
    } else {
      ++rolled_back;
    }
    cv.notify_all();
  };
  for (int i = 0; i < 20; ++i) {
    store->WriteAsync([i](StoreTx& tx) {
      tx.UpsertLead("c", {"lead-" + std::to_string(i), "N"});
      if (i == 7) throw StoreError("job 7 fails");
      return i != 3;  // job 3 asks for its rollback
    }, report);
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == 20; }));
  EXPECT_EQ(committed, 18);
  EXPECT_EQ(rolled_back, 1);
  EXPECT_EQ(failed, 1);
  std::vector<std::string> ids;
  store->Read([&](StoreTx& tx) {
    for (const auto& lead : tx.ListLeads("c", {std::nullopt, 100})) ids.push_back(lead.id);
  });
  EXPECT_EQ(ids.size(), 18u);  // by the time a job is reported, a reader sees its commit
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "lead-3"), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "lead-7"), 0);
}

TEST(SqliteStore, AFailedJobRollsBackAloneAndRethrows) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  EXPECT_FALSE(store->Write([](StoreTx& tx) {
    tx.UpsertLead("c", {"rolled-back", "N"});
    return false;
  }));
  EXPECT_THROW(store->Write([](StoreTx& tx) -> bool {
                 tx.UpsertLead("c", {"thrown", "N"});
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  EXPECT_TRUE(store->Write([](StoreTx& tx) {
    tx.UpsertLead("c", {"kept", "N"});
    return true;
  }));
  store->Read([](StoreTx& tx) {
    EXPECT_FALSE(tx.GetLead("c", "rolled-back"));
    EXPECT_FALSE(tx.GetLead("c", "thrown"));
    EXPECT_TRUE(tx.GetLead("c", "kept"));
  });
}

// Holds the store's writer in a job until Release (or destruction), so that the writes
// queued meanwhile are taken as one batch.
class WriterHold {
 public:
  explicit WriterHold(Store& store) {
    std::promise<void> holding;
    std::future<void> held = holding.get_future();
    store.WriteAsync([&holding, released = released_](StoreTx&) {
      holding.set_value();  // the last use of `holding`: the constructor is waiting for it
      released.wait();
      return true;
    }, [](bool, std::exception_ptr) {});
    held.wait();
  }
  ~WriterHold() { Release(); }
  void Release() {
    if (!released_called_) release_.set_value();
    released_called_ = true;
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool released_called_ = false;
};

// Jobs queued together share one transaction. They run without savepoints; when one fails
// the batch is rolled back and run again with a savepoint each, so the failed job leaves
// nothing, the others commit, and every answer comes from the run that committed.
TEST(SqliteStore, AFailedJobInAGroupCommitRollsBackAloneAndAnswersComeFromTheCommittedRun) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  WriterHold hold(*store);  // the writes queued meanwhile form one batch

  int runs_a = 0, runs_b = 0, runs_c = 0, runs_d = 0;
  std::string drawn_by_a, seen_by_b;
  std::vector<std::promise<std::pair<bool, bool>>> answers(4);  // ok, threw
  auto answer = [&](int i) {
    return [&answers, i](bool ok, std::exception_ptr error) { answers[i].set_value({ok, error != nullptr}); };
  };
  store->WriteAsync([&](StoreTx& tx) {
    ++runs_a;
    drawn_by_a = "lead-" + std::to_string(runs_a * 1000 + std::rand() % 1000);  // differs per run
    tx.UpsertLead("c", {drawn_by_a, "A"});
    return true;
  }, answer(0));
  store->WriteAsync([&](StoreTx& tx) {
    ++runs_b;
    auto leads = tx.ListLeads("c", {std::nullopt, 10});
    seen_by_b = leads.empty() ? "" : leads.front().id;
    tx.UpsertLead("c", {"rolled-back", "B"});
    return false;
  }, answer(1));
  store->WriteAsync([&](StoreTx& tx) -> bool {
    ++runs_c;
    tx.UpsertLead("c", {"thrown", "C"});
    throw std::runtime_error("boom");
  }, answer(2));
  store->WriteAsync([&](StoreTx& tx) {
    ++runs_d;
    tx.UpsertLead("c", {"kept", "D"});
    return true;
  }, answer(3));
  hold.Release();

  EXPECT_EQ(answers[0].get_future().get(), std::make_pair(true, false));
  EXPECT_EQ(answers[1].get_future().get(), std::make_pair(false, false));
  EXPECT_EQ(answers[2].get_future().get(), std::make_pair(false, true));
  EXPECT_EQ(answers[3].get_future().get(), std::make_pair(true, false));
  EXPECT_EQ(runs_a, 2);  // before the failure, then with savepoints
  EXPECT_EQ(runs_b, 2);
  EXPECT_EQ(runs_c, 1);  // the first run stopped at b
  EXPECT_EQ(runs_d, 1);
  EXPECT_EQ(seen_by_b, drawn_by_a);  // b's answer saw what a committed, not a's first draw
  store->Read([&](StoreTx& tx) {
    EXPECT_TRUE(tx.GetLead("c", drawn_by_a));
    EXPECT_EQ(tx.ListLeads("c", {std::nullopt, 10}).size(), 2u);  // a's lead and "kept"
    EXPECT_FALSE(tx.GetLead("c", "rolled-back"));
    EXPECT_FALSE(tx.GetLead("c", "thrown"));
    EXPECT_TRUE(tx.GetLead("c", "kept"));
  });
}

// Without a failure, each job of a batch runs once.
TEST(SqliteStore, JobsOfABatchWithoutFailuresRunOnce) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  WriterHold hold(*store);
  std::vector<int> runs(20, 0);
  std::vector<std::promise<bool>> done(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    store->WriteAsync([&, i](StoreTx& tx) {
      ++runs[i];
      tx.UpsertLead("c", {"lead-" + std::to_string(i), "N"});
      return true;
    }, [&, i](bool ok, std::exception_ptr) { done[i].set_value(ok); });
  }
  hold.Release();
  for (auto& d : done) EXPECT_TRUE(d.get_future().get());
  EXPECT_EQ(runs, std::vector<int>(runs.size(), 1));
}

// Waits (bounded) until the store has `n` jobs queued, running or waiting for their sync.
// Waits until `n` write jobs were put in the writer's queue since `before` (counted under the
// queue's lock: a job counted in `unanswered` may not be in the queue yet).
bool WaitQueued(const Store& store, const WriterCounters& before, std::uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store.Counters().queued - before.queued != n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// A job queued with its own savepoint undoes only itself when it fails, on the first run:
// the batch it shares commits without a second run.
TEST(SqliteStore, AJobWithItsOwnSavepointFailsAloneWithoutRunningItsBatchAgain) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  const WriterCounters before = store->Counters();
  WriterHold hold(*store);
  std::vector<int> runs(6, 0);
  std::vector<std::promise<std::pair<bool, bool>>> done(runs.size());  // ok, threw
  for (std::size_t i = 0; i < runs.size(); ++i) {
    store->WriteAsync([&, i](StoreTx& tx) -> bool {
      ++runs[i];
      tx.UpsertLead("c", {"lead-" + std::to_string(i), "N"});
      if (i == 4) throw StoreError("job 4 fails");
      return i != 1;  // job 1 asks for its rollback
    }, {.own_savepoint = i == 1 || i == 4}, [&, i](bool ok, std::exception_ptr error) {
      done[i].set_value({ok, error != nullptr});
    });
  }
  hold.Release();
  for (std::size_t i = 0; i < done.size(); ++i) {
    EXPECT_EQ(done[i].get_future().get(), std::make_pair(i != 1 && i != 4, i == 4)) << i;
  }
  EXPECT_EQ(runs, std::vector<int>(runs.size(), 1));
  const WriterCounters after = store->Counters();
  EXPECT_EQ(after.batch_reruns, before.batch_reruns);
  EXPECT_EQ(after.commits - before.commits, 2u);  // the held job's batch, then the six
  store->Read([](StoreTx& tx) {
    EXPECT_EQ(tx.ListLeads("c", {std::nullopt, 10}).size(), 4u);
    EXPECT_FALSE(tx.GetLead("c", "lead-1"));
    EXPECT_FALSE(tx.GetLead("c", "lead-4"));
  });
}

// Past max_queued_writes jobs unanswered, a refusable write is refused at once (nothing of it
// runs, `done` is never called); the store's own writes still queue. Once the writer has
// answered, refusable writes are taken again.
TEST(SqliteStore, RefusableWritesAreRefusedPastTheQueueBoundAndTheStoresOwnStillQueue) {
  TempDir dir;
  auto store = sqlite::OpenSqliteStore({.path = dir.File("db"), .max_queued_writes = 4});
  std::atomic<int> answered{0};
  auto count = [&](bool, std::exception_ptr) { ++answered; };
  auto write = [](std::string id) {
    return [id](StoreTx& tx) {
      tx.UpsertLead("c", {id, "N"});
      return true;
    };
  };
  {
    WriterHold hold(*store);  // the first of the four
    for (int i = 0; i < 3; ++i) store->WriteAsync(write("queued-" + std::to_string(i)), {.refuse_when_full = true}, count);
    EXPECT_EQ(store->Counters().unanswered, 4u);
    EXPECT_THROW(store->WriteAsync(write("refused"), {.refuse_when_full = true}, count), StoreOverloadedError);
    EXPECT_THROW(store->Write(write("refused-too"), {.refuse_when_full = true}), StoreOverloadedError);
    store->WriteAsync(write("own"), count);  // not refusable: queued past the bound
    store->LeaseAsync([](StoreTx&) { return true; }, count);  // lease jobs are not counted
    EXPECT_EQ(store->Counters().unanswered, 5u);
    EXPECT_EQ(store->Counters().refused, 2u);
  }
  // Three queued, "own" and the lease job; never the refused ones (counted out before
  // `done` runs).
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       answered.load() < 5 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::yield();
  }
  EXPECT_EQ(answered.load(), 5);
  EXPECT_EQ(store->Counters().unanswered, 0u);
  EXPECT_TRUE(store->Write(write("after"), {.refuse_when_full = true}));
  store->Read([](StoreTx& tx) {
    EXPECT_EQ(tx.ListLeads("c", {std::nullopt, 10}).size(), 5u);
    EXPECT_FALSE(tx.GetLead("c", "refused"));
    EXPECT_FALSE(tx.GetLead("c", "refused-too"));
  });
}

// One client whose writes are all refused (404 PATCH of a missing endpoint, an
// Idempotency-Key reused with another body, a 422 after a first write) must not slow the
// others: their requests share its group commit, which used to roll back and run again
// under savepoints for every refusal (halving the writer's throughput).
TEST(GroupCommit, AClientSendingOnly4xxLeavesTheOthersBatchGroupedAndRunOnce) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::FakeClock clock;
  const Company company{"c", "C", 0};
  constexpr Millis kWindow = 3'600'000;
  auto answer = [](int status) {
    http::Response r;
    r.status = status;
    return r;
  };
  auto keyed = [](std::string body) {
    return http::Request{"POST", "/v1/things", {{"idempotency-key", "key-1"}}, std::move(body), ""};
  };
  {
    const http::Request first = keyed("first");
    api::RouteContext ctx{first, {}, {}};
    ASSERT_EQ(api::WriteIdempotent(*store, clock, kWindow, ctx, company, [&](StoreTx& tx) {
      tx.UpsertLead("c", {"first", "F"});
      return answer(201);
    }).status, 201);
  }
  const WriterCounters before = store->Counters();
  WriterHold hold(*store);  // everything sent meanwhile queues as one batch
  constexpr int kGood = 24, kBad = 12;
  std::vector<int> runs(kGood, 0), statuses(kGood + kBad, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kGood + kBad; ++i) {
    clients.emplace_back([&, i] {
      http::Request request{"PUT", "/v1/leads/lead-" + std::to_string(i), {}, "{}", ""};
      api::WriteWork work = [&, i](StoreTx& tx) {
        ++runs[i];
        tx.UpsertLead("c", {"lead-" + std::to_string(i), "N"});
        return answer(201);
      };
      if (i >= kGood && i % 3 == 0) {
        request = {"PATCH", "/v1/endpoints/ep_missing", {}, R"({"description":"x"})", ""};
        work = [](StoreTx& tx) {
          return tx.GetEndpoint("c", "ep_missing") ? http::Response{}
                                                    : http::ErrorResponse(404, "not_found", "no such endpoint");
        };
      } else if (i >= kGood && i % 3 == 1) {
        request = keyed("another body");  // 409: the work never runs
        work = [](StoreTx&) -> http::Response { throw std::logic_error("a reused key ran its work"); };
      } else if (i >= kGood) {
        work = [&, i](StoreTx& tx) {
          tx.UpsertLead("c", {"refused-" + std::to_string(i), "N"});
          return http::ErrorResponse(422, "invalid", "refused after a write");
        };
      }
      api::RouteContext ctx{request, {}, {}};
      statuses[i] = api::WriteIdempotent(*store, clock, kWindow, ctx, company, std::move(work)).status;
    });
  }
  ASSERT_TRUE(WaitQueued(*store, before, 1 + kGood + kBad));
  hold.Release();
  for (auto& c : clients) c.join();

  for (int i = 0; i < kGood + kBad; ++i) {
    const int expected = i < kGood ? 201 : i % 3 == 0 ? 404 : i % 3 == 1 ? 409 : 422;
    EXPECT_EQ(statuses[i], expected) << i;
  }
  EXPECT_EQ(runs, std::vector<int>(kGood, 1));  // each good write ran once
  const WriterCounters after = store->Counters();
  EXPECT_EQ(after.batch_reruns - before.batch_reruns, 0u);
  EXPECT_EQ(after.commits - before.commits, 2u);  // the held job's, then all 36 together
  store->Read([&](StoreTx& tx) {
    EXPECT_EQ(tx.ListLeads("c", {std::nullopt, 100}).size(), 1u + kGood);  // "first" and the good
    for (int i = kGood; i < kGood + kBad; ++i) EXPECT_FALSE(tx.GetLead("c", "refused-" + std::to_string(i)));
  });
}

TEST(SqliteStore, DataSurvivesReopenAndMigrationsRunOnce) {
  TempDir dir;
  const std::string url = "sqlite:" + dir.File("db");
  {
    auto store = OpenStore(url);
    store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "C", 5}, "hash"); });
  }
  auto store = OpenStore(url);
  store->Read([](StoreTx& tx) {
    auto company = tx.FindCompanyByKeyHash("hash");
    ASSERT_TRUE(company);
    EXPECT_EQ(company->id, "c");
  });
  EXPECT_FALSE(store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "again", 5}, "other"); }));
}

// A database as a hookline of schema `version` left it, for upgrade tests.
std::unique_ptr<sqlite::Connection> DatabaseAtSchema(const std::string& path, int version) {
  auto db = std::make_unique<sqlite::Connection>(path, false);
  sqlite::RegisterMigrationFunctions(*db);
  db->Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
           "applied_at INTEGER NOT NULL)");
  for (const auto& m : sqlite::Migrations()) {
    if (m.version > version) break;
    db->Exec(m.sql);
    db->Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 'old', 0)");
  }
  return db;
}

// How many schema objects (tables, indexes) named `name` the database at `path` has.
std::int64_t SchemaObjects(const std::string& path, std::string_view name) {
  sqlite::Connection db(path, true);
  auto& count = db.Prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = ?1");
  count.Bind(1, name);
  const std::int64_t n = count.Step() ? count.Int(0) : -1;
  db.ResetStatements();
  return n;
}

// A database made by an older hookline (schema 4) upgrades in place: migration 5 flags the
// pending deliveries of per-lead endpoints, and only those, for the per-lead index.
TEST(SqliteStore, UpgradeFromSchema4FlagsPendingPerLeadDeliveries) {
  TempDir dir;
  const std::string path = dir.File("db");
  {
    auto db = DatabaseAtSchema(path, 4);
    db->Exec(
        "INSERT INTO endpoints (id, company_id, url, event_types, headers, secret_sealed, created_at, updated_at, "
        "ordering) VALUES ('ep_ordered', 'c', 'http://a.example', '[]', '{}', x'00', 0, 0, 'per_lead'), "
        "('ep_plain', 'c', 'http://b.example', '[]', '{}', x'00', 0, 0, 'none');"
        "INSERT INTO deliveries (event_id, endpoint_id, company_id, status, created_at, updated_at) VALUES "
        "('e1', 'ep_ordered', 'c', 'pending', 0, 0), ('e2', 'ep_ordered', 'c', 'succeeded', 0, 0), "
        "('e1', 'ep_plain', 'c', 'pending', 0, 0);");
  }
  OpenStore("sqlite:" + path).reset();
  sqlite::Connection db(path, true);
  auto& s = db.Prepare("SELECT event_id || '@' || endpoint_id FROM deliveries WHERE lead_ordered = 1");
  std::vector<std::string> flagged;
  while (s.Step()) flagged.push_back(s.Text(0));
  EXPECT_EQ(flagged, std::vector<std::string>{"e1@ep_ordered"});
  auto& v = db.Prepare("SELECT MAX(version) FROM schema_migrations");
  ASSERT_TRUE(v.Step());
  EXPECT_EQ(v.Int(0), sqlite::Migrations().back().version);
  db.ResetStatements();
}

// A database of schema 11 (stats read from the attempts) upgrades in place: the attempts of
// the newest day are counted into each endpoint's minutes, older ones are not.
TEST(SqliteStore, UpgradeFromSchema11CountsTheLastDaysAttemptsIntoStats) {
  TempDir dir;
  const std::string path = dir.File("db");
  constexpr Millis kDay = 86'400'000;
  const Millis newest = 40 * kDay + 123'456;
  {
    auto db = DatabaseAtSchema(path, 11);
    db->Exec(
        "INSERT INTO deliveries (id, event_id, endpoint_id, company_id, status, created_at, updated_at) VALUES "
        "(1, 'e1', 'ep_a', 'c', 'succeeded', 0, 0), (2, 'e2', 'ep_b', 'c', 'failed', 0, 0);");
    db->Exec(fmt::format(
        "INSERT INTO attempts (delivery_id, started_at, duration_ms, status_code, error, response_head) VALUES "
        "(1, {0}, 12, 200, NULL, ''), (1, {0} - 1000, 40, 503, NULL, ''), "
        "(1, {0} - {1} - 120000, 7, 200, NULL, ''), "  // over a day and a minute before: not counted
        "(2, {0} - 3600000, 1500, NULL, 'timeout', '');",
        newest, kDay));
  }
  auto store = OpenStore("sqlite:" + path);
  store->Read([&](StoreTx& tx) {
    const auto a = tx.GetEndpointStats("ep_a", 0);
    EXPECT_EQ(a.attempts, 2);
    EXPECT_EQ(a.succeeded, 1);
    EXPECT_EQ(a.p50_ms, 40);  // rank round(0.5) = 1 of 12, 40
    const auto b = tx.GetEndpointStats("ep_b", newest - kDay);
    EXPECT_EQ(b.attempts, 1);
    EXPECT_EQ(b.succeeded, 0);
    EXPECT_EQ(b.p99_ms, LatencyBucketValue(LatencyBucket(1500)));
  });
}

// A receiver database of schema 12, whose projections are keyed by lead alone (two companies'
// lead "rahul" merged into one), upgrades to projections keyed by company as well: migration
// 13 empties them and drops the checkpoint, and the projector (which a starting receiver
// runs at once) rebuilds them from the stored raw log, each company's apart.
TEST(SqliteStore, UpgradeFromSchema12RebuildsReceiverProjectionsPerCompany) {
  TempDir dir;
  const std::string path = dir.File("db");
  auto webhook = [](const std::string& company, const std::string& name, const std::string& reply) {
    return R"({"event":"message-replied","company_id":")" + company +
           R"(","timestamp":"2026-03-24T10:15:00.000Z","data":{"actionData":{"replay_message":")" + reply +
           R"("},"lead":{"id":"rahul","name":")" + name +
           R"(","latest_status":"Replied"},"campaign":{"id":"C","name":"Q1"},"sender":{"id":"S","name":"s"}}})";
  };
  {
    auto db = DatabaseAtSchema(path, 12);
    auto& insert = db->Prepare(
        "INSERT INTO received (id, source_id, dedupe_key, status, event, received_at, headers, body) "
        "VALUES (?1, 'src', ?1, 'accepted', 'message-replied', 0, '[]', ?2)");
    insert.Bind(1, "rcv_1").BindBlob(2, webhook("A", "Rahul A", "yes")).Run();
    insert.Reset().Bind(1, "rcv_2").BindBlob(2, webhook("B", "Rahul B", "no")).Run();
    db->ResetStatements();
    // What schema 12 made of them: one lead, one campaign, the replies of one lead.
    db->Exec(
        "INSERT INTO rx_leads (id, name, version) VALUES ('rahul', 'Rahul B', 'v');"
        "INSERT INTO rx_lead_campaigns (lead_id, campaign_id, latest_status, version, timeline, actions) "
        "VALUES ('rahul', 'C', 'Replied', 'v', '[[\"Message Replied\",1774347300000]]', 8);"
        "INSERT INTO rx_campaigns (id, name, campaign_type, total_leads, complete_end_of_sequence, version) "
        "VALUES ('C', 'Q1', 'linkedin', 0, 0, 'v');"
        "INSERT INTO rx_senders (id, name, email, version) VALUES ('S', 's', NULL, 'v');"
        "INSERT INTO rx_replies (lead_id, campaign_id, replied_at, channel, event, text, received_id) VALUES "
        "('rahul', 'C', 1774347300000, 'linkedin', 'message-replied', 'yes', 'rcv_1');"
        "INSERT INTO projection_state (name, last_seq) VALUES ('receiver', 2);");
  }
  auto store = OpenStore("sqlite:" + path);
  store->Read([](StoreTx& tx) {
    EXPECT_EQ(tx.ProjectionCheckpoint(), 0);
    EXPECT_EQ(tx.CountAcceptedAfter(0), 2);  // the raw log is kept
    EXPECT_EQ(tx.CountProjectedLeads(std::nullopt), 0);
    EXPECT_EQ(tx.CountReplies(std::nullopt, std::nullopt), 0);
  });
  receiver::Projector projector(*store);
  EXPECT_EQ(projector.CatchUp(), 2);
  store->Read([](StoreTx& tx) {
    EXPECT_EQ(tx.ProjectionCheckpoint(), 2);
    std::vector<std::string> leads;
    for (const auto& row : tx.ListProjectedLeads(std::nullopt, std::nullopt, {})) {
      leads.push_back(row.company_id + "/" + row.lead.name);
    }
    EXPECT_EQ(leads, (std::vector<std::string>{"A/Rahul A", "B/Rahul B"}));
    for (const char* company : {"A", "B"}) {
      EXPECT_EQ(tx.CountProjectedLeadsWithAction(company, "C", {"Message Replied"}), 1) << company;
      const auto replies = tx.ListReplies(company, std::nullopt, 10, std::nullopt);
      ASSERT_EQ(replies.size(), 1u) << company;
      EXPECT_EQ(replies[0].text, std::string(company) == "A" ? "yes" : "no");
    }
    EXPECT_EQ(tx.CompaniesWithProjectedCampaign("C"), (std::vector<std::string>{"A", "B"}));
  });
}

// A receiver database of schema 6 (a row per timeline entry) upgrades in place: migration 7
// folds each lead's entries in a campaign into its row's timeline, oldest first, with the
// catalog actions as bits; an entry without a status row gets one; the funnel counts what it
// counted before. (Migration 13 then rebuilds the projections from the raw log: checked here
// at schema 12, where migration 7's rows still are.)
TEST(SqliteStore, UpgradeFromSchema6FoldsTimelineEntriesIntoEnrollmentRows) {
  TempDir dir;
  const std::string path = dir.File("db");
  {
    auto db = DatabaseAtSchema(path, 6);
    db->Exec(
        "INSERT INTO rx_lead_campaigns (lead_id, campaign_id, latest_status, version) VALUES "
        "('L1', 'C', 'Replied', 'v9'), ('L2', 'C', 'Contacted', 'v1'), ('L3', 'C', NULL, 'v1');"
        "INSERT INTO rx_activity (lead_id, campaign_id, action, action_time) VALUES "
        "('L1', 'C', 'Message Replied', 300), ('L1', 'C', 'Send connection request', 100), "
        "('L1', 'C', 'Invite Accepted', 200), ('L1', 'C', 'Custom Step', 250), "
        "('L2', 'C', 'InMail', 50), ('L4', 'C', 'Send Message', 70);");
    for (const auto& m : sqlite::Migrations()) {
      if (m.version > 6 && m.version <= 12) db->Exec(m.sql);
    }
  }
  sqlite::Connection db(path, true);
  auto rows = [&](const std::string& sql) {
    std::vector<std::string> out;
    auto& s = db.Prepare(sql);
    while (s.Step()) out.push_back(s.Text(0));
    db.ResetStatements();
    return out;
  };
  EXPECT_EQ(rows("SELECT lead_id || ' ' || coalesce(latest_status, '-') || ' ' || version || ' ' || timeline || ' ' || "
                 "actions FROM rx_lead_campaigns ORDER BY lead_id"),
            (std::vector<std::string>{
                R"(L1 Replied v9 [["Send connection request",100],["Invite Accepted",200],["Custom Step",250],)"
                R"(["Message Replied",300]] 11)",
                R"(L2 Contacted v1 [["InMail",50]] 16)",
                "L3 - v1 [] 0",
                R"(L4 -  [["Send Message",70]] 4)"}));  // had entries but no status row
  EXPECT_EQ(SchemaObjects(path, "rx_activity"), 0);
}

// A provider database of schema 7 (a row per activity) upgrades in place: each
// enrollment's activities become its history, by time with ties in arrival order, with the
// catalog actions as bits; enrollments without activity keep an empty one; the funnel and
// the campaign's activity check answer what they answered before; later activities append.
TEST(SqliteStore, UpgradeFromSchema7FoldsActivitiesIntoEnrollmentRows) {
  TempDir dir;
  const std::string path = dir.File("db");
  {
    auto db = DatabaseAtSchema(path, 7);
    db->Exec(
        "INSERT INTO enrollments (company_id, campaign_id, lead_id, latest_status, enrolled_at) VALUES "
        "('c', 'C', 'L1', 'Replied', 1), ('c', 'C', 'L2', 'Contacted', 2), ('c', 'C', 'L3', NULL, 3), "
        "('c', 'D', 'L1', NULL, 4);"
        "INSERT INTO activities (company_id, campaign_id, lead_id, action, action_time, event_id) VALUES "
        "('c', 'C', 'L1', 'Message Replied', 300, 'm1'), ('c', 'C', 'L1', 'Send connection request', 100, 'm2'), "
        "('c', 'C', 'L1', 'Invite Accepted', 200, 'm3'), ('c', 'C', 'L1', 'Send Message', 200, 'm4'), "
        "('c', 'C', 'L2', 'InMail', 50, 'm5');");
  }
  auto store = OpenStore("sqlite:" + path);
  store->Read([](StoreTx& tx) {
    auto l1 = tx.GetEnrollment("c", "C", "L1");
    ASSERT_TRUE(l1);
    EXPECT_EQ(l1->latest_status, "Replied");
    EXPECT_EQ(l1->activity, (std::vector<model::Activity>{{"Send connection request", 100}, {"Invite Accepted", 200},
                                                          {"Send Message", 200}, {"Message Replied", 300}}));
    EXPECT_TRUE(tx.GetEnrollment("c", "C", "L3")->activity.empty());
    EXPECT_EQ(tx.CountLeadsWithAction("c", "C", {"Send Message", "InMail"}), 2);
    EXPECT_EQ(tx.CountLeadsWithAction("c", "C", {"Invite Accepted"}), 1);
    EXPECT_EQ(tx.CountLeadsWithAction("c", "C", {"Mail Replied"}), 0);
    EXPECT_TRUE(tx.CampaignHasActivity("c", "C"));
    EXPECT_FALSE(tx.CampaignHasActivity("c", "D"));
    auto of_lead = tx.ListEnrollmentsOfLead("c", "L1");
    ASSERT_EQ(of_lead.size(), 2u);
    EXPECT_EQ(of_lead[0].activity.size(), 4u);
    EXPECT_TRUE(of_lead[1].activity.empty());
  });
  store->Write([](StoreTx& tx) {
    tx.AppendActivity("c", "C", "L1", {"Send Email", 150}, "m6", "Emailed");
    return true;
  });
  store->Read([](StoreTx& tx) {
    EXPECT_EQ(tx.GetEnrollment("c", "C", "L1")->activity.at(1), (model::Activity{"Send Email", 150}));
    EXPECT_EQ(tx.CountLeadsWithAction("c", "C", {"Send Email"}), 1);
  });
  store.reset();
  EXPECT_EQ(SchemaObjects(path, "activities"), 0);
}

// The provider's funnel: counts by bits (catalog actions) and by the histories (any other
// label) agree with a count by hand; an enrollment without activity counts for nothing and
// a campaign has activity once any of its enrollments has some.
TEST(SqliteStore, ProviderFunnelCountsLeadsWithAnyOfTheActions) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  const std::vector<std::string> labels = {"Send Email", "Email Opened", "Mail Replied", "Custom Step"};
  std::vector<std::vector<model::Activity>> histories;
  store->Write([&](StoreTx& tx) {
    tx.UpsertCampaign("c", {"C", "Camp", model::Channel::kEmail, 0, 0});
    tx.UpsertCampaign("c", {"quiet", "Quiet", model::Channel::kEmail, 0, 0});
    EXPECT_FALSE(tx.CampaignHasActivity("c", "C"));
    for (int lead = 0; lead < 16; ++lead) {  // every subset of the four labels, one lead each
      const std::string id = "L" + std::to_string(lead);
      tx.UpsertLead("c", {id, "N"});
      tx.Enroll("c", "C", id, 1);
      tx.Enroll("c", "quiet", id, 1);
      std::vector<model::Activity> history;
      for (int i = 0; i < 4; ++i) {
        if (lead & (1 << i)) history.push_back({labels[static_cast<std::size_t>(i)], 100 + i});
      }
      for (const auto& a : history) tx.AppendActivity("c", "C", id, a, "m", std::nullopt);
      histories.push_back(history);
    }
    return true;
  });
  store->Read([&](StoreTx& tx) {
    for (int set = 1; set < 16; ++set) {
      std::vector<std::string> actions;
      for (int i = 0; i < 4; ++i) {
        if (set & (1 << i)) actions.push_back(labels[static_cast<std::size_t>(i)]);
      }
      std::int64_t by_hand = 0;
      for (const auto& history : histories) {
        by_hand += std::any_of(history.begin(), history.end(), [&](const model::Activity& a) {
          return std::find(actions.begin(), actions.end(), a.action) != actions.end();
        });
      }
      EXPECT_EQ(tx.CountLeadsWithAction("c", "C", actions), by_hand) << set;
      EXPECT_EQ(tx.CountLeadsWithAction("c", "quiet", actions), 0) << set;
    }
    EXPECT_TRUE(tx.CampaignHasActivity("c", "C"));
    EXPECT_FALSE(tx.CampaignHasActivity("c", "quiet"));
  });
}

// The funnel's count by bits (catalog actions) and by the timelines themselves (any other
// label) agree with a count by hand over what was written.
TEST(SqliteStore, ProjectedFunnelCountsLeadsWithAnyOfTheActions) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  const std::vector<std::string> labels = {"Send Message", "InMail", "Message Replied", "Custom Step"};
  std::vector<std::vector<model::Activity>> timelines;
  store->Write([&](StoreTx& tx) {
    for (int lead = 0; lead < 16; ++lead) {  // every subset of the four labels, one lead each
      ProjectedEnrollment e;
      e.version = "v";
      for (int i = 0; i < 4; ++i) {
        if (lead & (1 << i)) e.timeline.push_back({labels[static_cast<std::size_t>(i)], 100 + i});
      }
      tx.PutProjectedEnrollment("c", "L" + std::to_string(lead), "C", e);
      timelines.push_back(e.timeline);
    }
    tx.PutProjectedEnrollment("c", "L0", "other", {std::nullopt, "v", {{"Send Message", 1}}});
    // Another company's lead in a campaign of the same id: counted in its own funnel only.
    tx.PutProjectedEnrollment("d", "L0", "C", {std::nullopt, "v", {{"Send Message", 1}, {"Custom Step", 2}}});
    return true;
  });
  store->Read([&](StoreTx& tx) {
    for (int set = 1; set < 16; ++set) {
      std::vector<std::string> actions;
      for (int i = 0; i < 4; ++i) {
        if (set & (1 << i)) actions.push_back(labels[static_cast<std::size_t>(i)]);
      }
      std::int64_t by_hand = 0;
      for (const auto& timeline : timelines) {
        by_hand += std::any_of(timeline.begin(), timeline.end(), [&](const model::Activity& a) {
          return std::find(actions.begin(), actions.end(), a.action) != actions.end();
        });
      }
      EXPECT_EQ(tx.CountProjectedLeadsWithAction("c", "C", actions), by_hand) << set;
    }
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("d", "C", {"Send Message"}), 1);
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("d", "C", {"Custom Step"}), 1);
    EXPECT_EQ(tx.CountProjectedLeadsWithAction("d", "C", {"InMail"}), 0);
  });
}

// Every combination of the event list's filters, and its cursor, against a filter applied
// by hand over the same events (the lead, campaign and cursor conditions take different
// statements, so each combination is its own query).
TEST(SqliteStore, EventListFiltersAndCursorAgreeWithAFilterByHand) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  std::vector<EventRecord> all;
  store->Write([&](StoreTx& tx) {
    for (int i = 0; i < 60; ++i) {
      EventRecord e;
      e.id = "msg_" + std::to_string(i);
      e.company_id = i % 10 == 9 ? "other" : "c";
      e.event = i % 2 ? "invite-sent" : "message-sent";
      e.lead_id = "lead-" + std::to_string(i % 3);
      e.campaign_id = "camp-" + std::to_string(i % 4);
      e.sender_id = "s";
      e.occurred_at = 1000 + i;
      e.payload = "{}";
      tx.InsertEvent(e);
      all.push_back(e);
    }
    return true;
  });
  for (const std::optional<std::string>& lead : {std::optional<std::string>{}, std::optional<std::string>{"lead-1"}}) {
    for (const std::optional<std::string>& campaign : {std::optional<std::string>{}, std::optional<std::string>{"camp-1"}}) {
      for (const std::optional<std::int64_t>& before : {std::optional<std::int64_t>{}, std::optional<std::int64_t>{40}}) {
        std::vector<std::string> expected;
        for (auto it = all.rbegin(); it != all.rend(); ++it) {
          if (it->company_id != "c" || (lead && it->lead_id != *lead) || (campaign && it->campaign_id != *campaign) ||
              (before && it->seq >= *before) || it->event != "invite-sent") {
            continue;
          }
          if (expected.size() < 5) expected.push_back(it->id);
        }
        EXPECT_FALSE(expected.empty());  // every combination matches something
        std::vector<std::string> got;
        store->Read([&](StoreTx& tx) {
          for (const auto& e : tx.ListEvents({.company_id = "c", .event = "invite-sent", .lead_id = lead,
                                              .campaign_id = campaign, .before_seq = before, .limit = 5})) {
            got.push_back(e.id);
          }
        });
        EXPECT_EQ(got, expected) << lead.value_or("-") << " " << campaign.value_or("-") << " " << before.value_or(-1);
      }
    }
  }
}

// Paging the raw log and the replies with a cursor (and `since`) visits each row once, in
// order, the same as one unpaged read: the cursor conditions are index ranges now.
TEST(SqliteStore, RawLogAndRepliesPageThroughEveryRowOnce) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([&](StoreTx& tx) {
    for (int i = 0; i < 25; ++i) {
      ReceivedRecord r;
      r.id = "rcv_" + std::to_string(i);
      r.source_id = i % 2 ? "a" : "b";
      r.dedupe_key = "k" + std::to_string(i);
      r.status = "accepted";
      r.received_at = 1000 + i;
      r.body = "{}";
      tx.InsertReceived(r);
      // Replies with repeated times, so the cursor's tie-break columns matter.
      // Two companies with the same lead and campaign ids: their replies of the same second
      // are different rows.
      tx.AddReply({"lead-" + std::to_string(i % 4), "camp", 5000 + i / 3, "email", "email-replied", "t", r.id,
                   i % 5 == 0 ? "B" : "A"});
    }
    return true;
  });
  auto page_received = [&](std::optional<std::string> source, std::optional<Millis> since) {
    std::vector<std::string> ids;
    ReceivedFilter filter{.source_id = source, .since = since, .limit = 4};
    for (;;) {
      std::vector<ReceivedRecord> page;
      store->Read([&](StoreTx& tx) { page = tx.ListReceived(filter); });
      for (const auto& r : page) ids.push_back(r.id);
      if (page.size() < 4) return ids;
      filter.after_seq = page.back().seq;
    }
  };
  auto unpaged_received = [&](std::optional<std::string> source, std::optional<Millis> since) {
    std::vector<std::string> ids;
    store->Read([&](StoreTx& tx) {
      for (const auto& r : tx.ListReceived({.source_id = source, .since = since, .limit = 1000})) ids.push_back(r.id);
    });
    return ids;
  };
  EXPECT_EQ(page_received(std::nullopt, std::nullopt).size(), 25u);
  EXPECT_EQ(page_received(std::nullopt, std::nullopt), unpaged_received(std::nullopt, std::nullopt));
  EXPECT_EQ(page_received("a", 1010), unpaged_received("a", 1010));
  EXPECT_EQ(page_received("a", 1010).size(), 7u);  // 11, 13, ..., 23

  auto page_replies = [&](std::optional<Millis> since, std::optional<std::string> company = std::nullopt) {
    std::vector<std::string> ids;
    std::optional<ReplyRecord> after;
    for (;;) {
      std::vector<ReplyRecord> page;
      store->Read([&](StoreTx& tx) { page = tx.ListReplies(company, since, 3, after); });
      for (const auto& r : page) ids.push_back(r.received_id);
      if (page.size() < 3) return ids;
      after = page.back();
    }
  };
  std::vector<std::string> all_replies;
  store->Read([&](StoreTx& tx) {
    for (const auto& r : tx.ListReplies(std::nullopt, std::nullopt, 1000, std::nullopt)) all_replies.push_back(r.received_id);
  });
  EXPECT_EQ(all_replies.size(), 25u);
  EXPECT_EQ(page_replies(std::nullopt), all_replies);
  std::vector<std::string> since_replies;
  store->Read([&](StoreTx& tx) {
    for (const auto& r : tx.ListReplies(std::nullopt, 5004, 1000, std::nullopt)) since_replies.push_back(r.received_id);
  });
  EXPECT_EQ(since_replies.size(), 13u);  // replied_at 5004..5008: i = 12..24
  EXPECT_EQ(page_replies(5004), since_replies);
  // One company's: the same order, the other company's left out.
  for (const char* company : {"A", "B"}) {
    std::vector<std::string> of_company;
    for (const auto& id : since_replies) {
      if ((std::stoi(id.substr(4)) % 5 == 0) == (std::string(company) == "B")) of_company.push_back(id);
    }
    EXPECT_EQ(page_replies(5004, company), of_company) << company;
    store->Read([&](StoreTx& tx) {
      EXPECT_EQ(tx.CountReplies(company, 5004), static_cast<std::int64_t>(of_company.size())) << company;
    });
  }
  EXPECT_EQ(page_replies(std::nullopt, "C").size(), 0u);
}

// Requeueing by event, by endpoint, by both or by neither (each its own statement now)
// touches exactly the deliveries the filter names, within the company.
// A list of the raw log without bodies reads neither the bodies nor the headers, only the
// bodies' sizes; with them (the default), everything.
TEST(SqliteStore, RawLogListedWithoutBodiesReadsOnlyTheirSize) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) {
    ReceivedRecord r{.id = "rcv_1", .source_id = "src", .dedupe_key = "k1", .status = "accepted",
                     .headers = {{"webhook-id", "msg_1"}}, .body = std::string(5'000, 'b')};
    tx.InsertReceived(r);
    return true;
  });
  store->Read([](StoreTx& tx) {
    const auto summary = tx.ListReceived({.bodies = false});
    ASSERT_EQ(summary.size(), 1u);
    EXPECT_EQ(summary[0].id, "rcv_1");
    EXPECT_EQ(summary[0].body_bytes, 5'000);
    EXPECT_TRUE(summary[0].body.empty());
    EXPECT_TRUE(summary[0].headers.empty());
    const auto full = tx.ListReceived({});
    ASSERT_EQ(full.size(), 1u);
    EXPECT_EQ(full[0].body, std::string(5'000, 'b'));
    EXPECT_EQ(full[0].body_bytes, 5'000);
    EXPECT_EQ(full[0].headers, (HeaderList{{"webhook-id", "msg_1"}}));
  });
}

TEST(SqliteStore, RequeueTouchesExactlyTheFilteredDeliveries) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([&](StoreTx& tx) {
    for (const char* company : {"c", "other"}) {
      for (int ep = 0; ep < 3; ++ep) {
        EndpointRecord e;
        e.id = std::string(company) + "-ep" + std::to_string(ep);
        e.company_id = company;
        e.url = "http://127.0.0.1:9/";
        e.secret_sealed = "x";
        tx.InsertEndpoint(e);
        for (int ev = 0; ev < 4; ++ev) {
          DeliveryRecord d;
          d.event_id = std::string(company) + "-msg" + std::to_string(ev);
          d.endpoint_id = e.id;
          d.company_id = company;
          d.status = DeliveryStatus::kFailed;
          d.created_at = 100 * ev;
          tx.InsertDelivery(d);
        }
      }
    }
    return true;
  });
  auto requeue = [&](std::optional<std::string> event, std::optional<std::string> endpoint,
                     std::optional<Millis> since = std::nullopt) {
    int changed = 0;
    store->Write([&](StoreTx& tx) {
      changed = tx.RequeueDeliveries({.company_id = "c", .event_id = event, .endpoint_id = endpoint,
                                      .statuses = {DeliveryStatus::kFailed}, .since = since},
                                     1000);
      return false;  // each case starts from the same state
    });
    return changed;
  };
  EXPECT_EQ(requeue("c-msg1", std::nullopt), 3);
  EXPECT_EQ(requeue(std::nullopt, "c-ep2"), 4);
  EXPECT_EQ(requeue("c-msg1", "c-ep2"), 1);
  EXPECT_EQ(requeue(std::nullopt, std::nullopt), 12);
  EXPECT_EQ(requeue(std::nullopt, std::nullopt, 200), 6);
  EXPECT_EQ(requeue("other-msg1", std::nullopt), 0);  // another company's event
  EXPECT_EQ(requeue(std::nullopt, "other-ep0"), 0);
}

TEST(SqliteStore, EnrollmentKeepsCampaignCounters) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) {
    tx.UpsertCampaign("c", {"camp", "Camp", model::Channel::kEmail, 0, 0});
    for (int i = 0; i < 5; ++i) {
      tx.UpsertLead("c", {"l" + std::to_string(i), "N"});
      EXPECT_TRUE(tx.Enroll("c", "camp", "l" + std::to_string(i), 1));
    }
    EXPECT_FALSE(tx.Enroll("c", "camp", "l0", 2));  // already enrolled: no double count
    EXPECT_TRUE(tx.MarkCompleted("c", "camp", "l1", 3));
    EXPECT_FALSE(tx.MarkCompleted("c", "camp", "l1", 4));
    EXPECT_FALSE(tx.MarkCompleted("c", "camp", "nobody", 4));
    return true;
  });
  store->Read([](StoreTx& tx) {
    auto campaign = tx.GetCampaign("c", "camp");
    EXPECT_EQ(campaign->total_leads, 5);
    EXPECT_EQ(campaign->complete_end_of_sequence, 1);
    EXPECT_FALSE(tx.GetCampaign("other-company", "camp"));  // tenants are separate
  });
}

TEST(SqliteStore, ActivityHistoryIsOldestFirst) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) {
    tx.UpsertCampaign("c", {"camp", "Camp", model::Channel::kLinkedin, 0, 0});
    tx.UpsertLead("c", {"l", "N"});
    tx.Enroll("c", "camp", "l", 1);
    tx.AppendActivity("c", "camp", "l", {"B", 200}, "msg_b", "S2");
    tx.AppendActivity("c", "camp", "l", {"A", 100}, "msg_a", "S1");
    tx.AppendActivity("c", "camp", "l", {"C", 200}, "msg_c", "S3");
    return true;
  });
  store->Read([](StoreTx& tx) {
    auto e = tx.GetEnrollment("c", "camp", "l");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->activity, (std::vector<model::Activity>{{"A", 100}, {"B", 200}, {"C", 200}}));
    EXPECT_EQ(e->latest_status, "S3");
  });
}

// The last event of a kind in one enrollment: latest by time (ties: the later recorded),
// never another campaign's or another lead's.
TEST(SqliteStore, LastEventOfIsTheLatestOfItsKindInTheEnrollment) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) {
    auto add = [&](std::string id, std::string event, std::string campaign, std::string lead, Millis at) {
      EventRecord e;
      e.id = std::move(id);
      e.company_id = "c";
      e.event = std::move(event);
      e.campaign_id = std::move(campaign);
      e.lead_id = std::move(lead);
      e.sender_id = "s";
      e.occurred_at = at;
      e.payload = "{}";
      tx.InsertEvent(e);
    };
    add("m1", "email-sent", "C", "L", 300);
    add("m2", "email-sent", "C", "L", 500);
    add("m3", "email-sent", "C", "L", 400);   // recorded later, happened earlier
    add("m4", "email-opened", "C", "L", 900);
    add("m5", "email-sent", "D", "L", 800);   // another campaign
    add("m6", "email-sent", "C", "L2", 700);  // another lead
    add("m7", "email-sent", "E", "L", 100);
    add("m8", "email-sent", "E", "L", 100);   // a tie: the later recorded
    return true;
  });
  store->Read([](StoreTx& tx) {
    EXPECT_EQ(tx.LastEventOf("c", "C", "L", "email-sent")->id, "m2");
    EXPECT_EQ(tx.LastEventOf("c", "D", "L", "email-sent")->id, "m5");
    EXPECT_EQ(tx.LastEventOf("c", "E", "L", "email-sent")->id, "m8");
    EXPECT_EQ(tx.LastEventOf("c", "C", "L2", "email-sent")->id, "m6");
    EXPECT_FALSE(tx.LastEventOf("c", "C", "L", "email-replied"));
    EXPECT_FALSE(tx.LastEventOf("other", "C", "L", "email-sent"));
  });
}

// ep_1 of kCompany, every event type, at an address nothing listens on.
void InsertEndpointOne(StoreTx& tx) {
  EndpointRecord ep;
  ep.id = "ep_1";
  ep.company_id = kCompany;
  ep.url = "http://127.0.0.1:9/";
  ep.secret_sealed = "sealed";
  tx.InsertEndpoint(ep);
}

TEST(SqliteStore, ClaimsLeaseDueDeliveriesOnce) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  store->Write([](StoreTx& tx) {
    InsertEndpointOne(tx);
    auto recorded = provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000);
    EXPECT_EQ(std::get<provider::RecordedActivity>(recorded).deliveries, 1);
    return true;
  });
  std::vector<ClaimedDelivery> first, second, after_lease;
  store->Write([&](StoreTx& tx) {
    first = tx.ClaimDueDeliveries(1000, 5000, {.limit = 10});
    second = tx.ClaimDueDeliveries(1000, 5000, {.limit = 10});
    after_lease = tx.ClaimDueDeliveries(5000, 9000, {.limit = 10});
    return true;
  });
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(second.empty());       // leased
  EXPECT_EQ(after_lease.size(), 1u); // the lease ran out: another worker may take it
  EXPECT_EQ(first[0].url, "http://127.0.0.1:9/");
  EXPECT_FALSE(first[0].payload.empty());

  store->Write([&](StoreTx& tx) {
    tx.RecordAttempt({0, first[0].delivery_id, 5000, 3, 500, std::nullopt, "oops"},
                     {first[0].delivery_id, DeliveryStatus::kPending, 1, 7000, 5003});
    EXPECT_TRUE(tx.ClaimDueDeliveries(6999, 20000, {.limit = 10}).empty());  // not yet due
    EXPECT_EQ(tx.NextDueAt(), 7000);
    EXPECT_EQ(tx.ClaimDueDeliveries(7000, 20000, {.limit = 10}).size(), 1u);
    tx.DisableEndpoint("ep_1", "test", 7000);
    tx.ReleaseAllLeases();
    EXPECT_TRUE(tx.ClaimDueDeliveries(7000, 20000, {.limit = 10}).empty());  // disabled endpoints wait
    EXPECT_EQ(tx.NextDueAt(), std::nullopt);  // and so are not due: nothing would claim them
    return true;
  });
}

// Regression: an answer updated its delivery unconditionally, so a second copy's failure
// (sent after a lost lease) undid a recorded success. The attempt is logged; the delivery
// moves only while pending.
TEST(SqliteStore, AnAnswerMovesOnlyAPendingDelivery) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  store->Write([](StoreTx& tx) {
    InsertEndpointOne(tx);
    provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000);
    return true;
  });
  std::vector<ClaimedDelivery> claimed;
  store->LeaseAsync([&](StoreTx& tx) {
    claimed = tx.ClaimDueDeliveries(1000, 5000, {.limit = 1});
    return true;
  }, [](bool, std::exception_ptr) {});
  store->Write([](StoreTx&) { return true; });  // after the lease job
  ASSERT_EQ(claimed.size(), 1u);
  const std::int64_t id = claimed[0].delivery_id;
  bool moved = false;
  auto record = [&](std::optional<int> code, DeliveryStatus status) {
    store->Write([&](StoreTx& tx) {
      AttemptRecord a;
      a.delivery_id = id;
      a.started_at = 2000;
      a.status_code = code;
      DeliveryUpdate u;
      u.delivery_id = id;
      u.status = status;
      u.attempts = 1;
      u.next_attempt_at = status == DeliveryStatus::kPending ? std::optional<Millis>(9000) : std::nullopt;
      u.now = 2000;
      moved = tx.RecordAttempt(a, u);
      return true;
    });
  };
  record(200, DeliveryStatus::kSucceeded);
  EXPECT_TRUE(moved);
  record(500, DeliveryStatus::kPending);  // the second copy's answer
  EXPECT_FALSE(moved);
  store->Read([&](StoreTx& tx) {
    auto deliveries = tx.ListDeliveriesOfEvent(kCompany, claimed[0].event_id);
    ASSERT_EQ(deliveries.size(), 1u);
    EXPECT_EQ(deliveries[0].status, DeliveryStatus::kSucceeded);
    EXPECT_EQ(tx.ListAttempts(id).size(), 2u);
  });
}

// One process owns a SQLite database's leases: a renewal extends a lease that is held, and
// takes again one that ran out (its delivery is still held by this process's dispatcher).
TEST(SqliteStore, RenewLeasesExtendsAndRetakesTheLeasesOfThisProcess) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  store->Write([](StoreTx& tx) {
    InsertEndpointOne(tx);
    for (int i = 0; i < 3; ++i) provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000);
    return true;
  });
  std::vector<ClaimedDelivery> claimed;
  std::vector<std::int64_t> lost, late;
  store->LeaseAsync([&](StoreTx& tx) {
    claimed = tx.ClaimDueDeliveries(1000, 5000, {.limit = 2});
    return true;
  }, [](bool, std::exception_ptr) {});
  store->Write([&](StoreTx& tx) {
    [&] { ASSERT_EQ(claimed.size(), 2u); }();
    if (claimed.size() != 2) return true;
    lost = tx.RenewLeases({claimed[0].delivery_id}, 3000, 9000);
    // Renewed: only the third delivery and claimed[1] (ran out at 5000) are claimable at 6000.
    EXPECT_EQ(tx.ClaimDueDeliveries(6000, 7000, {.limit = 10}).size(), 2u);
    late = tx.RenewLeases({claimed[0].delivery_id}, 10000, 20000);  // ran out at 9000: taken again
    for (const auto& c : tx.ClaimDueDeliveries(11000, 12000, {.limit = 10})) {
      EXPECT_NE(c.delivery_id, claimed[0].delivery_id);  // leased to 20000 again
    }
    return true;
  });
  EXPECT_TRUE(lost.empty());
  EXPECT_TRUE(late.empty());
}

// An endpoint's stats read its own per-minute counts from the minute holding `since` on,
// and no other endpoint's; counts a day older than the newest are dropped, and a deleted
// endpoint's go with it.
TEST(SqliteStore, EndpointStatsReadTheEndpointsMinutesSinceATime) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  constexpr Millis kMinute = kStatsMinute;
  constexpr Millis kDay = 24 * 60 * kMinute;
  store->Write([&](StoreTx& tx) {
    InsertEndpointOne(tx);
    EndpointRecord two;
    two.id = "ep_2";
    two.company_id = kCompany;
    two.url = "http://127.0.0.1:9/two";
    two.secret_sealed = "sealed";
    tx.InsertEndpoint(two);
    std::vector<LatencyCount> one;
    CountAttempt(one, 10 * kMinute, 30, false);
    CountAttempt(one, 11 * kMinute + 5, 10, true);
    tx.AddEndpointStats("ep_1", one);
    std::vector<LatencyCount> other;
    CountAttempt(other, 10 * kMinute, 70, true);
    CountAttempt(other, 10 * kMinute, 80, true);
    tx.AddEndpointStats("ep_2", other);
    return true;
  });
  store->Write([&](StoreTx& tx) {  // a later batch adds to the same minute and bucket
    std::vector<LatencyCount> more;
    CountAttempt(more, 11 * kMinute + 900, 10, true);
    tx.AddEndpointStats("ep_1", more);
    return true;
  });
  store->Read([&](StoreTx& tx) {
    const auto one = tx.GetEndpointStats("ep_1", 10 * kMinute);
    EXPECT_EQ(one.attempts, 3);
    EXPECT_EQ(one.succeeded, 2);
    EXPECT_EQ(one.p50_ms, 10);  // of 10, 10 and 30
    EXPECT_EQ(one.p99_ms, 30);
    EXPECT_EQ(tx.GetEndpointStats("ep_1", 11 * kMinute + 59'999).attempts, 2);  // its whole minute
    EXPECT_EQ(tx.GetEndpointStats("ep_1", 12 * kMinute).attempts, 0);
    const auto two = tx.GetEndpointStats("ep_2", 0);
    EXPECT_EQ(two.attempts, 2);
    EXPECT_EQ(two.succeeded, 2);
    EXPECT_EQ(two.p50_ms, LatencyBucketValue(LatencyBucket(80)));  // 81: 80-83 share a bucket
    EXPECT_EQ(two.p99_ms, two.p50_ms);
  });
  store->Write([&](StoreTx& tx) {
    std::vector<LatencyCount> next_day;
    CountAttempt(next_day, 11 * kMinute + kDay, 20, true);
    tx.AddEndpointStats("ep_1", next_day);
    return true;
  });
  store->Read([&](StoreTx& tx) {
    EXPECT_EQ(tx.GetEndpointStats("ep_1", 0).attempts, 3);  // minute 10 went, 11 is kept
    EXPECT_EQ(tx.GetEndpointStats("ep_2", 0).attempts, 2);  // another endpoint's are its own
  });
  store->Write([](StoreTx& tx) { return tx.DeleteEndpoint(kCompany, "ep_1", 5000); });
  sqlite::Connection db(dir.File("db"), true);
  auto& left = db.Prepare("SELECT COUNT(*) FROM endpoint_stats WHERE endpoint_id = 'ep_1'");
  ASSERT_TRUE(left.Step());
  EXPECT_EQ(left.Int(0), 0);
  db.ResetStatements();
}

// Leases live in the store's memory and follow the writer's transaction: a claim undone
// with its transaction (or with its job's savepoint) leaves no lease behind, and only a
// committed claim keeps the delivery from the next one.
TEST(SqliteStore, ALeaseLastsOnlyIfItsClaimCommits) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  store->Write([](StoreTx& tx) {
    InsertEndpointOne(tx);
    provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000);
    return true;
  });
  auto claim = [](StoreTx& tx) { return tx.ClaimDueDeliveries(1000, 5000, {.limit = 10}).size(); };

  // A job that claims and then fails: its lease goes with it.
  EXPECT_FALSE(store->Write([&](StoreTx& tx) {
    EXPECT_EQ(claim(tx), 1u);
    return false;
  }));
  // In a batch whose first run is rolled back (b fails) and run again with savepoints, a's
  // claim in the second run finds the delivery free: the first run's lease was undone.
  std::size_t claimed_by_a = 99;
  {
    WriterHold hold(*store);
    std::promise<void> a_done, b_done;
    store->WriteAsync([&](StoreTx& tx) {
      claimed_by_a = claim(tx);
      return true;
    }, [&](bool, std::exception_ptr) { a_done.set_value(); });
    store->WriteAsync([&](StoreTx& tx) {
      EXPECT_EQ(claim(tx), 0u);  // a holds it, in both runs
      return false;
    }, [&](bool, std::exception_ptr) { b_done.set_value(); });
    hold.Release();
    a_done.get_future().wait();
    b_done.get_future().wait();
  }
  EXPECT_EQ(claimed_by_a, 1u);
  // a committed: the delivery stays leased until its lease runs out or it is recorded.
  store->Write([&](StoreTx& tx) {
    EXPECT_EQ(claim(tx), 0u);
    EXPECT_EQ(tx.ClaimDueDeliveries(5000, 9000, {.limit = 10}).size(), 1u);
    return true;
  });
}

// Runs `job` as a lease job and waits for its answer: what it returned, and what it threw.
std::pair<bool, std::exception_ptr> LeaseAndWait(Store& store, std::function<bool(StoreTx&)> job) {
  std::promise<std::pair<bool, std::exception_ptr>> answer;
  store.LeaseAsync(std::move(job), [&answer](bool ok, std::exception_ptr error) { answer.set_value({ok, error}); });
  return answer.get_future().get();
}

// A lease job (a dispatcher's claim) runs ahead of the writes queued, in a transaction of its
// own that sees only committed rows, and is answered without waiting for their commit. Its
// leases outlive a batch that fails after it; one that fails gives its leases back; one that
// writes rows is refused and leaves nothing behind.
TEST(SqliteStore, LeaseJobsRunAheadOfQueuedWritesAndSeeOnlyCommittedRows) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  store->Write([](StoreTx& tx) {
    InsertEndpointOne(tx);
    return true;
  });
  auto claim = [](StoreTx& tx, Millis now) { return tx.ClaimDueDeliveries(now, now + 5000, {.limit = 10}).size(); };

  // Queued last, run first: the claim does not see the delivery the writes queued before it
  // make due, nor wait for their batch (which fails once and runs again).
  std::size_t claimed_ahead = 99;
  {
    WriterHold hold(*store);
    std::promise<bool> recorded, failed, claimed;
    store->WriteAsync([](StoreTx& tx) {
      provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000);
      return true;
    }, [&](bool ok, std::exception_ptr) { recorded.set_value(ok); });
    store->WriteAsync([](StoreTx&) { return false; }, [&](bool ok, std::exception_ptr) { failed.set_value(ok); });
    store->LeaseAsync([&](StoreTx& tx) {
      claimed_ahead = claim(tx, 2000);
      return true;
    }, [&](bool ok, std::exception_ptr) { claimed.set_value(ok); });
    hold.Release();
    EXPECT_TRUE(claimed.get_future().get());
    EXPECT_TRUE(recorded.get_future().get());
    EXPECT_FALSE(failed.get_future().get());
  }
  EXPECT_EQ(claimed_ahead, 0u);

  // A claim, then a batch that fails and is rolled back: the claim's lease stays.
  std::size_t claimed_first = 0;
  {
    WriterHold hold(*store);
    std::promise<bool> claimed, failed;
    store->LeaseAsync([&](StoreTx& tx) {
      claimed_first = claim(tx, 2000);
      return true;
    }, [&](bool ok, std::exception_ptr) { claimed.set_value(ok); });
    store->WriteAsync([](StoreTx& tx) {
      tx.UpsertLead(kCompany, {"rolled-back", "N"});
      return false;
    }, [&](bool ok, std::exception_ptr) { failed.set_value(ok); });
    hold.Release();
    EXPECT_TRUE(claimed.get_future().get());
    EXPECT_FALSE(failed.get_future().get());
  }
  EXPECT_EQ(claimed_first, 1u);
  EXPECT_EQ(LeaseAndWait(*store, [&](StoreTx& tx) { return claim(tx, 2000) == 0; }).first, true);

  // One that fails after claiming (its lease ran out at 7000) gives the delivery back.
  auto [ok, error] = LeaseAndWait(*store, [&](StoreTx& tx) -> bool {
    EXPECT_EQ(claim(tx, 7000), 1u);
    throw StoreError("the claim fails");
  });
  EXPECT_FALSE(ok);
  EXPECT_TRUE(error);
  EXPECT_EQ(LeaseAndWait(*store, [&](StoreTx& tx) { return claim(tx, 7000) == 1; }).first, true);

  // One that writes rows is refused, and what it wrote is gone.
  std::tie(ok, error) = LeaseAndWait(*store, [](StoreTx& tx) {
    tx.UpsertLead(kCompany, {"written-by-a-claim", "N"});
    return true;
  });
  EXPECT_FALSE(ok);
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), std::logic_error);
  store->Read([](StoreTx& tx) { EXPECT_FALSE(tx.GetLead(kCompany, "written-by-a-claim")); });
}

// The writer keeps each company's endpoint list (fan-out reads it for every event): every
// change to an endpoint, in the same transaction or a later one, shows in the next list, and
// a list read after a change that is then rolled back does not outlive the rollback.
TEST(SqliteStore, KeptEndpointListsFollowEveryChangeAndRollback) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  auto endpoint = [](std::string id) {
    EndpointRecord ep;
    ep.id = std::move(id);
    ep.company_id = kCompany;
    ep.url = "http://127.0.0.1:9/" + ep.id;
    ep.secret_sealed = "sealed";
    return ep;
  };
  auto ids = [](const std::vector<EndpointRecord>& list) {
    std::vector<std::string> out;
    for (const auto& ep : list) out.push_back(ep.id + (ep.disabled ? "(disabled)" : "") + (ep.failing_since ? "(failing)" : ""));
    return out;
  };
  using Ids = std::vector<std::string>;
  store->Write([&](StoreTx& tx) {
    EXPECT_TRUE(tx.ListAllEndpoints(kCompany).empty());  // kept, empty
    tx.InsertEndpoint(endpoint("ep_a"));
    EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), Ids{"ep_a"});
    return true;
  });
  store->Write([&](StoreTx& tx) {
    EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), Ids{"ep_a"});
    auto changed = endpoint("ep_a");
    changed.url = "http://127.0.0.1:9/moved";
    tx.UpdateEndpoint(changed);
    EXPECT_EQ(tx.ListAllEndpoints(kCompany).at(0).url, "http://127.0.0.1:9/moved");
    tx.InsertEndpoint(endpoint("ep_b"));
    tx.DisableEndpoint("ep_b", "test", 1000);
    EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), (Ids{"ep_a", "ep_b(disabled)"}));
    tx.RecordEndpointOutcome("ep_a", false, 1000);
    EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), (Ids{"ep_a(failing)", "ep_b(disabled)"}));
    EXPECT_TRUE(tx.DeleteEndpoint(kCompany, "ep_b", 1000));
    EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), Ids{"ep_a(failing)"});
    return true;
  });
  // Added, listed (and kept), then rolled back with its job: gone from the next list.
  EXPECT_FALSE(store->Write([&](StoreTx& tx) {
    tx.InsertEndpoint(endpoint("ep_rolled_back"));
    EXPECT_EQ(tx.ListAllEndpoints(kCompany).size(), 2u);
    return false;
  }));
  store->Write([&](StoreTx& tx) {
    EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), Ids{"ep_a(failing)"});
    return true;
  });
  store->Read([&](StoreTx& tx) { EXPECT_EQ(ids(tx.ListAllEndpoints(kCompany)), Ids{"ep_a(failing)"}); });
}

// The writer keeps campaigns and senders as read (every recorded activity reads both): each
// change shows in the next read, in the same transaction and later ones, and a change
// rolled back with its job leaves the row as it was.
TEST(SqliteStore, KeptCampaignsAndSendersFollowEveryChangeAndRollback) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  store->Write([](StoreTx& tx) {
    tx.UpsertCampaign("c", {"C", "First", model::Channel::kEmail, 0, 0});
    tx.UpsertSender("c", {"s", "Ravi", std::nullopt});
    tx.UpsertLead("c", {"l1", "N"});
    tx.UpsertLead("c", {"l2", "N"});
    EXPECT_EQ(tx.GetCampaign("c", "C")->total_leads, 0);  // read, and kept
    EXPECT_EQ(tx.GetSender("c", "s")->name, "Ravi");
    tx.Enroll("c", "C", "l1", 1);
    EXPECT_EQ(tx.GetCampaign("c", "C")->total_leads, 1);
    tx.MarkCompleted("c", "C", "l1", 2);
    EXPECT_EQ(tx.GetCampaign("c", "C")->complete_end_of_sequence, 1);
    tx.UpsertCampaign("c", {"C", "Renamed", model::Channel::kEmail, 0, 0});
    EXPECT_EQ(tx.GetCampaign("c", "C")->name, "Renamed");
    tx.UpsertSender("c", {"s", "Ravi Mehta", "ravi@example.com"});
    EXPECT_EQ(tx.GetSender("c", "s")->email, "ravi@example.com");
    return true;
  });
  EXPECT_FALSE(store->Write([](StoreTx& tx) {
    tx.Enroll("c", "C", "l2", 3);
    tx.UpsertSender("c", {"s", "Rolled back", std::nullopt});
    EXPECT_EQ(tx.GetCampaign("c", "C")->total_leads, 2);
    EXPECT_EQ(tx.GetSender("c", "s")->name, "Rolled back");
    return false;
  }));
  store->Write([](StoreTx& tx) {
    EXPECT_EQ(tx.GetCampaign("c", "C")->total_leads, 1);
    EXPECT_EQ(tx.GetSender("c", "s")->name, "Ravi Mehta");
    EXPECT_FALSE(tx.GetCampaign("c", "missing"));
    EXPECT_FALSE(tx.GetSender("other", "s"));  // another company's
    return true;
  });
}

TEST(LeaseTable, ChangesCountOnCommitAndAreUndoneWithTheirTransactionOrSavepoint) {
  sqlite::LeaseTable leases;
  leases.Take(1, 100);
  EXPECT_TRUE(leases.Held(1, 50));   // seen by its own transaction at once
  EXPECT_FALSE(leases.Held(1, 100)); // runs out at its time
  leases.RollBack();
  EXPECT_FALSE(leases.Held(1, 50));

  leases.Take(1, 100);
  leases.Take(2, 100);
  leases.Commit();
  EXPECT_TRUE(leases.Held(1, 50));
  EXPECT_TRUE(leases.Held(2, 50));

  // Savepoints: a job's changes (a drop, a renewal, a new lease) go back to the mark, those
  // before it stay; a rollback of the whole transaction then undoes those too.
  leases.Drop(1);
  const auto mark = leases.Mark();
  leases.Take(1, 200);
  leases.Drop(2);
  leases.Take(3, 300);
  EXPECT_TRUE(leases.Held(1, 150));
  EXPECT_FALSE(leases.Held(2, 50));
  leases.RollBackTo(mark);
  EXPECT_FALSE(leases.Held(1, 50));  // dropped before the mark
  EXPECT_TRUE(leases.Held(2, 50));
  EXPECT_FALSE(leases.Held(3, 50));
  leases.RollBack();
  EXPECT_TRUE(leases.Held(1, 50));

  leases.DropAll();
  EXPECT_FALSE(leases.Held(1, 50));
  EXPECT_FALSE(leases.Held(2, 50));
  leases.Commit();
  EXPECT_EQ(leases.CountAtMost(), 0u);
  leases.Drop(7);  // never leased: nothing to do
  EXPECT_EQ(leases.CountAtMost(), 0u);
}

TEST(LeaseTable, LeasesThatRanOutAreSweptOnceTheTableGrows) {
  sqlite::LeaseTable leases;
  for (std::int64_t id = 0; id < 5000; ++id) leases.Take(id, id < 4000 ? 1000 : 9000);
  leases.SetNow(2000);
  leases.Commit();
  EXPECT_EQ(leases.CountAtMost(), 1000u);  // the 4,000 that ran out by 2000 are gone
  EXPECT_TRUE(leases.Held(4500, 2000));
  EXPECT_FALSE(leases.Held(10, 500));  // swept: a delivery whose lease ran out is free
}

// A backlog at one endpoint, left out of the claim (at its cap), must not hide another
// endpoint's due delivery, however deep the backlog; and the claim takes oldest due first,
// at most per_endpoint from each.
TEST(SqliteStore, ClaimsReachEveryEndpointPastAnotherOnesBacklog) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  store->Write([](StoreTx& tx) {
    for (const char* id : {"ep_busy", "ep_quiet"}) {
      EndpointRecord ep;
      ep.id = id;
      ep.company_id = kCompany;
      ep.url = std::string("http://") + id + ".example/";
      ep.secret_sealed = std::string("sealed-") + id;
      ep.headers = {{"x-endpoint", id}};
      if (ep.id == "ep_quiet") {
        ep.rate_limit_per_s = 7;
        ep.previous_secret_sealed = "sealed-before";
        ep.previous_secret_expires_at = 20'000;
      }
      tx.InsertEndpoint(ep);
    }
    for (int i = 0; i < 300; ++i) {  // every event goes to both endpoints
      auto recorded = provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000 + i);
      EXPECT_EQ(std::get<provider::RecordedActivity>(recorded).deliveries, 2);
    }
    return true;
  });
  std::vector<ClaimedDelivery> quiet_only, both;
  store->Write([&](StoreTx& tx) {
    quiet_only = tx.ClaimDueDeliveries(10'000, 90'000, {.limit = 5, .per_endpoint = 5, .skip_endpoints = {"ep_busy"}});
    both = tx.ClaimDueDeliveries(10'000, 90'000, {.limit = 6, .per_endpoint = 3});
    return true;
  });
  ASSERT_EQ(quiet_only.size(), 5u);
  for (const auto& c : quiet_only) EXPECT_EQ(c.endpoint_id, "ep_quiet");
  ASSERT_EQ(both.size(), 6u);
  EXPECT_EQ(std::count_if(both.begin(), both.end(), [](const auto& c) { return c.endpoint_id == "ep_busy"; }), 3);
  EXPECT_TRUE(std::is_sorted(quiet_only.begin(), quiet_only.end(),
                             [](const auto& a, const auto& b) { return a.delivery_id < b.delivery_id; }));
  // Each delivery carries its own endpoint's parts (read once per claim, per endpoint).
  for (const auto& c : both) {
    const bool quiet = c.endpoint_id == "ep_quiet";
    EXPECT_EQ(c.url, "http://" + c.endpoint_id + ".example/");
    EXPECT_EQ(c.secret_sealed, "sealed-" + c.endpoint_id);
    EXPECT_EQ(c.headers, (HeaderList{{"x-endpoint", c.endpoint_id}}));
    EXPECT_EQ(c.rate_limit_per_s, quiet ? std::optional<std::int64_t>(7) : std::nullopt);
    EXPECT_EQ(c.previous_secret_sealed, quiet ? std::optional<std::string>("sealed-before") : std::nullopt);
    EXPECT_FALSE(c.payload.empty());
  }
  store->Write([&](StoreTx& tx) {  // the previous secret has expired by 20,000
    for (const auto& c : tx.ClaimDueDeliveries(20'000, 90'000, {.limit = 4, .per_endpoint = 2})) {
      EXPECT_EQ(c.previous_secret_sealed, std::nullopt);
    }
    return true;
  });
}

// A claim's limit is shared out among the endpoints in turns, each endpoint's deliveries
// oldest due first: the endpoint furthest behind cannot take a whole claim while another
// one's queue runs dry.
TEST(SqliteStore, AClaimSharesItsLimitOutAmongEndpointsInTurns) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  hookline::testing::SeedLinkedin(*store, 1000);
  auto add_endpoint = [](StoreTx& tx, const char* id) {
    EndpointRecord ep;
    ep.id = id;
    ep.company_id = kCompany;
    ep.url = std::string("http://") + id + ".example/";
    ep.secret_sealed = "sealed";
    tx.InsertEndpoint(ep);
  };
  store->Write([&](StoreTx& tx) {
    add_endpoint(tx, "ep_behind");
    for (int i = 0; i < 10; ++i) provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 1000 + i);
    add_endpoint(tx, "ep_ahead");
    for (int i = 0; i < 10; ++i) provider::RecordActivity(tx, kCompany, hookline::testing::InviteSent(), 2000 + i);
    return true;
  });
  std::vector<ClaimedDelivery> claimed;
  store->Write([&](StoreTx& tx) {
    claimed = tx.ClaimDueDeliveries(10'000, 90'000, {.limit = 6, .per_endpoint = 6});
    return true;
  });
  ASSERT_EQ(claimed.size(), 6u);
  std::map<std::string, std::vector<std::int64_t>> by_endpoint;
  for (const auto& c : claimed) by_endpoint[c.endpoint_id].push_back(c.delivery_id);
  EXPECT_EQ(by_endpoint["ep_behind"].size(), 3u);
  EXPECT_EQ(by_endpoint["ep_ahead"].size(), 3u);
  for (auto& [id, ids] : by_endpoint) EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << id;
  for (std::size_t i = 1; i < claimed.size(); ++i) EXPECT_NE(claimed[i].endpoint_id, claimed[i - 1].endpoint_id);
  // Each endpoint's three are its oldest: ep_behind's due at 1000-1002 (recorded first, so
  // the lowest ids), ahead of ep_ahead's, which go first at their turn.
  const auto& behind = by_endpoint["ep_behind"];
  EXPECT_EQ(behind.back() - behind.front(), 2);
  EXPECT_LT(behind.back(), by_endpoint["ep_ahead"].front());
  EXPECT_EQ(claimed.front().endpoint_id, "ep_behind");
}

// A server's store holds the file's server lock: a second server store on the file is
// refused (in this process as in another), a tool's store opens beside it and its writes
// are seen, and the lock goes with the store.
TEST(OpenStore, OneServerPerSqliteFileAndToolsBesideIt) {
  TempDir dir;
  const std::string url = "sqlite:" + dir.File("db");
  {
    auto server = OpenStore(url, StoreUse::kServer);
    try {
      OpenStore(url, StoreUse::kServer);
      ADD_FAILURE() << "a second server store opened the file";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("in use by another hookline server"), std::string::npos) << e.what();
    }
    {
      auto tool = OpenStore(url);
      EXPECT_TRUE(tool->Write([](StoreTx& tx) { return tx.InsertCompany({"c2", "C2", 0}, "hash"); }));
    }
    // The tool's connections are closed: the server's SQLite locks and its writes carry on.
    EXPECT_TRUE(server->Write([](StoreTx& tx) { return tx.InsertCompany({"c3", "C3", 0}, "hash3"); }));
    server->Read([](StoreTx& tx) { EXPECT_TRUE(tx.FindCompanyByKeyHash("hash")); });
  }
  EXPECT_NO_THROW(OpenStore(url, StoreUse::kServer));
}

// Stands in for fdatasync: each sync waits while the gate is closed (counting the syncs that
// started, so a test knows a commit is waiting for one), and fails while `fail` is set.
class SyncGate {
 public:
  std::function<int(int)> Fn() {
    return [this](int fd) {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      if (fail_) {
        errno = EIO;
        return -1;
      }
      return ::fdatasync(fd);
    };
  }
  void Close() { Set([&] { open_ = false; }); }
  void Open() { Set([&] { open_ = true; }); }
  void Fail(bool fail) { Set([&] { fail_ = fail; }); }
  // Waits until more than `n` syncs have started.
  bool WaitStartedMoreThan(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return started_ > n; });
  }
  int Started() {
    std::lock_guard lock(mu_);
    return started_;
  }

 private:
  template <typename F>
  void Set(F change) {
    std::lock_guard lock(mu_);
    change();
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  bool fail_ = false;
  int started_ = 0;
};

bool Answered(const std::future<bool>& answer) {
  return answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

// The writer commits without syncing and goes on; a write is answered only after a sync that
// began after its commit. A lease job (a claim) may read what such a commit wrote, so it too
// waits for that sync, and is answered at once when everything committed is synced.
TEST(SqliteStore, AnswersWaitForTheSyncOfEveryCommitTheyMayRestOn) {
  TempDir dir;
  SyncGate gate;
  auto store = sqlite::OpenSqliteStore({.path = dir.File("db"), .sync_wal = gate.Fn()});
  store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "C", 0}, "hash"); });

  gate.Close();
  const int syncs_before = gate.Started();
  std::promise<bool> written, leased;
  store->WriteAsync([](StoreTx& tx) {
    tx.UpsertLead("c", {"lead-1", "N"});
    return true;
  }, [&](bool ok, std::exception_ptr) { written.set_value(ok); });
  auto written_answer = written.get_future();
  ASSERT_TRUE(gate.WaitStartedMoreThan(syncs_before));  // committed: its sync has begun
  store->Read([](StoreTx& tx) { EXPECT_EQ(tx.ListLeads("c", {std::nullopt, 10}).size(), 1u); });
  store->LeaseAsync([](StoreTx&) { return true; }, [&](bool ok, std::exception_ptr) { leased.set_value(ok); });
  auto leased_answer = leased.get_future();
  // The writer goes on while the sync is held: the next write commits (and waits too).
  std::promise<bool> second;
  store->WriteAsync([](StoreTx& tx) {
    tx.UpsertLead("c", {"lead-2", "N"});
    return true;
  }, [&](bool ok, std::exception_ptr) { second.set_value(ok); });
  std::size_t leads = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       leads < 2 && std::chrono::steady_clock::now() < deadline; std::this_thread::yield()) {
    store->Read([&](StoreTx& tx) { leads = tx.ListLeads("c", {std::nullopt, 10}).size(); });
  }
  EXPECT_EQ(leads, 2u);
  EXPECT_FALSE(Answered(written_answer));
  EXPECT_FALSE(Answered(leased_answer));
  gate.Open();
  EXPECT_TRUE(written_answer.get());
  EXPECT_TRUE(leased_answer.get());
  EXPECT_TRUE(second.get_future().get());

  // Everything committed is synced: a lease job is answered with the gate closed.
  gate.Close();
  EXPECT_TRUE(LeaseAndWait(*store, [](StoreTx&) { return true; }).first);
  gate.Open();
}

// A failed sync may have lost what the OS held for the file: its writes are answered with the
// error, and so is every later write and lease job, until a restart. Reads still work.
TEST(SqliteStore, AFailedSyncFailsItsWritesAndEveryLaterOne) {
  TempDir dir;
  SyncGate gate;
  auto store = sqlite::OpenSqliteStore({.path = dir.File("db"), .sync_wal = gate.Fn()});
  store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "C", 0}, "hash"); });
  gate.Fail(true);
  try {
    store->Write([](StoreTx& tx) { return tx.InsertCompany({"c2", "C2", 0}, "hash2"); });
    ADD_FAILURE() << "a write was acknowledged after its sync failed";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("-wal failed"), std::string::npos) << e.what();
  }
  gate.Fail(false);
  EXPECT_THROW(store->Write([](StoreTx& tx) { return tx.InsertCompany({"c3", "C3", 0}, "hash3"); }), StoreError);
  EXPECT_TRUE(LeaseAndWait(*store, [](StoreTx&) { return true; }).second);
  store->Read([](StoreTx& tx) { EXPECT_TRUE(tx.FindCompanyByKeyHash("hash")); });
}

// Under writes that never let up, the WAL still starts over: checkpoints copy it on their own
// thread, and the writer catches up with them once the WAL holds `restart_frames`.
TEST(SqliteStore, TheWalStartsOverUnderWritesThatNeverLetUp) {
  TempDir dir;
  const std::string path = dir.File("db");
  auto store = sqlite::OpenSqliteStore(
      {.path = path, .max_jobs_per_commit = 16, .checkpoint_frames = 20, .restart_frames = 100});
  store->Write([](StoreTx& tx) { return tx.InsertCompany({"c", "C", 0}, "hash"); });
  constexpr int kJobs = 3'000;  // a page each at least: ~12 MiB through the WAL
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  for (int i = 0; i < kJobs; ++i) {  // queued at once: the writer never waits for a job
    store->WriteAsync([i](StoreTx& tx) {
      tx.UpsertLead("c", {"lead-" + std::to_string(i), std::string(3'000, 'n')});
      return true;
    }, [&](bool, std::exception_ptr) {
      std::lock_guard lock(mu);
      ++answered;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return answered == kJobs; }));
  }
  // The WAL header's checkpoint sequence number (bytes 12..15, big-endian) counts the times
  // the WAL started over: every ~100-200 frames here, of ~5,000 written (timing decides how
  // many frames the checkpoint thread lags behind, so only a few are required).
  std::ifstream wal(path + "-wal", std::ios::binary);
  unsigned char header[16] = {};
  ASSERT_TRUE(wal.read(reinterpret_cast<char*>(header), sizeof header));
  const std::uint32_t restarts = (std::uint32_t{header[12]} << 24) | (std::uint32_t{header[13]} << 16) |
                                 (std::uint32_t{header[14]} << 8) | header[15];
  EXPECT_GE(restarts, 3u);
  std::size_t leads = 0;
  store->Read([&](StoreTx& tx) { leads = tx.ListLeads("c", {std::nullopt, kJobs + 1}).size(); });
  EXPECT_EQ(leads, static_cast<std::size_t>(kJobs));
}

// The receiver's lead list by campaign, by status, by both, and unfiltered, for every company
// or one: ordered by company and id, paged with `after`, each lead once however many of its
// campaigns match, another company's lead of the same id its own row.
TEST(SqliteStore, ProjectedLeadsFilterByCampaignAndStatusPageByPage) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("db"));
  // Company "a": lead-00..lead-29; lead i is in campaign A when i % 2 == 0 and in B when
  // i % 3 == 0, Warm in A when i % 4 == 0 (else Cold), and Warm in B always. Company "b":
  // lead i for i % 5 == 0, in its own campaign A, Cold.
  auto in_a = [](int i, std::string_view campaign, std::optional<std::string_view> status) {
    if (campaign == "A") return i % 2 == 0 && (!status || *status == (i % 4 == 0 ? "Warm" : "Cold"));
    if (campaign == "B") return i % 3 == 0 && (!status || *status == "Warm");
    return !status || (*status == "Warm" ? i % 4 == 0 || i % 3 == 0 : i % 2 == 0 && i % 4 != 0);
  };
  auto in_b = [](int i, std::string_view campaign, std::optional<std::string_view> status) {
    return i % 5 == 0 && campaign != "B" && (!status || *status == "Cold");
  };
  store->Write([](StoreTx& tx) {
    for (int i = 29; i >= 0; --i) {  // written out of id order
      const std::string id = fmt::format("lead-{:02}", i);
      tx.PutProjectedLead("a", {.id = id, .name = "L" + std::to_string(i)}, "v1");
      if (i % 2 == 0) tx.PutProjectedEnrollment("a", id, "A", {.latest_status = i % 4 == 0 ? "Warm" : "Cold", .version = "v1", .timeline = {}});
      if (i % 3 == 0) tx.PutProjectedEnrollment("a", id, "B", {.latest_status = "Warm", .version = "v1", .timeline = {}});
      if (i % 5 == 0) {
        tx.PutProjectedLead("b", {.id = id, .name = "b's L" + std::to_string(i)}, "v1");
        tx.PutProjectedEnrollment("b", id, "A", {.latest_status = "Cold", .version = "v1", .timeline = {}});
      }
    }
    return true;
  });
  // "company/lead" of the leads that match, in list order.
  auto expected = [&](std::optional<std::string> company, std::string_view campaign,
                      std::optional<std::string_view> status) {
    std::vector<std::string> ids;
    for (const auto& [name, keep] : {std::pair{std::string("a"), +in_a}, std::pair{std::string("b"), +in_b}}) {
      if (company && *company != name) continue;
      for (int i = 0; i < 30; ++i) {
        if (keep(i, campaign, status)) ids.push_back(fmt::format("{}/lead-{:02}", name, i));
      }
    }
    return ids;
  };
  // Every page of 4, joined, for the filter.
  auto all_pages = [&](std::optional<std::string> company, std::optional<std::string> campaign,
                       std::optional<std::string> status) {
    std::vector<std::string> ids;
    CompanyPage page{company, std::nullopt, 4};
    for (int pages = 0; pages < 30; ++pages) {
      std::vector<CompanyLead> leads;
      store->Read([&](StoreTx& tx) { leads = tx.ListProjectedLeads(campaign, status, page); });
      for (const auto& row : leads) ids.push_back(row.company_id + "/" + row.lead.id);
      if (leads.size() < 4) break;
      page.after.emplace(leads.back().company_id, leads.back().lead.id);
    }
    return ids;
  };
  for (const std::optional<std::string>& company : {std::optional<std::string>{}, std::optional<std::string>{"a"},
                                                    std::optional<std::string>{"b"}, std::optional<std::string>{"c"}}) {
    const std::string which = company.value_or("every company");
    EXPECT_EQ(all_pages(company, std::nullopt, std::nullopt), expected(company, "", std::nullopt)) << which;
    EXPECT_EQ(all_pages(company, "A", std::nullopt), expected(company, "A", std::nullopt)) << which;
    EXPECT_EQ(all_pages(company, "A", "Warm"), expected(company, "A", "Warm")) << which;
    EXPECT_EQ(all_pages(company, "A", "Cold"), expected(company, "A", "Cold")) << which;
    EXPECT_EQ(all_pages(company, "B", "Cold"), expected(company, "B", "Cold")) << which;
    EXPECT_EQ(all_pages(company, std::nullopt, "Warm"), expected(company, "", "Warm")) << which;
    EXPECT_EQ(all_pages(company, std::nullopt, "Cold"), expected(company, "", "Cold")) << which;
    EXPECT_EQ(all_pages(company, "C", std::nullopt), std::vector<std::string>{}) << which;
  }
  EXPECT_EQ(all_pages(std::nullopt, std::nullopt, std::nullopt).size(), 36u);
  store->Read([](StoreTx& tx) {  // the lead's fields come with it
    auto leads = tx.ListProjectedLeads("B", "Warm", {std::nullopt, std::pair<std::string, std::string>{"a", "lead-02"}, 1});
    ASSERT_EQ(leads.size(), 1u);
    EXPECT_EQ(leads[0].lead.id, "lead-03");
    EXPECT_EQ(leads[0].lead.name, "L3");
    leads = tx.ListProjectedLeads("A", std::nullopt, {"b", std::pair<std::string, std::string>{"b", "lead-00"}, 1});
    ASSERT_EQ(leads.size(), 1u);
    EXPECT_EQ(leads[0].company_id, "b");
    EXPECT_EQ(leads[0].lead.name, "b's L5");
    EXPECT_EQ(tx.GetProjectedLead("b", "lead-10")->name, "b's L10");
    EXPECT_EQ(tx.GetProjectedLead("a", "lead-10")->name, "L10");
    EXPECT_FALSE(tx.GetProjectedLead("b", "lead-11"));
    EXPECT_EQ(tx.CompaniesWithProjectedLead("lead-10"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(tx.CompaniesWithProjectedLead("lead-11"), std::vector<std::string>{"a"});
    EXPECT_EQ(tx.CountProjectedLeads("b"), 6);
    EXPECT_EQ(tx.ProjectedEnrollments("b", "lead-00").size(), 1u);
    EXPECT_EQ(tx.ProjectedEnrollments("a", "lead-00").size(), 2u);
  });
}

TEST(OpenStore, RejectsWhatItCannotOpen) {
  EXPECT_THROW(OpenStore("sqlite:"), StoreError);
  EXPECT_THROW(OpenStore("postgresql://localhost/x"), StoreError);
  EXPECT_THROW(OpenStore("sqlite:/nonexistent-dir/x/y.db"), StoreError);
}

}  // namespace
}  // namespace hookline::store
