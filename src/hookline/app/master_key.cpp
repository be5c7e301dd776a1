#include "hookline/app/master_key.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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

std::string FolderOf(const std::string& file) {
  const auto parent = std::filesystem::path(file).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

std::optional<std::string> ReadMasterKey(const std::optional<std::string>& env_value,
                                         const std::string& key_file) {
  if (env_value && !env_value->empty()) return DecodeKey(*env_value, "HOOKLINE_MASTER_KEY");
  if (::access(key_file.c_str(), F_OK) == 0) {
    std::ifstream in(key_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw std::runtime_error("cannot read the master key file " + key_file);
    return DecodeKey(std::move(text), "the master key file " + key_file);
  }
  if (errno != ENOENT) {
    throw std::runtime_error("cannot read the master key file " + key_file + ": " + std::strerror(errno));
  }
  const std::string folder = FolderOf(key_file);
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    throw std::runtime_error("cannot create the master key file " + key_file + ": " + std::strerror(errno));
  }
  return std::nullopt;
}

std::string CreateMasterKeyFile(const std::string& key_file, std::string_view sealed_what) {
  const std::string key = crypto::RandomBytes(crypto::SecretBox::kKeySize);
  const std::string text = crypto::Base64Encode(key) + "\n";
  const int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot create the master key file " + key_file + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(key_file.c_str());
    throw std::runtime_error("cannot write the master key file " + key_file);
  }
  // The file's name lives in its folder: without this sync a crash could lose the file
  // while secrets sealed under its key are already committed.
  const std::string folder = FolderOf(key_file);
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir >= 0 && ::fsync(dir) == 0;
  if (dir >= 0) ::close(dir);
  if (!synced) {
    // Nothing is sealed under it yet: a file whose name a crash could lose is not kept.
    ::unlink(key_file.c_str());
    throw std::runtime_error("cannot sync the folder " + folder + " of the master key file: " +
                             std::strerror(errno));
  }
  spdlog::warn("created a new master key in {}: back it up; {} cannot be read without it", key_file,
               sealed_what);
  return key;
}

std::string LoadOrCreateMasterKey(const std::optional<std::string>& env_value,
                                  const std::string& key_file, std::string_view sealed_what) {
  if (auto key = ReadMasterKey(env_value, key_file)) return *key;
  return CreateMasterKeyFile(key_file, sealed_what);
}

}  // namespace hookline::app
