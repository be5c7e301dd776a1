#include "hookline/http/client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <chrono>
#include <mutex>
#include <stdexcept>

namespace hookline::http {

namespace {

constexpr std::size_t kBodyHeadLimit = 1024;

std::once_flag g_curl_init;

//! One easy handle and what its transfer needs, reused from request to request: options that
//! never change (callbacks and their data, protocols, no redirects) are set once, and the
//! handle keeps its buffers (curl_easy_reset and a fresh handle each cost as much as a
//! tenth of what libcurl spends on a small POST).
struct Transfer {
  const CurlSenderOptions* options = nullptr;
  std::string refused_address;  //!< set when the address filter refused the connection
  OutboundResult result;
  std::string body;
  //! The request's header lines and the list libcurl reads them through, kept from request
  //! to request with their capacity: curl_slist_append costs two allocations a line.
  std::vector<std::string> header_lines;
  std::vector<curl_slist> header_list;
  CURL* easy = nullptr;
  bool in_flight = false;  //!< added to the multi handle, not yet collected
  std::chrono::steady_clock::time_point started;

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
  }

  //! Fills header_lines and links header_list through them; valid until the next call.
  curl_slist* SetHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
    const std::size_t count = headers.size() + 1;
    header_lines.resize(count);
    for (std::size_t i = 0; i < headers.size(); ++i) {
      header_lines[i].assign(headers[i].first).append(": ").append(headers[i].second);
    }
    header_lines.back().assign("Expect:");  // no 100-continue round trip
    header_list.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      header_list[i].data = header_lines[i].data();
      header_list[i].next = i + 1 < count ? &header_list[i + 1] : nullptr;
    }
    return header_list.data();
  }
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
    for (auto& t : transfers_) {
      if (t->in_flight) curl_multi_remove_handle(multi_, t->easy);
    }
    transfers_.clear();  // the easy handles go before the multi they were part of
    curl_multi_cleanup(multi_);
    curl_slist_free_all(resolve_);
  }

  void Start(OutboundRequest request) override {
    Transfer& t = TakeIdle();
    // Field by field, not assigned from a temporary: GCC 12 at -O2 warns falsely
    // (-Wmaybe-uninitialized) on moving a temporary's empty optional<string>.
    t.result.tag = request.tag;
    t.result.status.reset();
    t.result.error.reset();
    t.result.body_head.clear();
    t.result.retry_after.reset();
    t.result.duration_ms = 0;
    t.refused_address.clear();
    t.body = std::move(request.body);
    curl_slist* headers = t.SetHeaders(request.headers);
    CURL* easy = t.easy;
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
    t.started = std::chrono::steady_clock::now();
    curl_multi_add_handle(multi_, easy);
    t.in_flight = true;
    ++in_flight_;
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

  std::size_t InFlight() const override { return in_flight_; }

  void Wake() override { curl_multi_wakeup(multi_); }

 private:
  Transfer& TakeIdle() {
    if (!idle_.empty()) {
      Transfer* t = idle_.back();
      idle_.pop_back();
      return *t;
    }
    auto t = std::make_unique<Transfer>();
    t->options = &options_;
    t->easy = curl_easy_init();
    if (!t->easy) throw std::runtime_error("curl_easy_init failed");
    CURL* easy = t->easy;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t.get());
    if (resolve_) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve_);
    // libcurl reads proxies from the environment unless told otherwise: an inherited
    // http_proxy would carry every delivery past the address check to a host it never
    // saw. "" means no proxy, and an empty NOPROXY keeps NO_PROXY from exempting targets
    // from the one configured.
    curl_easy_setopt(easy, CURLOPT_PROXY, options_.proxy ? options_.proxy->c_str() : "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
    transfers_.push_back(std::move(t));
    return *transfers_.back();
  }

  std::vector<OutboundResult> Collect() {
    std::vector<OutboundResult> out;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      Transfer* found = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&found));
      if (!found || !found->in_flight) continue;
      Transfer& t = *found;
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
      out.push_back(std::move(t.result));
      t.in_flight = false;
      t.body = std::string();  // an idle handle holds no payload
      --in_flight_;
      idle_.push_back(&t);
    }
    return out;
  }

  CurlSenderOptions options_;
  curl_slist* resolve_ = nullptr;
  CURLM* multi_ = nullptr;
  std::vector<std::unique_ptr<Transfer>> transfers_;  //!< every handle made, idle or not
  std::vector<Transfer*> idle_;
  std::size_t in_flight_ = 0;
};

}  // namespace

std::unique_ptr<HttpSender> MakeCurlSender(CurlSenderOptions options) {
  return std::make_unique<CurlSender>(std::move(options));
}

}  // namespace hookline::http
