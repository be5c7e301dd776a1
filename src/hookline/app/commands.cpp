#include "hookline/app/commands.hpp"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <stdexcept>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "hookline/api/provider_api.hpp"
#include "hookline/api/receiver_api.hpp"
#include "hookline/receiver/export.hpp"
#include "hookline/receiver/projector.hpp"
#include "hookline/app/master_key.hpp"
#include "hookline/delivery/dispatcher.hpp"
#include "hookline/delivery/url_guard.hpp"
#include "hookline/http/server.hpp"
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
  if (!options.allow_private_endpoints) {
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

// Starts a role's HTTP server on host:port and prints the "listening on" line scripts and
// tests wait for (the first line on stdout).
// `handler` is an http::Handler (run on a pool of handler_threads) or an http::AsyncHandler.
template <typename AnyHandler>
std::unique_ptr<http::Server> StartHttp(const std::string& host, std::uint16_t port,
                                        std::size_t body_limit, Millis read_timeout,
                                        int handler_threads, AnyHandler handler) {
  http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.body_limit = body_limit;
  server_options.read_timeout = std::chrono::milliseconds{read_timeout};
  server_options.handler_threads = handler_threads;
  auto server = std::make_unique<http::Server>(server_options, std::move(handler));
  server->Start();
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::cout << "listening on http://" << shown_host << ":" << server->port() << std::endl;
  return server;
}

}  // namespace

int RunServe(const ServeOptions& options) {
  const sigset_t stop_signals = BlockStopSignals();
  // Every flag is checked before anything touches the disk.
  const auto [host, port] = ParseListen(options.listen);
  DeliveryConfig delivery_config(options.delivery);
  const Millis read_timeout = RequireDuration(options.read_timeout, "--read-timeout", 100, 600'000);
  auto store = store::OpenStore(options.db, store::StoreUse::kServer);
  crypto::SecretBox secrets(LoadOrCreateMasterKey(
      options.master_key, options.master_key_file.value_or(DefaultKeyFile(options.db))));

  DeliveryStack delivery_stack(*store, secrets, std::move(delivery_config));
  auto& dispatcher = delivery_stack.dispatcher();
  // Declared before the API so that it is destroyed after it: the API's pool may still
  // answer a request while it winds down, and an answer goes through the server.
  std::unique_ptr<http::Server> server;
  api::ProviderApi api(*store, secrets, SystemClock::Instance(), [&] { dispatcher.Notify(); },
                       {.allow_private_endpoints = options.delivery.allow_private_endpoints});
  // Activities are answered from their group commit; the other routes run on the API's pool.
  server = StartHttp(host, port, options.max_body_bytes, read_timeout, 0,
                     http::AsyncHandler([&api](http::Request r, http::Respond respond) {
                       api.HandleAsync(std::move(r), std::move(respond));
                     }));
  delivery_stack.Start();
  spdlog::info("hookline {} serving on {}:{} with {} store", HOOKLINE_VERSION, host, server->port(),
               store->Kind());

  const int signal = WaitForStopSignal(stop_signals);
  spdlog::info("received signal {}: stopping", signal);
  server->Stop();
  // A barrier: activities already queued commit and answer before the API is destroyed.
  store->Write([](store::StoreTx&) { return true; });
  delivery_stack.Stop();
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
  auto store = store::OpenStore(options.db, store::StoreUse::kServer);
  crypto::SecretBox secrets(LoadOrCreateMasterKey(
      options.master_key, options.master_key_file.value_or(DefaultKeyFile(options.db))));
  receiver::Projector projector(*store);
  DeliveryStack forwarding(*store, secrets, std::move(delivery_config));
  std::optional<std::string> token_hash;
  if (options.api_token) token_hash = crypto::Sha256(*options.api_token);
  if (!token_hash) spdlog::warn("no --api-token: the query API is off, ingest still works");
  std::unique_ptr<http::Server> server;  // destroyed after the API, as in RunServe
  api::ReceiverApi api(*store, secrets, SystemClock::Instance(), token_hash, [&] { projector.Notify(); },
                       [&] { forwarding.dispatcher().Notify(); }, options.delivery.allow_private_endpoints);
  // Ingests are answered from their group commit (no thread waits per request); queries run
  // on the API's own pool.
  server = StartHttp(host, port, options.max_body_bytes, read_timeout, 0,
                     http::AsyncHandler([&api](http::Request r, http::Respond respond) {
                       api.HandleAsync(std::move(r), std::move(respond));
                     }));
  projector.Start();
  forwarding.Start();
  projector.Notify();  // catch up with whatever was stored before a restart
  spdlog::info("hookline {} receiving on {}:{} with {} store", HOOKLINE_VERSION, host, server->port(),
               store->Kind());

  const int signal = WaitForStopSignal(stop_signals);
  spdlog::info("received signal {}: stopping", signal);
  server->Stop();
  // A barrier: ingests already queued commit and answer before what they call is destroyed.
  store->Write([](store::StoreTx&) { return true; });
  forwarding.Stop();
  projector.Stop();
  return 0;
}

int RunSourceCreate(const SourceCreateOptions& options) {
  auto store = store::OpenStore(options.db);
  crypto::SecretBox secrets(LoadOrCreateMasterKey(
      options.master_key, options.master_key_file.value_or(DefaultKeyFile(options.db))));
  std::string error;
  auto view = api::CreateSource(*store, secrets, SystemClock::Instance().Now(), options.name,
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
  const auto written = receiver::Export(*store, *what, *format, since, std::cout, progress);
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
  const std::string api_key = api::NewApiKey();
  bool created = false;
  store->Write([&](store::StoreTx& tx) {
    created = tx.InsertCompany({id, options.name, SystemClock::Instance().Now()}, api::HashApiKey(api_key));
    return created;
  });
  if (!created) throw std::invalid_argument("company '" + id + "' already exists");
  std::cout << StringifyJson(
                   boost::json::object{{"id", id}, {"name", options.name}, {"api_key", api_key}})
            << std::endl;
  return 0;
}

}  // namespace hookline::app
