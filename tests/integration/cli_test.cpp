// The command line as a user meets it: a start that fails leaves nothing behind, the version,
// and what the servers say when they stop.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.hpp"

namespace hookline::itest {
namespace {

namespace fs = std::filesystem;

// The files a start may make beside a database `PATH`: PATH, PATH.key, PATH.lock, PATH-wal.
std::vector<std::string> FilesOf(const std::string& path) {
  std::vector<std::string> found;
  for (const char* suffix : {"", ".key", ".lock", "-wal", "-shm"}) {
    if (fs::exists(path + suffix)) found.push_back(path + suffix);
  }
  return found;
}

std::string PortOf(const ServeProcess& server) {
  return server.base_url().substr(server.base_url().rfind(':') + 1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Regression: `serve` on a busy port opened (so created) the database and made a key file
// before it found the port taken, and `source create` with a bad secret did the same.
TEST(Cli, AStartThatFailsLeavesNoDatabaseOrKeyFileBehind) {
  TempDir dir;
  ServeProcess busy("sqlite:" + dir.File("busy.db"));
  const std::string taken = "127.0.0.1:" + PortOf(busy);
  struct Case {
    std::string name;
    std::vector<std::string> args;  // after the binary; "DB" stands for the database URL
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"serve on a busy port", {"serve", "--listen", taken, "--db", "DB"}, "cannot listen"},
      {"receive on a busy port",
       {"receive", "--listen", taken, "--db", "DB", "--api-token", "a-token-long-enough"},
       "cannot listen"},
      {"source create with a bad secret",
       {"source", "create", "--name", "s", "--secret", "whsec_!!", "--db", "DB"}, "whsec_"},
      {"source create with a short token",
       {"source", "create", "--name", "s", "--token", "short", "--db", "DB"}, "token"},
      {"a malformed HOOKLINE_MASTER_KEY",
       {"serve", "--listen", "127.0.0.1:0", "--db", "DB"}, "HOOKLINE_MASTER_KEY"},
  };
  for (const auto& c : cases) {
    const std::string path = dir.File("fresh.db");
    std::vector<std::string> args = {"/usr/bin/env"};
    if (c.mentions == "HOOKLINE_MASTER_KEY") args.push_back("HOOKLINE_MASTER_KEY=not-base64!");
    // Bounded: a server that started after all would serve until killed.
    args.insert(args.end(), {"/usr/bin/timeout", "30", BinaryPath()});
    for (const auto& a : c.args) args.push_back(a == "DB" ? "sqlite:" + path : a);
    std::string out, err;
    EXPECT_EQ(RunCommand(args, &out, &err), 1) << c.name << ": " << err;
    EXPECT_NE(err.find(c.mentions), std::string::npos) << c.name << ": " << err;
    EXPECT_EQ(FilesOf(path), std::vector<std::string>{}) << c.name;
  }
}

TEST(Cli, VersionFlagAndSubcommandPrintTheVersion) {
  for (const char* spelling : {"--version", "version"}) {
    std::string out;
    EXPECT_EQ(RunCommand({BinaryPath(), spelling}, &out), 0) << spelling;
    EXPECT_EQ(out, "hookline " HOOKLINE_VERSION "\n") << spelling;
  }
}

// Regression: `receive` logged nothing after "stopping", so an operator could not tell a
// clean stop from a hang. Both roles end their log with "stopped".
TEST(Cli, BothRolesLogStoppedOnSigterm) {
  TempDir dir;
  for (const std::string role : {"serve", "receive"}) {
    const std::string log = dir.File(role + ".log");
    // bash waits for the "listening on" line, then sends SIGTERM and waits for the exit.
    const std::string script =
        "coproc H { HOOKLINE_LOG_LEVEL=info exec \"$0\" \"$1\" --listen 127.0.0.1:0 --db \"$2\" 2>\"$3\"; }; "
        "read -r line <&\"${H[0]}\" && kill -TERM \"$H_PID\"; wait \"$H_PID\"";
    std::string out;
    const int rc = RunCommand({"/usr/bin/timeout", "60", "/bin/bash", "-c", script, BinaryPath(), role,
                               "sqlite:" + dir.File(role + ".db"), log},
                              &out);
    EXPECT_EQ(rc, 0) << role << ": " << ReadFile(log);
    const std::string text = ReadFile(log);
    EXPECT_NE(text.find("stopping"), std::string::npos) << role << ": " << text;
    EXPECT_NE(text.find("] stopped"), std::string::npos) << role << ": " << text;
  }
}

// The master key file is made on the first start, and the warning names what it seals.
TEST(Cli, TheNewKeyWarningNamesWhatTheKeySeals) {
  TempDir dir;
  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath(), "source", "create", "--name", "s", "--db",
                        "sqlite:" + dir.File("rx.db")},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(err.find("source secrets"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(dir.File("rx.db.key")));
}

}  // namespace
}  // namespace hookline::itest
