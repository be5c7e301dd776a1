#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hookline::store::sqlite {

class Connection;

//! A prepared statement, reset on reuse. Owned by its Connection's cache; not thread-safe.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Reset();
  // Binds are 1-based, like SQLite's.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, const std::optional<std::string>& text);
  Statement& Bind(int index, const std::optional<std::int64_t>& value);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  //! True when a row is ready; false when done. Throws StoreError on error.
  bool Step();
  //! Steps to completion (for statements that return no rows).
  void Run();

  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::int64_t Int(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;
  std::string Blob(int col) const;
  bool IsNull(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

//! One SQLite connection with a statement cache. Not thread-safe: one thread at a time.
class Connection {
 public:
  //! Opens `path` (created when missing unless `read_only`). Throws StoreError.
  Connection(const std::string& path, bool read_only);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Exec(std::string_view sql);
  //! The cached statement for `sql`, reset and ready to bind.
  Statement& Prepare(std::string_view sql);
  //! Resets every statement handed out since the last call. A stepped but unreset SELECT
  //! keeps its read transaction (and so an old snapshot) open past COMMIT: call this before
  //! ending a transaction.
  void ResetStatements();
  std::int64_t LastInsertRowId() const;
  int Changes() const;
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  // Looked up by the SQL's text without copying it into a std::string first (a malloc per
  // statement run, ~15 per recorded activity).
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
  std::vector<Statement*> handed_out_;
};

}  // namespace hookline::store::sqlite
