// Workers in container images and behind the device cgroup, through the real server, agents,
// umoci and runc (issue 12: "Container images", "device access limited to its devices"). The
// images are built locally once per suite by tests/testdata/make-test-images.sh (busybox in an
// OCI layout, and the same as an OCI archive): nothing can be pulled on the test machines.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent_fixture.h"

namespace suanpan {
namespace {

using Json = nlohmann::json;
using testing::AgentTest;
using testing::CountProcesses;
using testing::Eventually;
namespace fs = std::filesystem;

bool Have(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class ContainerTest : public AgentTest {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0 || !Have("runc") || !Have("umoci") || !Have("busybox") ||
        !Have("skopeo") || !Have("docker-registry")) {
      return;
    }
    images_ = fs::temp_directory_path() / ("suanpan-images-" + std::to_string(::getpid()));
    const std::string cmd = "tests/testdata/make-test-images.sh " + images_.string() + " > " +
                            images_.string() + ".log 2>&1";
    if (std::system(cmd.c_str()) != 0) images_.clear();
    ::chmod(images_.c_str(), 0755);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!images_.empty()) fs::remove_all(images_, ec);
    fs::remove(images_.string() + ".log", ec);
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
    ASSERT_FALSE(images_.empty()) << "make-test-images.sh failed or a tool is missing (runc, "
                                     "umoci, skopeo, busybox-static, docker-registry: make deps)";
    data_ = server_.dir() / "datasets" / "corpus";
    fs::create_directories(data_);
    std::ofstream(data_ / "hello.txt") << "a dataset file\n";
    ::chmod((data_ / "hello.txt").c_str(), 0644);
    for (fs::path p = data_; p != server_.dir().parent_path(); p = p.parent_path()) {
      ::chmod(p.c_str(), 0755);
    }
    extra_agent_args_ = {"--image-dir", images_.string(), "--mount", "corpus=" + data_.string()};
  }
  uint64_t SubmitImage(const std::string& name, const std::string& image,
                       std::vector<std::string> command, Json extra = Json::object()) {
    Json job = {{"name", name}, {"devices_per_worker", 1}, {"image", image}};
    if (!command.empty()) job["command"] = command;
    for (const auto& [k, v] : extra.items()) job[k] = v;
    return Submit(job);
  }

  static inline fs::path images_;
  fs::path data_;
};

