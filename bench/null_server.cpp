// The limit for the receiver benchmark: hookline's own HTTP server (Boost.Beast, same
// limits and threads) answering 200 to every POST without storing anything.
// Usage: bench_null_server PORT
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "hookline/http/server.hpp"

int main(int argc, char** argv) {
  hookline::http::ServerOptions options;
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
  hookline::http::Server server(options, [](const hookline::http::Request&) {
    hookline::http::Response r;
    r.body = R"({"status":"accepted","id":"rcv_0"})";
    return r;
  });
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  server.Start();
  std::cout << "listening on http://127.0.0.1:" << server.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  return 0;
}
