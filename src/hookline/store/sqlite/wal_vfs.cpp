#include "hookline/store/sqlite/wal_vfs.hpp"

#include <sqlite3.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hookline::store::sqlite {

namespace {

// Bytes gathered before they are written anyway: a drain's or receiver's commit is ~100
// frames (~400 KiB); a larger transaction is written in 1 MiB pieces.
constexpr std::size_t kGatherLimit = 1 << 20;
// The WAL's frame header (https://www.sqlite.org/fileformat.html#wal_frame_header): SQLite
// writes it with a call of its own, then the page. Bytes 4..7 are nonzero in a commit frame.
constexpr int kFrameHeaderSize = 24;
// What a registered VFS of this kind expects: its pAppData.
struct WalVfsConfig {
  int frame_header_size = kFrameHeaderSize;
};
// The most the default (unix) VFS writes in one call: it masks a longer write to 17 bits and
// reports the short write as a full disk.
constexpr std::size_t kLargestWrite = 0x1ffff;

struct WalState {
  std::vector<char> gathered;  // bytes written by SQLite, not yet by us, from gathered_at
  sqlite3_int64 gathered_at = 0;
  sqlite3_int64 appended_end = 0;  // the end of the frames appended to this WAL so far
  bool commit_page_next = false;  // the header just gathered is a commit frame's
  int frame_header_size = kFrameHeaderSize;
};

// What SQLite allocates for a WAL file opened through this VFS: the default VFS's file
// follows it, `real`.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
  WalState* state;
};

sqlite3_vfs* g_default = nullptr;  // set before any VFS of this kind is registered

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods* Real(WalFile* f) { return f->real->pMethods; }

int Flush(WalFile* f) {
  WalState& s = *f->state;
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < s.gathered.size() && rc == SQLITE_OK;) {
    const std::size_t piece = std::min(kLargestWrite, s.gathered.size() - done);
    rc = Real(f)->xWrite(f->real, s.gathered.data() + done, static_cast<int>(piece),
                         s.gathered_at + static_cast<sqlite3_int64>(done));
    done += piece;
  }
  // Dropped on failure too: SQLite fails the transaction these frames belong to, and a
  // retried transaction writes its frames again.
  s.gathered.clear();
  return rc;
}

int WalClose(sqlite3_file* file) {
  WalFile* f = Wal(file);
  const int rc = Flush(f);
  const int close_rc = Real(f)->xClose(f->real);
  delete f->state;
  f->state = nullptr;
  return rc != SQLITE_OK ? rc : close_rc;
}

int WalRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  WalFile* f = Wal(file);
  WalState& s = *f->state;
  if (!s.gathered.empty() && offset < s.gathered_at + static_cast<sqlite3_int64>(s.gathered.size()) &&
      offset + amount > s.gathered_at) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  return Real(f)->xRead(f->real, out, amount, offset);
}

// Only appends are gathered: new frames past the end of what this WAL holds. A write below
// that end rewrites the file (a page spilled earlier in the transaction and changed since,
// the checksums of the frames after it, which SQLite rewrites after the commit frame, or the
// header of a WAL started over) and goes to the OS at once, after what is gathered.
int WalWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* f = Wal(file);
  WalState& s = *f->state;
  const auto size = static_cast<std::size_t>(amount);
  const bool append = offset >= s.appended_end;
  if (!s.gathered.empty() &&
      (!append || offset != s.gathered_at + static_cast<sqlite3_int64>(s.gathered.size()) ||
       s.gathered.size() + size > kGatherLimit)) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (!append || size > kLargestWrite) {
    s.commit_page_next = false;
    // A WAL started over: its frames are appended after the new header.
    if (offset == 0) s.appended_end = amount;
    if (append) s.appended_end = offset + amount;
    return Real(f)->xWrite(f->real, data, amount, offset);
  }
  if (s.gathered.empty()) s.gathered_at = offset;
  const auto* bytes = static_cast<const char*>(data);
  s.gathered.insert(s.gathered.end(), bytes, bytes + size);
  s.appended_end = offset + amount;
  if (s.commit_page_next) {
    // The commit frame is complete: the transaction's frames go to the OS now, before SQLite
    // syncs or publishes the commit to other connections (it publishes without a sync when
    // `synchronous` is below FULL). What SQLite writes after it is rewrites, written at once.
    s.commit_page_next = false;
    return Flush(f);
  }
  if (amount == s.frame_header_size) {
    s.commit_page_next = bytes[4] != 0 || bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0;
  }
  return SQLITE_OK;
}

