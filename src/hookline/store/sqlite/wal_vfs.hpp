#pragma once

#include <functional>
#include <optional>
#include <string>

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
//!
//! It relies on how SQLite writes WAL frames (a 24-byte header, then the page, in two
//! calls), so on first use it checks itself with CheckWalVfs; where the check fails it
//! warns once and returns nullptr, SQLite's default VFS (sqlite3_open_v2 takes either).
//! Thread-safe.
const char* WalVfsName();

//! Registers a VFS of this kind named `name` (once; later calls return the first) that
//! takes a WAL frame's header to be `frame_header_size` bytes written in a call of its own.
//! WalVfsName registers "hookline" with SQLite's 24; tests register others to see the
//! self-test fail. Returns the name. Throws std::runtime_error when SQLite refuses.
const char* RegisterWalVfs(const char* name, int frame_header_size);

//! Runs SQLite through `vfs` the way hookline does (WAL without syncs, spilled pages,
//! transactions past the gather limit, a rollback) in a temporary folder, and checks after
//! each commit that another connection on SQLite's default VFS sees it and that a crash
//! would keep it. Returns what went wrong, or nullopt. Leaves no file behind.
std::optional<std::string> CheckWalVfs(const char* vfs);

//! `vfs` when `check(vfs)` finds nothing wrong; otherwise warns naming the problem and
//! returns nullptr (SQLite's default VFS).
const char* ChooseWalVfs(const char* vfs, const std::function<std::optional<std::string>(const char*)>& check);

}  // namespace hookline::store::sqlite
