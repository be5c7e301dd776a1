// Fills a hookline database with a delivery backlog for the drain and memory benchmarks:
// one company, --endpoints endpoints at --url (each gets its own path, /e0, /e1, ...), and
// --events events (the reference's message-sent payload, each with its own id), each with a
// pending delivery due now to every endpoint. Goes through the Store interface, as the API
// would, in transactions of a few thousand events.
//
//   bench_seed_backlog --db sqlite:PATH --master-key-file F --url http://127.0.0.1:P --events N --endpoints E
// Prints {"events":N,"deliveries":N*E,"seconds":S}.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "hookline/app/master_key.hpp"
#include "hookline/delivery/fan_out.hpp"
#include "hookline/signing/webhook_signature.hpp"
#include "hookline/store/store.hpp"
#include "hookline/util/crypto.hpp"
#include "hookline/util/ids.hpp"
#include "read_file.hpp"

namespace store = hookline::store;

int main(int argc, char** argv) {
  CLI::App app{"hookline benchmark backlog seeder"};
  std::string db, key_file, url, payload_file;
  int events = 200'000, endpoints = 1;
  app.add_option("--db", db)->required();
  app.add_option("--master-key-file", key_file)->required();
  app.add_option("--url", url, "Endpoint base URL")->required();
  app.add_option("--payload-file", payload_file, "The webhook body every event carries")->required();
  app.add_option("--events", events)->check(CLI::Range(1, 10'000'000));
  app.add_option("--endpoints", endpoints)->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::err);  // stdout carries only the JSON summary

  const auto payload = hookline::bench::ReadFile(payload_file);
  if (!payload) {
    std::cerr << "bench_seed_backlog: cannot read " << payload_file << "\n";
    return 2;
  }

  const auto started = std::chrono::steady_clock::now();
  auto db_store = store::OpenStore(db);
  hookline::crypto::SecretBox secrets(hookline::app::LoadOrCreateMasterKey(std::nullopt, key_file, "endpoint secrets"));
  const hookline::Millis now = hookline::SystemClock::Instance().Now();
  const std::string company = "bench-company";
  std::vector<std::string> endpoint_ids;
  db_store->Write([&](store::StoreTx& tx) {
    tx.InsertCompany({company, "bench", now}, hookline::crypto::Sha256Hex("bench-key"));
    for (int i = 0; i < endpoints; ++i) {
      store::EndpointRecord e;
      e.id = hookline::NewId("ep_", now);
      e.company_id = company;
      e.url = url + "/e" + std::to_string(i);
      e.secret_sealed = secrets.Seal(hookline::signing::WebhookSecret::Generate().ToString());
      e.created_at = e.updated_at = now;
      tx.InsertEndpoint(e);
      endpoint_ids.push_back(e.id);
    }
    return true;
  });
  constexpr int kPerTransaction = 5'000;
  for (int done = 0; done < events;) {
    const int upto = std::min(events, done + kPerTransaction);
    db_store->Write([&](store::StoreTx& tx) {
      for (int i = done; i < upto; ++i) {
        store::EventRecord e;
        e.id = hookline::NewId("msg_", now);
        e.company_id = company;
        e.event = "message-sent";
        e.campaign_id = "cccccccc-1111-2222-3333-cccccccccccc";
        e.lead_id = "lead-" + std::to_string(i);
        e.sender_id = "aaaaaaaa-1111-2222-3333-aaaaaaaaaaaa";
        e.occurred_at = e.created_at = now;
        e.payload = *payload;
        tx.InsertEvent(e);
        for (const auto& endpoint_id : endpoint_ids) tx.InsertDelivery(hookline::delivery::NewDelivery(e, endpoint_id, now));
      }
      return true;
    });
    done = upto;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("{\"events\":%d,\"deliveries\":%lld,\"seconds\":%.1f}\n", events,
              static_cast<long long>(events) * endpoints, seconds);
  return 0;
}
