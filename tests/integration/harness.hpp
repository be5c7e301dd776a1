#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "hookline/http/server.hpp"

//! Helpers for black-box tests: the real hookline binary on port 0, real HTTP, a local sink.
namespace hookline::itest {

namespace json = boost::json;

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  //!< lowercase names
  json::value Json() const;
  std::string ErrorCode() const;  //!< error.code of an error body, or ""
};

//! One blocking HTTP call (libcurl easy), bounded at 30 s.
HttpResult Call(const std::string& method, const std::string& url, const std::string& body = "",
                const std::vector<std::string>& headers = {});

//! Runs `args` (argv[0] is the program) to completion; returns the exit code and stdout.
int RunCommand(const std::vector<std::string>& args, std::string* out, std::string* err = nullptr);

std::string BinaryPath();
std::string JsDir();
std::string TestDataDir();

//! `hookline serve` on 127.0.0.1:0 with a database in `dir`. Waits for its "listening on"
//! line. Stopped with SIGTERM (or killed) when destroyed.
class ServeProcess {
 public:
  //! `role` is the subcommand: "serve" (the provider) or "receive" (the consumer).
  ServeProcess(const std::string& db_url, std::vector<std::string> extra_args = {},
               const std::string& role = "serve");
  ~ServeProcess();

  const std::string& base_url() const { return base_url_; }
  pid_t pid() const { return pid_; }
  //! Sends `signal` and waits for the process to end; returns its wait status.
  int Stop(int signal);
  //! Authenticated JSON call to this server.
  HttpResult Api(const std::string& method, const std::string& path, const std::string& key,
                 const std::string& body = "", std::vector<std::string> headers = {}) const;

 private:
  pid_t pid_ = -1;
  std::string base_url_;
};

//! Creates a company with `hookline company create`; returns its API key.
std::string CreateCompany(const std::string& db_url, const std::string& name,
                          const std::string& id = "");

//! Creates a receiver source with `hookline source create` (extra args: --secret/--token/...).
json::object CreateSource(const std::string& db_url, std::vector<std::string> extra_args = {});

//! A webhook receiver for tests: records every request and answers with `respond`.
class Sink {
 public:
  Sink();
  ~Sink();
  std::string url(const std::string& path = "/hook") const;

  //! Decides each answer; called on the sink's handler threads. Default: 200.
  void SetResponder(std::function<http::Response(const http::Request&)> respond);
  //! Waits until at least `count` requests arrived; false at the deadline.
  bool WaitFor(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds{20});
  std::vector<http::Request> Received() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<http::Request> received_;
  std::function<http::Response(const http::Request&)> respond_;
  std::unique_ptr<http::Server> server_;
};

//! Makes a Sink hold every request (the sender sees it in flight) until Release(); then it
//! answers 200. Bounded: a held request is answered after 30 s regardless.
class HeldResponses {
 public:
  explicit HeldResponses(Sink& sink);
  void Release();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

//! A raw TCP endpoint that misbehaves in ways an HTTP library will not: it reads a request
//! and then hangs, resets the connection, or trickles a 200 one byte at a time.
class MisbehavingEndpoint {
 public:
  enum class Mode { kHang, kReset, kTrickle };
  explicit MisbehavingEndpoint(Mode mode);
  ~MisbehavingEndpoint();  //!< releases every held connection
  std::string url() const;
  int connections() const { return connections_.load(); }

 private:
  void Serve(int fd);
  Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

//! A fresh temporary directory, removed afterwards.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

//! Sets (or, given nullopt, unsets) environment variables until destroyed, then puts back
//! what was there. Processes started meanwhile inherit them.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::vector<std::pair<std::string, std::optional<std::string>>>& vars);
  ~ScopedEnv();

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

//! Polls `condition` until it holds or `timeout` passes (for state another process commits).
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds{20});

}  // namespace hookline::itest
