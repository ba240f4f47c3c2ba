#include "agent/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char** environ;

namespace suanpan::agent {
namespace {

void WriteStatus(const std::string& dir, const std::string& json) {
  const std::string tmp = dir + "/status.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> ReadEnvFile(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path, std::ios::binary);
  std::string item;
  while (std::getline(in, item, '\0')) {
    if (!item.empty()) out.push_back(item);
  }
  ::unlink(path.c_str());  // it holds the job's secrets: read once
  return out;
}

// In a child: reports why it could not start (the supervisor reads the pipe) and exits 127.
[[noreturn]] void Fail(int err_fd, const std::string& what) {
  const std::string msg = what + ": " + std::strerror(errno);
  if (err_fd >= 0) {
    const ssize_t r = ::write(err_fd, msg.data(), msg.size());
    (void)r;
  }
  const std::string line = "suanpan: " + msg + "\n";
  const ssize_t r = ::write(2, line.data(), line.size());
  (void)r;
  ::_exit(127);
}

// Enters `workdir` beneath `sandbox_fd`, creating missing directories, with no symlink and no
// ".." followed: the result is inside the sandbox whatever the job put there.
void EnterWorkdir(int sandbox_fd, const std::string& workdir, int err_fd) {
  int cur = ::dup(sandbox_fd);
  size_t i = 0;
  while (i < workdir.size()) {
    size_t j = workdir.find('/', i);
    if (j == std::string::npos) j = workdir.size();
    const std::string part = workdir.substr(i, j - i);
    i = j + 1;
    if (part.empty()) continue;
    if (::mkdirat(cur, part.c_str(), 0755) != 0 && errno != EEXIST) {
      Fail(err_fd, "cannot create workdir " + workdir);
    }
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const int next = static_cast<int>(::syscall(SYS_openat2, cur, part.c_str(), &how, sizeof how));
    if (next < 0) Fail(err_fd, "cannot enter workdir " + workdir + " inside the sandbox");
    ::close(cur);
    cur = next;
  }
  if (::fchdir(cur) != 0) Fail(err_fd, "cannot enter workdir " + workdir);
  ::close(cur);
}

// Before exec of what the worker runs (the command, or the OCI runtime): default signal
// handling, nothing blocked, stdin from /dev/null, stdout and stderr into the log pipe.
void ResetForExec(int out_fd) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE}) {
    ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
}

