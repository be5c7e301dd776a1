#include "hookline/store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hookline/store/sqlite/migrations.hpp"
#include "hookline/store/sqlite/sqlite_connection.hpp"
#include "hookline/store/sqlite/sqlite_tx.hpp"
#include "hookline/store/sqlite/wal_vfs.hpp"
#include "hookline/util/thread_name.hpp"

namespace hookline::store::sqlite {

namespace {

// `cache_kib`: the page cache of this connection. Every connection keeps a small one: a miss
// is a read from the OS page cache (shared, and not this process's memory), and caches of
// 4 and 8 MB made the writer no faster in any bench/ scenario while the process's memory
// grew with the database until they filled.
void ConfigureConnection(Connection& db, int cache_kib) {
  db.Exec("PRAGMA foreign_keys = OFF");
  db.Exec("PRAGMA synchronous = FULL");
  db.Exec("PRAGMA temp_store = MEMORY");
  db.Exec("PRAGMA cache_size = -" + std::to_string(cache_kib));
}

void ApplyMigrations(Connection& db) {
  RegisterMigrationFunctions(db);
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

// An exclusive flock on PATH.lock, held while the store is open: one server per database
// file. A file of its own, not the database: closing any descriptor of the database would
// drop the POSIX locks SQLite holds on it in this process (a refused second store, in a
// test, would have closed one under the first).
class ServerLock {
 public:
  explicit ServerLock(const std::string& database_path) {
    const std::string path = database_path + ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw StoreError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd_);
      if (error == EWOULDBLOCK) {
        throw StoreError(fmt::format(
            "{} is in use by another hookline server (serve or receive); one server per SQLite "
            "file: stop the other, or give this one its own --db",
            database_path));
      }
      throw StoreError(fmt::format("cannot lock {}: {}", path, std::strerror(error)));
    }
  }
  ~ServerLock() { ::close(fd_); }
  ServerLock(const ServerLock&) = delete;
  ServerLock& operator=(const ServerLock&) = delete;

