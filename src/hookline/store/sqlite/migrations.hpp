#pragma once

#include <string_view>
#include <vector>

namespace hookline::store::sqlite {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

//! Every schema migration, oldest first.
const std::vector<Migration>& Migrations();

}  // namespace hookline::store::sqlite
