#include "hookline/util/ids.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "hookline/util/crypto.hpp"

namespace hookline {

namespace {

// The random part of ids comes from a per-thread buffer that RAND_bytes fills 4 KiB at a
// time: a call costs ~2 us whatever its size up to a few KiB, and ids are made several
// times per request (on the writer thread, for events and deliveries). Ids are public, so
// buffering their randomness exposes nothing; keys, tokens and nonces still call
// crypto::RandomBytes directly. (hookline never forks, so no two processes share a buffer.)
class IdRandomness {
 public:
  void Fill(unsigned char* out, std::size_t n) {
    while (n > 0) {
      if (used_ == buffer_.size()) {
        const std::string fresh = crypto::RandomBytes(buffer_.size());
        std::memcpy(buffer_.data(), fresh.data(), buffer_.size());
        used_ = 0;
      }
      const std::size_t take = std::min(n, buffer_.size() - used_);
      std::memcpy(out, buffer_.data() + used_, take);
      std::memset(buffer_.data() + used_, 0, take);  // each byte is handed out once
      used_ += take;
      out += take;
      n -= take;
    }
  }

 private:
  std::array<unsigned char, 4096> buffer_{};
  std::size_t used_ = buffer_.size();
};

}  // namespace

std::string NewId(std::string_view prefix, Millis now) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string id(prefix);
  const auto t = static_cast<unsigned long long>(now);
  for (int shift = 45; shift >= 0; shift -= 5) id.push_back(kAlphabet[(t >> shift) & 31]);
  thread_local IdRandomness randomness;
  std::array<unsigned char, 10> random;
  randomness.Fill(random.data(), random.size());
  unsigned long long acc = 0;
  int bits = 0;
  for (unsigned char c : random) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      id.push_back(kAlphabet[(acc >> bits) & 31]);
    }
  }
  return id;
}

std::string NewUuid() {
  std::string bytes = crypto::RandomBytes(16);
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  const std::string hex = crypto::HexEncode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

bool IsValidDomainId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%') return false;
  }
  return true;
}

}  // namespace hookline
