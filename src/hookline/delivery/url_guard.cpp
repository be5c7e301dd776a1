#include "hookline/delivery/url_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/url/parse.hpp>

namespace hookline::delivery {

namespace {

namespace ip = boost::asio::ip;

// IPv4 networks not sent to by default (IANA's special-purpose registry, less the few that
// are globally reachable). 240.0.0.0/4 holds the broadcast address 255.255.255.255.
constexpr const char* kForbiddenV4[] = {
    "0.0.0.0/8",        // "this network", unspecified
    "10.0.0.0/8",       // private
    "100.64.0.0/10",    // shared address space (CGNAT)
    "127.0.0.0/8",      // loopback
    "169.254.0.0/16",   // link-local, where cloud metadata lives
    "172.16.0.0/12",    // private
    "192.0.0.0/24",     // IETF protocol assignments
    "192.0.2.0/24",     // documentation (TEST-NET-1)
    "192.88.99.0/24",   // 6to4 relay anycast (deprecated)
    "192.168.0.0/16",   // private
    "198.18.0.0/15",    // benchmarking
    "198.51.100.0/24",  // documentation (TEST-NET-2)
    "203.0.113.0/24",   // documentation (TEST-NET-3)
    "224.0.0.0/4",      // multicast
    "240.0.0.0/4",      // reserved, and the limited broadcast address
};

// How an IPv6 network is judged: refused outright, or by the IPv4 address it embeds.
enum class V6Rule { kRefused, kEmbeddedV4At12, kEmbeddedV4At2 };

struct V6Range {
  const char* network;
  V6Rule rule;
};

constexpr V6Range kForbiddenV6[] = {
    // IPv4-compatible (deprecated); holds :: (0.0.0.0) and ::1 (0.0.0.1), both refused.
    {"::/96", V6Rule::kEmbeddedV4At12},
    {"::ffff:0:0/96", V6Rule::kEmbeddedV4At12},   // IPv4-mapped
    {"64:ff9b::/96", V6Rule::kEmbeddedV4At12},    // NAT64, well-known prefix
    {"64:ff9b:1::/48", V6Rule::kRefused},          // NAT64, local use
    {"100::/64", V6Rule::kRefused},                // discard
    {"2001::/32", V6Rule::kRefused},               // Teredo: the IPv4 side is hidden
    {"2001:2::/48", V6Rule::kRefused},             // benchmarking
    {"2001:db8::/32", V6Rule::kRefused},           // documentation
    {"2002::/16", V6Rule::kEmbeddedV4At2},         // 6to4: 2002:AABB:CCDD:: is AA.BB.CC.DD
    {"3fff::/20", V6Rule::kRefused},               // documentation
    {"fc00::/7", V6Rule::kRefused},                // unique local (private)
    {"fe80::/10", V6Rule::kRefused},               // link-local
    {"fec0::/10", V6Rule::kRefused},               // site-local (deprecated)
    {"ff00::/8", V6Rule::kRefused},                // multicast
};

struct V4Net {
  std::uint32_t network;
  std::uint32_t mask;
};

const std::vector<V4Net>& ForbiddenV4Nets() {
  static const std::vector<V4Net> nets = [] {
    std::vector<V4Net> out;
    for (const char* text : kForbiddenV4) {
      const ip::network_v4 net = ip::make_network_v4(text);
      out.push_back({net.network().to_uint(), net.netmask().to_uint()});
    }
    return out;
  }();
  return nets;
}

struct V6Net {
  ip::network_v6 network;
  V6Rule rule;
};

const std::vector<V6Net>& ForbiddenV6Nets() {
  static const std::vector<V6Net> nets = [] {
    std::vector<V6Net> out;
    for (const auto& range : kForbiddenV6) out.push_back({ip::make_network_v6(range.network), range.rule});
    return out;
  }();
  return nets;
}

bool ForbiddenV4(const ip::address_v4& address) {
  const std::uint32_t a = address.to_uint();
  for (const auto& net : ForbiddenV4Nets()) {
    if ((a & net.mask) == net.network) return true;
  }
  return false;
}

bool ForbiddenV4(const unsigned char* bytes) {
  ip::address_v4::bytes_type b;
  std::memcpy(b.data(), bytes, b.size());
  return ForbiddenV4(ip::make_address_v4(b));
}

bool ForbiddenV6(const ip::address_v6& address) {
  const auto bytes = address.to_bytes();
  for (const auto& net : ForbiddenV6Nets()) {
    if (ip::network_v6(address, net.network.prefix_length()).canonical() != net.network) continue;
    switch (net.rule) {
      case V6Rule::kRefused:
        return true;
      case V6Rule::kEmbeddedV4At12:
        return ForbiddenV4(bytes.data() + 12);
      case V6Rule::kEmbeddedV4At2:
        return ForbiddenV4(bytes.data() + 2);
    }
  }
  return false;
}

}  // namespace

bool IsForbiddenAddress(const unsigned char* a, size_t size) {
  if (size == 4) return ForbiddenV4(a);
  if (size != 16) return true;
  ip::address_v6::bytes_type b;
  std::memcpy(b.data(), a, b.size());
  return ForbiddenV6(ip::make_address_v6(b));
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
