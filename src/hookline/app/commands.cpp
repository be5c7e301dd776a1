#include "hookline/app/commands.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <stdexcept>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "hookline/api/provider_api.hpp"
#include "hookline/api/receiver_api.hpp"
#include "hookline/receiver/export.hpp"
#include "hookline/receiver/projector.hpp"
#include "hookline/receiver/sources.hpp"
#include "hookline/app/master_key.hpp"
#include "hookline/delivery/dispatcher.hpp"
#include "hookline/delivery/url_guard.hpp"
#include "hookline/http/server.hpp"
#include "hookline/provider/api_keys.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/ids.hpp"
#include "hookline/util/json_text.hpp"

namespace hookline::app {

std::pair<std::string, std::uint16_t> ParseListen(const std::string& listen) {
  std::string host;
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      throw std::invalid_argument("--listen must look like [::1]:8080");
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("--listen must look like 127.0.0.1:8080");
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    throw std::invalid_argument("--listen '" + listen + "' needs a host and a port from 0 to 65535");
  }
  return {host, static_cast<std::uint16_t>(port)};
}

std::string DefaultKeyFile(const std::string& db_url) {
  std::string_view path = db_url;
  if (path.starts_with("sqlite://")) {
    path.remove_prefix(9);
  } else if (path.starts_with("sqlite:")) {
    path.remove_prefix(7);
  } else if (path.find("://") != std::string_view::npos) {
    return "hookline.key";
  }
  return std::string(path) + ".key";
}

namespace {

Millis RequireDuration(const std::string& text, const char* flag, Millis min, Millis max) {
  const auto d = ParseDuration(text);
  if (!d || *d < min || *d > max) {
    throw std::invalid_argument(std::string(flag) + " must be a duration like 10s, 5m or 5d, from " +
                                FormatDuration(min) + " to " + FormatDuration(max));
  }
  return *d;
}

}  // namespace

