// The benchmarks' load generator: POSTs a body template to one URL over keep-alive
// connections, either as fast as the server answers (closed loop) or at a fixed rate (open
// loop, latency measured from each request's scheduled time so a stall is not hidden).
//
// The body template may hold placeholders, each replaced by fixed-width digits so every
// request has the same Content-Length and costs one memcpy to build:
//   {{n}}  the request's sequence number (12 digits): makes every body distinct
//   {{k}}  n modulo --keys (8 digits): e.g. cycles through enrolled leads
//   {{t}}  the send time, microseconds since the Unix epoch (16 digits)
//
// Prints one JSON line: {"requests","seconds","rps","p50_ms","p99_ms","max_ms","non2xx","errors"}.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url.hpp>

#include "read_file.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct Placeholder {
  std::size_t offset;  // in the built request
  char kind;           // 'n', 'k' or 't'
};

// The whole request (head and body) with placeholders blanked to fixed-width digit runs.
struct RequestTemplate {
  std::string bytes;
  std::vector<Placeholder> placeholders;

  static int Width(char kind) { return kind == 'n' ? 12 : kind == 'k' ? 8 : 16; }
};

RequestTemplate BuildTemplate(const boost::urls::url_view& url, const std::string& body_template,
                              const std::vector<std::string>& headers) {
  std::string body;
  std::vector<std::pair<std::size_t, char>> body_marks;
  for (std::size_t i = 0; i < body_template.size();) {
    if (i + 5 <= body_template.size() && body_template.compare(i, 2, "{{") == 0 &&
        body_template.compare(i + 3, 2, "}}") == 0 &&
        std::string_view("nkt").find(body_template[i + 2]) != std::string_view::npos) {
      const char kind = body_template[i + 2];
      body_marks.emplace_back(body.size(), kind);
      body.append(static_cast<std::size_t>(RequestTemplate::Width(kind)), '0');
      i += 5;
    } else {
      body.push_back(body_template[i++]);
    }
  }
  std::string target(url.encoded_path());
  if (target.empty()) target = "/";
  if (url.has_query()) target += "?" + std::string(url.encoded_query());
  std::string head = "POST " + target + " HTTP/1.1\r\nHost: " + std::string(url.encoded_host()) + ":" +
                     std::string(url.port()) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n";
  for (const auto& h : headers) head += h + "\r\n";
  head += "\r\n";
  RequestTemplate t;
  t.bytes = head + body;
  for (auto [offset, kind] : body_marks) t.placeholders.push_back({head.size() + offset, kind});
  return t;
}

void WriteDigits(char* out, int width, std::uint64_t value) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

struct Shared {
  RequestTemplate request;
  tcp::endpoint server;
  std::uint64_t keys = 1;
  double rate = 0;  // requests/s; 0 = closed loop
  SteadyClock::time_point start, stop;
  std::atomic<std::uint64_t> next{0};
  std::uint64_t max_requests = 0;  // 0 = until stop
  std::mutex mu;
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t non2xx = 0, errors = 0;
};

