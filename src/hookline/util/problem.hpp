#pragma once

#include <string>
#include <utility>

namespace hookline {

//! An expected failure of a request, as the client should see it: an HTTP status, a stable
//! snake_case code and a message that tells a person what to fix.
struct Problem {
  int status = 400;
  std::string code;
  std::string message;
};

inline Problem Invalid(std::string message) { return {422, "validation_failed", std::move(message)}; }
inline Problem NotFound(std::string message) { return {404, "not_found", std::move(message)}; }

}  // namespace hookline