int WalTruncate(sqlite3_file* file, sqlite3_int64 size) {
  WalFile* f = Wal(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  f->state->appended_end = std::min(f->state->appended_end, size);  // later frames append again
  return Real(f)->xTruncate(f->real, size);
}

int WalSync(sqlite3_file* file, int flags) {
  WalFile* f = Wal(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->xSync(f->real, flags);
}

int WalFileSize(sqlite3_file* file, sqlite3_int64* size) {
  WalFile* f = Wal(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->xFileSize(f->real, size);
}

int WalLock(sqlite3_file* file, int level) { return Real(Wal(file))->xLock(Wal(file)->real, level); }
int WalUnlock(sqlite3_file* file, int level) {
  return Real(Wal(file))->xUnlock(Wal(file)->real, level);
}
int WalCheckReservedLock(sqlite3_file* file, int* out) {
  return Real(Wal(file))->xCheckReservedLock(Wal(file)->real, out);
}

int WalFileControl(sqlite3_file* file, int op, void* arg) {
  WalFile* f = Wal(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return Real(f)->xFileControl(f->real, op, arg);
}

int WalSectorSize(sqlite3_file* file) { return Real(Wal(file))->xSectorSize(Wal(file)->real); }
int WalDeviceCharacteristics(sqlite3_file* file) {
  return Real(Wal(file))->xDeviceCharacteristics(Wal(file)->real);
}

// A WAL file has no shared memory and is never memory-mapped by SQLite: version 1 methods.
constexpr sqlite3_io_methods kWalMethods = {
    1,       WalClose,     WalRead,       WalWrite,   WalTruncate,    WalSync,
    WalFileSize, WalLock,  WalUnlock,     WalCheckReservedLock, WalFileControl, WalSectorSize,
    WalDeviceCharacteristics, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0 || name == nullptr) {
    return g_default->xOpen(g_default, name, file, flags, out_flags);
  }
  WalFile* f = Wal(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->state = nullptr;
  const int rc = g_default->xOpen(g_default, name, f->real, flags, out_flags);
  // SQLite closes a file whose methods are set even when the open failed.
  if (f->real->pMethods == nullptr) return rc;
  f->state = new (std::nothrow) WalState;
  if (f->state == nullptr) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_NOMEM;
  }
  f->state->frame_header_size = static_cast<const WalVfsConfig*>(vfs->pAppData)->frame_header_size;
  f->base.pMethods = &kWalMethods;
  return rc;
}

// Everything but opening a file is the default VFS's, called with the default VFS.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_default->xDelete(g_default, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_default->xAccess(g_default, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_default->xFullPathname(g_default, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_default->xDlOpen(g_default, name); }
void DlError(sqlite3_vfs*, int size, char* out) { g_default->xDlError(g_default, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_default->xDlSym(g_default, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_default->xDlClose(g_default, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) {
  return g_default->xRandomness(g_default, size, out);
}
int Sleep(sqlite3_vfs*, int micros) { return g_default->xSleep(g_default, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_default->xCurrentTime(g_default, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return g_default->xGetLastError(g_default, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_default->xCurrentTimeInt64(g_default, out);
}

}  // namespace

const char* RegisterWalVfs(const char* name, int frame_header_size) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (sqlite3_vfs* known = sqlite3_vfs_find(name)) return known->zName;
  if (g_default == nullptr) {
    g_default = sqlite3_vfs_find(nullptr);
    if (g_default == nullptr || g_default->iVersion < 2) {
      throw std::runtime_error("SQLite has no default VFS of version 2 or later");
    }
  }
  // Registered for the life of the process, as SQLite requires.
  auto* config = new WalVfsConfig{frame_header_size};
  auto* zname = new std::string(name);
  // Version 2: the system-call hooks of version 3 are the default VFS's business.
  auto* vfs = new sqlite3_vfs{.iVersion = 2,
                              .szOsFile = static_cast<int>(sizeof(WalFile)) + g_default->szOsFile,
                              .mxPathname = g_default->mxPathname,
                              .pNext = nullptr,
                              .zName = zname->c_str(),
                              .pAppData = config,
                              .xOpen = Open,
                              .xDelete = Delete,
                              .xAccess = Access,
                              .xFullPathname = FullPathname,
                              .xDlOpen = DlOpen,
                              .xDlError = DlError,
                              .xDlSym = DlSym,
                              .xDlClose = DlClose,
                              .xRandomness = Randomness,
                              .xSleep = Sleep,
                              .xCurrentTime = CurrentTime,
                              .xGetLastError = GetLastError,
                              .xCurrentTimeInt64 = CurrentTimeInt64,
                              .xSetSystemCall = nullptr,
                              .xGetSystemCall = nullptr,
                              .xNextSystemCall = nullptr};
  if (sqlite3_vfs_register(vfs, 0) != SQLITE_OK) {
    throw std::runtime_error(std::string("cannot register hookline's SQLite VFS ") + name);
  }
  return vfs->zName;
}

namespace {

// One connection of the self-test, closed when it goes.
class SelfTestDb {
 public:
  SelfTestDb(const std::string& path, const char* vfs) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
      // A failed open still allocates the handle; no destructor runs for a throwing constructor.
      const std::string message = db_ ? sqlite3_errmsg(db_) : "no memory";
      sqlite3_close(db_);
      throw std::runtime_error(fmt::format("cannot open {}: {}", path, message));
    }
  }
  ~SelfTestDb() { sqlite3_close(db_); }
  SelfTestDb(const SelfTestDb&) = delete;
  SelfTestDb& operator=(const SelfTestDb&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error(fmt::format("{}: {}", sql.substr(0, 60), message));
    }
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      if (const auto* text = sqlite3_column_text(stmt, 0)) out = reinterpret_cast<const char*>(text);
    } else {
      out = fmt::format("(error: {})", sqlite3_errmsg(db_));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// What a crash would leave now: the database and WAL as the OS holds them, opened with the
// default VFS, which recovers the WAL from the file alone. Returns the row count, or a problem.
std::string RowsAfterCrash(const std::filesystem::path& dir, const std::string& path) {
  const std::string copy = (dir / "crash-copy.db").string();
  for (const char* suffix : {"", "-wal"}) {
    std::filesystem::copy_file(path + suffix, copy + suffix, std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::remove(copy + "-shm");
  SelfTestDb db(copy, nullptr);
  const std::string integrity = db.Text("PRAGMA integrity_check");
  if (integrity != "ok") return "integrity_check: " + integrity;
  return db.Text("SELECT count(*) FROM t");
}

std::optional<std::string> CheckWalVfsIn(const std::filesystem::path& dir, const char* vfs) {
  const std::string path = (dir / "self-test.db").string();
  SelfTestDb db(path, vfs);
  db.Exec("PRAGMA journal_mode = WAL");
  db.Exec("PRAGMA synchronous = OFF");  // no sync may hide frames that were never written
  db.Exec("PRAGMA wal_autocheckpoint = 0");
  db.Exec("PRAGMA cache_size = 8");  // pages: transactions below spill to the WAL early
  db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  SelfTestDb reader(path, nullptr);
  int rows = 0;
  // A reader reads the WAL from the file: it sees a commit only once all its frames are
  // there. What a crash keeps is checked once, at the end (a copy of the files costs more).
  auto check = [&](const std::string& what) -> std::optional<std::string> {
    const std::string want = std::to_string(rows);
    if (auto seen = reader.Text("SELECT count(*) FROM t"); seen != want) {
      return fmt::format("after {}, another connection saw {} rows, not {}", what, seen, want);
    }
    return std::nullopt;
  };
  // Small, large (past the gather limit and the largest single write) and many-row
  // transactions, each rewriting a page it spilled; then a spilled transaction rolled back.
  const struct {
    int count, bytes;
  } commits[] = {{1, 10}, {20, 3000}, {2, 600'000}, {400, 200}};
  for (const auto& c : commits) {
    db.Exec("BEGIN");
    for (int i = 0; i < c.count; ++i) {
      db.Exec(fmt::format("INSERT INTO t (body) VALUES (randomblob({}))", c.bytes));
    }
    db.Exec("UPDATE t SET body = randomblob(100) WHERE id = 1");
    db.Exec("COMMIT");
    rows += c.count;
    if (auto problem = check(fmt::format("a commit of {} rows of {} bytes", c.count, c.bytes))) {
      return problem;
    }
  }
  db.Exec("BEGIN");
  for (int i = 0; i < 300; ++i) db.Exec("INSERT INTO t (body) VALUES (randomblob(3000))");
  db.Exec("ROLLBACK");
  db.Exec("INSERT INTO t (body) VALUES (randomblob(50))");
  rows += 1;
  if (auto problem = check("a rollback and a commit")) return problem;
  if (auto kept = RowsAfterCrash(dir, path); kept != std::to_string(rows)) {
    return fmt::format("a crash would keep {} rows, not {}", kept, rows);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CheckWalVfs(const char* vfs) {
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec);
  if (ec) return "no temporary folder: " + ec.message();
  std::string pattern = (base / "hookline-vfs-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return "cannot make a temporary folder in " + base.string();
  const std::filesystem::path dir = pattern;
  std::optional<std::string> problem;
  try {
    problem = CheckWalVfsIn(dir, vfs);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  std::filesystem::remove_all(dir, ec);
  return problem;
}

const char* ChooseWalVfs(const char* vfs, const std::function<std::optional<std::string>(const char*)>& check) {
  if (auto problem = check(vfs)) {
    spdlog::warn("hookline's SQLite VFS '{}' failed its self-test with SQLite {} ({}): using SQLite's own "
                 "VFS, which is correct but makes more system calls per commit",
                 vfs, sqlite3_libversion(), *problem);
    return nullptr;
  }
  return vfs;
}

const char* WalVfsName() {
  static const char* chosen = ChooseWalVfs(RegisterWalVfs("hookline", kFrameHeaderSize), CheckWalVfs);
  return chosen;
}

}  // namespace hookline::store::sqlite
