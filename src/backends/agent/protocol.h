#pragma once
// The wire between the control plane and suanpan's node agent, as typed records, each encoded
// once (by the side that sends it) and decoded once (by the side that receives it) here:
//   GET  /v1/nodes/{node}/assignments   -> AssignmentList (what the node is to run)
//   POST /v1/nodes/{node}/heartbeat     <- Heartbeat, -> HeartbeatReply
//   POST /v1/jobs/{id}/workers/{rank}/status <- WorkerReport
// Decoding checks every field (type, range, unknown keys) and names the field on error, so a
// malformed or hostile report is a 400, never a crash or a misread number.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::protocol {

// One worker (rank) of one attempt of a job, on this node.
struct Assignment {
  uint64_t job = 0;
  std::string name;
  std::string tenant;
  int attempt = 0;
  int rank = 0;
  int world_size = 1;
  std::vector<int> devices;  // device indexes on the node
  std::string device_type;
  std::string visible_devices_variable = "CUDA_VISIBLE_DEVICES";
  std::string master_addr;
  int master_port = 0;
  std::optional<int64_t> runtime_limit;  // seconds
  std::string state;                     // the job's state (admitted, running)
  std::vector<std::string> command;
  std::map<std::string, std::string> env;  // the job's own variables
  std::string workdir;
  std::string image;                // OCI image "NAME[:TAG]"; "" runs on the node itself
  std::vector<std::string> mounts;  // names of the node's directories the job reads
  int64_t cpu_milli = 0;            // the worker's request (cgroup limits); 0: none
  int64_t memory_mib = 0;
};

struct AssignmentList {
  std::string node;
  uint64_t version = 0;  // changes whenever the list does (long-poll)
  bool lost = false;     // the server holds the node as lost (its agent stops everything)
  std::vector<Assignment> items;
};

struct DeviceInfo {
  int index = 0;
  std::string type;
  int64_t memory_mib = 0;
  std::string name;
};

struct Heartbeat {
  std::vector<DeviceInfo> devices;
  std::string address;
  int64_t cpu_cores = 0;
  int64_t memory_mib = 0;
  std::string agent_version;
  std::vector<std::string> workers;  // keys of the workers it runs (informational)
};

struct HeartbeatReply {
  std::string node;
  int lease_seconds = 10;
  uint64_t version = 0;
};

// One worker's report: it started, or it ended (exit code, signal, or a reason).
struct WorkerReport {
  int attempt = 0;
  enum class State { kRunning, kExited } state = State::kRunning;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string reason;  // "" | runtime_limit | start_failed | lost
  std::string message;
};

nlohmann::json Encode(const Assignment& a);
nlohmann::json Encode(const AssignmentList& list);
nlohmann::json Encode(const Heartbeat& h);
nlohmann::json Encode(const HeartbeatReply& r);
nlohmann::json Encode(const WorkerReport& r);

StatusOr<AssignmentList> DecodeAssignmentList(const nlohmann::json& doc);
StatusOr<Heartbeat> DecodeHeartbeat(const nlohmann::json& doc);
StatusOr<HeartbeatReply> DecodeHeartbeatReply(const nlohmann::json& doc);
StatusOr<WorkerReport> DecodeWorkerReport(const nlohmann::json& doc);

// An OCI image reference of a job (checked by the server at submit, resolved by the agent).
struct ImageRef {
  std::string name;  // "pytorch", "team/pytorch"
  std::string tag;   // "latest" when not given
};
// "NAME[:TAG]": NAME is lower-case letters, digits and . _ - / (no "..", no leading '/');
// TAG is letters, digits and . _ - (at most 128). InvalidArgument names the part.
StatusOr<ImageRef> ParseImageRef(const std::string& text);

// The variable that selects devices for a vendor's runtime.
std::string VisibleDevicesVariable(const std::string& vendor);

}  // namespace suanpan::protocol