// C: becomes the worker.
[[noreturn]] void ExecWorker(const SupervisorOptions& o, int out_fd, int err_fd,
                             std::vector<std::string>& env) {
  ResetForExec(out_fd);
  if (o.uid != 0) {
    for (int c = 0; c <= CAP_LAST_CAP; ++c) ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
    if (::setgroups(0, nullptr) != 0) Fail(err_fd, "setgroups");
    if (::setresgid(o.gid, o.gid, o.gid) != 0) Fail(err_fd, "setresgid");
    if (::setresuid(o.uid, o.uid, o.uid) != 0) Fail(err_fd, "setresuid");
    if (::setuid(0) == 0) {
      errno = EPERM;
      Fail(err_fd, "could regain root after dropping it");
    }
  }
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after setuid: a credential change clears it
  ::umask(022);                        // the agent's is 077
  // Opened here, in the worker's own mount namespace (a directory opened outside it would
  // leave the cwd unreachable: getcwd fails) and as the worker's uid.
  const std::string sandbox = o.sandbox.empty() ? o.dir : o.sandbox;
  const int own_fd = ::open(sandbox.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (own_fd < 0) Fail(err_fd, "cannot enter the sandbox " + sandbox);
  EnterWorkdir(own_fd, o.workdir, err_fd);
  ::close(own_fd);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Nothing beyond 0-2 crosses exec; the error pipe stays usable until exec succeeds.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  environ = envp.data();  // execvp looks the command up in the job's PATH
  ::execvp(argv[0], argv.data());
  Fail(err_fd, std::string("cannot run ") + argv[0]);
}

// Creates the workdir beneath the sandbox as the job's uid (so that it owns it), in a child.
void MakeWorkdirAs(const SupervisorOptions& o, const std::string& sandbox, int err_fd) {
  const pid_t p = ::fork();
  if (p < 0) Fail(err_fd, "fork");
  if (p == 0) {
    if (o.uid != 0) {
      if (::setgroups(0, nullptr) != 0) Fail(err_fd, "setgroups");
      if (::setresgid(o.gid, o.gid, o.gid) != 0) Fail(err_fd, "setresgid");
      if (::setresuid(o.uid, o.uid, o.uid) != 0) Fail(err_fd, "setresuid");
    }
    ::umask(022);
    const int fd = ::open(sandbox.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) Fail(err_fd, "cannot enter the sandbox " + sandbox);
    EnterWorkdir(fd, o.workdir, err_fd);
    ::_exit(0);
  }
  int st = 0;
  while (::waitpid(p, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ::_exit(127);  // the child said why
}

// A, for an image job: becomes the OCI runtime, which runs the worker as the spec says.
[[noreturn]] void ExecRuntime(const SupervisorOptions& o, const std::string& sandbox, int out_fd,
                              int err_fd) {
  if (!o.workdir.empty()) MakeWorkdirAs(o, sandbox, err_fd);
  ResetForExec(out_fd);  // the runtime forwards the signals it gets: none may stay blocked
  const std::string root = o.dir + "/runc";
  const std::string bundle = o.dir + "/bundle";
  const std::string log = o.dir + "/runtime.log";
  std::vector<std::string> args = {o.runtime,  "--root",       root,    "--log",
                                   log,        "--log-format", "json",  "run",
                                   "--bundle", bundle,         "worker"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path, nullptr};
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::execvpe(argv[0], argv.data(), envp);
  Fail(err_fd, "cannot run the OCI runtime " + o.runtime);
}

// The last error the OCI runtime logged (JSON lines {"level": "error", "msg": ...}), if any:
// it could not start the worker (no such executable in the image, a bad mount).
std::string RuntimeError(const std::string& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("level", "") == "error" && j.contains("msg") &&
        j["msg"].is_string()) {
      last = j["msg"].get<std::string>();
    }
  }
  return last;
}

volatile pid_t g_init_child = -1;
void Forward(int sig) {
  if (g_init_child > 0) ::kill(g_init_child, sig);
}

// B: pid 1 of the worker's namespace.
[[noreturn]] void NamespaceInit(const SupervisorOptions& o, int out_fd, int err_fd, int status_fd,
                                std::vector<std::string>& env) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    Fail(err_fd, "mount /proc");
  }
  // The node's directories the job reads (datasets, models): read-only for it, in place.
  for (const ContainerSpec::Mount& m : o.mounts) {
    if (!m.read_only) continue;
    if (::mount(m.source.c_str(), m.source.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      Fail(err_fd, "bind-mount " + m.source);
    }
    // Read-only with everything mounted below it (mount_setattr, Linux 5.12+); else the top.
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, m.source.c_str(), AT_RECURSIVE, &attr,
                  sizeof attr) != 0 &&
        ::mount(nullptr, m.source.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) !=
            0) {
      Fail(err_fd, "mount " + m.source + " read-only");
    }
  }
  const pid_t c = ::fork();
  if (c < 0) Fail(err_fd, "fork");
  if (c == 0) {
    ::close(status_fd);
    ExecWorker(o, out_fd, err_fd, env);
  }
  g_init_child = c;
  ::close(err_fd);
  ::close(out_fd);
  struct sigaction sa {};
  sa.sa_handler = Forward;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) ::sigaction(sig, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int st = 0;
  for (;;) {
    int s = 0;
    const pid_t w = ::wait(&s);
    if (w == c) {
      st = s;
      break;
    }
    if (w < 0 && errno == ECHILD) break;
  }
  // The worker's own wait status, for the supervisor; leaving pid 1 kills the namespace.
  const ssize_t r = ::write(status_fd, &st, sizeof st);
  (void)r;
  ::_exit(0);
}

