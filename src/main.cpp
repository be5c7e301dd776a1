// hookline: wires the subcommands to the library. No logic lives here.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "hookline/app/commands.hpp"

namespace {

// The delivery flags, shared by serve (webhooks out) and receive (forwarding).
void AddDeliveryFlags(CLI::App* cmd, hookline::app::DeliveryOptions& d) {
  cmd->add_option("--retry-schedule", d.retry_schedule, "Waits before each attempt, comma-separated")
      ->envname("HOOKLINE_RETRY_SCHEDULE")->capture_default_str();
  cmd->add_option("--attempt-timeout", d.attempt_timeout, "Total time one attempt may take")
      ->envname("HOOKLINE_ATTEMPT_TIMEOUT")->capture_default_str();
  cmd->add_flag("--allow-private-endpoints", d.allow_private_endpoints,
                "Allow endpoints on loopback, private and link-local addresses")
      ->envname("HOOKLINE_ALLOW_PRIVATE_ENDPOINTS");
  cmd->add_option("--disable-endpoint-after", d.disable_endpoint_after,
                  "Disable an endpoint that failed without a success for this long")
      ->envname("HOOKLINE_DISABLE_ENDPOINT_AFTER")->capture_default_str();
  cmd->add_option("--shutdown-grace", d.shutdown_grace,
                  "On SIGTERM, how long attempts in flight may finish before they are handed back")
      ->envname("HOOKLINE_SHUTDOWN_GRACE")->capture_default_str();
  cmd->add_option("--resolve", d.resolve,
                  "Pin HOST:PORT:ADDRESS for deliveries, like curl --resolve (repeatable)")
      ->envname("HOOKLINE_RESOLVE")->delimiter(',');
  cmd->add_option("--delivery-proxy", d.delivery_proxy,
                  "Send every delivery through this proxy URL, which must enforce the egress policy "
                  "(the environment's http_proxy and the like are ignored)")
      ->envname("HOOKLINE_DELIVERY_PROXY");
}

// The bounds under load, shared by serve and receive: past each, 503 with Retry-After.
template <typename Options>
void AddLimitFlags(CLI::App* cmd, Options& o) {
  cmd->add_option("--max-connections", o.max_connections,
                  "Open connections past which a new one is answered 503 and closed")
      ->envname("HOOKLINE_MAX_CONNECTIONS")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--max-queued-writes", o.max_queued_writes,
                  "Writes waiting for their commit past which a request that writes is answered 503")
      ->envname("HOOKLINE_MAX_QUEUED_WRITES")->capture_default_str()->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--max-queued-requests", o.max_queued_requests,
                  "Requests waiting for a handler thread past which one is answered 503")
      ->envname("HOOKLINE_MAX_QUEUED_REQUESTS")->capture_default_str()->check(CLI::Range(1, 1'000'000));
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries only what scripts read ("listening on ...", JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("hookline"));
  if (const char* level = std::getenv("HOOKLINE_LOG_LEVEL")) {
    spdlog::set_level(spdlog::level::from_str(level));
  }

  CLI::App app{"hookline: webhooks for outreach activity, sent and received"};
  app.set_version_flag("--version", std::string("hookline ") + HOOKLINE_VERSION, "Print the version and exit");
  app.require_subcommand(1);

  hookline::app::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the provider: activity API and webhook delivery");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0 picks one)")
      ->envname("HOOKLINE_LISTEN")->capture_default_str();
  serve_cmd->add_option("--db", serve.db, "Database: sqlite:PATH")
      ->envname("HOOKLINE_DB")->capture_default_str();
  AddDeliveryFlags(serve_cmd, serve.delivery);
  serve_cmd->add_option("--read-timeout", serve.read_timeout, "A client must send its whole request within this")
      ->envname("HOOKLINE_READ_TIMEOUT")->capture_default_str();
  serve_cmd->add_option("--master-key-file", serve.master_key_file,
                        "File with the key that encrypts endpoint secrets (default: DB path + .key)")
      ->envname("HOOKLINE_MASTER_KEY_FILE");
  serve_cmd->add_option("--max-body-bytes", serve.max_body_bytes, "Largest request body accepted")
      ->envname("HOOKLINE_MAX_BODY_BYTES")->capture_default_str()->check(CLI::Range(1024, 64 << 20));
  AddLimitFlags(serve_cmd, serve);
  hookline::app::ReceiveOptions receive;
  auto* receive_cmd = app.add_subcommand("receive", "Run the consumer: ingest webhooks, project them, query them");
  receive_cmd->add_option("--listen", receive.listen, "HOST:PORT to listen on (port 0 picks one)")
      ->envname("HOOKLINE_LISTEN")->capture_default_str();
  receive_cmd->add_option("--db", receive.db, "Database: sqlite:PATH")
      ->envname("HOOKLINE_DB")->capture_default_str();
  AddDeliveryFlags(receive_cmd, receive.delivery);
  receive_cmd->add_option("--read-timeout", receive.read_timeout, "A sender must send its whole request within this")
      ->envname("HOOKLINE_READ_TIMEOUT")->capture_default_str();
  receive_cmd->add_option("--api-token", receive.api_token, "Token for the query API (16+ characters)")
      ->envname("HOOKLINE_API_TOKEN");
  receive_cmd->add_option("--master-key-file", receive.master_key_file,
                          "File with the key that encrypts source secrets (default: DB path + .key)")
      ->envname("HOOKLINE_MASTER_KEY_FILE");
  receive_cmd->add_option("--max-body-bytes", receive.max_body_bytes, "Largest webhook body accepted")
      ->envname("HOOKLINE_MAX_BODY_BYTES")->capture_default_str()->check(CLI::Range(1024, 64 << 20));
  AddLimitFlags(receive_cmd, receive);

  auto* source_cmd = app.add_subcommand("source", "Manage receiver sources");
  source_cmd->require_subcommand(1);
  hookline::app::SourceCreateOptions source;
  auto* source_create = source_cmd->add_subcommand("create", "Create a source and print its ingest path");
  source_create->add_option("--name", source.name, "Source name")->required();
  auto* secret_opt = source_create->add_option("--secret", source.secret, "Standard Webhooks secret (whsec_...)");
  source_create->add_option("--token", source.token, "Token for senders that do not sign (default: made for you)")
      ->excludes(secret_opt);
  source_create->add_option("--dedupe-fields", source.dedupe_fields,
                            "JSON paths that make the duplicate key, e.g. event,data.lead.id,timestamp")
      ->delimiter(',');
  source_create->add_option("--db", source.db, "Database: sqlite:PATH")
      ->envname("HOOKLINE_DB")->capture_default_str();
  source_create->add_option("--master-key-file", source.master_key_file, "Master key file")
      ->envname("HOOKLINE_MASTER_KEY_FILE");

  if (const char* key = std::getenv("HOOKLINE_MASTER_KEY")) {
    serve.master_key = key;
    receive.master_key = key;
    source.master_key = key;
  }

  hookline::app::ExportOptions export_options;
  auto* export_cmd = app.add_subcommand("export", "Export the receiver's raw log, leads or replies to stdout");
  export_cmd->add_option("--what", export_options.what, "received | leads | replies")->required();
  export_cmd->add_option("--format", export_options.format, "jsonl | csv")->capture_default_str();
  export_cmd->add_option("--since", export_options.since, "Only what arrived (received) or was replied (replies) since");
  export_cmd->add_option("--company-id", export_options.company_id,
                         "Only this company's leads or replies (the payloads' company_id; \"\" for none)");
  export_cmd->add_option("--db", export_options.db, "Database: sqlite:PATH")
      ->envname("HOOKLINE_DB")->capture_default_str();

  auto* company_cmd = app.add_subcommand("company", "Manage companies (tenants)");
  company_cmd->require_subcommand(1);
  hookline::app::CompanyCreateOptions company;
  auto* company_create = company_cmd->add_subcommand("create", "Create a company and print its API key");
  company_create->add_option("--name", company.name, "Company name")->required();
  company_create->add_option("--id", company.id, "Company id (default: a new UUID)");
  company_create->add_option("--db", company.db, "Database: sqlite:PATH")
      ->envname("HOOKLINE_DB")->capture_default_str();

  app.add_subcommand("version", "Print the version")->callback([] {
    std::cout << "hookline " << HOOKLINE_VERSION << std::endl;
  });

  CLI11_PARSE(app, argc, argv);
  try {
    if (serve_cmd->parsed()) return hookline::app::RunServe(serve);
    if (company_create->parsed()) return hookline::app::RunCompanyCreate(company);
    if (receive_cmd->parsed()) return hookline::app::RunReceive(receive);
    if (source_create->parsed()) return hookline::app::RunSourceCreate(source);
    if (export_cmd->parsed()) return hookline::app::RunExport(export_options);
  } catch (const std::exception& e) {
    std::cerr << "hookline: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
