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
// GET /stats?until=N&wait_ms=T answers once N have arrived or T ms have passed: the bench
// waits for arrivals with one request instead of polling, because a poller started as a
// process several times a second takes CPU from the server under test (with a slow
// python3, such as a pyenv shim, most of a core).
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/url/parse.hpp>

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

  //! Answers `respond` with Stats() once `until` have arrived or at `deadline_us`.
  void AnswerWhen(std::uint64_t until, std::int64_t deadline_us, hookline::http::Respond respond) {
    std::lock_guard lock(mu_);
    waiters_.push_back(Waiter{until, deadline_us, std::move(respond)});
  }

  //! Answers the waiters that are due; run every few ms by one thread (not per arrival, so
  //! an arrival costs what it did without waiters).
  void AnswerDueWaiters() {
    std::vector<hookline::http::Respond> due;
    {
      std::lock_guard lock(mu_);
      const std::int64_t now = NowUs();
      std::erase_if(waiters_, [&](Waiter& w) {
        if (count_ < w.until && now < w.deadline_us) return false;
        due.push_back(std::move(w.respond));
        return true;
      });
    }
    for (auto& respond : due) {
      hookline::http::Response r;
      r.body = Stats();
      respond(std::move(r));
    }
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
  struct Waiter {
    std::uint64_t until;
    std::int64_t deadline_us;
    hookline::http::Respond respond;
  };
  std::vector<Waiter> waiters_;
};

template <typename T>
std::optional<T> QueryNumber(const boost::urls::url_view& url, std::string_view key) {
  auto it = url.params().find(key);
  if (it == url.params().end()) return std::nullopt;
  const std::string text = (*it).value;
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

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
    auto target = boost::urls::parse_origin_form(request.target);
    if (request.method == "GET" && target && target->path() == "/stats") {
      if (auto until = QueryNumber<std::uint64_t>(*target, "until")) {
        const auto wait_ms = QueryNumber<std::int64_t>(*target, "wait_ms").value_or(60'000);
        arrivals.AnswerWhen(*until, NowUs() + wait_ms * 1000, std::move(respond));
        return;
      }
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
  std::atomic<bool> stopping{false};
  std::thread waiter_clock([&] {
    while (!stopping) {
      arrivals.AnswerDueWaiters();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  server.Start();
  std::cout << "listening on http://127.0.0.1:" << server.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  stopping = true;
  waiter_clock.join();
  server.Stop();
  return 0;
}