// The job runs in the image (its files, its env, its PATH), as the job's uid (not the image's
// root), with the image read-only, its sandbox at /workspace writable and owned by it, the
// dataset it asked for read-only at /mnt/corpus, and nothing of the host's file system.
TEST_F(ContainerTest, AnImageJobRunsInTheImageAsTheJobsUidWithItsMounts) {
  StartAll(5);
  const std::string script =
      "cat /etc/image-release; echo uid=$(id -u); echo cwd=$(pwd); echo G=$GREETING; "
      "echo H=$HOME; echo M=$SUANPAN_MOUNT_CORPUS; cat /mnt/corpus/hello.txt; "
      "touch /mnt/corpus/x 2>/dev/null || echo dataset-read-only; "
      "touch /bin/x 2>/dev/null || echo image-read-only; "
      "echo w > /workspace/out/f && echo workspace-writable; "
      "ls " +
      server_.dir().string() +
      " 2>/dev/null || echo host-invisible; echo CVD=$CUDA_VISIBLE_DEVICES; "
      "unshare -U true 2>/dev/null || echo no-user-namespace; "
      "unshare -m true 2>/dev/null || echo no-mount-namespace";
  const uint64_t id = SubmitImage("in-image", "tools:1.0", {"sh", "-c", script},
                                  {{"mounts", {"corpus"}}, {"workdir", "out"}});
  ASSERT_TRUE(WaitState(id, "succeeded", 30'000)) << Job(id).dump() << Logs(id, 0);
  const std::string out = Logs(id, 0);
  for (const char* want :
       {"suanpan test image 1.0\n", "cwd=/workspace/out\n", "G=hello-from-image\n",
        "H=/workspace\n", "M=/mnt/corpus\n", "a dataset file\n", "dataset-read-only\n",
        "image-read-only\n", "workspace-writable\n", "host-invisible\n",
        "CVD=", "no-user-namespace\n", "no-mount-namespace\n"}) {
    EXPECT_NE(out.find(want), std::string::npos) << want << " missing in:\n" << out;
  }
  const size_t at = out.find("uid=");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_GE(std::atoi(out.c_str() + at + 4), 200000) << out;
}

// Without a command the image's own (its cmd, in its workdir) runs; an OCI archive works like a
// layout; an image or a mount the node does not have fails the job with a reason that names it.
TEST_F(ContainerTest, TheImagesCommandArchivesAndWhatANodeLacks) {
  StartAll(5);
  const uint64_t dflt = SubmitImage("default-cmd", "tools:1.0", {});
  const uint64_t archived = SubmitImage("archived", "archived", {"cat", "/etc/image-release"});
  const uint64_t missing = SubmitImage("missing", "nosuch:2.0", {"true"});
  const uint64_t no_mount =
      SubmitImage("no-mount", "tools:1.0", {"true"}, {{"mounts", {"imagenet"}}});
  const uint64_t no_exe = SubmitImage("no-exe", "tools:1.0", {"python3", "train.py"});
  ASSERT_TRUE(WaitState(dflt, "succeeded", 30'000)) << Job(dflt).dump() << Logs(dflt, 0);
  EXPECT_NE(Logs(dflt, 0).find("default cmd: hello-from-image in /opt\n"), std::string::npos)
      << Logs(dflt, 0);
  ASSERT_TRUE(WaitState(archived, "succeeded", 30'000)) << Job(archived).dump();
  EXPECT_NE(Logs(archived, 0).find("suanpan test image 1.0"), std::string::npos);
  for (auto [id, want] : {std::pair{missing, "image nosuch:2.0: not in"},
                          std::pair{no_mount, "mount 'imagenet' is not offered on node"},
                          std::pair{no_exe, "python3\\\": executable file not found"}}) {
    ASSERT_TRUE(WaitState(id, "failed", 30'000)) << Job(id).dump();
    EXPECT_NE(Job(id).dump().find(want), std::string::npos) << want << " in " << Job(id).dump();
  }
  // A bad reference is refused at submit, naming the field.
  for (const char* bad : {"../etc:1", "Tools:1.0", "tools:", "/abs", "a b"}) {
    auto r = Tenant().Send(
        "POST", "/v1/jobs",
        Json{{"name", "bad"}, {"devices_per_worker", 1}, {"image", bad}, {"command", {"true"}}});
    ASSERT_TRUE(r.ok()) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->body["error"]["field"], "image") << bad << ": " << r->raw;
  }
}

// An image job's exit code is its own, above 128 too (the runtime's 128+N is read as a signal only
// for real signal numbers); the unpacked images (setuid files and all) are out of reach of a job
// running on the host.
TEST_F(ContainerTest, ExitCodesAreTheJobsAndTheImageCacheIsRootsAlone) {
  StartAll(5);
  const uint64_t high = SubmitImage("exit-200", "tools:1.0", {"sh", "-c", "exit 200"});
  ASSERT_TRUE(WaitState(high, "failed", 30'000)) << Job(high).dump();
  EXPECT_EQ(Job(high)["exit_code"], 200) << Job(high).dump();
  std::string probe;
  for (const auto& agent : agents_) probe += "ls " + agent->dir() + "/images/rootfs; ";
  const uint64_t host =
      Submit({{"name", "peek"}, {"devices_per_worker", 1}, {"command", {"sh", "-c", probe}}});
  ASSERT_TRUE(WaitState(host, "failed", 30'000)) << Job(host).dump() << Logs(host, 0);
  EXPECT_NE(Logs(host, 0).find("Permission denied"), std::string::npos) << Logs(host, 0);
  EXPECT_EQ(Logs(host, 0).find("sha256_"), std::string::npos) << Logs(host, 0);
}

// Cancel reaches every process of a container job (a setsid daemon too) and leaves no cgroup.
TEST_F(ContainerTest, CancelLeavesNothingOfAContainerJob) {
  StartAll(5);
  const uint64_t id = SubmitImage("daemon", "tools:1.0",
                                  {"sh", "-c", "(setsid sleep 1021 &); echo up; exec sleep 1022"});
  ASSERT_TRUE(WaitState(id, "running", 30'000)) << Job(id).dump();
  ASSERT_TRUE(Eventually(
      [&] {
        return CountProcesses({"sleep", "1021"}) == 1;
      },
      20'000))
      << Logs(id, 0);
  ASSERT_TRUE(Tenant().Call("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").ok());
  ASSERT_TRUE(WaitState(id, "cancelled")) << Job(id).dump();
  EXPECT_TRUE(Eventually([&] {
    return CountProcesses({"sleep", "1021"}) + CountProcesses({"sleep", "1022"}) == 0;
  })) << "a container process outlived its cancelled job";
  for (const auto& agent : agents_) {
    const std::string workers = agent->dir() + "/workers";
    EXPECT_TRUE(Eventually([&] { return !fs::exists(workers) || fs::is_empty(workers); }))
        << workers;
  }
}

// Where device files exist, a worker opens its own devices only. The "devices" are character
// files with NVIDIA's major number and no driver behind them: opening one's own gives ENXIO (no
// such device: the kernel let it through), another's EPERM (the device cgroup refused).
TEST_F(ContainerTest, AWorkerOpensItsOwnDevicesOnly) {
  const fs::path devs = server_.dir() / "dev";
  fs::create_directories(devs);
  ::chmod(devs.c_str(), 0755);
  for (int i = 0; i < 4; ++i) {
    const std::string f = (devs / ("fake" + std::to_string(i))).string();
    ASSERT_EQ(::mknod(f.c_str(), S_IFCHR | 0666, makedev(195, i)), 0) << f;
    ::chmod(f.c_str(), 0666);
  }
  extra_agent_args_.insert(extra_agent_args_.end(), {"--device-files", (devs / "fake{}").string(),
                                                     "--device-control-files"});
  StartAll(5);
  std::string probe = "echo CVD=$CUDA_VISIBLE_DEVICES; for i in 0 1 2 3; do head -c1 " +
                      (devs / "fake").string() + "$i 2>&1; done; echo end";
  const uint64_t host = Submit(
      {{"name", "host-devices"}, {"devices_per_worker", 2}, {"command", {"sh", "-c", probe}}});
  const uint64_t boxed = SubmitImage("image-devices", "tools:1.0",
                                     {"sh", "-c", "echo CVD=$CUDA_VISIBLE_DEVICES; ls /dev"});
  ASSERT_TRUE(WaitState(host, "succeeded", 30'000)) << Job(host).dump() << Logs(host, 0);
  const std::string out = Logs(host, 0);
  const size_t at = out.find("CVD=");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string cvd = out.substr(at + 4, out.find('\n', at) - at - 4);
  ASSERT_EQ(cvd.size(), 3u) << out;  // "a,b"
  for (int i = 0; i < 4; ++i) {
    const bool own = cvd.find(std::to_string(i)) != std::string::npos;
    const std::string line = "fake" + std::to_string(i) + "' for reading: ";
    const std::string want = line + (own ? "No such device or address" : "Operation not permitted");
    EXPECT_NE(out.find(want), std::string::npos) << want << " missing in:\n" << out;
  }
  ASSERT_TRUE(WaitState(boxed, "succeeded", 30'000)) << Job(boxed).dump() << Logs(boxed, 0);
  const std::string listing = Logs(boxed, 0);
  const size_t c = listing.find("CVD=");
  ASSERT_NE(c, std::string::npos) << listing;
  const std::string mine = "fake" + listing.substr(c + 4, 1) + "\n";
  EXPECT_NE(listing.find(mine), std::string::npos) << listing;
  int visible = 0;
  for (int i = 0; i < 4; ++i) {
    visible += listing.find("fake" + std::to_string(i) + "\n") != std::string::npos;
  }
  EXPECT_EQ(visible, 1) << "an image job sees its own device only:\n" << listing;
}

// A job on a node without the image locally: the agent copies it from the registry the partner
// configured (a real registry, Debian's docker-registry, on loopback; skopeo pushes the image).
TEST_F(ContainerTest, AnImageMissingLocallyComesFromThePartnersRegistry) {
  const int port = FreePort();
  const fs::path reg = server_.dir() / "registry";
  fs::create_directories(reg);
  std::ofstream(reg / "config.yml")
      << "version: 0.1\nlog:\n  level: error\nstorage:\n"
         "  filesystem:\n    rootdirectory: "
      << (reg / "data").string() << "\nhttp:\n  addr: 127.0.0.1:" << port << "\n";
  const pid_t registry = testing::Spawn(
      {"/usr/bin/docker-registry", "serve", (reg / "config.yml").string()}, (reg / "log").string());
  ASSERT_GT(registry, 0);
  struct Stop {
    pid_t pid;
    ~Stop() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } stop{registry};
  const std::string push =
      "skopeo copy --quiet --dest-tls-verify=false oci:" + (images_ / "tools").string() +
      ":1.0 docker://127.0.0.1:" + std::to_string(port) + "/team/tools:1.0";
  ASSERT_TRUE(Eventually([&] { return std::system((push + " 2>/dev/null").c_str()) == 0; }))
      << push;
  extra_agent_args_ = {"--registry", "127.0.0.1:" + std::to_string(port), "--registry-insecure"};
  StartAll(5);
  const uint64_t id = SubmitImage("pulled", "team/tools:1.0", {"cat", "/etc/image-release"});
  const uint64_t absent = SubmitImage("absent", "team/other:1.0", {"true"});
  ASSERT_TRUE(WaitState(id, "succeeded", 30'000)) << Job(id).dump() << Logs(id, 0);
  EXPECT_NE(Logs(id, 0).find("suanpan test image 1.0"), std::string::npos) << Logs(id, 0);
  ASSERT_TRUE(WaitState(absent, "failed", 30'000)) << Job(absent).dump();
  EXPECT_NE(Job(absent).dump().find("cannot copy it from the registry 127.0.0.1:"),
            std::string::npos)
      << Job(absent).dump();
}

// A job without an image sees the node directory it asked for read-only in place (its own mount
// namespace), even where the directory's mode would let it write.
TEST_F(ContainerTest, AHostJobSeesItsMountReadOnly) {
  ::chmod(data_.c_str(), 0777);
  StartAll(5);
  const uint64_t id =
      Submit({{"name", "host-mount"},
              {"devices_per_worker", 1},
              {"mounts", {"corpus"}},
              {"command",
               {"sh", "-c",
                "cat $SUANPAN_MOUNT_CORPUS/hello.txt; touch $SUANPAN_MOUNT_CORPUS/new 2>&1 || "
                "echo read-only"}}});
  ASSERT_TRUE(WaitState(id, "succeeded", 30'000)) << Job(id).dump() << Logs(id, 0);
  EXPECT_NE(Logs(id, 0).find("a dataset file\n"), std::string::npos) << Logs(id, 0);
  EXPECT_NE(Logs(id, 0).find("Read-only file system"), std::string::npos) << Logs(id, 0);
  EXPECT_FALSE(fs::exists(data_ / "new"));
}

}  // namespace
}  // namespace suanpan
