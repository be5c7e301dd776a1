#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace hookline::bench {

//! The whole file, or nullopt when it cannot be read.
inline std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace hookline::bench
