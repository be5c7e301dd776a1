#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <sys/socket.h>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hookline::http {

//! One outbound POST.
struct OutboundRequest {
  std::uint64_t tag = 0;  //!< the caller's handle, returned with the result
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{15'000};
};

//! What happened to one OutboundRequest.
//! (CurlSender::Start resets a reused result field by field: a new field is reset there too.)
struct OutboundResult {
  std::uint64_t tag = 0;
  std::optional<int> status = std::nullopt;         //!< set when an answer arrived
  std::optional<std::string> error = std::nullopt;  //!< set when none did (timeout, refused, reset, ...)
  std::string body_head;             //!< first 1 KiB of the answer
  std::optional<std::string> retry_after = std::nullopt;  //!< the Retry-After header, if any
  std::int64_t duration_ms = 0;
};

//! Sends POSTs concurrently. Implementations: libcurl multi (real) and fakes in tests.
//! Start and Poll are called from one thread; Wake may be called from any thread.
class HttpSender {
 public:
  virtual ~HttpSender() = default;
  virtual void Start(OutboundRequest request) = 0;
  //! Waits up to `max_wait` for progress and returns every transfer that finished.
  virtual std::vector<OutboundResult> Poll(std::chrono::milliseconds max_wait) = 0;
  virtual std::size_t InFlight() const = 0;
  //! Interrupts a Poll that is waiting. Thread-safe.
  virtual void Wake() = 0;
};

struct CurlSenderOptions {
  //! Called with every address a transfer is about to connect to (after DNS); false refuses
  //! it, so a name that passed a check when saved cannot be re-pointed at a forbidden
  //! address later (DNS rebinding). Unset: every address is allowed.
  std::function<bool(const sockaddr* address)> address_allowed;
  //! Fixed name resolutions, curl's "HOST:PORT:ADDRESS" form (like curl --resolve).
  std::vector<std::string> resolve;
  //! Every request goes through this proxy (a curl proxy URL: http://, https://, socks5h://
  //! ...); `address_allowed` then sees the proxy's address, not the target's. Unset: every
  //! request goes straight to its target, whatever http_proxy, https_proxy, ALL_PROXY or
  //! NO_PROXY in the environment say.
  std::optional<std::string> proxy;
};

//! libcurl multi: connections reused across requests, redirects never followed, every
//! transfer bounded by its connect and total timeouts. Answers beyond 1 KiB are read and
//! discarded.
std::unique_ptr<HttpSender> MakeCurlSender(CurlSenderOptions options = {});

}  // namespace hookline::http
