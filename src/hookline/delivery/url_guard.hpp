#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <sys/socket.h>

namespace hookline::delivery {

//! Checks an endpoint URL when it is saved: absolute http or https with a host, no
//! credentials, and unless `allow_private` a host that is not loopback, private, link-local,
//! CGNAT, benchmarking, documentation, multicast, broadcast, reserved or unspecified
//! (IsForbiddenAddress), in any spelling (IPv4-mapped IPv6, and numeric disguises like
//! http://2130706433/ or http://0x7f.1/). Returns what is wrong, or nullopt.
//! Names that resolve to such addresses are caught at connect time (see Dispatcher).
std::optional<std::string> CheckEndpointUrl(std::string_view url, bool allow_private);

//! True when the IPv4 (network order as 4 bytes) or IPv6 (16 bytes) address is one hookline
//! must not send to by default: IPv4's special-purpose networks, IPv6's loopback, unique
//! local, link-local, multicast, documentation, discard, benchmarking, Teredo and local-use
//! NAT64, and IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
//! addresses whose embedded IPv4 address is forbidden. Other sizes are forbidden.
bool IsForbiddenAddress(const unsigned char* bytes, size_t size);

//! The same check on a socket address (AF_INET or AF_INET6; other families are forbidden).
bool IsForbiddenSocketAddress(const sockaddr* address);

}  // namespace hookline::delivery
