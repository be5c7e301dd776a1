#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hookline/http/message.hpp"

namespace hookline::http {

//! Connections a Server refuses at once (past ServerOptions::max_connections) that it answers
//! with a 503; past them, a connection is closed unanswered. Each takes a descriptor for at
//! most ~1 s.
inline constexpr std::size_t kMaxRefusing = 256;

//! A handler that may block (on a commit, a read): run on the server's handler pool.
using Handler = std::function<Response(const Request&)>;

//! Answers one request. Call it exactly once, from any thread; cheap (it only hands the
//! response to the connection's I/O thread). Dropped without a call, the client gets 500.
using Respond = std::function<void(Response)>;

//! A handler that never blocks: run inline on an I/O thread, it answers through `respond`,
//! now or later (e.g. when a group commit completes), so no thread waits per request.
using AsyncHandler = std::function<void(Request request, Respond respond)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  //!< 0 picks a free port
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 16 << 10;
  std::chrono::milliseconds read_timeout{30'000};  //!< whole request, headers and body
  std::chrono::milliseconds idle_timeout{60'000};  //!< keep-alive wait for the next request
  //! Each runs an I/O context of its own; connections are dealt to them in turn as they are
  //! accepted, and a connection stays on its thread.
  int io_threads = 2;
  int handler_threads = 32;  //!< for a blocking Handler: they may wait on durable commits
  //! For a blocking Handler: requests waiting for a handler thread past which the server
  //! answers 503 (HandlerPool); 0: no bound.
  std::size_t max_queued_requests = 0;
  //! Open connections past which a new one is answered 503 `overloaded` (Retry-After: 1)
  //! and closed, without reading its request; up to kMaxRefusing such answers at a time,
  //! past them new connections are closed at once. 0: no bound.
  std::size_t max_connections = 0;
  //! How long Stop waits for requests already read to be answered.
  std::chrono::milliseconds stop_grace{5'000};
};

//! An HTTP/1.1 server (Boost.Beast). A blocking Handler runs on a pool, never on the I/O
//! threads, so a handler that waits for a commit does not stall other connections; an
//! AsyncHandler runs inline and answers when its work completes. Bodies over the limit get
//! 413, malformed requests 400, slow clients are cut off at the read timeout.
class Server {
 public:
  //! Each request runs `handler` on a pool of options.handler_threads.
  Server(ServerOptions options, Handler handler);
  //! Each request runs `handler` inline on an I/O thread (no pool is made).
  Server(ServerOptions options, AsyncHandler handler);
  ~Server();  //!< stops if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  //! Binds without listening yet (a connection is refused until Start), so a command fails
  //! on a busy port before it touches anything else. Throws
  //! std::runtime_error naming the address when it cannot bind. Idempotent.
  void Listen();
  //! Binds (if Listen did not already), listens and starts serving. Throws as Listen.
  void Start();
  //! The bound port (after Listen or Start).
  std::uint16_t port() const;
  const std::string& host() const;
  //! Stops accepting at once; answers the requests already read (each with `Connection:
  //! close`), waiting up to options.stop_grace for their handlers; then closes the
  //! connections and joins its threads. Idle keep-alive connections are closed unanswered.
  //! Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

//! Runs blocking handlers off the I/O threads: for an AsyncHandler that answers some
//! routes inline and hands the rest here.
class HandlerPool {
 public:
  //! `max_queued`: requests waiting for a thread past which Run answers at once with 503
  //! `overloaded` (Retry-After: 1) instead of queuing; 0: no bound.
  explicit HandlerPool(int threads, std::size_t max_queued = 0);
  ~HandlerPool();  //!< waits for the handlers running
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  //! Runs `handler(request)` on the pool and answers with its response (500 if it throws),
  //! or 503 when `max_queued` requests already wait. Thread-safe, lock-free.
  void Run(const Handler& handler, Request request, Respond respond);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hookline::http