 private:
  int fd_ = -1;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteOptions& options) : options_(options), sync_wal_(options.sync_wal) {
    // Locked first: a second server stops before it touches the database.
    if (options.one_server) server_lock_.emplace(options.path);
    writer_db_ = std::make_unique<Connection>(options.path, false);
    {
      auto& mode = writer_db_->Prepare("PRAGMA journal_mode = WAL");
      const std::string journal = mode.Step() ? mode.Text(0) : "";
      writer_db_->ResetStatements();
      if (journal != "wal") {
        throw StoreError(fmt::format("cannot use a write-ahead log for '{}' (journal mode '{}')",
                                     options.path, journal));
      }
    }
    ConfigureConnection(*writer_db_, kWriterCacheKib);
    ApplyMigrations(*writer_db_);
    // The writer's commits write their WAL frames without syncing them: the sync thread
    // syncs the WAL while the writer runs the next batch, and a batch's jobs are answered
    // after that sync. SQLite still syncs the WAL's header when it starts the file over,
    // and checkpoints still sync the WAL before copying it.
    writer_db_->Exec("PRAGMA synchronous = NORMAL");
    // Checkpoints copy the WAL into the database and fsync it: done on their own thread and
    // connection, so commits (and the callers waiting on them) never wait for one.
    writer_db_->Exec("PRAGMA wal_autocheckpoint = 0");
    sqlite3_wal_hook(writer_db_->handle(), &SqliteStore::OnWalCommit, this);
    checkpoint_db_ = std::make_unique<Connection>(options.path, false);
    ConfigureConnection(*checkpoint_db_, kReaderCacheKib);
    // Last before the threads: nothing after it throws, so it needs no closing on a throw.
    const std::string wal_path = options.path + "-wal";
    wal_fd_ = ::open(wal_path.c_str(), O_RDWR | O_CLOEXEC);
    if (wal_fd_ < 0) {
      throw StoreError(fmt::format("cannot open {}: {}", wal_path, std::strerror(errno)));
    }
    if (!sync_wal_) sync_wal_ = &::fdatasync;
    writer_ = std::thread([this] {
      NameThisThread("hl-sql-writer");
      WriterLoop();
    });
    syncer_ = std::thread([this] {
      NameThisThread("hl-sql-sync");
      SyncLoop();
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
      std::lock_guard lock(sync_mu_);
      sync_stop_ = true;
    }
    sync_cv_.notify_all();
    syncer_.join();
    ::close(wal_fd_);
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

  bool Write(std::function<bool(StoreTx&)> job) override { return Write(std::move(job), WriteOptions{}); }

  bool Write(std::function<bool(StoreTx&)> job, WriteOptions options) override {
    std::promise<bool> promise;
    std::future<bool> result = promise.get_future();
    WriteAsync(std::move(job), options, [&promise](bool ok, std::exception_ptr error) {
      if (error) {
        promise.set_exception(error);
      } else {
        promise.set_value(ok);
      }
    });
    return result.get();
  }

  void WriteAsync(std::function<bool(StoreTx&)> job, WriteDone done) override {
    Enqueue(queue_, std::move(job), std::move(done), WriteOptions{});
  }

  void WriteAsync(std::function<bool(StoreTx&)> job, WriteOptions options, WriteDone done) override {
    Enqueue(queue_, std::move(job), std::move(done), options);
  }

  void LeaseAsync(std::function<bool(StoreTx&)> job, WriteDone done) override {
    Enqueue(lease_queue_, std::move(job), std::move(done), WriteOptions{});
  }

  WriterCounters Counters() const override {
    return {commits_.load(std::memory_order_relaxed), jobs_answered_.load(std::memory_order_relaxed),
            batch_reruns_.load(std::memory_order_relaxed), refused_.load(std::memory_order_relaxed),
            unanswered_.load(std::memory_order_relaxed), queued_.load(std::memory_order_relaxed)};
  }

  std::string_view Kind() const override { return "sqlite"; }

 private:
  struct PendingJob {
    std::function<bool(StoreTx&)> fn;
    WriteDone done;
    bool own_savepoint = false;  //!< WriteOptions::own_savepoint
    bool counted = false;  //!< in unanswered_ (a write job; lease jobs are not)
    bool ok = false;
    std::exception_ptr error;
  };
  // Jobs waiting for the sync of every commit up to `commit`.
  struct SyncWait {
    std::uint64_t commit = 0;
    std::vector<std::unique_ptr<PendingJob>> jobs;
  };

  // `queue` is queue_ or lease_queue_, both guarded by mu_. A write job is counted from here
  // until its answer; the count decides, without a lock, whether a refusable one is taken.
  // Lease jobs are not counted: few (the dispatchers'), small, and answered without a sync.
  void Enqueue(std::deque<std::unique_ptr<PendingJob>>& queue, std::function<bool(StoreTx&)> job,
               WriteDone done, WriteOptions options) {
    const bool counted = &queue == &queue_;
    const std::size_t before = counted ? unanswered_.fetch_add(1, std::memory_order_relaxed) : 0;
    if (options.refuse_when_full && options_.max_queued_writes > 0 && before >= options_.max_queued_writes) {
      unanswered_.fetch_sub(1, std::memory_order_relaxed);
      refused_.fetch_add(1, std::memory_order_relaxed);
      throw StoreOverloadedError(fmt::format(
          "the store's writer has {} writes waiting (--max-queued-writes): send again later", before));
    }
    auto pending = std::make_unique<PendingJob>();
    pending->fn = std::move(job);
    pending->done = std::move(done);
    pending->own_savepoint = options.own_savepoint;
    pending->counted = counted;
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        if (counted) unanswered_.fetch_sub(1, std::memory_order_relaxed);
        throw StoreError("the store is shutting down");
      }
      queue.push_back(std::move(pending));
      if (counted) queued_.fetch_add(1, std::memory_order_relaxed);  // in the queue: a writer takes it
    }
    cv_.notify_one();
  }

