#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hookline/delivery/dispatcher.hpp"
#include "hookline/http/client.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/time.hpp"

namespace hookline::app {

//! How webhooks are sent: the same engine for the provider and for the consumer's forwarding.
struct DeliveryOptions {
  std::string retry_schedule = "0s,5s,5m,30m,2h,5h,10h,10h";
  std::string attempt_timeout = "15s";
  bool allow_private_endpoints = false;
  std::string disable_endpoint_after = "5d";
  std::string shutdown_grace = "10s";  //!< how long SIGTERM waits for attempts in flight
  std::vector<std::string> resolve;    //!< "HOST:PORT:ADDRESS" pins, like curl --resolve
  //! Every delivery goes through this proxy, which must then enforce the egress policy (the
  //! connect-time address check would see only the proxy). Unset: direct, whatever the
  //! environment's proxy variables say.
  std::optional<std::string> delivery_proxy;
};

//! DeliveryOptions checked and parsed. Throws std::invalid_argument naming the bad flag.
struct DeliveryConfig {
  explicit DeliveryConfig(const DeliveryOptions& options);
  DeliveryOptions options;
  std::optional<delivery::RetryPolicy> retry;
  Millis attempt_timeout = 0;
  Millis disable_after = 0;
  Millis shutdown_grace = 0;
  //! options.delivery_proxy without its credentials, for the log.
  std::optional<std::string> proxy_shown;
};

//! The HTTP sender and dispatcher of one process.
class DeliveryStack {
 public:
  DeliveryStack(store::Store& store, const crypto::SecretBox& secrets, DeliveryConfig config);
  ~DeliveryStack();
  delivery::Dispatcher& dispatcher() { return *dispatcher_; }
  void Start();
  void Stop();  //!< waits up to --shutdown-grace, then hands unfinished attempts back

 private:
  std::unique_ptr<http::HttpSender> sender_;
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  Millis shutdown_grace_ = 0;
};

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string db = "sqlite:hookline.db";
  std::string read_timeout = "30s";  //!< a client must send its whole request within it
  DeliveryOptions delivery;
  std::optional<std::string> master_key;       //!< base64; from HOOKLINE_MASTER_KEY
  std::optional<std::string> master_key_file;  //!< default: the database path + ".key"
  std::size_t max_body_bytes = 1 << 20;
  //! Bounds under load: past each, a request is answered 503 `overloaded` (Retry-After: 1).
  std::size_t max_connections = 10'000;    //!< open connections (lowered to fit `ulimit -n`)
  std::size_t max_queued_writes = 4'096;   //!< store write jobs waiting for their commit
  std::size_t max_queued_requests = 1'024;  //!< requests waiting for a handler thread
};

//! Runs the provider until SIGINT or SIGTERM. Prints "listening on http://HOST:PORT" as the
//! first line on stdout. Returns the process exit code; throws on bad options.
int RunServe(const ServeOptions& options);

struct CompanyCreateOptions {
  std::string db = "sqlite:hookline.db";
  std::string name;
  std::optional<std::string> id;  //!< default: a new UUID
};

//! Creates a company and prints {"id","name","api_key"}. The key is shown once, stored hashed.
int RunCompanyCreate(const CompanyCreateOptions& options);

struct ReceiveOptions {
  std::string listen = "127.0.0.1:8090";
  std::string db = "sqlite:hookline-receiver.db";
  std::string read_timeout = "10s";  //!< a sender must send its whole request within it
  DeliveryOptions delivery;  //!< for forwarding to the consumer's endpoints
  std::optional<std::string> api_token;        //!< enables the query API
  std::optional<std::string> master_key;       //!< base64; from HOOKLINE_MASTER_KEY
  std::optional<std::string> master_key_file;  //!< default: the database path + ".key"
  std::size_t max_body_bytes = 1 << 20;
  //! Bounds under load: past each, a request is answered 503 `overloaded` (Retry-After: 1).
  std::size_t max_connections = 10'000;    //!< open connections (lowered to fit `ulimit -n`)
  std::size_t max_queued_writes = 4'096;   //!< store write jobs waiting for their commit
  std::size_t max_queued_requests = 1'024;  //!< requests waiting for a handler thread
};

//! Runs the consumer until SIGINT or SIGTERM; first stdout line "listening on http://HOST:PORT".
int RunReceive(const ReceiveOptions& options);

struct SourceCreateOptions {
  std::string db = "sqlite:hookline-receiver.db";
  std::string name;
  std::optional<std::string> secret;
  std::optional<std::string> token;
  std::vector<std::string> dedupe_fields;
  std::optional<std::string> master_key;
  std::optional<std::string> master_key_file;
};

//! Creates a receiver source and prints {"id","name","ingest_path",...} (with the token, once).
int RunSourceCreate(const SourceCreateOptions& options);

struct ExportOptions {
  std::string db = "sqlite:hookline-receiver.db";
  std::string what;             //!< received | leads | replies
  std::string format = "jsonl";  //!< jsonl | csv
  std::optional<std::string> since;
  std::optional<std::string> company_id;  //!< leads and replies of this company only
};

//! Writes the receiver's raw log, leads or replies to stdout; a progress bar on stderr when
//! it is a terminal.
int RunExport(const ExportOptions& options);

//! "HOST:PORT" or "[V6]:PORT" -> (host, port). Throws std::invalid_argument with the reason.
std::pair<std::string, std::uint16_t> ParseListen(const std::string& listen);

//! The master key file that belongs to a database URL.
std::string DefaultKeyFile(const std::string& db_url);

}  // namespace hookline::app
