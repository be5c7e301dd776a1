#include "harness.hpp"

#include <gtest/gtest.h>

#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "hookline/util/crypto.hpp"

extern char** environ;

namespace hookline::itest {

std::string BinaryPath() { return HOOKLINE_BINARY; }
std::string JsDir() { return HOOKLINE_JS_DIR; }
std::string TestDataDir() { return HOOKLINE_TEST_DATA; }

json::value HttpResult::Json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

std::string HttpResult::ErrorCode() const {
  auto v = Json();
  if (!v.is_object() || !v.as_object().contains("error")) return "";
  const auto& e = v.as_object().at("error");
  if (!e.is_object() || !e.as_object().contains("code")) return "";
  return std::string(e.as_object().at("code").as_string());
}

namespace {
size_t Append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}
size_t Header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}
}  // namespace

HttpResult Call(const std::string& method, const std::string& url, const std::string& body,
                const std::vector<std::string>& headers) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET" && method != "DELETE") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30'000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) result.body = std::string("curl: ") + curl_easy_strerror(rc);
  return result;
}

namespace {

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

std::vector<std::string> TestEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).starts_with("HOOKLINE_")) continue;
    env.emplace_back(*e);
  }
  env.emplace_back("HOOKLINE_LOG_LEVEL=warn");
  return env;
}

// Reads from `fd` until EOF or the deadline.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

pid_t Spawn(std::vector<std::string> args, int* stdout_fd, int* stderr_fd) {
  int out_pipe[2], err_pipe[2] = {-1, -1};
  if (pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
  if (stderr_fd && pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  if (stderr_fd) {
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  }
  auto env_strings = TestEnvironment();
  auto argv = Argv(args);
  auto envp = Argv(env_strings);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  if (stderr_fd) close(err_pipe[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  *stdout_fd = out_pipe[0];
  if (stderr_fd) *stderr_fd = err_pipe[0];
  return pid;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args, std::string* out, std::string* err) {
  int out_fd = -1, err_fd = -1;
  const pid_t pid = Spawn(args, &out_fd, err ? &err_fd : nullptr);
  std::string text = ReadAll(out_fd, std::chrono::seconds{60});
  close(out_fd);
  if (err) {
    *err = ReadAll(err_fd, std::chrono::seconds{5});
    close(err_fd);
  }
  if (out) *out = std::move(text);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServeProcess::ServeProcess(const std::string& db_url, std::vector<std::string> extra_args,
                           const std::string& role) {
  std::vector<std::string> args = {BinaryPath(), role, "--listen", "127.0.0.1:0", "--db", db_url};
  for (auto& a : extra_args) args.push_back(std::move(a));
  int out_fd = -1;
  pid_ = Spawn(args, &out_fd, nullptr);
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    if (read(out_fd, &c, 1) != 1) break;
    if (c == '\n') break;
    line.push_back(c);
  }
  close(out_fd);
  const std::string prefix = "listening on ";
  if (!line.starts_with(prefix)) {
    Stop(SIGKILL);
    throw std::runtime_error("hookline serve did not start; first line: '" + line + "'");
  }
  base_url_ = line.substr(prefix.size());
}

ServeProcess::~ServeProcess() {
  if (pid_ <= 0) return;
  const int status = Stop(SIGTERM);
  // A sanitizer that found something in the server ends it: ThreadSanitizer with exit code
  // 66, AddressSanitizer (abort_on_error) with SIGABRT. Its report went to the test's stderr;
  // without this the test would pass.
  if ((WIFEXITED(status) && WEXITSTATUS(status) == 66) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)) {
    ADD_FAILURE() << "the server under test ended with a sanitizer report (see its output above)";
  }
}

int ServeProcess::Stop(int signal) {
  if (pid_ <= 0) return 0;
  kill(pid_, signal);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  pid_ = -1;
  return status;
}

HttpResult ServeProcess::Api(const std::string& method, const std::string& path, const std::string& key,
                             const std::string& body, std::vector<std::string> headers) const {
  if (!key.empty()) headers.push_back("Authorization: Bearer " + key);
  if (!body.empty()) headers.push_back("Content-Type: application/json");
  return Call(method, base_url_ + path, body, headers);
}

std::string CreateCompany(const std::string& db_url, const std::string& name, const std::string& id) {
  std::vector<std::string> args = {BinaryPath(), "company", "create", "--name", name, "--db", db_url};
  if (!id.empty()) {
    args.push_back("--id");
    args.push_back(id);
  }
  std::string out;
  if (RunCommand(args, &out) != 0) throw std::runtime_error("company create failed: " + out);
  return std::string(json::parse(out).as_object().at("api_key").as_string());
}

json::object CreateSource(const std::string& db_url, std::vector<std::string> extra_args) {
  std::vector<std::string> args = {BinaryPath(), "source", "create", "--name", "outboundry", "--db", db_url};
  for (auto& a : extra_args) args.push_back(std::move(a));
  std::string out;
  if (RunCommand(args, &out) != 0) throw std::runtime_error("source create failed: " + out);
  return json::parse(out).as_object();
}

Sink::Sink() {
  http::ServerOptions options;
  options.handler_threads = 64;
  options.body_limit = 16 << 20;
  server_ = std::make_unique<http::Server>(options, [this](const http::Request& request) {
    std::function<http::Response(const http::Request&)> respond;
    {
      std::lock_guard lock(mu_);
      received_.push_back(request);
      respond = respond_;
    }
    cv_.notify_all();
    if (respond) return respond(request);
    http::Response ok;
    ok.body = R"({"ok":true})";
    return ok;
  });
  server_->Start();
}

Sink::~Sink() { server_->Stop(); }

std::string Sink::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
}

void Sink::SetResponder(std::function<http::Response(const http::Request&)> respond) {
  std::lock_guard lock(mu_);
  respond_ = std::move(respond);
}

bool Sink::WaitFor(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

std::vector<http::Request> Sink::Received() const {
  std::lock_guard lock(mu_);
  return received_;
}

HeldResponses::HeldResponses(Sink& sink) {
  sink.SetResponder([this](const http::Request&) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds{30}, [&] { return released_; });
    return http::Response{};
  });
}

void HeldResponses::Release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

MisbehavingEndpoint::MisbehavingEndpoint(Mode mode) : mode_(mode) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot listen for the misbehaving endpoint");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  });
}

