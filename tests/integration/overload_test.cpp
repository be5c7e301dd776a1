// Overload through the real binary: thousands of connections flooding ingest against small
// bounds. Past each bound the receiver answers 503 with Retry-After; it stays within its
// memory, keeps answering /healthz, and every webhook it answered 200 is stored.
#include <gtest/gtest.h>

#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness.hpp"
#include "scenarios.hpp"

namespace hookline::itest {
namespace {

constexpr char kApiToken[] = "overload-test-token-0123";

// What the receiver may hold resident (VmRSS) through the flood: its own bounds keep it far
// below; sanitizers multiply a process's memory.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long kMaxResidentKib = 1'536 << 10;
#else
constexpr long kMaxResidentKib = 384 << 10;
#endif

// The process's resident memory in KiB (VmRSS of /proc/PID/status), or -1.
long ResidentKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

size_t AppendTo(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// Keeps the Retry-After header's value; curl splits the head into lines.
size_t KeepRetryAfter(char* data, size_t size, size_t n, void* user) {
  const std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() &&
      std::equal(kName.begin(), kName.end(), line.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    std::string value(line.substr(kName.size()));
    std::erase_if(value, [](char c) { return c == ' ' || c == '\r' || c == '\n'; });
    *static_cast<std::string*>(user) = value;
  }
  return size * n;
}

// One connection of the flood: a curl handle that sends its webhooks one after the other,
// over one keep-alive connection while the server keeps it.
struct Sender {
  CURL* curl = nullptr;
  int left = 0;
  std::string body, response, retry_after;
};

struct FloodOutcome {
  std::vector<std::string> accepted;  // ids answered 200
  int too_many_connections = 0;       // 503 overloaded, with Retry-After: 1, by the server
  int too_many_writes = 0;            // the same, by the store's writer
  int unanswered = 0;                 // closed unanswered (past the refusals) or timed out
  std::map<long, int> unexpected;     // any other status (or a 503 without its header)
};

// Opens `connections` connections at once (curl multi, loopback) and sends `per_connection`
// distinct webhooks on each, until done or `budget` runs out.
FloodOutcome Flood(const std::string& url, int connections, int per_connection, std::chrono::seconds budget) {
  FloodOutcome out;
  const auto base = json::parse(ReadExample("invite-sent")).as_object();
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(connections));
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  std::vector<Sender> senders(static_cast<size_t>(connections));
  int sequence = 0, in_flight = 0;
  auto send = [&](Sender& s) {
    auto body = base;
    body["x_seq"] = ++sequence;  // distinct bodies: none is a duplicate
    s.body = json::serialize(body);
    s.response.clear();
    s.retry_after.clear();
    curl_easy_setopt(s.curl, CURLOPT_POSTFIELDS, s.body.c_str());
    curl_easy_setopt(s.curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(s.body.size()));
    curl_multi_add_handle(multi, s.curl);
    ++in_flight;
  };
  for (auto& s : senders) {
    s.curl = curl_easy_init();
    s.left = per_connection;
    curl_easy_setopt(s.curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(s.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s.curl, CURLOPT_TIMEOUT_MS, 15'000L);
    curl_easy_setopt(s.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, AppendTo);
    curl_easy_setopt(s.curl, CURLOPT_WRITEDATA, &s.response);
    curl_easy_setopt(s.curl, CURLOPT_HEADERFUNCTION, KeepRetryAfter);
    curl_easy_setopt(s.curl, CURLOPT_HEADERDATA, &s.retry_after);
    curl_easy_setopt(s.curl, CURLOPT_PRIVATE, &s);
    send(s);
  }
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
    int running = 0, queued = 0;
    curl_multi_perform(multi, &running);
    while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      Sender* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
      long status = 0;
      if (m->data.result == CURLE_OK) curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      curl_multi_remove_handle(multi, m->easy_handle);
      --in_flight;
      HttpResult result{status, s->response, {}};
      if (status == 0) {
        ++out.unanswered;
      } else if (status == 200 && result.Json().is_object() && result.Json().at("status") == "accepted") {
        out.accepted.emplace_back(result.Json().at("id").as_string());
      } else if (status == 503 && result.ErrorCode() == "overloaded" && s->retry_after == "1") {
        ++(s->response.find("connections") != std::string::npos ? out.too_many_connections : out.too_many_writes);
      } else {
        ++out.unexpected[status];
      }
      if (--s->left > 0) send(*s);
    }
    if (in_flight > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  out.unanswered += in_flight;  // still waiting at the deadline
  for (auto& s : senders) {
    curl_multi_remove_handle(multi, s.curl);
    curl_easy_cleanup(s.curl);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  return out;
}

// GET /healthz over one keep-alive connection, opened before the flood (so it is not one of
// the connections refused), every 50 ms until stopped; also samples the server's memory.
class HealthProbe {
 public:
  HealthProbe(const std::string& url, pid_t server) : server_(server) {
    curl_ = curl_easy_init();
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, AppendTo);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
    Probe();
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds{50}, [&] { return stop_; })) {
        lock.unlock();
        Probe();
        lock.lock();
      }
    });
  }
  ~HealthProbe() {
    Stop();
    curl_easy_cleanup(curl_);
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  int probes() const { return probes_; }
  int failures() const { return failures_; }
  std::chrono::milliseconds slowest() const { return slowest_; }
  long max_resident_kib() const { return max_resident_kib_; }

 private:
  void Probe() {
    body_.clear();
    const auto start = std::chrono::steady_clock::now();
    long status = 0;
    if (curl_easy_perform(curl_) == CURLE_OK) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    slowest_ = std::max(slowest_, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - start));
    ++probes_;
    if (status != 200) ++failures_;
    max_resident_kib_ = std::max(max_resident_kib_, ResidentKib(server_));
  }
  const pid_t server_;
  CURL* curl_ = nullptr;
  std::string body_;
  int probes_ = 0, failures_ = 0;
  std::chrono::milliseconds slowest_{0};
  long max_resident_kib_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

TEST(Overload, ThousandsOfConnectionsFloodingIngestGet503sAndEvery200IsStored) {
  constexpr int kConnections = 3'000, kPerConnection = 3;
  // The test's own descriptors: a connection each, plus the usual.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < kConnections + 512) {
    limit.rlim_cur = std::min<rlim_t>(kConnections + 512, limit.rlim_max);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    ASSERT_GE(limit.rlim_cur, static_cast<rlim_t>(kConnections + 512)) << "ulimit -Hn is too low for this test";
  }
  TempDir dir;
  const std::string db = "sqlite:" + dir.File("receiver.db");
  auto source = CreateSource(db);
  const std::string path(source.at("ingest_path").as_string()), token(source.at("token").as_string());
  ServeProcess receiver(db,
                        {"--api-token", kApiToken, "--max-connections", "1000", "--max-queued-writes", "32",
                         "--max-queued-requests", "8"},
                        "receive");
  HealthProbe health(receiver.base_url() + "/healthz", receiver.pid());

