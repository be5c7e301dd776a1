#include "hookline/store/sqlite/wal_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

namespace hookline::store::sqlite {

namespace {

// Bytes gathered before they are written anyway: a drain's or receiver's commit is ~100
// frames (~400 KiB); a larger transaction is written in 1 MiB pieces.
constexpr std::size_t kGatherLimit = 1 << 20;
// The WAL's frame header (https://www.sqlite.org/fileformat.html#wal_frame_header): SQLite
// writes it with a call of its own, then the page. Bytes 4..7 are nonzero in a commit frame.
constexpr int kFrameHeaderSize = 24;
// The most the default (unix) VFS writes in one call: it masks a longer write to 17 bits and
// reports the short write as a full disk.
constexpr std::size_t kLargestWrite = 0x1ffff;

struct WalState {
  std::vector<char> gathered;  // bytes written by SQLite, not yet by us, from gathered_at
  sqlite3_int64 gathered_at = 0;
  sqlite3_int64 appended_end = 0;  // the end of the frames appended to this WAL so far
  bool commit_page_next = false;  // the header just gathered is a commit frame's
};

// What SQLite allocates for a WAL file opened through this VFS: the default VFS's file
// follows it, `real`.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
  WalState* state;
};

sqlite3_vfs* g_default = nullptr;
sqlite3_vfs g_vfs;

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
  if (amount == kFrameHeaderSize) {
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

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
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

void Register() {
  g_default = sqlite3_vfs_find(nullptr);
  if (g_default == nullptr || g_default->iVersion < 2) {
    throw std::runtime_error("SQLite has no default VFS of version 2 or later");
  }
  // Version 2: the system-call hooks of version 3 are the default VFS's business.
  g_vfs = sqlite3_vfs{.iVersion = 2,
                      .szOsFile = static_cast<int>(sizeof(WalFile)) + g_default->szOsFile,
                      .mxPathname = g_default->mxPathname,
                      .pNext = nullptr,
                      .zName = "hookline",
                      .pAppData = nullptr,
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
  if (sqlite3_vfs_register(&g_vfs, 0) != SQLITE_OK) {
    throw std::runtime_error("cannot register hookline's SQLite VFS");
  }
}

}  // namespace

const char* WalVfsName() {
  static std::once_flag once;
  std::call_once(once, Register);
  return g_vfs.zName;
}

}  // namespace hookline::store::sqlite
