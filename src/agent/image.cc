#include "agent/image.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace suanpan::agent {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

}  // namespace

int RunTool(const std::vector<std::string>& argv, std::string* output) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return -1;
  }
  if (pid == 0) {
    // A cancelled supervisor takes its tool with it: no umoci left writing into the cache.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    char home[] = "HOME=/root";
    char* envp[] = {path, home, nullptr};
    ::execvpe(args[0], args.data(), envp);
    const std::string msg = fmt::format("cannot run {}: {}\n", argv[0], std::strerror(errno));
    const ssize_t r = ::write(2, msg.data(), msg.size());
    (void)r;
    ::_exit(127);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 8192) out.erase(0, out.size() - 4096);
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (output) *output = out;
  return status;
}

namespace {

bool Succeeded(int status) { return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

bool IsLayout(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "index.json", ec) && fs::is_regular_file(dir / "oci-layout", ec);
}

// The manifest digest a tag names in a layout's index.json, and the tags it has.
StatusOr<std::string> FindTag(const fs::path& layout, const protocol::ImageRef& ref,
                              const std::string& shown) {
  std::ifstream in(layout / "index.json");
  const Json index = Json::parse(in, nullptr, false);
  if (index.is_discarded() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return InvalidArgumentError(
        fmt::format("image {}: {}/index.json is not an OCI image index", shown, layout.string()));
  }
  std::string tags;
  for (const Json& m : index["manifests"]) {
    if (!m.is_object() || !m.contains("annotations") || !m["annotations"].is_object()) continue;
    const Json& a = m["annotations"];
    auto it = a.find("org.opencontainers.image.ref.name");
    if (it == a.end() || !it->is_string()) continue;
    const std::string tag = it->get<std::string>();
    if (tag == ref.tag && m.contains("digest") && m["digest"].is_string()) {
      return m["digest"].get<std::string>();
    }
    tags += (tags.empty() ? "" : ", ") + tag;
  }
  return NotFoundError(fmt::format("image {}: {} has no tag '{}' (tags: {})", shown,
                                   layout.string(), ref.tag, tags.empty() ? "none" : tags));
}

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const Json& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

StatusOr<Image> PrepareImage(const ImageStoreOptions& o, const std::string& reference) {
  SP_ASSIGN_OR_RETURN(protocol::ImageRef ref, protocol::ParseImageRef(reference));
  const std::string shown = ref.name + ":" + ref.tag;
  if (o.image_dir.empty() && o.registry.empty()) {
    return FailedPreconditionError(fmt::format(
        "image {}: this node runs no images (its agent has no --image-dir or --registry)", shown));
  }
  std::error_code ec;
  fs::create_directories(fs::path(o.cache_dir) / "layouts", ec);
  fs::create_directories(fs::path(o.cache_dir) / "rootfs", ec);
  // Root's alone: the unpacked images keep their owners and setuid bits, and workers of jobs
  // without an image must not reach them (runc, as root, mounts them for image jobs).
  ::chmod(o.cache_dir.c_str(), 0700);
  // One lock for finding and unpacking: other supervisors asking for an image wait here while
  // one unpacks it (a big image takes minutes; they would otherwise all unpack it).
  const std::string lock_path = (fs::path(o.cache_dir) / "lock").string();
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    const std::string why = std::strerror(errno);
    if (lock >= 0) ::close(lock);
    return UnavailableError(fmt::format("image {}: cannot lock {}: {}", shown, lock_path, why));
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};

