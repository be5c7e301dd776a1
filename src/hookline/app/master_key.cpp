#include "hookline/app/master_key.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "hookline/util/crypto.hpp"

namespace hookline::app {

namespace {

std::string DecodeKey(std::string text, const std::string& where) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  auto key = crypto::Base64Decode(text);
  if (!key || key->size() != crypto::SecretBox::kKeySize) {
    throw std::runtime_error(where + " must hold the base64 of 32 random bytes (openssl rand -base64 32)");
  }
  return *key;
}

}  // namespace

std::string LoadOrCreateMasterKey(const std::optional<std::string>& env_value,
                                  const std::string& key_file) {
  if (env_value && !env_value->empty()) return DecodeKey(*env_value, "HOOKLINE_MASTER_KEY");
  std::ifstream in(key_file);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    return DecodeKey(text.str(), "the master key file " + key_file);
  }
  const std::string key = crypto::RandomBytes(crypto::SecretBox::kKeySize);
  const std::string text = crypto::Base64Encode(key) + "\n";
  const int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot create the master key file " + key_file + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write the master key file " + key_file);
  spdlog::warn("created a new master key in {}: back it up; endpoint secrets cannot be read without it",
               key_file);
  return key;
}

}  // namespace hookline::app