MisbehavingEndpoint::~MisbehavingEndpoint() {
  stopping_ = true;
  acceptor_.join();
  std::lock_guard lock(mu_);
  for (auto& w : workers_) w.join();
  close(listen_fd_);
}

std::string MisbehavingEndpoint::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

void MisbehavingEndpoint::Serve(int fd) {
  // Read the request head (and whatever body came with it) before misbehaving.
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && !stopping_) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  if (mode_ == Mode::kReset) {
    linger hard{1, 0};  // close with RST instead of FIN
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  } else if (mode_ == Mode::kTrickle) {
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (char c : answer) {
      if (stopping_ || send(fd, &c, 1, MSG_NOSIGNAL) != 1) break;
      for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{30});
    }
  } else {
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  close(fd);
}

TempDir::TempDir() {
  path_ = (std::filesystem::temp_directory_path() / ("hookline-it-" + crypto::HexEncode(crypto::RandomBytes(6)))).string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(const std::string& name) const { return path_ + "/" + name; }

namespace {

void SetEnv(const std::string& name, const std::optional<std::string>& value) {
  if (value) {
    setenv(name.c_str(), value->c_str(), 1);
  } else {
    unsetenv(name.c_str());
  }
}

}  // namespace

ScopedEnv::ScopedEnv(const std::vector<std::pair<std::string, std::optional<std::string>>>& vars) {
  for (const auto& [name, value] : vars) {
    const char* before = std::getenv(name.c_str());
    saved_.emplace_back(name, before ? std::optional<std::string>(before) : std::nullopt);
    SetEnv(name, value);
  }
}

ScopedEnv::~ScopedEnv() {
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) SetEnv(it->first, it->second);
}

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return condition();
}

}  // namespace hookline::itest
