// The libcurl sender against a real local server: concurrent requests over reused
// connections, the answer head and Retry-After, timeouts, Wake, and the errors it names.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "hookline/http/client.hpp"
#include "hookline/http/server.hpp"
#include "harness.hpp"

namespace hookline::http {
namespace {

using std::chrono::milliseconds;

// Polls until `want` results have come back or 20 s passed.
std::vector<OutboundResult> CollectAll(HttpSender& sender, std::size_t want) {
  std::vector<OutboundResult> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : sender.Poll(milliseconds{100})) out.push_back(std::move(r));
  }
  return out;
}

OutboundRequest Post(std::uint64_t tag, const std::string& url, std::string body = "{}") {
  OutboundRequest r;
  r.tag = tag;
  r.url = url;
  r.headers = {{"content-type", "application/json"}, {"webhook-id", "msg_" + std::to_string(tag)}};
  r.body = std::move(body);
  return r;
}

class CurlSenderTest : public ::testing::Test {
 protected:
  void StartServer(AsyncHandler handler) {
    server_ = std::make_unique<Server>(ServerOptions{}, std::move(handler));
    server_->Start();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  std::unique_ptr<Server> server_;
  std::string base_;
};

// A handle is reused with its header lines: one request after another on one handle, with
// more, then fewer, then other headers, each arrives with exactly its own.
TEST_F(CurlSenderTest, EachRequestCarriesItsOwnHeadersOnAReusedHandle) {
  std::mutex mu;
  std::vector<std::vector<std::pair<std::string, std::string>>> seen;
  StartServer([&](Request request, Respond respond) {
    std::vector<std::pair<std::string, std::string>> custom;
    for (const auto& [name, value] : request.headers) {
      if (name.starts_with("x-")) custom.emplace_back(name, value);
    }
    {
      std::lock_guard lock(mu);
      seen.push_back(std::move(custom));
    }
    respond(Response{});
  });
  const std::vector<std::vector<std::pair<std::string, std::string>>> sent = {
      {{"x-a", "1"}, {"x-b", "2"}, {"x-c", "a longer value than the short string buffer holds"}},
      {{"x-a", "one"}},
      {},
      {{"x-d", "4"}, {"x-e", "5"}},
  };
  auto sender = MakeCurlSender();
  for (std::size_t i = 0; i < sent.size(); ++i) {  // one at a time: the same handle each time
    OutboundRequest r = Post(i, base_ + "/hook");
    r.headers.insert(r.headers.end(), sent[i].begin(), sent[i].end());
    sender->Start(std::move(r));
    auto results = CollectAll(*sender, 1);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_EQ(results[0].status, 200) << results[0].error.value_or("");
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, sent);
}

TEST_F(CurlSenderTest, SendsManyConcurrentlyAndReportsEach) {
  std::atomic<int> seen{0};
  std::mutex mu;
  std::set<std::string> ids;
  StartServer([&](Request request, Respond respond) {
    ++seen;
    {
      std::lock_guard lock(mu);
      ids.insert(std::string(request.Header("webhook-id").value_or("")));
    }
    Response r;
    r.status = request.target == "/teapot" ? 418 : 200;
    r.body = "echo:" + request.body;
    if (request.target == "/teapot") r.headers.emplace_back("Retry-After", "120");
    respond(std::move(r));
  });
  auto sender = MakeCurlSender();
  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) {
    sender->Start(Post(static_cast<std::uint64_t>(i), base_ + (i % 100 == 7 ? "/teapot" : "/hook"),
                       "{\"n\":" + std::to_string(i) + "}"));
  }
  EXPECT_EQ(sender->InFlight(), static_cast<std::size_t>(kRequests));
  auto results = CollectAll(*sender, kRequests);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kRequests));
  std::set<std::uint64_t> tags;
  for (const auto& r : results) {
    tags.insert(r.tag);
    ASSERT_TRUE(r.status) << r.error.value_or("");
    const bool teapot = r.tag % 100 == 7;
    EXPECT_EQ(*r.status, teapot ? 418 : 200);
    EXPECT_EQ(r.body_head, "echo:{\"n\":" + std::to_string(r.tag) + "}");
    EXPECT_EQ(r.retry_after, teapot ? std::optional<std::string>("120") : std::nullopt);
  }
  EXPECT_EQ(tags.size(), static_cast<std::size_t>(kRequests));
  EXPECT_EQ(seen.load(), kRequests);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kRequests));
  EXPECT_EQ(sender->InFlight(), 0u);
}

TEST_F(CurlSenderTest, AnswersBeyondOneKibAreCutToTheHead) {
  StartServer([](Request, Respond respond) {
    Response r;
    r.body = std::string(64 * 1024, 'x');
    respond(std::move(r));
  });
  auto sender = MakeCurlSender();
  sender->Start(Post(1, base_ + "/big"));
  auto results = CollectAll(*sender, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, 200);
  EXPECT_EQ(results[0].body_head, std::string(1024, 'x'));
}

// The total timeout is libcurl's own timer firing.
TEST_F(CurlSenderTest, AnUnansweredRequestTimesOut) {
  std::mutex mu;
  std::vector<Respond> held;  // never answered until the test ends
  StartServer([&](Request, Respond respond) {
    std::lock_guard lock(mu);
    held.push_back(std::move(respond));
  });
  auto sender = MakeCurlSender();
  auto request = Post(9, base_ + "/hang");
  request.total_timeout = milliseconds{300};
  sender->Start(std::move(request));
  auto results = CollectAll(*sender, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].status);
  EXPECT_NE(results[0].error.value_or("").find("Timeout"), std::string::npos) << results[0].error.value_or("");
  // libcurl compares whole milliseconds of its own clock (a difference of truncated
  // microseconds), so its timer may fire up to 1 ms before ours has counted 300.
  EXPECT_GE(results[0].duration_ms, 299);
  {
    std::lock_guard lock(mu);
    held.clear();  // answered (500) now, so Stop has nothing left to wait for
  }
  server_->Stop();
}