  void WriterLoop() {
    std::vector<std::unique_ptr<PendingJob>> leases;
    std::vector<std::unique_ptr<PendingJob>> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (queue_.empty() && lease_queue_.empty() && catch_up_wanted_) {
          lock.unlock();
          CatchUpWithCheckpoint();
          continue;
        }
        cv_.wait(lock, [&] {
          return stopping_ || !queue_.empty() || !lease_queue_.empty() || catch_up_wanted_;
        });
        if (queue_.empty() && lease_queue_.empty() && !stopping_) continue;
        if (queue_.empty() && lease_queue_.empty() && stopping_) return;
        while (!lease_queue_.empty()) {
          leases.push_back(std::move(lease_queue_.front()));
          lease_queue_.pop_front();
        }
        while (!queue_.empty() && batch.size() < static_cast<size_t>(options_.max_jobs_per_commit)) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (!leases.empty()) RunLeaseJobs(leases);
      if (!batch.empty()) RunBatch(batch);
      leases.clear();
      batch.clear();
    }
  }

  // Lease jobs run before the batch, in a read transaction of their own: they see only what
  // is committed, and what they change (the leases) is the writer's memory, committed with
  // them, so they are answered without waiting for the batch's sync. A dispatcher's claim
  // used to wait for the commit it was queued behind and then for its own; its claimed-ahead
  // queues ran dry in between.
  void RunLeaseJobs(std::vector<std::unique_ptr<PendingJob>>& jobs) {
    Connection& db = *writer_db_;
    std::exception_ptr error;
    try {
      db.Prepare("BEGIN").Run();
      bool wrote = false;
      {
        SqliteTx tx(db, &writer_memory_);
        for (auto& job : jobs) {
          const std::size_t memory_mark = writer_memory_.Mark();
          const sqlite3_int64 changes_before = sqlite3_total_changes64(db.handle());
          RunJob(*job, tx);
          if (sqlite3_total_changes64(db.handle()) != changes_before) {
            wrote = true;
            job->ok = false;
            job->error = std::make_exception_ptr(
                std::logic_error("a lease job wrote rows: it must only take or give back leases"));
          }
          if (!job->ok) writer_memory_.RollBackTo(memory_mark);
        }
      }
      db.Prepare(wrote ? "ROLLBACK" : "COMMIT").Run();
      db.ResetStatements();
      writer_memory_.Commit();
    } catch (...) {
      error = std::current_exception();
      RollBack(db);
    }
    // What a lease job handed out may have been committed by a batch whose sync is still
    // running: nothing is sent for an event a crash could take back.
    if (error) {
      Answer(jobs, error);
    } else {
      AnswerWhenSynced(jobs, /*committed=*/false);
    }
  }

  void RunJob(PendingJob& job, SqliteTx& tx) {
    job.error = nullptr;
    try {
      job.ok = job.fn(tx);
    } catch (...) {
      job.error = std::current_exception();
      job.ok = false;
    }
    writer_db_->ResetStatements();
  }

  // Calls every job's `done`: with the job's own outcome, or `error` when its transaction failed.
  void Answer(std::vector<std::unique_ptr<PendingJob>>& jobs, const std::exception_ptr& error) {
    // Uncounted first: a caller told it may go on may well queue again at once.
    std::size_t counted = 0;
    for (const auto& job : jobs) counted += job->counted ? 1 : 0;
    unanswered_.fetch_sub(counted, std::memory_order_relaxed);
    jobs_answered_.fetch_add(jobs.size(), std::memory_order_relaxed);
    for (auto& job : jobs) {
      try {
        if (error) {
          job->done(false, error);
        } else {
          job->done(job->ok, job->error);
        }
      } catch (const std::exception& e) {
        spdlog::error("a write's completion failed: {}", e.what());
      }
    }
  }

  // Runs the batch's jobs in one transaction, commits once (one fsync for them all), then
  // answers every caller. A failed job (false or a throw) must leave nothing behind, but a
  // savepoint per job costs a copy of every page the job touches (~10 % of the writer). So
  // the jobs first run without savepoints; only if one fails is that run rolled back and
  // the whole batch run again, each job under its own savepoint. What commits, and every
  // answer, comes from that second run: a failed job's answer may rest on what an earlier
  // job did (an id it drew), which the second run draws anew. A job queued with its own
  // savepoint (one likely to fail: a request refused with a 4xx) has it on the first run
  // too, and its failure undoes only its own changes.
  void RunBatch(std::vector<std::unique_ptr<PendingJob>>& batch) {
    Connection& db = *writer_db_;
    std::exception_ptr commit_error;
    try {
      if (!RunJobs(batch, /*savepoints=*/false)) {
        RollBack(db);
        batch_reruns_.fetch_add(1, std::memory_order_relaxed);
        RunJobs(batch, /*savepoints=*/true);
      }
      // BEGIN and COMMIT prepared once, as reads do: sqlite3_exec parsed them for every
      // batch, and batches are small when the writer keeps up (~20 attempt records in a drain).
      db.Prepare("COMMIT").Run();
      db.ResetStatements();
      writer_memory_.Commit();
      commits_.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
      commit_error = std::current_exception();
      RollBack(db);
    }
    if (commit_error) {
      Answer(batch, commit_error);
    } else {
      AnswerWhenSynced(batch, /*committed=*/true);
    }
  }

  // Answers `jobs` once every commit so far is durable: now if it is, else after the sync
  // thread's next sync. `committed`: the jobs' own transaction has just committed.
  void AnswerWhenSynced(std::vector<std::unique_ptr<PendingJob>>& jobs, bool committed) {
    std::unique_lock lock(sync_mu_);
    if (committed) ++committed_;
    if (sync_error_ || synced_ >= committed_) {
      const std::exception_ptr error = sync_error_;
      lock.unlock();
      Answer(jobs, error);
      return;
    }
    sync_queue_.push_back({committed_, std::move(jobs)});
    lock.unlock();
    sync_cv_.notify_one();
  }

  // Syncs the WAL whenever jobs wait for it; one sync covers every commit made before it
  // started. After a failed sync the store answers every later job with that error: what
  // the OS held for the file may be lost, so nothing is acknowledged until a restart.
  void SyncLoop() {
    for (;;) {
      std::uint64_t target = 0;
      {
        std::unique_lock lock(sync_mu_);
        sync_cv_.wait(lock, [&] { return sync_stop_ || !sync_queue_.empty(); });
        if (sync_queue_.empty()) return;
        target = committed_;
      }
      std::exception_ptr failure;
      if (sync_wal_(wal_fd_) != 0) {
        failure = std::make_exception_ptr(StoreError(fmt::format(
            "syncing {}-wal failed: {}; nothing more is acknowledged until hookline restarts",
            options_.path, std::strerror(errno))));
      }
      std::deque<SyncWait> ready;
      std::exception_ptr error;
      {
        std::lock_guard lock(sync_mu_);
        if (failure && !sync_error_) {
          sync_error_ = failure;
          spdlog::critical("syncing {}-wal failed: writes are refused until hookline restarts",
                           options_.path);
        }
        if (!sync_error_) synced_ = target;
        error = sync_error_;
        while (!sync_queue_.empty() && sync_queue_.front().commit <= target) {
          ready.push_back(std::move(sync_queue_.front()));
          sync_queue_.pop_front();
        }
      }
      for (auto& wait : ready) Answer(wait.jobs, error);
    }
  }

  // Opens the transaction and runs the jobs. Without savepoints it stops at the first job
  // that fails and returns false, leaving the transaction open for the caller to roll back;
  // with them, a failed job's changes are undone and the rest still run. A job with a
  // savepoint of its own has it in both runs.
  bool RunJobs(std::vector<std::unique_ptr<PendingJob>>& batch, bool savepoints) {
    Connection& db = *writer_db_;
    db.Prepare("BEGIN IMMEDIATE").Run();
    SqliteTx tx(db, &writer_memory_);
    for (auto& job : batch) {
      const std::size_t memory_mark = writer_memory_.Mark();
      const bool savepoint = savepoints || job->own_savepoint;
      if (savepoint) db.Prepare("SAVEPOINT job").Run();
      RunJob(*job, tx);
      if (!savepoint) {
        if (!job->ok) return false;
        continue;
      }
      if (!job->ok) {
        db.Prepare("ROLLBACK TO job").Run();
        writer_memory_.RollBackTo(memory_mark);
      }
      db.Prepare("RELEASE job").Run();
    }
    return true;
  }

  // Ends the writer's transaction, if one is open, undoing it (some errors end it already).
  void RollBack(Connection& db) {
    writer_memory_.RollBack();
    db.ResetStatements();
    try {
      if (!sqlite3_get_autocommit(db.handle())) db.Exec("ROLLBACK");
    } catch (const std::exception& e) {
      spdlog::error("rolling back the writer's transaction failed: {}", e.what());
    }
  }

  static constexpr int kWriterCacheKib = 2'000;
  static constexpr int kReaderCacheKib = 2'000;
  // A checkpoint is repeated (kCheckpointRounds times at most) while it finds more than
  // kCatchUpFrames new frames to copy, so the writer's catch-up has little left.
  static constexpr int kCheckpointRounds = 5;
  static constexpr int kCatchUpFrames = 256;

  // Called by SQLite on the writer thread after each commit with the WAL's size in frames.
  //
  // The checkpoint thread copies the WAL into the database without stopping the writer, but
  // SQLite starts the WAL over only if, when the writer begins a transaction, everything in
  // it has been copied; under steady load the writer has always committed more by then. The
  // WAL grew past the threshold for good and every commit asked for another checkpoint
  // (~170 a second in the receiver bench, each syncing the database). Now a checkpoint is
  // asked for once per `checkpoint_frames`, and once the WAL holds `restart_frames` the
  // writer copies what the last checkpoint left itself, between two batches, so that its
  // next transaction starts the WAL over.
  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    const SqliteOptions& options = store->options_;
    if (frames < store->frames_seen_) store->next_checkpoint_at_ = options.checkpoint_frames;  // started over
    store->frames_seen_ = frames;
    // While a catch-up is wanted, or just done, no checkpoint is asked for: one running on
    // the other thread would keep it from copying everything, or the next transaction from
    // starting the WAL over. It waits for a moment without jobs, unless the WAL keeps growing.
    if (store->catch_up_wanted_) {
      if (frames >= 2 * options.restart_frames) store->CatchUpWithCheckpoint();
      return SQLITE_OK;
    }
    if (frames >= store->next_checkpoint_at_) {
      store->next_checkpoint_at_ = frames + options.checkpoint_frames;
      {
        std::lock_guard lock(store->checkpoint_mu_);
        store->checkpoint_wanted_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  // On the writer thread: copies what the last checkpoint left, so the next transaction
  // starts the WAL over. Commits wait meanwhile (the frames of the last batches and a sync of
  // the database: a few ms, tens on this VM when its disk is busy). Tried once per
  // checkpoint: if a reader still needs frames, the next checkpoint asks again.
  void CatchUpWithCheckpoint() {
    catch_up_wanted_ = false;
    sqlite3_wal_checkpoint_v2(writer_db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  void CheckpointLoop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_wanted_; });
        if (checkpoint_stop_) break;
        checkpoint_wanted_ = false;
      }
      // PASSIVE: copies what no reader still needs, never blocks the writer or readers.
      int log_frames = 0, copied = 0, copied_before = 0, rc = SQLITE_OK;
      for (int round = 0; round < kCheckpointRounds; ++round) {
        rc = sqlite3_wal_checkpoint_v2(checkpoint_db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &log_frames, &copied);
        if (rc != SQLITE_OK || copied != log_frames || copied - copied_before <= kCatchUpFrames) break;
        copied_before = copied;
      }
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("WAL checkpoint failed: {}", sqlite3_errmsg(checkpoint_db_->handle()));
      }
      if (rc == SQLITE_OK && copied == log_frames && log_frames >= options_.restart_frames) {
        {
          std::lock_guard lock(checkpoint_mu_);
          checkpoint_wanted_ = false;  // asked for while this one ran: the writer does it now
        }
        {
          std::lock_guard lock(mu_);
          catch_up_wanted_ = true;
        }
        cv_.notify_one();
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
  std::optional<ServerLock> server_lock_;  //!< released after the connections close
  std::unique_ptr<Connection> writer_db_;
  WriterMemory writer_memory_;  //!< the writer thread's only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<PendingJob>> queue_;
  std::deque<std::unique_ptr<PendingJob>> lease_queue_;  //!< run ahead of queue_ (LeaseAsync)
  std::atomic<std::size_t> unanswered_{0};  //!< jobs from Enqueue to Answer
  std::atomic<std::uint64_t> queued_{0};     //!< jobs pushed into queue_, ever
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> jobs_answered_{0};
  std::atomic<std::uint64_t> batch_reruns_{0};
  bool stopping_ = false;
  std::thread writer_;
  int wal_fd_ = -1;  //!< the WAL, opened by us: the sync thread syncs it
  std::function<int(int)> sync_wal_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<SyncWait> sync_queue_;  //!< in commit order
  std::uint64_t committed_ = 0;  //!< commits so far (the writer's), guarded by sync_mu_
  std::uint64_t synced_ = 0;  //!< of those, the ones known durable
  std::exception_ptr sync_error_;  //!< the first failed sync; every later answer
  bool sync_stop_ = false;
  std::thread syncer_;
  std::unique_ptr<Connection> checkpoint_db_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  std::atomic<bool> catch_up_wanted_{false};  //!< a checkpoint ended: the writer copies the rest
  int frames_seen_ = 0;  //!< the WAL's frames at the last commit (writer thread)
  int next_checkpoint_at_ = options_.checkpoint_frames;  //!< when to ask for one (writer thread)
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
