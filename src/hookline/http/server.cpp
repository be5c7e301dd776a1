#include "hookline/http/server.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "hookline/util/thread_name.hpp"

namespace hookline::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// What a detached request leaves: its waiting coroutine, to be destroyed.
struct Unwinding {
  virtual ~Unwinding() = default;
};

template <typename Completion>
struct UnwindingOf final : Unwinding {
  explicit UnwindingOf(Completion c) : completion(std::move(c)) {}
  Completion completion;
};

// A request waiting for its answer, as its server sees it. Linked into the server's
// AnswerBook while waiting.
class WaitingAnswer {
 public:
  virtual ~WaitingAnswer() = default;
  //! With the book's lock held: gives up the waiting coroutine, never to be resumed.
  virtual std::unique_ptr<Unwinding> Detach() = 0;
  WaitingAnswer* prev = nullptr;
  WaitingAnswer* next = nullptr;
};

// The requests of one server waiting for answers. A Respond may outlive its server (a
// handler that kept it, a commit that completed late), and so may the slot behind it; the
// slot then must neither post to a destroyed I/O context nor keep the request's coroutine,
// which holds a socket of that context. So the server, before its contexts go, closes the
// book and detaches every slot still in it; a slot answered later finds the book closed.
struct AnswerBook {
  std::mutex mu;
  bool closed = false;
  WaitingAnswer* first = nullptr;

  void Link(WaitingAnswer* w) {  // with mu held
    w->next = first;
    if (first) first->prev = w;
    first = w;
  }
  void Unlink(WaitingAnswer* w) {  // with mu held
    if (w->prev) w->prev->next = w->next; else first = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = nullptr;
  }
};

// Completes one request's wait for its response exactly once: with the handler's answer,
// or with a 500 when every copy of the Respond was dropped unanswered; or never, when the
// server went first (Detach).
template <typename Completion>
class ResponseSlot final : public WaitingAnswer {
 public:
  ResponseSlot(std::shared_ptr<AnswerBook> book, Completion completion)
      : book_(std::move(book)), completion_(std::move(completion)) {
    std::lock_guard lock(book_->mu);
    book_->Link(this);  // the book closes after the I/O threads are gone: it is open here
  }
  ~ResponseSlot() override {
    if (!answered_.exchange(true)) {
      Complete(ErrorResponse(500, "internal_error", "the server did not answer this request"));
    }
  }
  void Answer(Response response) {
    if (answered_.exchange(true)) {
      spdlog::error("a request was answered twice; the second answer is dropped");
      return;
    }
    Complete(std::move(response));
  }
  std::unique_ptr<Unwinding> Detach() override {
    auto unwinding = std::make_unique<UnwindingOf<Completion>>(std::move(*completion_));
    completion_.reset();  // an answer that comes now finds nothing to complete
    return unwinding;
  }

 private:
  void Complete(Response response) {
    // Under the book's lock: the server cannot destroy the I/O context in the meantime.
    std::lock_guard lock(book_->mu);
    if (book_->closed || !completion_) return;  // detached: the server is gone
    book_->Unlink(this);
    // Resume the session on its own I/O executor, never on the answering thread.
    auto ex = asio::get_associated_executor(*completion_);
    asio::post(ex, [completion = std::move(*completion_), response = std::move(response)]() mutable {
      completion(std::move(response));
    });
    completion_.reset();
  }
  std::shared_ptr<AnswerBook> book_;
  std::optional<Completion> completion_;
  std::atomic<bool> answered_{false};
};

// Counts one connection (or one refusal) for as long as its coroutine lives.
class Counted {
 public:
  explicit Counted(std::atomic<std::size_t>& count) : count_(&count) {}
  Counted(Counted&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (count_ != nullptr) count_->fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::size_t>* count_;
};

Response RunGuarded(const Handler& handler, const Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    spdlog::error("handler failed for {} {}: {}", request.method, request.target, e.what());
    return ErrorResponse(500, "internal_error", "the server failed to handle this request");
  }
}

}  // namespace

