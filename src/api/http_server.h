#pragma once
// A small asynchronous HTTP/1.1 server (Boost.Beast + Asio, C++20 coroutines), the only place
// Beast is compiled. It parses requests (with a body limit and timeouts), hands each to one
// handler, and writes the response the handler gives back, from whatever thread it is given.
// Keep-alive, pipelining-safe (one request at a time per connection).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace suanpan::api {

struct HttpRequest {
  std::string method;                          // GET, POST, ...
  std::string target;                          // /v1/jobs?state=pending
  std::string path;                            // /v1/jobs
  std::string query;                           // state=pending
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;
  // Over TLS with a client CA configured: whether the client showed a certificate the CA signed,
  // and its subject's common name.
  bool client_verified = false;
  std::string client_cn;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called once per request; `respond` must be called exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest&&, Responder)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (tests)
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  int idle_timeout_seconds = 60;
  // Connections open at once; the next ones get 503 and are closed. When the process is out of
  // descriptors (EMFILE), accepting pauses (100 ms back-off) instead of spinning.
  int max_connections = 4096;
  // TLS: PEM certificate chain and key; empty: plain HTTP. With a client CA, clients may present
  // a certificate signed by it (HttpRequest::client_verified, client_cn).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
};

class HttpServer {
 public:
  // Binds and listens; Unavailable names the address when it cannot.
  static StatusOr<std::unique_ptr<HttpServer>> Listen(HttpServerOptions options,
                                                      HttpHandler handler);
  ~HttpServer();
  int port() const;
  // Runs the I/O threads; returns at once.
  void Start();
  // Stops accepting and closes connections; joins the threads.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace suanpan::api
