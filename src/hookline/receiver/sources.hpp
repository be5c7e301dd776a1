#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::receiver {

//! What is wrong with a source request, or nullopt when CreateSource would accept it. Reads
//! nothing, so a command can check before it opens the database.
std::optional<std::string> SourceRequestProblem(const std::string& name,
                                                const std::optional<std::string>& secret,
                                                const std::optional<std::string>& token,
                                                const std::vector<std::string>& dedupe_fields);

//! Creates a source: a `whsec_` secret (signature) or a token. With neither, a token is made.
//! Returns the JSON view, with the token shown this once. `error` set on bad input.
std::optional<boost::json::object> CreateSource(store::Store& store, const crypto::SecretBox& secrets,
                                                Millis now, const std::string& name,
                                                const std::optional<std::string>& secret,
                                                const std::optional<std::string>& token,
                                                const std::vector<std::string>& dedupe_fields,
                                                std::string* error);

}  // namespace hookline::receiver
