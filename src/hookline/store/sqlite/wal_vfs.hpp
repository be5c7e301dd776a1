#pragma once

namespace hookline::store::sqlite {

//! The name of the SQLite VFS every hookline connection opens with, registered on first use.
//! It is the platform's default VFS but for one thing: the WAL frames of a transaction are
//! gathered in memory and written with a few calls once its commit frame is complete (or
//! earlier, when 1 MiB is gathered or SQLite syncs, reads what is gathered, truncates or
//! closes the file). SQLite writes each frame with two calls, its header and then the page:
//! hundreds of system calls per commit became a few. Every frame reaches the OS before the
//! commit is published to other connections and before any sync, so what other connections
//! read and what survives a crash are those of the default VFS. Database, journal and
//! temporary files are the default VFS's own.
const char* WalVfsName();

}  // namespace hookline::store::sqlite
