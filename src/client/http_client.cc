#include "client/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include "config/toml_file.h"

namespace suanpan::client {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

StatusCode CodeOf(long http) {
  switch (http) {
    case 400:
    case 413:
    case 431:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kFailedPrecondition;
    case 429:
      return StatusCode::kResourceExhausted;
    case 503:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

StatusOr<ClientConfig> ResolveClientConfig(const std::string& server_flag,
                                           const std::string& token_flag,
                                           const std::string& ca_file_flag) {
  ClientConfig c;
  std::string file_server, file_token, file_ca;
  if (const char* home = std::getenv("HOME")) {
    const std::string path = std::string(home) + "/.config/suanpan/config.toml";
    std::ifstream probe(path);
    if (probe.good()) {
      SP_ASSIGN_OR_RETURN(toml::table parsed, config::ParseTomlFile(path));
      file_server = parsed["server"].value_or(std::string());
      file_token = parsed["token"].value_or(std::string());
      file_ca = parsed["ca_file"].value_or(std::string());
    }
  }
  const char* env_server = std::getenv("SUANPAN_SERVER");
  const char* env_token = std::getenv("SUANPAN_TOKEN");
  c.server = !server_flag.empty()                     ? server_flag
             : (env_server != nullptr && *env_server) ? std::string(env_server)
             : !file_server.empty()                   ? file_server
                                                      : std::string("http://127.0.0.1:7070");
  c.token = !token_flag.empty()                    ? token_flag
            : (env_token != nullptr && *env_token) ? std::string(env_token)
                                                   : file_token;
  const char* env_ca = std::getenv("SUANPAN_CA_FILE");
  c.ca_file = !ca_file_flag.empty()            ? ca_file_flag
              : (env_ca != nullptr && *env_ca) ? std::string(env_ca)
                                               : file_ca;
  if (c.server.rfind("http://", 0) != 0 && c.server.rfind("https://", 0) != 0) {
    c.server = "http://" + c.server;
  }
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  return c;
}

ApiClient::ApiClient(ClientConfig config) : config_(std::move(config)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

ApiClient::~ApiClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

StatusOr<ApiResponse> ApiClient::Send(const std::string& method, const std::string& path,
                                      const std::optional<nlohmann::json>& body,
                                      const std::map<std::string, std::string>& headers) {
  if (body) return SendRaw(method, path, body->dump(), headers);
  return SendRaw(method, path, std::string(), headers);
}

namespace {
// libcurl's progress callback (also called while a transfer idles): non-zero aborts it.
int Cancelled(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}
}  // namespace

StatusOr<ApiResponse> ApiClient::SendRaw(const std::string& method, const std::string& path,
                                         const std::string& payload,
                                         const std::map<std::string, std::string>& headers) {
  const bool has_body = !payload.empty();
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return InternalError("http client: curl_easy_init failed");
  curl_easy_reset(curl);
  const std::string url = config_.server + path;
  std::string response_body;
  curl_slist* list = nullptr;
  if (!config_.token.empty()) {
    list = curl_slist_append(list, ("Authorization: Bearer " + config_.token).c_str());
  }
  if (has_body) list = curl_slist_append(list, "Content-Type: application/json");
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response_body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, config_.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.client_cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, config_.client_cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, config_.client_key.c_str());
  }
  if (config_.cancel != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, config_.cancel);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Cancelled);
  }
  if (has_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  } else if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    return UnavailableError(fmt::format("{} {}: abandoned (stopping)", method, path));
  }
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
      rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CERTPROBLEM) {
    return UnavailableError(
        fmt::format("cannot make a TLS connection to {}: {} (the server's certificate must be "
                    "signed by the CA in --ca-file / SUANPAN_CA_FILE, or a system CA)",
                    config_.server, curl_easy_strerror(rc)));
  }
  if (rc != CURLE_OK) {
    return UnavailableError(
        fmt::format("cannot reach the suanpan server at {}: {} (is it running? "
                    "set --server or SUANPAN_SERVER)",
                    config_.server, curl_easy_strerror(rc)));
  }
  ApiResponse r;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  r.raw = std::move(response_body);
  r.body = nlohmann::json::parse(r.raw, nullptr, false);
  if (r.body.is_discarded()) r.body = r.raw;
  return r;
}

StatusOr<nlohmann::json> ApiClient::Call(const std::string& method, const std::string& path,
                                         const std::optional<nlohmann::json>& body,
                                         const std::map<std::string, std::string>& headers) {
  SP_ASSIGN_OR_RETURN(ApiResponse r, Send(method, path, body, headers));
  // Something else listening at the address answers too, but not in suanpan's JSON.
  auto stranger = [&](std::string_view what) {
    std::string first = r.raw.substr(0, r.raw.find('\n'));
    if (first.size() > 80) first = first.substr(0, 80) + "...";
    return fmt::format("{} {} at {} answered HTTP {} {} (is that a suanpan server?){}", method,
                       path, config_.server, r.status, what, first.empty() ? "" : ": " + first);
  };
  if (r.status >= 200 && r.status < 300) {
    if (!r.body.is_object() && !r.body.is_array()) {
      return FailedPreconditionError(stranger("with a body that is not JSON"));
    }
    return std::move(r.body);
  }
  std::string message;
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_object() &&
      r.body["error"].contains("message")) {
    message = r.body["error"].value("message", r.raw);
  } else {
    message = stranger("without a suanpan error");
  }
  if (r.status == 401 && config_.token.empty()) {
    message += " (no token: set --token or SUANPAN_TOKEN)";
  }
  return Status(CodeOf(r.status), message);
}

}  // namespace suanpan::client
