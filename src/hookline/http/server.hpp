#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hookline/http/message.hpp"

namespace hookline::http {

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  //!< 0 picks a free port
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 16 << 10;
  std::chrono::milliseconds read_timeout{30'000};  //!< whole request, headers and body
  std::chrono::milliseconds idle_timeout{60'000};  //!< keep-alive wait for the next request
  int io_threads = 2;
  int handler_threads = 32;  //!< handlers may block on durable commits
};

//! An HTTP/1.1 server (Boost.Beast). Handlers run on a pool, never on the I/O threads, so a
//! handler that waits for a commit does not stall other connections. Bodies over the limit
//! get 413, malformed requests 400, slow clients are cut off at the read timeout.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  //!< stops if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  //! Binds, listens and starts serving. Throws std::runtime_error naming the address when
  //! it cannot bind.
  void Start();
  //! The bound port (after Start).
  std::uint16_t port() const;
  const std::string& host() const;
  //! Stops accepting, closes connections, joins threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hookline::http
