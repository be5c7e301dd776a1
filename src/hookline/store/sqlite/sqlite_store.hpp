#pragma once

#include <functional>
#include <memory>
#include <string>

#include "hookline/store/store.hpp"

namespace hookline::store::sqlite {

struct SqliteOptions {
  std::string path;
  //! Holds the file's server lock (an flock on PATH.lock) while open: a second store opened
  //! so, in any process, fails with StoreError. For serve and receive, whose writer keeps
  //! state in memory.
  bool one_server = false;
  int max_jobs_per_commit = 512;  //!< group-commit batch bound
  //! Write jobs queued, running or waiting for their sync past which a write with
  //! WriteOptions::refuse_when_full is refused (StoreOverloadedError); 0: never refused.
  std::size_t max_queued_writes = 0;
  int read_connections = 64;  //!< kept open; at least the HTTP handler threads
  //! WAL frames (pages, ~2 MiB) between two checkpoints, which copy the WAL into the
  //! database on a thread of their own. Smaller ones spread the database's writes and
  //! syncs, so the WAL's syncs wait less behind them; larger ones copy a page written again
  //! and again fewer times. Receiver bench, p99 at saturation: 15-17 ms at 250 frames,
  //! 18-20 at 500, 23-27 at 2,000; CPU per operation +5-9 % at 250 against 2,000.
  int checkpoint_frames = 500;
  //! WAL frames (~64 MiB) at which the writer catches up with the last checkpoint so that
  //! the WAL starts over (commits wait for it, so not at every checkpoint).
  int restart_frames = 16'000;
  //! Makes the WAL file (its descriptor) durable; 0 on success, else -1 with errno set.
  //! `fdatasync` unless a test injects a stall or a failure.
  std::function<int(int fd)> sync_wal = nullptr;
};

//! The embedded store: one WAL database, one writer thread that groups concurrent write jobs
//! into shared transactions, a sync thread that makes each committed transaction durable
//! before its jobs are answered, and a pool of read connections. A write job and a lease job
//! are answered only once everything committed before their answer could depend on is synced;
//! reads may see a commit up to one sync before it is durable.
std::unique_ptr<Store> OpenSqliteStore(const SqliteOptions& options);

}  // namespace hookline::store::sqlite