DeliveryConfig::DeliveryConfig(const DeliveryOptions& o) : options(o) {
  std::string error;
  retry = delivery::RetryPolicy::Parse(o.retry_schedule, &error);
  if (!retry) throw std::invalid_argument("--retry-schedule: " + error);
  attempt_timeout = RequireDuration(o.attempt_timeout, "--attempt-timeout", 100, 300'000);
  disable_after = RequireDuration(o.disable_endpoint_after, "--disable-endpoint-after", 60'000,
                                  365LL * 86'400'000);
  shutdown_grace = RequireDuration(o.shutdown_grace, "--shutdown-grace", 0, 600'000);
  if (o.delivery_proxy) {
    auto url = boost::urls::parse_absolute_uri(*o.delivery_proxy);
    const std::string scheme = url ? std::string(url->scheme()) : "";
    if (!url || url->encoded_host().empty() ||
        (scheme != "http" && scheme != "https" && scheme != "socks4" && scheme != "socks4a" &&
         scheme != "socks5" && scheme != "socks5h")) {
      throw std::invalid_argument(
          "--delivery-proxy must be a proxy URL like http://proxy.internal:3128 (http, https, "
          "socks4, socks4a, socks5 or socks5h)");
    }
    proxy_shown = scheme + "://" + std::string(url->encoded_host_and_port());
  }
}

DeliveryStack::DeliveryStack(store::Store& store, const crypto::SecretBox& secrets, DeliveryConfig config)
    : shutdown_grace_(config.shutdown_grace) {
  const DeliveryOptions& options = config.options;
  // One SQLite process owns the database: leases left by a previous (crashed) run are void.
  if (store.Kind() == "sqlite") {
    store.Write([](store::StoreTx& tx) {
      tx.ReleaseAllLeases();
      return true;
    });
  }
  http::CurlSenderOptions sender_options;
  sender_options.resolve = options.resolve;
  sender_options.proxy = options.delivery_proxy;
  if (options.delivery_proxy) {
    // Every connection goes to the proxy, which the operator chose (often on loopback or a
    // private network): checking it would refuse everything, and the target's address is
    // the proxy's to check.
    spdlog::info("deliveries go through the proxy {}: it must refuse private and internal "
                 "targets, hookline checks only the URLs saved", *config.proxy_shown);
  } else if (!options.allow_private_endpoints) {
    // Checked on the address actually connected to: DNS cannot re-point a saved name.
    sender_options.address_allowed = [](const sockaddr* address) {
      return !delivery::IsForbiddenSocketAddress(address);
    };
  }
  sender_ = http::MakeCurlSender(std::move(sender_options));
  delivery::DispatcherOptions dispatch_options;
  dispatch_options.attempt_timeout = config.attempt_timeout;
  dispatch_options.connect_timeout = std::min<Millis>(config.attempt_timeout, 10'000);
  dispatch_options.lease = config.attempt_timeout + 60'000;
  dispatch_options.disable_after = config.disable_after;
  dispatcher_ = std::make_unique<delivery::Dispatcher>(store, *sender_, SystemClock::Instance(),
                                                       std::move(*config.retry), secrets, dispatch_options);
}

DeliveryStack::~DeliveryStack() = default;

void DeliveryStack::Start() { dispatcher_->Start(); }
void DeliveryStack::Stop() { dispatcher_->Stop(std::chrono::milliseconds{shutdown_grace_}); }

namespace {

// Blocks SIGINT and SIGTERM in every thread started after this; WaitForStopSignal takes them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& set) {
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

// The connections that fit the process's descriptor limit (`ulimit -n`): raises its soft
// limit toward the hard one when `max_connections` needs it; if that is not enough, serves
// fewer connections and says so.
std::size_t FitConnectionsToDescriptors(std::size_t max_connections) {
  // Beside the connections: the ones being refused, SQLite's (a few descriptors per read
  // connection, one per handler thread), delivery sockets, the logs.
  constexpr rlim_t kOthers = http::kMaxRefusing + 512;
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + kOthers;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted) {
    return max_connections;
  }
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  if (limit.rlim_cur >= wanted) return max_connections;
  const std::size_t fits = limit.rlim_cur > kOthers + 64 ? static_cast<std::size_t>(limit.rlim_cur - kOthers) : 64;
  spdlog::warn("--max-connections {} needs ~{} file descriptors and the limit is {} (ulimit -n): "
               "at most {} connections are served",
               max_connections, wanted, limit.rlim_cur, fits);
  return fits;
}

// A role's HTTP server, bound to host:port but not serving yet (Server::Listen), so that a
// busy port fails the command before it opens the database or makes a key file.
// `handler` is an http::Handler (run on a pool of handler_threads) or an http::AsyncHandler.
template <typename AnyHandler>
std::unique_ptr<http::Server> ListenHttp(const std::string& host, std::uint16_t port,
                                         std::size_t body_limit, Millis read_timeout,
                                         std::size_t max_connections, int handler_threads,
                                         AnyHandler handler) {
  http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.body_limit = body_limit;
  server_options.read_timeout = std::chrono::milliseconds{read_timeout};
  server_options.handler_threads = handler_threads;
  server_options.max_connections = FitConnectionsToDescriptors(max_connections);
  auto server = std::make_unique<http::Server>(server_options, std::move(handler));
  server->Listen();
  return server;
}

// Serves, and prints the "listening on" line scripts and tests wait for (the first line on
// stdout).
void StartHttp(http::Server& server) {
  server.Start();
  const std::string& host = server.host();
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::cout << "listening on http://" << shown_host << ":" << server.port() << std::endl;
}

// Stops a server that serves while its handler's API may be destroyed: declared after the
// API, it runs first when a start fails after serving began (a thread that could not start),
// so no request reaches an API being torn down. Server::Stop is idempotent.
struct StopServerFirst {
  std::unique_ptr<http::Server>& server;
  ~StopServerFirst() {
    if (server) server->Stop();
  }
};

// The master key, checked before the database is opened; a missing key file is made only
// once the database opened, so a failed start leaves neither behind.
class MasterKey {
 public:
  MasterKey(const std::optional<std::string>& env_value, std::string key_file)
      : key_file_(std::move(key_file)), key_(ReadMasterKey(env_value, key_file_)) {}
  //! The key; makes the key file the first time, warning that `sealed_what` needs it.
  std::string Get(std::string_view sealed_what) const {
    return key_ ? *key_ : CreateMasterKeyFile(key_file_, sealed_what);
  }

 private:
  std::string key_file_;
  std::optional<std::string> key_;
};

}  // namespace

int RunServe(const ServeOptions& options) {
  const sigset_t stop_signals = BlockStopSignals();
  // Every flag, the port and the master key are checked before anything touches the disk.
  const auto [host, port] = ParseListen(options.listen);
  DeliveryConfig delivery_config(options.delivery);
  const Millis read_timeout = RequireDuration(options.read_timeout, "--read-timeout", 100, 600'000);
  const MasterKey master_key(options.master_key, options.master_key_file.value_or(DefaultKeyFile(options.db)));
  // Declared in the order they must outlive each other, and filled in once the port is
  // bound. The API is destroyed first: its pool may still answer a request while it winds
  // down, and an answer goes through the server; the API calls the dispatcher.
  std::unique_ptr<store::Store> store;
  std::optional<crypto::SecretBox> secrets;
  std::optional<DeliveryStack> delivery_stack;
  std::unique_ptr<http::Server> server;
  std::optional<api::ProviderApi> api;
  const StopServerFirst stop_server_first{server};
  // Activities are answered from their group commit; the other routes run on the API's pool.
  // Nothing is served before StartHttp, when `api` exists.
  server = ListenHttp(host, port, options.max_body_bytes, read_timeout, options.max_connections, 0,
                      http::AsyncHandler([&api](http::Request r, http::Respond respond) {
                        api->HandleAsync(std::move(r), std::move(respond));
                      }));
  store = store::OpenStore(options.db, store::StoreUse::kServer, options.max_queued_writes);
  secrets.emplace(master_key.Get("endpoint secrets"));
  delivery_stack.emplace(*store, *secrets, std::move(delivery_config));
  auto& dispatcher = delivery_stack->dispatcher();
  api.emplace(*store, *secrets, SystemClock::Instance(), [&] { dispatcher.Notify(); },
              api::ProviderApiOptions{.allow_private_endpoints = options.delivery.allow_private_endpoints,
                                      .max_queued_requests = options.max_queued_requests});
  StartHttp(*server);
  delivery_stack->Start();
  spdlog::info("hookline {} serving on {}:{} with {} store", HOOKLINE_VERSION, host, server->port(),
               store->Kind());

  const int signal = WaitForStopSignal(stop_signals);
  spdlog::info("received signal {}: stopping", signal);
  server->Stop();
  // A barrier: activities already queued commit and answer before the API is destroyed.
  store->Write([](store::StoreTx&) { return true; });
  delivery_stack->Stop();
  spdlog::info("stopped");
  return 0;
}

int RunReceive(const ReceiveOptions& options) {
  const sigset_t stop_signals = BlockStopSignals();
  const auto [host, port] = ParseListen(options.listen);
  if (options.api_token && options.api_token->size() < 16) {
    throw std::invalid_argument("--api-token must be at least 16 characters");
  }
  DeliveryConfig delivery_config(options.delivery);
  const Millis read_timeout = RequireDuration(options.read_timeout, "--read-timeout", 100, 600'000);
  const MasterKey master_key(options.master_key, options.master_key_file.value_or(DefaultKeyFile(options.db)));
  std::optional<std::string> token_hash;
  if (options.api_token) token_hash = crypto::Sha256(*options.api_token);
  // In the order they must outlive each other, as in RunServe.
  std::unique_ptr<store::Store> store;
  std::optional<crypto::SecretBox> secrets;
  std::optional<receiver::Projector> projector;
  std::optional<DeliveryStack> forwarding;
  std::unique_ptr<http::Server> server;
  std::optional<api::ReceiverApi> api;
  const StopServerFirst stop_server_first{server};
  // Ingests are answered from their group commit (no thread waits per request); queries run
  // on the API's own pool. Nothing is served before StartHttp, when `api` exists.
  server = ListenHttp(host, port, options.max_body_bytes, read_timeout, options.max_connections, 0,
                      http::AsyncHandler([&api](http::Request r, http::Respond respond) {
                        api->HandleAsync(std::move(r), std::move(respond));
                      }));
  store = store::OpenStore(options.db, store::StoreUse::kServer, options.max_queued_writes);
  secrets.emplace(master_key.Get("source secrets and forwarding endpoint secrets"));
  projector.emplace(*store);
  forwarding.emplace(*store, *secrets, std::move(delivery_config));
  if (!token_hash) spdlog::warn("no --api-token: the query API is off, ingest still works");
  api.emplace(*store, *secrets, SystemClock::Instance(), token_hash, [&] { projector->Notify(); },
              [&] { forwarding->dispatcher().Notify(); }, options.delivery.allow_private_endpoints,
              /*query_threads=*/16, options.max_queued_requests);
  StartHttp(*server);
  projector->Start();
  forwarding->Start();
  projector->Notify();  // catch up with whatever was stored before a restart
  spdlog::info("hookline {} receiving on {}:{} with {} store", HOOKLINE_VERSION, host, server->port(),
               store->Kind());

  const int signal = WaitForStopSignal(stop_signals);
  spdlog::info("received signal {}: stopping", signal);
  server->Stop();
  // A barrier: ingests already queued commit and answer before what they call is destroyed.
  store->Write([](store::StoreTx&) { return true; });
  forwarding->Stop();
  projector->Stop();
  spdlog::info("stopped");
  return 0;
}

int RunSourceCreate(const SourceCreateOptions& options) {
  // Checked before the database or a key file is made.
  if (auto problem = receiver::SourceRequestProblem(options.name, options.secret, options.token,
                                                    options.dedupe_fields)) {
    throw std::invalid_argument(*problem);
  }
  const MasterKey master_key(options.master_key,
                             options.master_key_file.value_or(DefaultKeyFile(options.db)));
  auto store = store::OpenStore(options.db);
  crypto::SecretBox secrets(master_key.Get("source secrets and forwarding endpoint secrets"));
  std::string error;
  auto view = receiver::CreateSource(*store, secrets, SystemClock::Instance().Now(), options.name,
                                     options.secret, options.token, options.dedupe_fields, &error);
  if (!view) throw std::invalid_argument(error);
  std::cout << StringifyJson(*view) << std::endl;
  return 0;
}

int RunExport(const ExportOptions& options) {
  auto what = receiver::ParseExportWhat(options.what);
  if (!what) throw std::invalid_argument("--what must be received, leads or replies");
  auto format = receiver::ParseExportFormat(options.format);
  if (!format) throw std::invalid_argument("--format must be jsonl or csv");
  std::optional<Millis> since;
  if (options.since) {
    since = ParseIso8601(*options.since);
    if (!since) throw std::invalid_argument("--since must be an ISO-8601 timestamp with an offset");
  }
  if (options.company_id && *what == receiver::ExportWhat::kReceived) {
    throw std::invalid_argument("--company-id applies to leads and replies: the raw log is not per company");
  }
  auto store = store::OpenStore(options.db);
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  receiver::ExportProgress progress;
  if (tty) {
    progress = [&](std::int64_t done, std::int64_t total) {
      constexpr int kWidth = 30;
      const double share = total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 1.0;
      const int filled = static_cast<int>(share * kWidth);
      std::cerr << "\rexporting " << options.what << " [" << std::string(static_cast<size_t>(filled), '#')
                << std::string(static_cast<size_t>(kWidth - filled), ' ') << "] " << done << "/" << total << std::flush;
    };
  }
  const auto written = receiver::Export(*store, *what, *format, since, options.company_id, std::cout, progress);
  if (tty) std::cerr << "\n";
  spdlog::info("exported {} {}", written, options.what);
  return 0;
}

int RunCompanyCreate(const CompanyCreateOptions& options) {
  if (options.name.empty() || options.name.size() > 256) {
    throw std::invalid_argument("--name must be 1 to 256 characters");
  }
  const std::string id = options.id.value_or(NewUuid());
  if (!IsValidDomainId(id)) {
    throw std::invalid_argument("--id must be 1 to 128 printable characters without '/', '?', '#', '%'");
  }
  auto store = store::OpenStore(options.db);
  const std::string api_key = provider::NewApiKey();
  bool created = false;
  store->Write([&](store::StoreTx& tx) {
    created = tx.InsertCompany({id, options.name, SystemClock::Instance().Now()}, provider::HashApiKey(api_key));
    return created;
  });
  if (!created) throw std::invalid_argument("company '" + id + "' already exists");
  std::cout << StringifyJson(
                   boost::json::object{{"id", id}, {"name", options.name}, {"api_key", api_key}})
            << std::endl;
  return 0;
}

}  // namespace hookline::app
