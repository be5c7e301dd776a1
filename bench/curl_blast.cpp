// The limit for the dispatch-drain benchmark: a bare libcurl multi client that POSTs the
// same bytes a delivery carries (payload and Standard Webhooks headers, signed once up front)
// --requests times over --connections keep-alive connections, spread over --endpoints paths
// as the seeded backlog is. No store, no claims, no per-request signing: what sending alone
// costs on this machine.
//
//   bench_curl_blast --url http://127.0.0.1:P --payload-file F --requests N --connections C --endpoints E
// Prints {"requests":N,"seconds":S,"per_s":R,"non2xx":X,"errors":Y}.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include "read_file.hpp"

namespace {

std::size_t Discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bare libcurl multi sender"};
  std::string url, payload_file;
  long requests = 200'000;
  int connections = 64, endpoints = 1;
  app.add_option("--url", url)->required();
  app.add_option("--payload-file", payload_file)->required();
  app.add_option("--requests", requests)->check(CLI::Range(1L, 100'000'000L));
  app.add_option("--connections", connections)->check(CLI::Range(1, 4096));
  app.add_option("--endpoints", endpoints)->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  const auto read = hookline::bench::ReadFile(payload_file);
  if (!read) {
    std::cerr << "bench_curl_blast: cannot read " << payload_file << "\n";
    return 2;
  }
  const std::string& payload = *read;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(connections));
  curl_slist* headers = nullptr;
  for (const char* h : {"Content-Type: application/json", "User-Agent: hookline-bench",
                        "webhook-id: msg_2pQ7bench0000000000000000",
                        "webhook-timestamp: 1774353600",
                        "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "Expect:"}) {
    headers = curl_slist_append(headers, h);
  }
  std::vector<std::string> urls;
  for (int i = 0; i < endpoints; ++i) urls.push_back(url + "/e" + std::to_string(i));

  long started = 0, finished = 0, non2xx = 0, errors = 0;
  auto start_one = [&](CURL* easy) {
    curl_easy_setopt(easy, CURLOPT_URL, urls[static_cast<std::size_t>(started % endpoints)].c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 15'000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(multi, easy);
    ++started;
  };
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < connections && started < requests; ++i) start_one(curl_easy_init());
  int running = 1;
  while (finished < requests) {
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK) {
        ++errors;
      } else if (status < 200 || status >= 300) {
        ++non2xx;
      }
      ++finished;
      curl_multi_remove_handle(multi, easy);
      if (started < requests) {
        start_one(easy);  // reused: keeps its connection
      } else {
        curl_easy_cleanup(easy);
      }
    }
    if (finished < requests) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"requests\":%ld,\"seconds\":%.3f,\"per_s\":%.1f,\"non2xx\":%ld,\"errors\":%ld}\n", finished,
              seconds, static_cast<double>(finished) / seconds, non2xx, errors);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return 0;
}
