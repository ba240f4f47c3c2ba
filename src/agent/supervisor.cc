#include "agent/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace suanpan::agent {
namespace {

void WriteStatus(const std::string& dir, const std::string& json) {
  const std::string tmp = dir + "/status.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  const ssize_t n = ::write(fd, json.data(), json.size());
  (void)n;
  ::fsync(fd);
  ::close(fd);
  ::rename(tmp.c_str(), (dir + "/status").c_str());
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

int64_t AgeMs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return INT64_MAX;
  const auto mtime =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - mtime).count();
}

}  // namespace

int RunSupervisor(const SupervisorOptions& o) {
  if (o.command.empty()) {
    WriteStatus(o.dir, R"({"reason": "start_failed", "message": "the job has no command"})");
    return 1;
  }
  // The worker gets SIGTERM from the agent through the process group; this process ignores it
  // and waits, so that it can write the worker's status.
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  const pid_t child = ::fork();
  if (child < 0) {
    WriteStatus(o.dir, "{\"reason\": \"start_failed\", \"message\": \"fork: " +
                           Escape(std::strerror(errno)) + "\"}");
    return 1;
  }
  if (child == 0) {
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    if (!o.workdir.empty() && ::chdir(o.workdir.c_str()) != 0) {
      std::fprintf(stderr, "suanpan: cannot enter workdir %s: %s\n", o.workdir.c_str(),
                   std::strerror(errno));
      std::_Exit(126);
    }
    std::vector<char*> argv;
    for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "suanpan: cannot run %s: %s\n", argv[0], std::strerror(errno));
    std::_Exit(127);
  }
  int last_fence_check = 0;
  for (int tick = 0;; ++tick) {
    int status = 0;
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) {
      if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        if (code == 127 || code == 126) {
          WriteStatus(o.dir,
                      "{\"reason\": \"start_failed\", \"exit_code\": " + std::to_string(code) +
                          ", \"message\": \"the command could not be run (see its log)\"}");
        } else {
          WriteStatus(o.dir, "{\"exit_code\": " + std::to_string(code) + "}");
        }
      } else if (WIFSIGNALED(status)) {
        WriteStatus(o.dir, "{\"signal\": " + std::to_string(WTERMSIG(status)) + "}");
      }
      // Whatever the worker left behind in its group goes with it.
      ::kill(-::getpgrp(), SIGKILL);
      return 0;
    }
    if (o.fence_ms > 0 && tick - last_fence_check >= 10) {
      last_fence_check = tick;
      if (AgeMs(o.fence) > o.fence_ms) {
        WriteStatus(
            o.dir,
            R"({"reason": "lost", "message": "fenced: the agent stopped renewing its lease"})");
        ::kill(-::getpgrp(), SIGKILL);
        return 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace suanpan::agent
