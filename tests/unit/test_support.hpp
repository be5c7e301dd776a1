#pragma once

#include <fstream>
#include <sstream>
#include <string>

inline std::string ReadTestFile(const std::string& relative) {
  std::ifstream in(std::string(HOOKLINE_TEST_DATA) + "/" + relative, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}