struct HandlerPool::Impl {
  Impl(int threads, std::size_t max_queued)
      : pool(static_cast<std::size_t>(std::max(1, threads))), max_queued(max_queued) {}
  asio::thread_pool pool;
  const std::size_t max_queued;
  std::atomic<std::size_t> queued{0};  // posted, not yet started
};

HandlerPool::HandlerPool(int threads, std::size_t max_queued)
    : impl_(std::make_unique<Impl>(threads, max_queued)) {}

HandlerPool::~HandlerPool() { impl_->pool.join(); }

void HandlerPool::Run(const Handler& handler, Request request, Respond respond) {
  Impl& impl = *impl_;
  const std::size_t waiting = impl.queued.fetch_add(1, std::memory_order_relaxed);
  if (impl.max_queued > 0 && waiting >= impl.max_queued) {
    impl.queued.fetch_sub(1, std::memory_order_relaxed);
    respond(OverloadedResponse("too many requests are waiting; send this request again shortly"));
    return;
  }
  asio::post(impl.pool, [&impl, &handler, request = std::move(request), respond = std::move(respond)] {
    impl.queued.fetch_sub(1, std::memory_order_relaxed);
    respond(RunGuarded(handler, request));
  });
}

struct Server::Impl {
  ServerOptions options;
  Handler blocking_handler;
  AsyncHandler handler;
  // Requests read and not yet answered: Stop waits for them. Declared before `io`, so they
  // outlive it: destroying `io` destroys the sessions still suspended, which uncount.
  std::mutex busy_mu;
  std::condition_variable busy_cv;
  int busy = 0;
  // Open connections, and connections being refused (past options.max_connections): counted
  // by the acceptor, uncounted by their coroutines, which may end with `io` (so before it).
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> refusing{0};
  const std::string refusal = [] {  // what RefuseAtOnce writes: the whole 503
    const Response r = TooManyConnections();
    return FormatHead(r, 11, false) + r.body;
  }();
  std::shared_ptr<AnswerBook> answers = std::make_shared<AnswerBook>();
  // One I/O context per I/O thread, each connection on one of them (dealt in turn as they
  // are accepted): a connection's reads, writes and answers run on one thread, without the
  // lock and the wake-ups of a context shared by every thread (the first in the list also
  // accepts).
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::size_t next_io = 0;
  // Keep the I/O threads running until Stop, even with nothing pending (so what Stop posts
  // to them always runs).
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::optional<HandlerPool> handler_pool;  // only for a blocking Handler
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> running{false};
  std::uint16_t bound_port = 0;
  bool listening = false;  // Listen ran: the port is bound

  // Counts one request from when it is read until its answer is written.
  class BusyRequest {
   public:
    explicit BusyRequest(Impl& impl) : impl_(impl) {
      std::lock_guard lock(impl_.busy_mu);
      ++impl_.busy;
    }
    ~BusyRequest() {
      std::lock_guard lock(impl_.busy_mu);
      if (--impl_.busy == 0) impl_.busy_cv.notify_all();
    }
    BusyRequest(const BusyRequest&) = delete;
    BusyRequest& operator=(const BusyRequest&) = delete;

   private:
    Impl& impl_;
  };

  Impl(ServerOptions o, AsyncHandler h) : options(std::move(o)), handler(std::move(h)) {
    MakeContexts();
  }

  Impl(ServerOptions o, Handler blocking) : options(std::move(o)), blocking_handler(std::move(blocking)) {
    MakeContexts();
    handler_pool.emplace(options.handler_threads, options.max_queued_requests);
    handler = [this](Request request, Respond respond) {
      handler_pool->Run(blocking_handler, std::move(request), std::move(respond));
    };
  }

  ~Impl() {
    DetachWaitingAnswers();
    // The acceptor, then the context that accepts, then the others: a connection accepted
    // as Stop came waits in the first context's queue with a socket of another context,
    // which must still be there when that queue is destroyed.
    acceptor.reset();
    keep_running.clear();
    if (!ios.empty()) ios.front().reset();
  }