  // Where the layout is: a directory, an archive (unpacked once into the cache), the registry.
  // '/' -> '%' (not allowed in names): one cache entry per name.
  std::string flat = ref.name;
  for (char& c : flat) c = c == '/' ? '%' : c;
  fs::path layout;
  const fs::path dir = fs::path(o.image_dir) / ref.name;
  const fs::path archive = fs::path(o.image_dir) / (ref.name + ".tar");
  std::string looked;
  if (!o.image_dir.empty() && IsLayout(dir)) {
    layout = dir;
  } else if (!o.image_dir.empty() && fs::is_regular_file(archive, ec)) {
    struct stat st {};
    ::stat(archive.c_str(), &st);
    layout = fs::path(o.cache_dir) / "layouts" /
             fmt::format("{}.tar-{}-{}", flat, st.st_size, st.st_mtim.tv_sec);
    if (!IsLayout(layout)) {
      const fs::path tmp = layout.string() + ".tmp";
      fs::remove_all(tmp, ec);
      fs::create_directories(tmp, ec);
      std::string out;
      if (!Succeeded(RunTool(
              {"tar", "-xf", archive.string(), "-C", tmp.string(), "--no-same-owner"}, &out)) ||
          !IsLayout(tmp)) {
        fs::remove_all(tmp, ec);
        return InvalidArgumentError(
            fmt::format("image {}: {} is not an OCI archive (a tar of an image layout): {}", shown,
                        archive.string(), out.empty() ? "no index.json in it" : out));
      }
      fs::remove_all(layout, ec);
      fs::rename(tmp, layout, ec);
    }
  } else if (!o.registry.empty()) {
    layout = fs::path(o.cache_dir) / "layouts" / ("registry-" + flat);
    if (!IsLayout(layout) || !FindTag(layout, ref, shown).ok()) {
      std::string out;
      const int st = RunTool(
          {"skopeo", "--command-timeout=1800s", "copy", "--quiet",
           std::string("--src-tls-verify=") + (o.registry_tls_verify ? "true" : "false"),
           "docker://" + o.registry + "/" + shown, "oci:" + layout.string() + ":" + ref.tag},
          &out);
      if (!Succeeded(st)) {
        return NotFoundError(fmt::format("image {}: cannot copy it from the registry {}: {}", shown,
                                         o.registry, out));
      }
    }
  } else {
    return NotFoundError(fmt::format("image {}: not in {} (neither a layout {}/ nor an archive {})",
                                     shown, o.image_dir, dir.string(), archive.string()));
  }
  SP_ASSIGN_OR_RETURN(const std::string digest, FindTag(layout, ref, shown));
  std::string hex = digest;
  for (char& c : hex) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';

  const fs::path bundle = fs::path(o.cache_dir) / "rootfs" / hex;
  if (!fs::is_regular_file(bundle / "config.json", ec)) {
    const fs::path tmp = bundle.string() + ".tmp";
    fs::remove_all(tmp, ec);
    std::string out;
    if (!Succeeded(RunTool(
            {"umoci", "unpack", "--image", layout.string() + ":" + ref.tag, tmp.string()}, &out))) {
      fs::remove_all(tmp, ec);
      return InvalidArgumentError(fmt::format("image {}: umoci unpack failed: {}", shown, out));
    }
    fs::rename(tmp, bundle, ec);
    if (ec) {
      return UnavailableError(fmt::format("image {}: cannot move {} into place: {}", shown,
                                          tmp.string(), ec.message()));
    }
  }
  std::ifstream in(bundle / "config.json");
  const Json config = Json::parse(in, nullptr, false);
  if (config.is_discarded() || !config.contains("process")) {
    return InvalidArgumentError(
        fmt::format("image {}: {}/config.json is not a runtime spec", shown, bundle.string()));
  }
  Image image;
  image.reference = shown;
  image.digest = digest;
  image.rootfs = fs::absolute(bundle / "rootfs").string();
  const Json& p = config["process"];
  image.env = StringList(p.value("env", Json::array()));
  image.args = StringList(p.value("args", Json::array()));
  image.cwd = p.value("cwd", std::string("/"));
  if (image.cwd.empty()) image.cwd = "/";
  return image;
}

