#include "hookline/delivery/url_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <boost/url/parse.hpp>

namespace hookline::delivery {

namespace {

bool ForbiddenV4(const unsigned char* a) {
  const unsigned b0 = a[0], b1 = a[1];
  return b0 == 0 ||                                  // "this network", unspecified
         b0 == 10 ||                                 // private
         b0 == 127 ||                                // loopback
         (b0 == 100 && (b1 & 0xc0) == 64) ||         // CGNAT 100.64/10
         (b0 == 169 && b1 == 254) ||                 // link-local, cloud metadata
         (b0 == 172 && (b1 & 0xf0) == 16) ||         // private 172.16/12
         (b0 == 192 && b1 == 168) ||                 // private
         (b0 == 192 && b1 == 0 && a[2] == 0) ||      // IETF protocol assignments
         (b0 == 198 && (b1 == 18 || b1 == 19)) ||    // benchmarking
         b0 >= 224;                                  // multicast, reserved, broadcast
}

}  // namespace

bool IsForbiddenAddress(const unsigned char* a, size_t size) {
  if (size == 4) return ForbiddenV4(a);
  if (size != 16) return true;
  static const unsigned char kZero[16] = {};
  if (std::memcmp(a, kZero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return true;  // :: and ::1
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a, kMapped, 12) == 0) return ForbiddenV4(a + 12);  // ::ffff:a.b.c.d
  if (std::memcmp(a, kZero, 12) == 0) return ForbiddenV4(a + 12);    // deprecated ::a.b.c.d
  if ((a[0] & 0xfe) == 0xfc) return true;                             // ULA fc00::/7
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;             // link-local fe80::/10
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return true;             // site-local fec0::/10
  if (a[0] == 0xff) return true;                                      // multicast
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return true;  // documentation
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {  // NAT64 64:ff9b::/96
    return ForbiddenV4(a + 12);
  }
  return false;
}

bool IsForbiddenSocketAddress(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return IsForbiddenAddress(reinterpret_cast<const unsigned char*>(&in->sin_addr), 4);
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return IsForbiddenAddress(reinterpret_cast<const unsigned char*>(&in6->sin6_addr), 16);
  }
  return true;
}

std::optional<std::string> CheckEndpointUrl(std::string_view text, bool allow_private) {
  if (text.size() > 2048) return "the url is longer than 2048 characters";
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url) return "the url is not an absolute URL";
  const auto scheme = url->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    return "the url must use http or https";
  }
  if (!url->has_authority() || url->encoded_host().empty()) return "the url has no host";
  if (url->has_userinfo()) return "the url must not carry credentials; use headers instead";
  if (allow_private) return std::nullopt;

  const std::string refused =
      "the url points to a loopback, private, link-local or reserved address; start hookline "
      "with --allow-private-endpoints to allow it";
  switch (url->host_type()) {
    case boost::urls::host_type::ipv4: {
      const auto bytes = url->host_ipv4_address().to_bytes();
      if (ForbiddenV4(bytes.data())) return refused;
      return std::nullopt;
    }
    case boost::urls::host_type::ipv6: {
      const auto bytes = url->host_ipv6_address().to_bytes();
      if (IsForbiddenAddress(bytes.data(), bytes.size())) return refused;
      return std::nullopt;
    }
    case boost::urls::host_type::ipvfuture:
      return refused;
    default:
      break;
  }
  std::string host = url->host();
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host == "localhost" || host.ends_with(".localhost") || host.ends_with(".internal") ||
      host.ends_with(".local")) {
    return refused;
  }
  // inet_aton reads the numeric spellings browsers and resolvers accept ("2130706433",
  // "0x7f.1", "127.1", "0177.0.0.1"): a host that parses so is an address in disguise.
  in_addr addr{};
  if (inet_aton(host.c_str(), &addr) != 0) {
    if (ForbiddenV4(reinterpret_cast<const unsigned char*>(&addr.s_addr))) return refused;
  }
  return std::nullopt;
}

}  // namespace hookline::delivery