asio::awaitable<void> Connection(Shared& shared) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<std::uint32_t> latencies;
  latencies.reserve(1 << 16);
  std::uint64_t non2xx = 0, errors = 0;
  std::string request = shared.request.bytes;
  beast::flat_buffer buffer;
  std::optional<beast::tcp_stream> stream;
  asio::steady_timer pace(executor);
  for (;;) {
    const std::uint64_t n = shared.next.fetch_add(1);
    if (shared.max_requests && n >= shared.max_requests) break;
    SteadyClock::time_point scheduled = SteadyClock::now();
    if (shared.rate > 0) {
      scheduled = shared.start + std::chrono::duration_cast<SteadyClock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(n) / shared.rate));
      if (scheduled >= shared.stop) break;
      pace.expires_at(scheduled);
      co_await pace.async_wait(kTuple);
    } else if (scheduled >= shared.stop) {
      break;
    }
    if (!stream) {
      stream.emplace(executor);
      stream->expires_after(std::chrono::seconds(10));
      auto [ec] = co_await stream->async_connect(shared.server, kTuple);
      if (ec) {
        ++errors;
        stream.reset();
        continue;
      }
      stream->socket().set_option(tcp::no_delay(true));
    }
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& p : shared.request.placeholders) {
      const std::uint64_t value = p.kind == 'n' ? n : p.kind == 'k' ? n % shared.keys
                                                                    : static_cast<std::uint64_t>(now_us);
      WriteDigits(request.data() + p.offset, RequestTemplate::Width(p.kind), value);
    }
    stream->expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await asio::async_write(*stream, asio::buffer(request), kTuple);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1 << 20);
    boost::system::error_code rec;
    if (!wec) std::tie(rec, std::ignore) = co_await bhttp::async_read(*stream, buffer, parser, kTuple);
    if (wec || rec) {
      ++errors;
      stream.reset();
      buffer.clear();
      continue;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - scheduled).count();
    latencies.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
    const unsigned status = parser.get().result_int();
    if (status < 200 || status >= 300) ++non2xx;
    if (!parser.get().keep_alive()) stream.reset();
  }
  std::lock_guard lock(shared.mu);
  shared.latencies_us.insert(shared.latencies_us.end(), latencies.begin(), latencies.end());
  shared.non2xx += non2xx;
  shared.errors += errors;
}

double PercentileMs(std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hookline benchmark load client"};
  std::string url_text, body_file;
  int connections = 64, threads = 1;
  double seconds = 10, rate = 0;
  std::uint64_t keys = 1, max_requests = 0;
  std::vector<std::string> headers;
  app.add_option("--url", url_text, "http://127.0.0.1:PORT/path?query")->required();
  app.add_option("--body-file", body_file, "Body template ({{n}}, {{k}}, {{t}} placeholders)")->required();
  app.add_option("--connections", connections)->check(CLI::Range(1, 4096));
  app.add_option("--threads", threads)->check(CLI::Range(1, 64));
  app.add_option("--seconds", seconds)->check(CLI::Range(0.1, 3600.0));
  app.add_option("--rate", rate, "Requests per second (0: as fast as answered)");
  app.add_option("--keys", keys, "Modulus of {{k}}")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  app.add_option("--max-requests", max_requests, "Stop after this many (0: run for --seconds)");
  app.add_option("--header", headers, "Extra header line, e.g. 'Authorization: Bearer X'");
  CLI11_PARSE(app, argc, argv);

  auto parsed = boost::urls::parse_uri(url_text);
  if (!parsed || parsed->scheme() != "http") {
    std::cerr << "load_client: --url must be an http:// URL\n";
    return 2;
  }
  const auto body_template = hookline::bench::ReadFile(body_file);
  if (!body_template) {
    std::cerr << "load_client: cannot read " << body_file << "\n";
    return 2;
  }

  Shared shared;
  shared.request = BuildTemplate(*parsed, *body_template, headers);
  shared.server = tcp::endpoint(asio::ip::make_address(std::string(parsed->encoded_host())),
                                static_cast<std::uint16_t>(parsed->port_number()));
  shared.keys = keys;
  shared.rate = rate;
  shared.max_requests = max_requests;
  shared.start = SteadyClock::now();
  shared.stop = shared.start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));

  asio::io_context io;
  for (int i = 0; i < connections; ++i) asio::co_spawn(io, Connection(shared), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - shared.start).count();

  auto& l = shared.latencies_us;
  std::sort(l.begin(), l.end());
  std::printf(
      "{\"requests\":%zu,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
      "\"non2xx\":%llu,\"errors\":%llu}\n",
      l.size(), elapsed, static_cast<double>(l.size()) / elapsed, PercentileMs(l, 0.50), PercentileMs(l, 0.99),
      l.empty() ? 0.0 : l.back() / 1000.0, static_cast<unsigned long long>(shared.non2xx),
      static_cast<unsigned long long>(shared.errors));
  return 0;
}
