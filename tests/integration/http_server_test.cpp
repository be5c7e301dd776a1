// The HTTP server's two handler kinds over real sockets: a blocking Handler on the pool, and
// an AsyncHandler that answers later from another thread (as an ingest answers from its
// group commit), or not at all.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "harness.hpp"
#include "hookline/http/server.hpp"

namespace hookline::itest {
namespace {

std::string UrlOf(const http::Server& server, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + path;
}

TEST(HttpServer, AsyncHandlerAnswersFromAnotherThreadLater) {
  std::mutex mu;
  std::vector<std::thread> answerers;
  http::Server server({}, http::AsyncHandler([&](http::Request request, http::Respond respond) {
    if (request.target == "/drop") return;  // never answered: the client must still get one
    std::lock_guard lock(mu);
    answerers.emplace_back([request = std::move(request), respond = std::move(respond)] {
      http::Response r;
      r.status = 201;
      r.body = "{\"echo\":\"" + request.body + "\"}";
      respond(std::move(r));
      respond(http::Response{});  // a second answer is dropped, not sent
    });
  }));
  server.Start();
  for (int i = 0; i < 3; ++i) {  // the same keep-alive pattern, several times
    auto r = Call("POST", UrlOf(server, "/x"), "hi" + std::to_string(i));
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "{\"echo\":\"hi" + std::to_string(i) + "\"}");
  }
  auto dropped = Call("POST", UrlOf(server, "/drop"), "{}");
  EXPECT_EQ(dropped.status, 500);
  EXPECT_EQ(dropped.ErrorCode(), "internal_error");
  server.Stop();
  for (auto& t : answerers) t.join();
}

TEST(HttpServer, BlockingHandlerRunsOnThePoolAndThrowsBecome500) {
  http::ServerOptions options;
  options.handler_threads = 4;
  http::Server server(options, http::Handler([](const http::Request& request) -> http::Response {
    if (request.target == "/throw") throw std::runtime_error("boom");
    http::Response r;
    r.body = "{}";
    return r;
  }));
  server.Start();
  EXPECT_EQ(Call("GET", UrlOf(server, "/ok")).status, 200);
  auto failed = Call("GET", UrlOf(server, "/throw"));
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.ErrorCode(), "internal_error");
}

// Answers go out whole, head and body, on every connection, whichever I/O thread it is on:
// bodies from empty to larger than a socket's send buffer, the handler's own headers, and a
// 204 with neither body nor Content-Length (RFC 9110 6.4.1), even when the handler set one.
TEST(HttpServer, AnswersGoOutWholeOnEveryConnection) {
  http::ServerOptions options;
  options.io_threads = 3;
  http::Server server(options, http::AsyncHandler([](http::Request request, http::Respond respond) {
    http::Response r;
    if (request.target == "/none") {
      r.status = 204;
      r.body = "dropped";
    } else {
      r.content_type = "text/plain";
      r.headers.emplace_back("x-echo", request.target);
      r.body = std::string(std::stoul(request.target.substr(1)), 'b');
    }
    respond(std::move(r));
  }));
  server.Start();
  std::vector<std::thread> clients;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 5; ++i) {
        const std::size_t size = (c * 5 + i) % 3 == 0 ? 0 : (std::size_t{1} << (4 * ((c + i) % 6)));
        const std::string target = "/" + std::to_string(size);
        auto r = Call("GET", UrlOf(server, target));
        if (r.status != 200 || r.body != std::string(size, 'b') || r.headers["x-echo"] != target ||
            r.headers["content-type"] != "text/plain" ||
            r.headers["content-length"] != std::to_string(size)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  auto none = Call("GET", UrlOf(server, "/none"));
  EXPECT_EQ(none.status, 204);
  EXPECT_EQ(none.body, "");
  EXPECT_EQ(none.headers.count("content-length"), 0u);
  const std::size_t large = std::size_t{3} << 20;
  EXPECT_EQ(Call("GET", UrlOf(server, "/" + std::to_string(large))).body.size(), large);
}

// After Stop this server takes no connection: the port refuses at once (or, with tests in
// parallel, another process may have bound it) rather than queueing them unanswered.
TEST(HttpServer, StopClosesTheListeningPort) {
  const std::string marker = "{\"server\":\"this one\"}";
  http::Server server({}, http::AsyncHandler([&](http::Request, http::Respond respond) {
    http::Response r;
    r.body = marker;
    respond(std::move(r));
  }));
  server.Start();
  const std::string url = UrlOf(server, "/x");
  EXPECT_EQ(Call("GET", url).body, marker);
  server.Stop();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_NE(Call("GET", url).body, marker);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});
}