namespace {

// A deny-list in the spirit of Docker's default profile: what an unprivileged worker has no use
// for and what widens the kernel's surface (new namespaces, keyrings, BPF, perf, mounts, module
// and clock changes). Refused with EPERM; clone3 with ENOSYS, so that libc falls back to clone,
// whose namespace flags can be checked.
Json SeccompProfile() {
  const std::vector<std::string> denied = {"acct",
                                           "add_key",
                                           "bpf",
                                           "delete_module",
                                           "finit_module",
                                           "init_module",
                                           "iopl",
                                           "ioperm",
                                           "kexec_file_load",
                                           "kexec_load",
                                           "keyctl",
                                           "lookup_dcookie",
                                           "mount",
                                           "move_mount",
                                           "fsopen",
                                           "fsmount",
                                           "fsconfig",
                                           "fspick",
                                           "open_tree",
                                           "name_to_handle_at",
                                           "open_by_handle_at",
                                           "perf_event_open",
                                           "pivot_root",
                                           "quotactl",
                                           "reboot",
                                           "request_key",
                                           "setns",
                                           "settimeofday",
                                           "clock_settime",
                                           "clock_adjtime",
                                           "adjtimex",
                                           "swapon",
                                           "swapoff",
                                           "syslog",
                                           "umount2",
                                           "unshare",
                                           "userfaultfd",
                                           "vhangup",
                                           "nfsservctl",
                                           "uselib"};
  Json rules = Json::array();
  rules.push_back({{"names", denied}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}});
  rules.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}});
  // clone with any namespace flag: one rule per flag (rules for one syscall are or-ed).
  for (const int64_t flag : {0x00020000LL, 0x02000000LL, 0x04000000LL, 0x08000000LL, 0x10000000LL,
                             0x20000000LL, 0x40000000LL}) {
    rules.push_back(
        {{"names", {"clone"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", 1},
         {"args",
          {{{"index", 0}, {"value", flag}, {"valueTwo", flag}, {"op", "SCMP_CMP_MASKED_EQ"}}}}});
  }
  return Json{{"defaultAction", "SCMP_ACT_ALLOW"},
              {"architectures",
               {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                "SCMP_ARCH_ARM"}},
              {"syscalls", rules}};
}

}  // namespace

Json RuntimeSpec(const Image& image, const ContainerSpec& s) {
  Json mounts = Json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       // NCCL and PyTorch data loaders need a large /dev/shm; it counts against the memory limit.
       {"options", {"nosuid", "noexec", "nodev", "mode=1777"}}},
      {{"destination", "/dev/mqueue"},
       {"type", "mqueue"},
       {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/tmp"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "nodev", "mode=1777"}}},
      {{"destination", "/workspace"},
       {"type", "bind"},
       {"source", s.sandbox},
       {"options", {"rbind", "rw", "nosuid", "nodev"}}},
  });
  // The host's name resolution, for the host network the worker shares.
  for (const char* f : {"/etc/resolv.conf", "/etc/hosts"}) {
    struct stat st {};
    if (::stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
      mounts.push_back(
          {{"destination", f}, {"type", "bind"}, {"source", f}, {"options", {"bind", "ro"}}});
    }
  }
  for (const ContainerSpec::Mount& m : s.mounts) {
    mounts.push_back({{"destination", m.target},
                      {"type", "bind"},
                      {"source", m.source},
                      {"options", {"rbind", m.read_only ? "rro" : "rw", "nosuid", "nodev"}}});
  }
  Json devices = Json::array();
  Json rules = Json::array({{{"allow", false}, {"access", "rwm"}}});
  for (const ContainerSpec::DeviceNode& d : s.devices) {
    devices.push_back({{"path", d.path},
                       {"type", std::string(1, d.type)},
                       {"major", d.major},
                       {"minor", d.minor},
                       {"fileMode", 0666},
                       {"uid", 0},
                       {"gid", 0}});
    rules.push_back({{"allow", true},
                     {"type", std::string(1, d.type)},
                     {"major", d.major},
                     {"minor", d.minor},
                     {"access", "rw"}});
  }
  Json resources = {{"devices", rules}};
  if (s.limits.memory_bytes > 0) {
    resources["memory"] = {{"limit", s.limits.memory_bytes}, {"swap", s.limits.memory_bytes}};
  }
  if (s.limits.pids > 0) resources["pids"] = {{"limit", s.limits.pids}};
  if (s.limits.cpu_milli > 0) {
    resources["cpu"] = {{"quota", s.limits.cpu_milli * 100}, {"period", 100000}};
  }
  Json linux = {
      {"namespaces",
       {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}},
      {"devices", devices},
      {"resources", resources},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  if (!s.cgroups_path.empty()) linux["cgroupsPath"] = s.cgroups_path;
  linux["seccomp"] = SeccompProfile();
  const Json none = Json::array();
  return Json{
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", s.uid}, {"gid", s.gid}}},
        {"args", s.args},
        {"env", s.env},
        {"cwd", s.cwd},
        {"capabilities",
         {{"bounding", none},
          {"effective", none},
          {"inheritable", none},
          {"permitted", none},
          {"ambient", none}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", image.rootfs}, {"readonly", true}}},
      {"hostname", s.hostname},
      {"mounts", mounts},
      {"linux", linux},
  };
}

}  // namespace suanpan::agent
