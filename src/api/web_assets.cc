#include "api/web_assets.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/router.h"

namespace suanpan::api {

namespace {

std::string ContentTypeOf(const std::filesystem::path& p) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

// The page's own scripts and styles only: no CDN, no inline script, not framed.
constexpr const char* kSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

}  // namespace

StatusOr<WebAssets> WebAssets::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec)) {
    return NotFoundError(fmt::format("{}: no index.html (the dashboard is not built)", dir));
  }
  WebAssets out;
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path rel = fs::relative(it->path(), dir, ec);
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    if (!in) return UnavailableError(fmt::format("{}: cannot read", it->path().string()));
    File f;
    f.body = buf.str();
    total += f.body.size();
    if (total > (64u << 20)) {
      return InvalidArgumentError(fmt::format("{}: over 64 MiB of files", dir));
    }
    f.content_type = ContentTypeOf(rel);
    f.etag = EntityTag(f.body);
    const std::string url = "/" + rel.generic_string();
    f.immutable = url.starts_with("/assets/");
    out.files_[url == "/index.html" ? "/" : url] = std::move(f);
  }
  if (ec) return UnavailableError(fmt::format("{}: {}", dir, ec.message()));
  return out;
}

WebAssets WebAssets::NotBuilt(const std::string& dir) {
  WebAssets out;
  File f;
  f.content_type = "text/html; charset=utf-8";
  f.body = fmt::format(
      "<!doctype html><meta charset=utf-8><title>suanpan</title>"
      "<p>The suanpan dashboard is not built: no index.html in <code>{}</code>. "
      "<code>make build</code> builds it (npm, web/); <code>suanpan server --web-dir DIR</code> "
      "serves another build. The API is at <a href=/v1/openapi.json>/v1</a>.</p>\n",
      dir);
  f.etag = EntityTag(f.body);
  out.files_["/"] = std::move(f);
  return out;
}

std::optional<HttpResponse> WebAssets::Serve(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  auto it = files_.find(request.path == "/index.html" ? "/" : request.path);
  if (it == files_.end()) return std::nullopt;
  const File& f = it->second;
  HttpResponse r;
  r.content_type = f.content_type;
  r.headers.emplace_back("ETag", f.etag);
  r.headers.emplace_back("Cache-Control",
                         f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (f.content_type.starts_with("text/html")) {
    r.headers.emplace_back("Content-Security-Policy",
                           connect_origin_.empty() ? std::string(kSecurityPolicy)
                                                   : fmt::format("{}; connect-src 'self' {}",
                                                                 kSecurityPolicy, connect_origin_));
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (EtagMatches(request.Header("if-none-match"), f.etag)) {
    r.status = 304;
  } else if (request.method == "GET") {
    r.body = f.body;
  }
  return r;
}

}  // namespace suanpan::api
