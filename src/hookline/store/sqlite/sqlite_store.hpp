#pragma once

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
  int read_connections = 64;  //!< kept open; at least the HTTP handler threads
};

//! The embedded store: one WAL database, synchronous=FULL, one writer thread that groups
//! concurrent write jobs into shared transactions, a pool of read connections.
std::unique_ptr<Store> OpenSqliteStore(const SqliteOptions& options);

}  // namespace hookline::store::sqlite