  // Ends every request still waiting for its answer (after Stop's grace ran out), while
  // the I/O contexts are there: each coroutine's unwinding is posted to its context, and
  // runs or is destroyed with it.
  void DetachWaitingAnswers() {
    std::vector<std::unique_ptr<Unwinding>> unwindings;
    {
      // Under the lock: a slot's last Respond may be dropped on another thread meanwhile.
      std::lock_guard lock(answers->mu);
      answers->closed = true;
      for (WaitingAnswer* w = answers->first; w != nullptr; w = w->next) unwindings.push_back(w->Detach());
      answers->first = nullptr;
    }
    unwindings.clear();  // outside it: unwinding a session may take busy_mu
  }

  void MakeContexts() {
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      ios.push_back(std::make_unique<asio::io_context>(1));  // run by one thread
    }
    acceptor.emplace(*ios.front());
  }

  Response TooLarge() const {
    return ErrorResponse(413, "payload_too_large",
                         "request body is larger than the limit of " +
                             std::to_string(options.body_limit) + " bytes");
  }

  // Hands the request to the handler and waits, without holding a thread, for its answer.
  asio::awaitable<Response> Dispatch(Request request) {
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
        [this, &request](auto completion) {
          using Slot = ResponseSlot<decltype(completion)>;
          auto slot = std::make_shared<Slot>(answers, std::move(completion));
          const std::string method = request.method, target = request.target;
          try {
            handler(std::move(request), [slot](Response response) { slot->Answer(std::move(response)); });
          } catch (const std::exception& e) {
            spdlog::error("handler failed for {} {}: {}", method, target, e.what());
            slot->Answer(ErrorResponse(500, "internal_error", "the server failed to handle this request"));
          }
        },
        asio::use_awaitable);
  }

  // A 1xx, 204 or 304 answer has no body and no Content-Length (RFC 9110, 6.4.1).
  static bool Bodiless(int code) {
    const auto status = static_cast<bhttp::status>(code);
    return bhttp::to_status_class(status) == bhttp::status_class::informational ||
           status == bhttp::status::no_content || status == bhttp::status::not_modified;
  }

  // The head of `r`, as Beast formats it ("" if it cannot: never for a head in memory).
  static std::string FormatHead(const Response& r, unsigned version, bool keep_alive) {
    const auto status = static_cast<bhttp::status>(r.status);
    const bool bodiless = Bodiless(r.status);
    bhttp::response<bhttp::empty_body> res{status, version};
    res.set(bhttp::field::server, "hookline/" HOOKLINE_VERSION);
    if (!bodiless) res.set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    if (!bodiless) res.content_length(r.body.size());
    std::string head;
    head.reserve(256);
    bhttp::serializer<false, bhttp::empty_body> serializer{res};
    boost::system::error_code ec;
    while (!ec && !serializer.is_done()) {
      serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
        const std::size_t n = asio::buffer_size(buffers);
        const std::size_t at = head.size();
        head.resize(at + n);
        asio::buffer_copy(asio::buffer(head.data() + at, n), buffers);
        serializer.consume(n);
      });
    }
    if (ec) head.clear();
    return head;
  }

  // Beast formats the head; head and body then go out in one gathering write. Writing the
  // whole message through Beast's serializer walked its nested buffer views again at every
  // step, ~12k instructions per response (a fifth of what a request cost bench_sink), and
  // copied the body into the message.
  static asio::awaitable<void> WriteResponse(beast::tcp_stream& stream, const Response& r,
                                             unsigned version, bool keep_alive,
                                             std::chrono::milliseconds timeout) {
    const std::string head = FormatHead(r, version, keep_alive);
    if (head.empty()) co_return;  // nothing is sent
    const std::string_view body = Bodiless(r.status) ? std::string_view() : std::string_view(r.body);
    const std::array<asio::const_buffer, 2> message{asio::buffer(head), asio::buffer(body)};
    stream.expires_after(timeout);
    co_await asio::async_write(stream, message, kTuple);
  }

  // After refusing a request whose body is still arriving (413), half-close and read and
  // discard what the client sends, for at most 2 s or 64 MiB, so it can read the answer
  // instead of failing on a reset (a "lingering close", as nginx does).
  static asio::awaitable<void> LingeringClose(beast::tcp_stream& stream,
                                              std::chrono::milliseconds timeout = std::chrono::seconds{2},
                                              std::size_t max_bytes = std::size_t{64} << 20) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 16384> scratch;
    std::size_t drained = 0;
    stream.expires_after(timeout);
    while (drained < max_bytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), kTuple);
      if (ec) break;
      drained += n;
    }
  }

  static Response TooManyConnections() {
    return OverloadedResponse("too many connections are open; send this request again shortly");
  }

  // A connection past options.max_connections: answered 503 before its request is read, then
  // closed after a short linger (so a client that sent its request reads the answer rather
  // than a reset). A second or two at most each, and few at a time (kMaxRefusing).
  static asio::awaitable<void> Refuse(tcp::socket socket, Counted) {
    beast::tcp_stream stream(std::move(socket));
    co_await WriteResponse(stream, TooManyConnections(), 11, false, std::chrono::seconds{1});
    co_await LingeringClose(stream, std::chrono::seconds{1}, std::size_t{64} << 10);
  }

  // Past kMaxRefusing refusals in progress, the same 503 without keeping a descriptor: written
  // if the socket takes it now, what the client sent so far read and dropped (closing with
  // it unread would reset the connection, and the client could lose the answer), and closed.
  template <typename Socket>
  void RefuseAtOnce(Socket& socket) const {
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    if (!ec) asio::write(socket, asio::buffer(refusal), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 4096> scratch;
    for (int reads = 0; reads < 16 && !ec; ++reads) socket.read_some(asio::buffer(scratch), ec);
    socket.close(ec);
  }

  asio::awaitable<void> Session(tcp::socket socket, Counted) {
    beast::tcp_stream stream(std::move(socket));
    // Beast reads max(512, free capacity) bytes at a time, and a flat buffer that starts
    // empty settles at ~1 KB: a 3 KB webhook took ~5.6 recvmsg calls. 8 KiB holds a typical
    // request in one or two reads.
    beast::flat_buffer buffer;
    buffer.reserve(8192);
    bool linger = false;  // refused a body still on its way
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    bool first = true;
    while (running) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.body_limit);
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      stream.expires_after(first ? options.read_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (ec) {
        if (ec == bhttp::error::body_limit) {  // Content-Length alone exceeds the limit
          co_await WriteResponse(stream, TooLarge(), 11, false, options.read_timeout);
          linger = true;
        } else if (ec == bhttp::error::header_limit) {
          co_await WriteResponse(stream, ErrorResponse(431, "headers_too_large", "request headers are too large"), 11, false, options.read_timeout);
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                   ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          co_await WriteResponse(stream, ErrorResponse(400, "bad_request", "malformed HTTP request: " + ec.message()), 11, false, options.read_timeout);
        }
        break;
      }
      auto& head = parser.get();
      const unsigned version = head.version();
      if (parser.content_length() && *parser.content_length() > options.body_limit) {
        co_await WriteResponse(stream, TooLarge(), version, false, options.read_timeout);
        linger = true;
        break;
      }
      if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        stream.expires_after(options.read_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, cont, kTuple);
        if (wec) break;
      }
      stream.expires_after(options.read_timeout);
      auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      if (rec) {
        if (rec == bhttp::error::body_limit) {
          co_await WriteResponse(stream, TooLarge(), version, false, options.read_timeout);
          linger = true;
        } else if (rec != beast::error::timeout && rec != bhttp::error::end_of_stream &&
                   rec != asio::error::eof && rec != bhttp::error::partial_message &&
                   rec != asio::error::connection_reset) {
          co_await WriteResponse(stream, ErrorResponse(400, "bad_request", "malformed HTTP request: " + rec.message()), version, false, options.read_timeout);
        }
        break;
      }
      BusyRequest busy_request(*this);
      auto message = parser.release();
      Request request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      request.remote_address = remote;
      request.headers.reserve(8);
      for (const auto& field : message) {
        std::string name(field.name_string());
        for (auto& c : name) {  // ASCII, not the locale's tolower (a call per character)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        request.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      request.body = std::move(message.body());
      Response response = co_await Dispatch(std::move(request));
      // Once stopping, the answer closes the connection: no request follows it.
      const bool keep_alive = message.keep_alive() && running;
      co_await WriteResponse(stream, response, version, keep_alive, options.read_timeout);
      if (!keep_alive) break;
    }
    if (linger) {
      co_await LingeringClose(stream);
      co_return;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> Accept() {
    while (running) {
      asio::io_context& io = *ios[next_io++ % ios.size()];
      auto [ec, socket] = co_await acceptor->async_accept(io, kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        // Out of descriptors (EMFILE), every accept fails at once until one closes: pause
        // rather than spin (and log) at full speed.
        asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds{50});
        co_await pause.async_wait(kTuple);
        continue;
      }
      // Only this coroutine counts up, so a load then an add cannot overshoot.
      if (options.max_connections > 0 && connections.load(std::memory_order_relaxed) >= options.max_connections) {
        if (refusing.load(std::memory_order_relaxed) < kMaxRefusing) {
          refusing.fetch_add(1, std::memory_order_relaxed);
          asio::co_spawn(socket.get_executor(), Refuse(std::move(socket), Counted(refusing)), asio::detached);
        } else {
          RefuseAtOnce(socket);
        }
        continue;
      }
      connections.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(socket.get_executor(), Session(std::move(socket), Counted(connections)), asio::detached);
    }
  }
};

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::Server(ServerOptions options, AsyncHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

void Server::Listen() {
  auto& s = *impl_;
  if (s.listening) return;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + s.options.host + "'");
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(tcp::acceptor::reuse_address(true));
  s.acceptor->bind(endpoint, ec);
  if (ec) {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
    throw std::runtime_error("cannot listen on " + s.options.host + ":" +
                             std::to_string(s.options.port) + ": " + ec.message());
  }
  // Bound, not yet listening: until Start, a connection is refused rather than left waiting
  // in the backlog through a start that may take long (migrations) or fail.
  s.bound_port = s.acceptor->local_endpoint().port();
  s.listening = true;
}

void Server::Start() {
  auto& s = *impl_;
  Listen();
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.running = true;
  for (auto& io : s.ios) s.keep_running.push_back(asio::make_work_guard(*io));
  asio::co_spawn(*s.ios.front(), s.Accept(), asio::detached);
  for (auto& io : s.ios) {
    s.threads.emplace_back([&io = *io] {
      NameThisThread("hl-http-io");
      io.run();
    });
  }
}

std::uint16_t Server::port() const { return impl_->bound_port; }
const std::string& Server::host() const { return impl_->options.host; }

void Server::Stop() {
  auto& s = *impl_;
  if (!s.running.exchange(false)) return;
  // Stop accepting at once (on an I/O thread: the acceptor is theirs), then let the
  // requests in progress be answered while the I/O threads still run.
  std::promise<void> accepting_stopped;
  asio::post(*s.ios.front(), [&s, &accepting_stopped] {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
    accepting_stopped.set_value();
  });
  accepting_stopped.get_future().wait();
  {
    std::unique_lock lock(s.busy_mu);
    if (!s.busy_cv.wait_for(lock, s.options.stop_grace, [&s] { return s.busy == 0; })) {
      spdlog::warn("stopping with {} requests unanswered after {} ms", s.busy, s.options.stop_grace.count());
    }
  }
  s.keep_running.clear();
  for (auto& io : s.ios) io->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  // Closed here, with no I/O thread left: a close posted to the stopped loop never ran, and
  // the port kept accepting connections that nobody would ever answer.
  boost::system::error_code ignored;
  s.acceptor->close(ignored);
  s.handler_pool.reset();  // waits for handlers still running
}

}  // namespace hookline::http
