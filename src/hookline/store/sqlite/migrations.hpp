#pragma once

#include <string_view>
#include <vector>

namespace hookline::store::sqlite {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

//! Every schema migration, oldest first. Their SQL may call the functions
//! RegisterMigrationFunctions adds.
const std::vector<Migration>& Migrations();

class Connection;
//! Adds the SQL functions migrations use to `db`: hookline_latency_bucket(ms), LatencyBucket.
void RegisterMigrationFunctions(Connection& db);

}  // namespace hookline::store::sqlite
