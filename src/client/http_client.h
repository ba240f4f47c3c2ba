#pragma once
// The HTTP client (libcurl) for the suanpan API, used by the CLI and the agent, and where the CLI
// finds the server and token:
// flags first, then SUANPAN_SERVER / SUANPAN_TOKEN, then ~/.config/suanpan/config.toml
//   server = "http://127.0.0.1:7070"
//   token = "sp_..."
// An API error becomes a Status with the server's message ("workers: must be in 1..100000");
// a connection failure names the address and says what to check.

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"

namespace suanpan::client {

struct ClientConfig {
  std::string server;  // http://host:port
  std::string token;
  long timeout_ms = 30'000;
  // When set, a request in flight is abandoned (Unavailable) within about a second of it turning
  // true: a stopping agent does not wait out a long-poll.
  const std::atomic<bool>* cancel = nullptr;
  // TLS (https:// servers): the CA that signed the server's certificate (default: the system's),
  // and a client certificate and key for servers that require one (agents under mutual TLS).
  std::string ca_file = "";
  std::string client_cert = "";
  std::string client_key = "";
};

// Resolves the configuration from flags (may be empty), the environment (SUANPAN_SERVER,
// SUANPAN_TOKEN, SUANPAN_CA_FILE) and the config file (server, token, ca_file).
StatusOr<ClientConfig> ResolveClientConfig(const std::string& server_flag,
                                           const std::string& token_flag,
                                           const std::string& ca_file_flag = "");

struct ApiResponse {
  long status = 0;
  nlohmann::json body;  // parsed JSON; a string for non-JSON bodies
  std::string raw;
};

class ApiClient {
 public:
  explicit ApiClient(ClientConfig config);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // One request. Transport errors are Unavailable; HTTP statuses are returned as they are.
  StatusOr<ApiResponse> Send(const std::string& method, const std::string& path,
                             const std::optional<nlohmann::json>& body = std::nullopt,
                             const std::map<std::string, std::string>& headers = {});
  // The same with a body sent as it is (tests of malformed input).
  StatusOr<ApiResponse> SendRaw(const std::string& method, const std::string& path,
                                const std::string& body,
                                const std::map<std::string, std::string>& headers = {});
  // Send, and turn a non-2xx answer into a Status carrying the server's error message.
  StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path,
                                const std::optional<nlohmann::json>& body = std::nullopt,
                                const std::map<std::string, std::string>& headers = {});

  const ClientConfig& config() const { return config_; }

 private:
  ClientConfig config_;
  void* curl_ = nullptr;  // CURL*, reused: keep-alive between calls
};

// Percent-encodes a query value.
std::string UrlEncode(const std::string& s);

}  // namespace suanpan::client