  const FloodOutcome flood =
      Flood(receiver.base_url() + path + "?token=" + token, kConnections, kPerConnection, std::chrono::seconds{60});
  health.Stop();

  EXPECT_TRUE(flood.unexpected.empty()) << "first unexpected status: " << flood.unexpected.begin()->first;
  EXPECT_GT(flood.too_many_connections, 0);  // both bounds were reached
  EXPECT_GT(flood.too_many_writes, 0);
  EXPECT_GT(flood.accepted.size(), 0u);  // and much still got through
  EXPECT_EQ(health.failures(), 0) << "of " << health.probes() << " probes";
  EXPECT_GE(health.probes(), 2);
  EXPECT_LT(health.slowest(), std::chrono::seconds{5});
  EXPECT_GT(health.max_resident_kib(), 0);
  EXPECT_LT(health.max_resident_kib(), kMaxResidentKib);
  RecordProperty("accepted", static_cast<int>(flood.accepted.size()));
  RecordProperty("too_many_connections", flood.too_many_connections);
  RecordProperty("too_many_writes", flood.too_many_writes);
  RecordProperty("probes", health.probes());
  RecordProperty("slowest_probe_ms", static_cast<int>(health.slowest().count()));
  RecordProperty("unanswered", flood.unanswered);
  RecordProperty("max_resident_kib", static_cast<int>(health.max_resident_kib()));

  // Every webhook answered 200 is in the raw log.
  std::set<std::string> stored;
  std::string after;
  for (;;) {
    auto page = receiver.Api("GET", "/v1/received?limit=500" + (after.empty() ? "" : "&after=" + after), kApiToken);
    ASSERT_EQ(page.status, 200) << page.body;
    const json::value listing = page.Json();
    const auto& list = listing.as_object();
    for (const auto& item : list.at("data").as_array()) stored.emplace(item.at("id").as_string());
    if (list.at("next").is_null()) break;
    after = std::string(list.at("next").as_string());
  }
  for (const auto& id : flood.accepted) ASSERT_TRUE(stored.contains(id)) << id;
}

}  // namespace
}  // namespace hookline::itest