// Stop answers the requests already read before it closes: a request whose handler answers
// only after Stop has begun (the port already refuses new connections) still gets its
// answer, marked to close the connection.
TEST(HttpServer, StopAnswersTheRequestsInProgress) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<http::Respond> held;
  http::Server server({}, http::AsyncHandler([&](http::Request request, http::Respond respond) {
    if (request.target == "/probe") {  // answered at once, while the server accepts
      http::Response r;
      r.body = "{\"probe\":\"this server\"}";
      respond(std::move(r));
      return;
    }
    std::lock_guard lock(mu);
    held = std::move(respond);
    cv.notify_all();
  }));
  server.Start();
  const std::string url = UrlOf(server, "/slow");
  HttpResult answer;
  std::thread client([&] { answer = Call("POST", url, "{}"); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds{10}, [&] { return held.has_value(); }));
  }
  std::thread stopper([&] { server.Stop(); });
  // Stop has begun once this server no longer takes connections (the port refuses them,
  // or another process has bound it meanwhile); only then is the request answered.
  bool stopped_accepting = false;
  for (int i = 0; i < 300 && !stopped_accepting; ++i) {
    stopped_accepting = Call("GET", UrlOf(server, "/probe")).body != "{\"probe\":\"this server\"}";
    if (!stopped_accepting) std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  EXPECT_TRUE(stopped_accepting);
  http::Response late;
  late.status = 201;
  late.body = "{\"answered\":\"late\"}";
  (*held)(std::move(late));
  stopper.join();
  client.join();
  EXPECT_EQ(answer.status, 201);
  EXPECT_EQ(answer.body, "{\"answered\":\"late\"}");
  EXPECT_EQ(answer.headers["connection"], "close");
}

// A handler may keep a Respond past Stop's grace and past the server itself (a commit that
// never completed). Calling it then, or dropping it, does nothing: the answer has nowhere
// to go. The clients were cut off when the server went. Under ASan this failed as a
// use-after-free: the answer was posted to a destroyed I/O context, and the waiting
// request's coroutine frame, kept by the Respond, held a socket of that context.
TEST(HttpServer, ARespondKeptPastTheServerIsHarmless) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<http::Respond> held;
  std::vector<std::thread> clients;
  std::vector<HttpResult> answers(2);
  {
    http::ServerOptions options;
    options.stop_grace = std::chrono::milliseconds{50};
    http::Server server(options, http::AsyncHandler([&](http::Request, http::Respond respond) {
      std::lock_guard lock(mu);
      held.push_back(std::move(respond));
      cv.notify_all();
    }));
    server.Start();
    for (std::size_t i = 0; i < answers.size(); ++i) {
      clients.emplace_back([&answers, i, url = UrlOf(server, "/kept")] { answers[i] = Call("POST", url, "{}"); });
    }
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds{10}, [&] { return held.size() == answers.size(); }));
  }  // stopped (the grace runs out) and destroyed, both requests unanswered
  for (auto& client : clients) client.join();
  for (const auto& answer : answers) EXPECT_EQ(answer.status, 0);  // cut off, no answer
  http::Response late;
  late.body = "{\"answered\":\"too late\"}";
  held[0](std::move(late));
  held.clear();  // the other is dropped unanswered
}


// Past max_connections a new connection is answered at once, before its request is read:
// 503 `overloaded` with Retry-After, then closed. Once a connection closes, one is served.
TEST(HttpServer, ConnectionsPastTheBoundAreAnswered503WithRetryAfter) {
  http::ServerOptions options;
  options.max_connections = 2;
  http::Server server(options, http::AsyncHandler([](http::Request, http::Respond respond) {
    http::Response r;
    r.body = "{}";
    respond(std::move(r));
  }));
  server.Start();
  // Two idle connections: accepted first (in order), they take both places.
  std::vector<int> idle;
  for (int i = 0; i < 2; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    idle.push_back(fd);
  }
  auto refused = Call("POST", UrlOf(server, "/x"), "{}");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.ErrorCode(), "overloaded");
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_EQ(refused.headers["connection"], "close");
  close(idle.back());
  idle.pop_back();
  EXPECT_TRUE(Eventually([&] { return Call("POST", UrlOf(server, "/x"), "{}").status == 200; }));
  for (int fd : idle) close(fd);
  server.Stop();
}

// A request that finds max_queued requests waiting for a handler thread is answered 503 at
// once, from the caller's thread; the queued ones still run.
TEST(HandlerPool, RequestsPastTheQueueBoundAreAnswered503AtOnce) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  const http::Handler handler = [&](const http::Request&) {
    if (first.exchange(false)) {
      entered.set_value();
      released.wait();
    }
    return http::Response{};
  };
  std::vector<std::promise<http::Response>> answers(3);
  auto respond = [&](int i) { return [&answers, i](http::Response r) { answers[i].set_value(std::move(r)); }; };
  {
    http::HandlerPool pool(1, 1);
    pool.Run(handler, {}, respond(0));
    entered.get_future().wait();       // the one thread is busy
    pool.Run(handler, {}, respond(1));  // waits for it: the one place in the queue
    pool.Run(handler, {}, respond(2));  // no place left
    auto refused = answers[2].get_future();
    ASSERT_EQ(refused.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    const http::Response r = refused.get();
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body.find("\"overloaded\""), std::string::npos);
    EXPECT_EQ(r.headers, (std::vector<std::pair<std::string, std::string>>{{"retry-after", "1"}}));
    release.set_value();
  }
  EXPECT_EQ(answers[0].get_future().get().status, 200);
  EXPECT_EQ(answers[1].get_future().get().status, 200);
}

}  // namespace
}  // namespace hookline::itest
