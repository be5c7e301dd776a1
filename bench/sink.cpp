// The benchmarks' webhook sink: hookline's HTTP server answering 200 to every POST, counting
// arrivals and, when a body carries "bench-t:" and 16 digits (the load client's send time in
// microseconds since the epoch), the time from that send to this arrival.
//
//   bench_sink [--port P]
// Answers inline on the I/O threads (no handler pool): as close to "free" as our server gets,
// which makes it the limit for the receiver benchmark too.
// Prints "listening on http://127.0.0.1:P" first. GET /stats answers
//   {"count","first_ms","last_ms","per_s","lat_count","p50_ms","p99_ms","max_ms"}
// (per_s: arrivals from the first to the last), POST /reset forgets everything so far.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <vector>

#include <CLI/CLI.hpp>

#include "hookline/http/server.hpp"

namespace {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

class Arrivals {
 public:
  void Record(std::string_view body) {
    const std::int64_t now = NowUs();
    std::optional<std::uint32_t> latency;
    if (auto at = body.find("bench-t:"); at != std::string_view::npos && at + 8 + 16 <= body.size()) {
      std::int64_t sent = 0;
      for (std::size_t i = at + 8; i < at + 24; ++i) sent = sent * 10 + (body[i] - '0');
      latency = static_cast<std::uint32_t>(std::clamp<std::int64_t>(now - sent, 0, UINT32_MAX));
    }
    std::lock_guard lock(mu_);
    if (count_ == 0) first_us_ = now;
    last_us_ = now;
    ++count_;
    if (latency) latencies_us_.push_back(*latency);
  }

  std::string Stats() {
    std::lock_guard lock(mu_);
    auto sorted = latencies_us_;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double p) {
      return sorted.empty() ? 0.0 : sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))] / 1000.0;
    };
    const double span_s = static_cast<double>(last_us_ - first_us_) / 1e6;
    char out[512];
    std::snprintf(out, sizeof out,
                  "{\"count\":%llu,\"first_ms\":%lld,\"last_ms\":%lld,\"per_s\":%.1f,\"lat_count\":%zu,"
                  "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}",
                  static_cast<unsigned long long>(count_), static_cast<long long>(first_us_ / 1000),
                  static_cast<long long>(last_us_ / 1000),
                  span_s > 0 ? static_cast<double>(count_ - 1) / span_s : 0.0, sorted.size(), pct(0.5),
                  pct(0.99), sorted.empty() ? 0.0 : sorted.back() / 1000.0);
    return out;
  }

  void Reset() {
    std::lock_guard lock(mu_);
    count_ = 0;
    first_us_ = last_us_ = 0;
    latencies_us_.clear();
  }

 private:
  std::mutex mu_;
  std::uint64_t count_ = 0;
  std::int64_t first_us_ = 0, last_us_ = 0;
  std::vector<std::uint32_t> latencies_us_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hookline benchmark sink"};
  int port = 0;
  app.add_option("--port", port)->check(CLI::Range(0, 65535));
  CLI11_PARSE(app, argc, argv);

  Arrivals arrivals;
  hookline::http::ServerOptions options;
  options.port = static_cast<std::uint16_t>(port);
  hookline::http::Server server(options, [&](hookline::http::Request request, hookline::http::Respond respond) {
    hookline::http::Response r;
    if (request.method == "GET" && request.target == "/stats") {
      r.body = arrivals.Stats();
    } else if (request.method == "POST" && request.target == "/reset") {
      arrivals.Reset();
      r.body = "{}";
    } else {
      arrivals.Record(request.body);
      r.body = R"({"status":"accepted"})";
    }
    respond(std::move(r));
  });
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  server.Start();
  std::cout << "listening on http://127.0.0.1:" << server.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  return 0;
}
