// libFuzzer target for the endpoint URL guard (no DNS: only parsing and literal addresses):
// any text is accepted or refused with a reason, never a crash; allowing private endpoints
// only accepts more; and an address is judged the same in every spelling: raw bytes, a
// socket address, dotted, decimal and hex IPv4, IPv4-mapped IPv6, and any IPv6 text.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <fuzzer/FuzzedDataProvider.h>

#include "hookline/delivery/url_guard.hpp"

namespace {

using hookline::delivery::CheckEndpointUrl;
using hookline::delivery::IsForbiddenAddress;
using hookline::delivery::IsForbiddenSocketAddress;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool Refused(const std::string& url) { return CheckEndpointUrl(url, false).has_value(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto strict = CheckEndpointUrl(text, false);
  const auto lax = CheckEndpointUrl(text, true);
  if (strict) Require(!strict->empty());
  if (!strict) Require(!lax);

  FuzzedDataProvider in(data, size);
  unsigned char v4[4];
  unsigned char v6[16];
  in.ConsumeData(v4, sizeof v4);
  in.ConsumeData(v6, sizeof v6);
  const std::uint16_t port = in.ConsumeIntegral<std::uint16_t>();
  const std::string path = "/" + std::to_string(port);

  const bool v4_forbidden = IsForbiddenAddress(v4, 4);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, v4, 4);
  Require(IsForbiddenSocketAddress(reinterpret_cast<const sockaddr*>(&sin)) == v4_forbidden);
  const std::uint32_t number = std::uint32_t{v4[0]} << 24 | std::uint32_t{v4[1]} << 16 |
                               std::uint32_t{v4[2]} << 8 | v4[3];
  const std::string dotted = fmt::format("{}.{}.{}.{}", v4[0], v4[1], v4[2], v4[3]);
  Require(Refused("http://" + dotted + path) == v4_forbidden);
  Require(Refused(fmt::format("https://{}:{}{}", dotted, port, path)) == v4_forbidden);
  Require(Refused(fmt::format("http://{}{}", number, path)) == v4_forbidden);
  Require(Refused(fmt::format("http://0x{:x}{}", number, path)) == v4_forbidden);
  Require(Refused(fmt::format("http://[::ffff:{}]{}", dotted, path)) == v4_forbidden);
  unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  std::memcpy(mapped + 12, v4, 4);
  Require(IsForbiddenAddress(mapped, 16) == v4_forbidden);
  Require(!CheckEndpointUrl("http://" + dotted + path, true));

  const bool v6_forbidden = IsForbiddenAddress(v6, 16);
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  std::memcpy(&sin6.sin6_addr, v6, 16);
  Require(IsForbiddenSocketAddress(reinterpret_cast<const sockaddr*>(&sin6)) == v6_forbidden);
  char v6_text[INET6_ADDRSTRLEN];
  Require(inet_ntop(AF_INET6, v6, v6_text, sizeof v6_text) != nullptr);
  Require(Refused(fmt::format("http://[{}]{}", v6_text, path)) == v6_forbidden);
  Require(!CheckEndpointUrl(fmt::format("https://[{}]:{}/", v6_text, port), true));
  return 0;
}
