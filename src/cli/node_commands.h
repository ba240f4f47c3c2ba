#pragma once
// The node side of the binary:
//   suanpan agent --server URL --token-file F --node NAME [--devices H100:8] [--work-dir DIR]
//   suanpan dev [--data-dir .run/dev] [--listen 127.0.0.1:7070] [--devices H100:8] [--nodes 1]
//   suanpan logs JOB [--worker N] [--attempt A] [--follow]
// and the hidden `suanpan agent-exec` (the worker supervisor, see src/agent/supervisor.h).

#include <cstdio>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/client_commands.h"

namespace suanpan::cli {

struct AgentCommandOptions {
  std::string server;
  std::string token_file;
  std::string token_on_argv;  // --token: refused (it would be in every process's view)
  std::string node;
  std::string devices;
  std::string work_dir = "suanpan-agent";
  std::string address;
  int grace_seconds = 10;
  std::string log_level = "info";
  int uid_base = -1;
  bool no_isolate = false;
  std::string cgroup_base = "suanpan";
  int64_t log_cap_mib = 64;
  std::vector<std::string> pass_env;
  std::string ca_file, client_cert, client_key;
  std::string image_dir, registry, oci_runtime;
  bool registry_insecure = false;
  std::vector<std::string> mounts;  // NAME=PATH[:rw]
  std::string device_files;
  std::vector<std::string> device_control_files;
  bool device_control_set = false;
};

// A secret from a file only its owner can read: InvalidArgument names the file and its mode when
// group or others may read it, or when it is empty.
StatusOr<std::string> ReadSecretFile(const std::string& field, const std::string& path);
int RunAgent(const AgentCommandOptions& o);

// argv after "agent-exec": --dir D --fence F --fence-ms N --sandbox S [--workdir W] [--uid U]
//   [--cgroup BASE/NAME] [--cpu-milli N] [--memory-mib N] [--pids N] [--log-cap BYTES]
//   [--isolate] [--mount ro|rw:TARGET:SOURCE]... [--device-file F]... [--restrict-devices]
//   [--image REF --image-cache DIR --runtime RUNC [--image-dir DIR] [--registry R]
//    [--registry-insecure]] -- command...
int RunAgentExec(int argc, char** argv);

struct DevOptions {
  std::string data_dir = ".run/dev";
  std::string listen = "127.0.0.1:7070";
  std::string devices = "H100:8";
  int nodes = 1;
  int lease_seconds = 10;
  std::string log_level = "warn";
  std::string image_dir;            // the local agents' images (docs/agent.md)
  std::vector<std::string> mounts;  // NAME=PATH[:rw] directories jobs may ask for
  // People's sign-in through an OpenID Connect provider, as `suanpan server` (cli/server.h).
  std::string oidc_issuer;
  std::string oidc_audience;
  std::string oidc_client_id;
  std::string oidc_scope;
};
int RunDev(const DevOptions& o);

struct LogsOptions {
  uint64_t job = 0;
  int worker = 0;
  int attempt = 0;  // 0: the latest
  bool follow = false;
  bool raw = false;
};
int RunLogs(const ClientFlags& flags, const LogsOptions& o, std::FILE* out, std::FILE* err);

}  // namespace suanpan::cli
