#pragma once
// Container images for workers. A job may name an OCI image ("pytorch:2.3-cuda12"); the node's
// agent finds it in its image directory, as an OCI image layout (a directory holding index.json
// and blobs/, what `skopeo copy ... oci:DIR:TAG` and `umoci` write) or a tar of one
// (`DIR/NAME.tar`: `skopeo copy ... oci-archive:`, `podman save --format oci-archive`), or, when
// the partner configures a registry, copies it from there with skopeo. Each manifest is unpacked
// once (umoci: layers in order, whiteouts applied) into a root file system that every job of the
// image shares read-only; the worker runs in it under an OCI runtime (runc by default), with the
// runtime spec written here: the job's uid (never the image's root), no capabilities, no new
// privileges, its own pid/mount/ipc/uts namespaces (the host's network, for NCCL across nodes),
// the job's sandbox at /workspace, a private /tmp, the node's mounts the job asked for, its
// devices only, and the cgroup (with the limits of its request) the supervisor made.

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/contain.h"
#include "backends/agent/protocol.h"
#include "base/status.h"

namespace suanpan::agent {

struct ImageStoreOptions {
  std::string image_dir;  // layouts and archives, by name
  std::string cache_dir;  // unpacked root file systems (and copied archives), by digest
  std::string registry;   // "" or "host:port[/prefix]": images missing locally are copied from it
  bool registry_tls_verify = true;
};

// An unpacked image: where its root file system is and what its config says.
struct Image {
  std::string reference;          // as asked ("pytorch:2.3")
  std::string digest;             // the manifest's ("sha256:...")
  std::string rootfs;             // absolute; shared, read-only for workers
  std::vector<std::string> env;   // NAME=VALUE from the image config
  std::vector<std::string> args;  // entrypoint + cmd
  std::string cwd;                // the image's working directory ("/" when unset)
};

// Finds `reference` and unpacks it (once per digest; concurrent callers, in other processes,
// wait on a lock file). NotFound names the image, the directory looked in and the tags it has.
StatusOr<Image> PrepareImage(const ImageStoreOptions& options, const std::string& reference);

struct ContainerSpec {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;      // inside the container
  std::string sandbox;  // host path mounted at /workspace (read-write)
  struct Mount {
    std::string source;  // host path
    std::string target;  // inside the container
    bool read_only = true;
  };
  std::vector<Mount> mounts;
  struct DeviceNode {
    std::string path;  // inside the container (/dev/nvidia0)
    char type = 'c';
    int64_t major = 0, minor = 0;
  };
  std::vector<DeviceNode> devices;
  std::string cgroups_path;  // "/suanpan/node-x/JOB-ATTEMPT-RANK"; "" for the runtime's default
  CgroupLimits limits;
  std::string hostname = "worker";
};

// Runs a tool (umoci, skopeo, tar, runc) with a fixed environment, stdin from /dev/null; its
// output (both streams, the last 4 KiB) for error messages. The wait status; -1: no start.
int RunTool(const std::vector<std::string>& argv, std::string* output);

// The OCI runtime spec (config.json) of one worker.
nlohmann::json RuntimeSpec(const Image& image, const ContainerSpec& spec);

}  // namespace suanpan::agent