// Every process below this one (a subreaper: orphans of the worker become its children).
std::vector<pid_t> Descendants() {
  std::map<pid_t, std::vector<pid_t>> children;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return {};
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string stat = ReadKernelFile(std::string("/proc/") + e->d_name + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
    children[ppid].push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  std::vector<pid_t> out, todo = {::getpid()};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string EncodeEnvFile(const std::vector<std::string>& env) {
  std::string out;
  for (const std::string& e : env) {
    out += e;
    out += '\0';
  }
  return out;
}

namespace {

// The worker's device files: what the device cgroup (or the runtime) lets it open.
std::vector<ContainerSpec::DeviceNode> DeviceNodes(const std::vector<std::string>& files) {
  std::vector<ContainerSpec::DeviceNode> out;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
    ContainerSpec::DeviceNode d;
    // Under /dev the same path (/dev/dri/card0, /dev/nvidia-caps/...); elsewhere (files an
    // operator declared) /dev/<name>.
    d.path = f.rfind("/dev/", 0) == 0 ? f : "/dev/" + f.substr(f.rfind('/') + 1);
    d.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    out.push_back(d);
  }
  return out;
}

// Writes <dir>/bundle/config.json for an image job: the image's environment under the job's
// (the agent's variables win), its command unless the job gave one, the job's workdir under
// /workspace (else the image's, if the image has it, else /workspace).
Status WriteBundle(const SupervisorOptions& o, const Image& image, const std::string& sandbox,
                   const std::vector<std::string>& env,
                   const std::vector<ContainerSpec::DeviceNode>& devices,
                   const std::string& cgroups_path) {
  ContainerSpec spec;
  spec.uid = o.uid;
  spec.gid = o.gid;
  spec.args = o.command.empty() ? image.args : o.command;
  std::map<std::string, std::string> vars;
  std::vector<std::string> order;
  for (const auto* list : {&image.env, &env}) {
    for (const std::string& e : *list) {
      const size_t eq = e.find('=');
      if (eq == std::string::npos) continue;
      const std::string name = e.substr(0, eq);
      if (!vars.count(name)) order.push_back(name);
      vars[name] = e.substr(eq + 1);
    }
  }
  for (const std::string& name : order) spec.env.push_back(name + "=" + vars[name]);
  struct stat st {};
  if (!o.workdir.empty()) {
    spec.cwd = "/workspace/" + o.workdir;
  } else if (image.cwd != "/" && image.cwd.front() == '/' &&
             image.cwd.find("/..") == std::string::npos && image.cwd.rfind("/proc", 0) != 0 &&
             image.cwd.rfind("/sys", 0) != 0 && image.cwd.rfind("/dev", 0) != 0 &&
             ::lstat((image.rootfs + image.cwd).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    // The image's WorkingDir, if it is a plain directory of the image (not a symlink, nothing
    // under /proc, /sys or /dev: a working directory there has been a runtime escape).
    spec.cwd = image.cwd;
  } else {
    spec.cwd = "/workspace";
  }
  spec.sandbox = sandbox;
  spec.mounts = o.mounts;
  spec.devices = devices;
  spec.cgroups_path = cgroups_path;
  spec.limits = o.limits;
  const std::string bundle = o.dir + "/bundle";
  ::mkdir(bundle.c_str(), 0700);
  const std::string text = RuntimeSpec(image, spec).dump(1);
  const int fd = ::open((bundle + "/config.json").c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return UnavailableError("cannot write " + bundle + "/config.json: " + why);
  }
  ::close(fd);
  return OkStatus();
}

void StartFailed(const std::string& dir, const std::string& message) {
  WriteStatus(dir, "{\"reason\": \"start_failed\", \"message\": \"" + Escape(message) + "\"}");
}

}  // namespace

int RunSupervisor(const SupervisorOptions& options) {
  SupervisorOptions o = options;
  std::vector<std::string> env = ReadEnvFile(o.dir + "/env");
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // what the worker orphans (setsid, double fork) is ours
  const std::vector<ContainerSpec::DeviceNode> devices = DeviceNodes(o.device_files);
  if (o.restrict_devices && o.image.empty()) {
    o.limits.restrict_devices = true;
    for (const auto& d : devices) o.limits.devices.push_back({d.type, d.major, d.minor});
  }
  Image image;
  if (!o.image.empty()) {
    // The unpacked image and the mount points the runtime makes in it are read by the job's
    // uid (the agent's umask is 077).
    ::umask(022);
    auto prepared = PrepareImage(o.images, o.image);
    if (!prepared.ok()) {
      StartFailed(o.dir, prepared.status().message());
      return 1;
    }
    image = *prepared;
  }
  if (!o.image.empty() && (o.cgroup_base.empty() || o.cgroup_name.empty())) {
    StartFailed(o.dir,
                "image jobs need the agent's cgroups (--cgroup-base): without one every "
                "image job of the node would share the runtime's default group");
    return 1;
  }
  if (!o.mounts.empty() && o.image.empty() && !o.isolate) {
    StartFailed(o.dir,
                "mounts need the worker's own mount namespace (the agent runs without "
                "isolation: --no-isolate or not root), so they could not be read-only");
    return 1;
  }
  if (o.fence_ms > 0 && AgeMs(o.fence) > o.fence_ms) {
    // Preparing an image may take minutes; the agent may have lost its lease meanwhile.
    WriteStatus(o.dir, R"({"reason": "lost", "message": "fenced before the worker started"})");
    return 1;
  }
  if (o.command.empty() && image.args.empty()) {
    StartFailed(o.dir, o.image.empty() ? "the job has no command"
                                       : "the job has no command and the image " + o.image +
                                             " has neither entrypoint nor cmd");
    return 1;
  }

  const std::string sandbox = o.sandbox.empty() ? o.dir : o.sandbox;
  struct stat sandbox_st {};
  const bool sandbox_ok = ::stat(sandbox.c_str(), &sandbox_st) == 0 && S_ISDIR(sandbox_st.st_mode);
  const int log_fd = ::open((o.dir + "/output.log").c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (!sandbox_ok || log_fd < 0) {
    WriteStatus(o.dir,
                "{\"reason\": \"start_failed\", \"message\": \"cannot open the sandbox or "
                "log: " +
                    Escape(std::strerror(errno)) + "\"}");
    return 1;
  }

  Cgroup group;
  std::string contained = "no cgroup";
  if (!o.cgroup_base.empty() && !o.cgroup_name.empty()) {
    auto g = Cgroup::Create(o.cgroup_base, o.cgroup_name, o.limits);
    if (g.ok()) {
      group = *g;
      contained = group.Describe();
    } else {
      contained = g.status().message();
    }
  }
  if (!o.image.empty()) {
    // The runtime puts the worker into the same group (and writes the same limits).
    Status s = WriteBundle(o, image, sandbox, env, devices, group.relative());
    if (!s.ok()) {
      if (!group.empty()) group.Remove();
      StartFailed(o.dir, s.message());
      return 1;
    }
    contained +=
        "; image " + image.reference + " (" + image.digest.substr(0, 19) + ") under " + o.runtime;
  }

  int out_pipe[2], err_pipe[2], status_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    WriteStatus(o.dir, "{\"reason\": \"start_failed\", \"message\": \"pipe: " +
                           Escape(std::strerror(errno)) + "\"}");
    return 1;
  }
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD}) sigaddset(&handled, sig);
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const pid_t a = ::fork();
  if (a < 0) {
    WriteStatus(o.dir, "{\"reason\": \"start_failed\", \"message\": \"fork: " +
                           Escape(std::strerror(errno)) + "\"}");
    return 1;
  }
  if (a == 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::close(status_pipe[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::setpgid(0, 0);  // the worker's own process group (signals without a cgroup)
    // An image job's runtime puts the worker into the group itself (cgroupsPath) and removes
    // it when the worker ends, which it cannot while it is in the group itself.
    if (!o.image.empty()) ExecRuntime(o, sandbox, out_pipe[1], err_pipe[1]);
    if (!group.empty()) {
      Status s = group.AttachSelf();
      if (!s.ok()) Fail(err_pipe[1], s.message());
    }
    bool isolated = false;
    if (o.isolate && ::unshare(CLONE_NEWPID | CLONE_NEWNS) == 0) {
      isolated = ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
      if (!isolated) Fail(err_pipe[1], "make / private");
    }
    if (!isolated) ExecWorker(o, out_pipe[1], err_pipe[1], env);
    const pid_t b = ::fork();
    if (b < 0) Fail(err_pipe[1], "fork");
    if (b == 0) NamespaceInit(o, out_pipe[1], err_pipe[1], status_pipe[1], env);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ::close(status_pipe[1]);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::signal(sig, SIG_IGN);
    int st = 0;
    while (::waitpid(b, &st, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(status_pipe[1]);
  ::fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  ::fcntl(status_pipe[0], F_SETFL, O_NONBLOCK);
  {
    const std::string line = "suanpan: worker contained: " + contained + "\n";
    std::fprintf(stderr, "%s", line.c_str());
  }

  // The log pump: the worker's output, up to the cap, then a marker and nothing more.
  int64_t written = 0;
  bool truncated = false;
  char buf[64 * 1024];
  auto pump = [&]() -> bool {  // false at EOF (every writer gone)
    for (;;) {
      const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      if (o.log_cap_bytes > 0 && written + n > o.log_cap_bytes) {
        const int64_t room = std::max<int64_t>(0, o.log_cap_bytes - written);
        if (room > 0 && ::write(log_fd, buf, static_cast<size_t>(room)) > 0) written += room;
        if (!truncated) {
          const std::string marker = "\n[suanpan: output truncated at " +
                                     std::to_string(o.log_cap_bytes) +
                                     " bytes; the rest was discarded]\n";
          const ssize_t r = ::write(log_fd, marker.data(), marker.size());
          (void)r;
          truncated = true;
        }
        continue;
      }
      if (::write(log_fd, buf, static_cast<size_t>(n)) > 0) written += n;
    }
  };
  auto kill_everything = [&](bool graceful) {
    if (graceful) {
      if (!group.empty()) group.Signal(SIGTERM);
      ::kill(-a, SIGTERM);
      ::kill(a, SIGTERM);
      return;
    }
    if (!group.empty()) group.KillAll();
    ::kill(-a, SIGKILL);
    for (pid_t p : Descendants()) ::kill(p, SIGKILL);
  };

  int a_status = -1;
  std::string fenced;
  int64_t last_fence = NowMs();
  for (;;) {
    struct pollfd pfd {
      out_pipe[0], POLLIN, 0
    };
    ::poll(&pfd, 1, 20);
    pump();
    const struct timespec zero { 0, 0 };
    for (;;) {
      const int sig = ::sigtimedwait(&handled, nullptr, &zero);
      if (sig <= 0) break;
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) kill_everything(true);
      if (sig == SIGUSR1) kill_everything(false);
    }
    int st = 0;
    pid_t w = 0;
    while ((w = ::waitpid(-1, &st, WNOHANG)) > 0) {
      if (w == a) a_status = st;
    }
    if (a_status != -1) break;
    if (o.fence_ms > 0 && NowMs() - last_fence >= 200) {
      last_fence = NowMs();
      if (AgeMs(o.fence) > o.fence_ms) {
        fenced = "fenced: the agent stopped renewing its lease";
        kill_everything(false);
      }
    }
  }

  // The worker is over: nothing it started may outlive it.
  char start_error[1024];
  const ssize_t en = ::read(err_pipe[0], start_error, sizeof start_error - 1);
  int worker_status = a_status;
  int inner = 0;
  if (::read(status_pipe[0], &inner, sizeof inner) == sizeof inner) {
    worker_status = inner;
  } else if ((o.isolate || !o.image.empty()) && WIFEXITED(a_status) &&
             WEXITSTATUS(a_status) > 128 && WEXITSTATUS(a_status) < 128 + 32) {
    worker_status = WEXITSTATUS(a_status) - 128;  // the namespace was killed: a signal's status
  }
  // The runtime could not start the worker (it logged why): a start failure, not an exit code.
  std::string runtime_error;
  if (!o.image.empty() && !(WIFEXITED(a_status) && WEXITSTATUS(a_status) == 0)) {
    runtime_error = RuntimeError(o.dir + "/runtime.log");
  }
  for (int round = 0; round < 20; ++round) {
    kill_everything(false);
    int st = 0;
    while (::waitpid(-1, &st, WNOHANG) > 0) {
    }
    const bool empty = (group.empty() || group.WaitEmpty(50)) && Descendants().empty();
    if (empty) break;
  }
  // Drain what the worker wrote (every writer is gone now, so this ends).
  ::fcntl(out_pipe[0], F_SETFL, 0);
  for (int i = 0; i < 1000 && pump(); ++i) {
  }
  ::close(log_fd);
  if (!o.image.empty()) {
    // The runtime's state of a worker it did not see end (killed with it): gone now.
    RunTool({o.runtime, "--root", o.dir + "/runc", "delete", "--force", "worker"}, nullptr);
  }
  const int64_t ooms = group.empty() ? 0 : group.OomKills();
  if (!group.empty()) group.Remove();

  if (!fenced.empty()) {
    WriteStatus(o.dir, "{\"reason\": \"lost\", \"message\": \"" + fenced + "\"}");
    return 1;
  }
  if (en <= 0 && !runtime_error.empty() && fenced.empty()) {
    StartFailed(o.dir, o.runtime + ": " + runtime_error);
    return 0;
  }
  if (en > 0) {
    start_error[en] = '\0';
    WriteStatus(o.dir, "{\"reason\": \"start_failed\", \"exit_code\": 127, \"message\": \"" +
                           Escape(start_error) + "\"}");
    return 0;
  }
  if (WIFEXITED(worker_status)) {
    WriteStatus(o.dir, "{\"exit_code\": " + std::to_string(WEXITSTATUS(worker_status)) + "}");
  } else if (WIFSIGNALED(worker_status)) {
    const int sig = WTERMSIG(worker_status);
    std::string msg;
    if (sig == SIGKILL && ooms > 0) {
      msg = ", \"message\": \"killed: out of memory (limit " +
            std::to_string(o.limits.memory_bytes >> 20) + " MiB)\"";
    }
    WriteStatus(o.dir, "{\"signal\": " + std::to_string(sig) + msg + "}");
  }
  return 0;
}

}  // namespace suanpan::agent
