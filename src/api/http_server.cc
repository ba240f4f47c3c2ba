#include "api/http_server.h"

// Boost 1.74's asio/awaitable.hpp misses #include <utility> under GCC 12 (FIELD-NOTES.md).
#include <utility>
//
#include <fcntl.h>
#include <fmt/format.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <optional>
#include <thread>

namespace suanpan::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  int port = 0;
  std::atomic<int> open_connections{0};
  std::optional<net::ssl::context> tls;
};

namespace {

// Bridges the callback-style handler into the coroutine: completes when `respond` is called,
// on the connection's executor.
template <typename Token>
auto AsyncHandle(const HttpHandler& handler, HttpRequest request, Token&& token) {
  return net::async_initiate<Token, void(HttpResponse)>(
      [&handler](auto completion, HttpRequest req) {
        using Completion = decltype(completion);
        auto ex = net::get_associated_executor(completion);
        struct State {
          Completion completion;
          net::executor_work_guard<decltype(ex)> work;
        };
        auto state =
            std::make_shared<State>(State{std::move(completion), net::make_work_guard(ex)});
        handler(std::move(req), [state](HttpResponse response) {
          auto ex2 = state->work.get_executor();
          net::post(ex2, [state, response = std::move(response)]() mutable {
            state->completion(std::move(response));
            state->work.reset();
          });
        });
      },
      token, std::move(request));
}

http::response<http::string_body> ToBeast(const HttpResponse& r, unsigned version,
                                          bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "suanpan");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = fmt::format(R"({{"error":{{"code":"{}","message":"{}","field":null}}}})", code, message);
  return r;
}

// Counts a connection while its session lives.
struct ConnectionSlot {
  explicit ConnectionSlot(std::atomic<int>& n) : n_(n) {}
  ~ConnectionSlot() { n_.fetch_sub(1); }
  std::atomic<int>& n_;
};

// Nothing the server holds (its listener, its connections) may cross exec into a process it
// starts (`suanpan dev` runs workers): asio opens sockets without SOCK_CLOEXEC.
void CloseOnExec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// The request loop, over a plain or a TLS stream.
template <typename Stream>
net::awaitable<void> Serve(Stream& stream, HttpServer::Impl& impl, const std::string& remote,
                           bool verified, const std::string& cn) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    beast::get_lowest_layer(stream).expires_after(
        std::chrono::seconds(impl.options.idle_timeout_seconds));
    http::request_parser<http::string_body> parser;
    parser.body_limit(impl.options.max_body_bytes);
    parser.header_limit(64 * 1024);
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      break;
    }
    if (ec) {
      HttpResponse err;
      if (ec == http::error::body_limit) {
        err = ErrorResponse(
            413, "RESOURCE_EXHAUSTED",
            fmt::format("body: larger than the limit of {} bytes", impl.options.max_body_bytes));
      } else if (ec == http::error::header_limit) {
        err = ErrorResponse(431, "INVALID_ARGUMENT", "headers: larger than 64 KiB");
      } else {
        err = ErrorResponse(400, "INVALID_ARGUMENT", "request: not valid HTTP/1.1");
      }
      auto res = ToBeast(err, 11, false);
      co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
      break;
    }
    http::request<http::string_body> req = parser.release();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    const size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    r.body = std::move(req.body());
    r.remote = remote;
    r.client_verified = verified;
    r.client_cn = cn;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    beast::get_lowest_layer(stream).expires_never();
    HttpResponse response = co_await AsyncHandle(impl.handler, std::move(r), net::use_awaitable);
    auto res = ToBeast(response, version, keep_alive);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
}

// The client certificate's subject common name, when the client CA signed it.
std::pair<bool, std::string> PeerCertificate(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return {false, ""};
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  const bool ok = SSL_get_verify_result(ssl) == X509_V_OK;
  X509_free(cert);
  return {ok, ok ? std::string(cn) : std::string()};
}

net::awaitable<void> Session(tcp::socket socket, HttpServer::Impl& impl) {
  ConnectionSlot slot(impl.open_connections);
  std::string remote;
  {
    beast::error_code rec;
    auto ep = socket.remote_endpoint(rec);
    if (!rec) remote = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  beast::error_code ec;
  if (!impl.tls) {
    beast::tcp_stream stream(std::move(socket));
    co_await Serve(stream, impl, remote, false, "");
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *impl.tls);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  co_await stream.async_handshake(net::ssl::stream_base::server,
                                  net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return;  // not TLS (a plain HTTP client), a bad certificate: nothing to answer
  const auto [verified, cn] = PeerCertificate(stream.native_handle());
  co_await Serve(stream, impl, remote, verified, cn);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(net::redirect_error(net::use_awaitable, ec));
}

// Over the connection cap: a short 503 and close (the client retries later).
net::awaitable<void> Overloaded(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
  HttpResponse r = ErrorResponse(503, "UNAVAILABLE", "connections: too many open; retry later");
  r.headers.emplace_back("Retry-After", "1");
  auto res = ToBeast(r, 11, false);
  beast::error_code ec;
  co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

net::awaitable<void> Accept(HttpServer::Impl& impl) {
  net::steady_timer backoff(impl.ioc);
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await impl.acceptor.async_accept(
        net::make_strand(impl.ioc), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      // By value: comparing error_codes calls into the system category, which UBSan's vptr
      // check trips over for Boost 1.74's header-only categories.
      if (ec.value() == ECANCELED || !impl.acceptor.is_open()) co_return;
      // Out of descriptors (EMFILE, ENFILE) or memory: the pending connection stays in the
      // backlog; wait for sessions to close instead of retrying in a hot loop.
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    CloseOnExec(socket.native_handle());
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    if (impl.open_connections.fetch_add(1) >= impl.options.max_connections) {
      impl.open_connections.fetch_sub(1);
      net::co_spawn(ex, Overloaded(std::move(socket)), net::detached);
      continue;
    }
    net::co_spawn(ex, Session(std::move(socket), impl), net::detached);
  }
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Listen(HttpServerOptions options,
                                                         HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  beast::error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec) return InvalidArgumentError(fmt::format("listen: bad address '{}'", options.host));
  if (!options.tls_cert_file.empty()) {
    impl->tls.emplace(net::ssl::context::tls_server);
    impl->tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1);
    impl->tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgumentError(
          fmt::format("tls_cert_file: cannot use {}: {}", options.tls_cert_file, ec.message()));
    }
    impl->tls->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) {
      return InvalidArgumentError(
          fmt::format("tls_key_file: cannot use {}: {}", options.tls_key_file, ec.message()));
    }
    if (!options.tls_client_ca_file.empty()) {
      impl->tls->load_verify_file(options.tls_client_ca_file, ec);
      if (ec) {
        return InvalidArgumentError(fmt::format("tls_client_ca_file: cannot use {}: {}",
                                                options.tls_client_ca_file, ec.message()));
      }
      // Asked for, not required: tenants' clients have none; agents' are checked by the router.
      impl->tls->set_verify_mode(net::ssl::verify_peer);
      impl->tls->set_verify_callback([](bool, net::ssl::verify_context&) { return true; });
    }
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) CloseOnExec(impl->acceptor.native_handle());
  if (ec) {
    return UnavailableError(fmt::format("listen: cannot listen on {}:{}: {}", options.host,
                                        options.port, ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::Start() {
  net::co_spawn(impl_->ioc, Accept(*impl_), net::detached);
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

void HttpServer::Stop() {
  if (!impl_) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace suanpan::api
