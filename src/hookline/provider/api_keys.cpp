#include "hookline/provider/api_keys.hpp"

#include "hookline/util/crypto.hpp"

namespace hookline::provider {

std::string NewApiKey() { return "hlk_" + crypto::HexEncode(crypto::RandomBytes(32)); }
std::string HashApiKey(std::string_view api_key) { return crypto::Sha256(api_key); }

}  // namespace hookline::provider
