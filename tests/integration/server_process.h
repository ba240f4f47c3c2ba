#pragma once
// Runs the real `suanpan server` binary for integration tests: on loopback, port 0 (the server
// writes the port it got to a file), with its own store and token file in a fresh directory.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "client/http_client.h"

extern char** environ;

namespace suanpan::testing {

// A whole file by read(2): for /proc files, whose process may vanish mid-read (libstdc++'s
// filebuf throws from underflow on that read error, and an istreambuf_iterator does not catch).
inline std::string ReadProcFile(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Starts args[0] with `args`, stdout and stderr appended to `log`. Returns the pid, or -1.
inline pid_t Spawn(std::vector<std::string> args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

class ServerProcess {
 public:
  explicit ServerProcess(std::string name, std::string pool = "examples/small-pool.toml")
      : pool_(std::move(pool)) {
    dir_ = std::filesystem::temp_directory_path() /
           ("suanpan_it_" + std::to_string(getpid()) + "_" + name);
    std::error_code ec;  // a worker supervisor may still be writing its status: do not throw
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_);
  }
  ~ServerProcess() {
    if (pid_ > 0) Kill(SIGKILL);
    std::error_code ec;  // a worker supervisor may still be writing its status: do not throw
    std::filesystem::remove_all(dir_, ec);
  }

  // Starts the server and waits until it listens. Returns false (with the log) on failure.
  // The same, on the port the last start got (agents keep their --server URL across a restart).
  bool Restart(std::vector<std::string> extra = {}) {
    listen_ = "127.0.0.1:" + std::to_string(port_);
    return Start(std::move(extra));
  }
  bool Start(std::vector<std::string> extra = {}) {
    std::filesystem::remove(port_file());
    std::vector<std::string> args = {SUANPAN_BINARY,
                                     "server",
                                     "--listen",
                                     listen_,
                                     "--store",
                                     store(),
                                     "--pool",
                                     pool_,
                                     "--admin-token-file",
                                     (dir_ / "admin.token").string(),
                                     "--port-file",
                                     port_file(),
                                     "--log-level",
                                     "warn"};
    if (std::find(extra.begin(), extra.end(), "--log-level") != extra.end()) {
      args.resize(args.size() - 2);  // the caller's level instead of "warn"
    }
    if (agentless_) {
      args.push_back("--require-agents");
      args.push_back("false");
    }
    for (auto& e : extra) args.push_back(e);
    pid_ = Spawn(std::move(args), (dir_ / "server.log").string());
    if (pid_ < 0) return false;
    for (int i = 0; i < 1000; ++i) {  // up to 10 s
      std::ifstream in(port_file());
      int port = 0;
      if (in >> port && port > 0) {
        port_ = port;
        std::ifstream tok(dir_ / "admin.token");
        std::getline(tok, admin_token_);
        return true;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Sends `sig` and reaps the process. Returns its wait status.
  int Kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& admin_token() const { return admin_token_; }
  std::string store() const { return (dir_ / "suanpan.db").string(); }
  std::string port_file() const { return (dir_ / "port").string(); }
  std::string Log() const {
    std::ifstream in(dir_ / "server.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  const std::filesystem::path& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }

  client::ApiClient Client(const std::string& token) const {
    return client::ApiClient(client::ClientConfig{url(), token, 30'000});
  }

  // No agents run: every declared node is schedulable (the test ends jobs by hand).
  void Agentless() { agentless_ = true; }

 private:
  bool agentless_ = false;
  std::filesystem::path dir_;
  std::string pool_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string listen_ = "127.0.0.1:0";
  std::string admin_token_;
};

// The real `suanpan` CLI against `server` with `token`: "jobs --all" -> status and output.
struct CliRun {
  int status = 0;
  std::string out;  // stdout and stderr together
};

inline CliRun Cli(const std::string& server, const std::string& token, const std::string& args) {
  // The connection flags go right after the subcommand (what follows `--` is the job's command).
  const size_t space = args.find(' ');
  const std::string sub = args.substr(0, space);
  const std::string rest = space == std::string::npos ? "" : args.substr(space);
  const std::string cmd = "env -u SUANPAN_SERVER -u SUANPAN_TOKEN HOME=/nonexistent " +
                          std::string(SUANPAN_BINARY) + " " + sub + " --server " + server +
                          (token.empty() ? "" : " --token " + token) + rest + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int rc = pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

}  // namespace suanpan::testing
