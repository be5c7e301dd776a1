#include "hookline/util/ids.hpp"

#include "hookline/util/crypto.hpp"

namespace hookline {

std::string NewId(std::string_view prefix, Millis now) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string id(prefix);
  const auto t = static_cast<unsigned long long>(now);
  for (int shift = 45; shift >= 0; shift -= 5) id.push_back(kAlphabet[(t >> shift) & 31]);
  const std::string random = crypto::RandomBytes(10);
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
