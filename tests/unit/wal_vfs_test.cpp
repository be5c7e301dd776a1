#include "hookline/store/sqlite/wal_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "store_fixture.hpp"

namespace hookline::store::sqlite {
namespace {

using hookline::testing::TempDir;

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

std::string Text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::string out;
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return out;
}

sqlite3* Open(const std::string& path, const char* vfs) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
  return db;
}

// What a crash would leave: the database and WAL files as the OS holds them now, opened with
// SQLite's default VFS, which recovers the WAL from the file alone.
std::string CountAfterCrash(const TempDir& dir, const std::string& path) {
  const std::string copy = dir.File("copy.db");
  for (const char* suffix : {"", "-wal"}) {
    std::filesystem::copy_file(path + suffix, copy + suffix, std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::remove(copy + "-shm");
  sqlite3* db = Open(copy, nullptr);
  const std::string count = Text(db, "SELECT count(*) FROM t");
  EXPECT_EQ(Text(db, "PRAGMA integrity_check"), "ok");
  sqlite3_close(db);
  return count;
}

// Gathered frames reach the file when their commit frame is complete, with no sync at all
// (synchronous=OFF never syncs): a crash right after any commit keeps it, and a reader on
// another connection sees it. Covers transactions past the gather limit and the largest
// single write, pages spilled mid-transaction and overwritten at commit, and a spilled
// transaction rolled back.
TEST(WalVfs, EveryCommitIsInTheFileWhenCommitReturns) {
  TempDir dir;
  const std::string path = dir.File("db");
  sqlite3* db = Open(path, WalVfsName());
  Exec(db, "PRAGMA journal_mode = WAL");
  Exec(db, "PRAGMA synchronous = OFF");
  Exec(db, "PRAGMA wal_autocheckpoint = 0");
  Exec(db, "PRAGMA cache_size = 8");  // pages: transactions below spill to the WAL early
  Exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  sqlite3* reader = Open(path, nullptr);

  int rows = 0;
  auto insert = [&](int count, int bytes) {
    Exec(db, "BEGIN");
    for (int i = 0; i < count; ++i) {
      Exec(db, "INSERT INTO t (body) VALUES (randomblob(" + std::to_string(bytes) + "))");
    }
  };
  const struct {
    int count, bytes;
  } commits[] = {{1, 10}, {20, 3000}, {3, 600'000}, {400, 200}, {1, 10}};
  for (const auto& c : commits) {
    insert(c.count, c.bytes);
    Exec(db, "UPDATE t SET body = randomblob(100) WHERE id = 1");  // a spilled page written again
    Exec(db, "COMMIT");
    rows += c.count;
    EXPECT_EQ(CountAfterCrash(dir, path), std::to_string(rows));
    EXPECT_EQ(Text(reader, "SELECT count(*) FROM t"), std::to_string(rows));
  }
  insert(300, 3000);  // spilled, then undone
  Exec(db, "ROLLBACK");
  insert(2, 50);
  Exec(db, "COMMIT");
  rows += 2;
  EXPECT_EQ(CountAfterCrash(dir, path), std::to_string(rows));
  EXPECT_EQ(Text(reader, "SELECT count(*) FROM t"), std::to_string(rows));
  sqlite3_close(reader);
  sqlite3_close(db);

  // Closed: the WAL is checkpointed and removed as with the default VFS.
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  sqlite3* reopened = Open(path, nullptr);
  EXPECT_EQ(Text(reopened, "SELECT count(*) FROM t"), std::to_string(rows));
  EXPECT_EQ(Text(reopened, "PRAGMA integrity_check"), "ok");
  sqlite3_close(reopened);
}

// The self-test that WalVfsName runs passes on the SQLite this was built with, so the
// gathering VFS is the one in use.
TEST(WalVfs, TheSelfTestPassesOnThisSqlite) {
  ASSERT_NE(WalVfsName(), nullptr);
  EXPECT_STREQ(WalVfsName(), "hookline");
  EXPECT_EQ(CheckWalVfs(WalVfsName()), std::nullopt);
}

// A SQLite that wrote frames another way than the VFS expects (here: a VFS that takes the
// frame header to be 32 bytes, so it never sees a commit frame complete and holds committed
// frames back) fails the self-test: readers and a crash would miss commits.
TEST(WalVfs, TheSelfTestCatchesFramesHeldPastTheirCommit) {
  const char* misled = RegisterWalVfs("hookline-misled", 32);
  const auto problem = CheckWalVfs(misled);
  ASSERT_NE(problem, std::nullopt);
  EXPECT_NE(problem->find("rows, not"), std::string::npos) << *problem;
}

TEST(WalVfs, AFailedSelfTestFallsBackToSqlitesOwnVfs) {
  EXPECT_EQ(ChooseWalVfs("hookline", [](const char*) { return std::optional<std::string>("broken"); }), nullptr);
  EXPECT_STREQ(ChooseWalVfs("hookline", [](const char*) { return std::optional<std::string>(); }), "hookline");
  // A database opened with the fallback works as any other.
  TempDir dir;
  sqlite3* db = Open(dir.File("db"), ChooseWalVfs("hookline-misled", CheckWalVfs));
  Exec(db, "PRAGMA journal_mode = WAL");
  Exec(db, "CREATE TABLE t (x)");
  Exec(db, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(Text(db, "SELECT count(*) FROM t"), "1");
  sqlite3_close(db);
}

}  // namespace
}  // namespace hookline::store::sqlite
