#include "hookline/http/client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace hookline::http {

namespace {

constexpr std::size_t kBodyHeadLimit = 1024;

std::once_flag g_curl_init;

struct Transfer {
  const CurlSenderOptions* options = nullptr;
  std::string refused_address;  //!< set when the address filter refused the connection
  OutboundResult result;
  std::string body;
  curl_slist* headers = nullptr;
  CURL* easy = nullptr;
  std::chrono::steady_clock::time_point started;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  auto& head = t->result.body_head;
  if (head.size() < kBodyHeadLimit) head.append(data, std::min(len, kBodyHeadLimit - head.size()));
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      t->result.retry_after = std::string(value);
    }
  }
  return len;
}

curl_socket_t OpenSocket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  const auto& filter = t->options->address_allowed;
  if (filter && !filter(&address->addr)) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (address->family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr, text, sizeof text);
    } else if (address->family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr, text, sizeof text);
    }
    t->refused_address = text;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

class CurlSender final : public HttpSender {
 public:
  explicit CurlSender(CurlSenderOptions options) : options_(std::move(options)) {
    for (const auto& entry : options_.resolve) resolve_ = curl_slist_append(resolve_, entry.c_str());
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 256L);
  }

  ~CurlSender() override {
    for (auto& [easy, t] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
      curl_slist_free_all(t->headers);
    }
    for (CURL* easy : idle_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
    curl_slist_free_all(resolve_);
  }

  void Start(OutboundRequest request) override {
    auto t = std::make_unique<Transfer>();
    t->result.tag = request.tag;
    t->options = &options_;
    t->body = std::move(request.body);
    CURL* easy = TakeEasy();
    t->easy = easy;
    for (const auto& [k, v] : request.headers) {
      t->headers = curl_slist_append(t->headers, (k + ": " + v).c_str());
    }
    t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t.get());
    if (resolve_) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve_);
    t->started = std::chrono::steady_clock::now();
    curl_multi_add_handle(multi_, easy);
    transfers_.emplace(easy, std::move(t));
  }

  std::vector<OutboundResult> Poll(std::chrono::milliseconds max_wait) override {
    int running = 0;
    curl_multi_perform(multi_, &running);
    std::vector<OutboundResult> done = Collect();
    if (done.empty()) {
      curl_multi_poll(multi_, nullptr, 0, static_cast<int>(max_wait.count()), nullptr);
      curl_multi_perform(multi_, &running);
      done = Collect();
    }
    return done;
  }

  std::size_t InFlight() const override { return transfers_.size(); }

  void Wake() override { curl_multi_wakeup(multi_); }

 private:
  CURL* TakeEasy() {
    if (!idle_.empty()) {
      CURL* easy = idle_.back();
      idle_.pop_back();
      curl_easy_reset(easy);
      return easy;
    }
    CURL* easy = curl_easy_init();
    if (!easy) throw std::runtime_error("curl_easy_init failed");
    return easy;
  }

  std::vector<OutboundResult> Collect() {
    std::vector<OutboundResult> out;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      auto it = transfers_.find(easy);
      if (it == transfers_.end()) continue;
      auto& t = *it->second;
      t.result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - t.started)
                                 .count();
      if (msg->data.result == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        t.result.status = static_cast<int>(code);
      } else if (!t.refused_address.empty()) {
        t.result.error = "refused to connect to " + t.refused_address +
                         ": a loopback, private, link-local or reserved address";
      } else {
        t.result.error = curl_easy_strerror(msg->data.result);
      }
      curl_multi_remove_handle(multi_, easy);
      curl_slist_free_all(t.headers);
      out.push_back(std::move(t.result));
      transfers_.erase(it);
      idle_.push_back(easy);
    }
    return out;
  }

  CurlSenderOptions options_;
  curl_slist* resolve_ = nullptr;
  CURLM* multi_ = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<HttpSender> MakeCurlSender(CurlSenderOptions options) {
  return std::make_unique<CurlSender>(std::move(options));
}

}  // namespace hookline::http
