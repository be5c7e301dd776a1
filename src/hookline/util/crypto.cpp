#include "hookline/util/crypto.hpp"

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace hookline::crypto {

namespace {

// Fetched once. OpenSSL 3's one-shot calls (SHA256(), HMAC()) look the algorithm up by name
// on every call, under a lock all threads share; signing every delivery and fingerprinting
// every projected activity made that lookup a visible cost.
const EVP_MD* FetchedSha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!md) throw std::runtime_error("OpenSSL has no SHA256");
  return md;
}

EVP_MAC* FetchedHmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) throw std::runtime_error("OpenSSL has no HMAC");
  return mac;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

// This thread's HMAC contexts, one per key, each re-initialised (key kept) per message.
// Bounded: emptied when full. Freeing a context cleanses the key inside it.
class HmacContexts {
 public:
  ~HmacContexts() { Clear(); }

  EVP_MAC_CTX* For(std::string_view key) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      if (EVP_MAC_init(it->second, nullptr, 0, nullptr) != 1) throw std::runtime_error("HMAC init failed");
      return it->second;
    }
    if (by_key_.size() >= kMaxKeys) Clear();
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(FetchedHmac());
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
      EVP_MAC_CTX_free(ctx);
      throw std::runtime_error("HMAC init failed");
    }
    by_key_.emplace(std::string(key), ctx);
    return ctx;
  }

 private:
  static constexpr std::size_t kMaxKeys = 1024;

  void Clear() {
    for (auto& [key, ctx] : by_key_) {
      EVP_MAC_CTX_free(ctx);
      OPENSSL_cleanse(const_cast<char*>(key.data()), key.size());
    }
    by_key_.clear();
  }

  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  std::unordered_map<std::string, EVP_MAC_CTX*, KeyHash, std::equal_to<>> by_key_;
};

}  // namespace

std::string Sha256Concat(std::initializer_list<std::string_view> parts) {
  thread_local DigestContext digest;
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  bool ok = digest.ctx && EVP_DigestInit_ex2(digest.ctx, FetchedSha256(), nullptr) == 1;
  for (const auto part : parts) ok = ok && EVP_DigestUpdate(digest.ctx, part.data(), part.size()) == 1;
  if (!ok || EVP_DigestFinal_ex(digest.ctx, reinterpret_cast<unsigned char*>(out.data()), &len) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

std::string Sha256(std::string_view data) { return Sha256Concat({data}); }

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string HmacSha256Concat(std::string_view key, std::initializer_list<std::string_view> parts) {
  thread_local HmacContexts contexts;
  EVP_MAC_CTX* ctx = contexts.For(key);
  for (std::string_view part : parts) {
    if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) != 1) {
      throw std::runtime_error("HMAC failed");
    }
  }
  std::string out(EVP_MAX_MD_SIZE, '\0');
  std::size_t len = 0;
  if (EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1) {
    throw std::runtime_error("HMAC failed");
  }
  out.resize(len);
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) { return HmacSha256Concat(key, {data}); }

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t len = static_cast<size_t>(n);
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string HexEncode(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("the OpenSSL random generator failed");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
}  // namespace

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeySize) throw std::invalid_argument("the master key must be 32 bytes");
}

std::string SecretBox::Seal(std::string_view plaintext) const {
  std::string out = RandomBytes(kNonceSize);
  out.resize(kNonceSize + plaintext.size() + kTagSize);
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()), buf) != 1 ||
      EVP_EncryptUpdate(ctx.get(), buf + kNonceSize, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), buf + kNonceSize + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          buf + kNonceSize + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<std::string> SecretBox::Open(std::string_view sealed) const {
  if (sealed.size() < kNonceSize + kTagSize) return std::nullopt;
  const size_t text_size = sealed.size() - kNonceSize - kTagSize;
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(text_size, '\0');
  std::string tag(sealed.substr(kNonceSize + text_size));
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()), in) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        in + kNonceSize, static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) !=
          1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace hookline::crypto