TEST_F(CurlSenderTest, RefusedAndUnreachableAddressesAreNamedErrors) {
  CurlSenderOptions options;
  options.address_allowed = [](const sockaddr*) { return false; };
  auto guarded = MakeCurlSender(options);
  guarded->Start(Post(1, "http://127.0.0.1:9/hook"));
  auto refused = CollectAll(*guarded, 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].status);
  EXPECT_NE(refused[0].error.value_or("").find("refused to connect to 127.0.0.1"), std::string::npos);

  // A port nothing listens on: the server is started and stopped to find one.
  StartServer([](Request, Respond respond) { respond(Response{}); });
  const std::string closed = base_ + "/hook";
  server_->Stop();
  auto sender = MakeCurlSender();
  sender->Start(Post(2, closed));
  auto unreachable = CollectAll(*sender, 1);
  ASSERT_EQ(unreachable.size(), 1u);
  EXPECT_FALSE(unreachable[0].status);
  EXPECT_TRUE(unreachable[0].error);
}

// Every proxy variable libcurl reads, pointed at `proxy` (NO_PROXY cleared: an exemption for
// 127.0.0.1 would let a sender that honours them pass the test).
std::vector<std::pair<std::string, std::optional<std::string>>> ProxyEnvironment(const std::string& proxy) {
  return {{"http_proxy", proxy}, {"HTTP_PROXY", proxy}, {"https_proxy", proxy}, {"HTTPS_PROXY", proxy},
          {"all_proxy", proxy},  {"ALL_PROXY", proxy},  {"no_proxy", std::nullopt}, {"NO_PROXY", std::nullopt}};
}

// An inherited http_proxy or ALL_PROXY must not carry deliveries past the connect-time
// address check (which would see only the proxy): the sender goes to the target itself.
TEST_F(CurlSenderTest, ProxiesInTheEnvironmentAreIgnored) {
  std::mutex mu;
  std::vector<std::string> proxied;
  Server proxy(ServerOptions{}, [&](Request request, Respond respond) {
    {
      std::lock_guard lock(mu);
      proxied.push_back(request.target);
    }
    Response r;
    r.status = 502;
    respond(std::move(r));
  });
  proxy.Start();
  std::atomic<int> direct{0};
  StartServer([&](Request, Respond respond) {
    ++direct;
    respond(Response{});
  });
  itest::ScopedEnv env(ProxyEnvironment("http://127.0.0.1:" + std::to_string(proxy.port())));
  CurlSenderOptions options;
  std::vector<std::uint16_t> ports;
  options.address_allowed = [&](const sockaddr* address) {
    ports.push_back(ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port));
    return true;
  };
  auto sender = MakeCurlSender(options);
  sender->Start(Post(1, base_ + "/hook"));
  auto results = CollectAll(*sender, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, 200) << results[0].error.value_or("");
  EXPECT_EQ(direct.load(), 1);
  EXPECT_EQ(ports, std::vector<std::uint16_t>{server_->port()});  // the address check saw the target
  std::lock_guard lock(mu);
  EXPECT_TRUE(proxied.empty()) << proxied.front();
  proxy.Stop();
}

// A proxy given explicitly carries every request (also with NO_PROXY naming the target),
// and the address check sees the proxy.
TEST_F(CurlSenderTest, AnExplicitProxyCarriesEveryRequest) {
  std::mutex mu;
  std::vector<std::string> proxied;
  Server proxy(ServerOptions{}, [&](Request request, Respond respond) {
    {
      std::lock_guard lock(mu);
      proxied.push_back(request.target);
    }
    respond(Response{});
  });
  proxy.Start();
  std::atomic<int> direct{0};
  StartServer([&](Request, Respond respond) {
    ++direct;
    respond(Response{});
  });
  itest::ScopedEnv env({{"no_proxy", "127.0.0.1,localhost"}, {"NO_PROXY", "127.0.0.1,localhost"}});
  CurlSenderOptions options;
  options.proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  std::vector<std::uint16_t> ports;
  options.address_allowed = [&](const sockaddr* address) {
    ports.push_back(ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port));
    return true;
  };
  auto sender = MakeCurlSender(options);
  sender->Start(Post(1, base_ + "/hook"));
  auto results = CollectAll(*sender, 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, 200) << results[0].error.value_or("");
  EXPECT_EQ(direct.load(), 0);
  EXPECT_EQ(ports, std::vector<std::uint16_t>{proxy.port()});
  std::lock_guard lock(mu);
  EXPECT_EQ(proxied, std::vector<std::string>{base_ + "/hook"});  // absolute form: a proxy request
  proxy.Stop();
}

TEST_F(CurlSenderTest, WakeEndsAWaitFromAnotherThread) {
  auto sender = MakeCurlSender();
  sender->Wake();  // before the wait: the next Poll returns at once
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(sender->Poll(milliseconds{10'000}).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});

  started = std::chrono::steady_clock::now();
  std::thread waker([&] { sender->Wake(); });
  // The wake lands before or during the wait; either way the wait ends early.
  sender->Poll(milliseconds{10'000});
  waker.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});
}

}  // namespace
}  // namespace hookline::http
