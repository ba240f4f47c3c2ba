#pragma once
// The dashboard's static files (web/, built by Vite into web/dist), read into memory once at
// start and served from there: GET / is index.html, every other file by its path. A path that is
// not one of the files is not ours (the API answers it), so nothing outside the directory can be
// named. Hashed files under /assets/ are cached for a year; index.html is revalidated (ETag).

#include <map>
#include <optional>
#include <string>

#include "api/http_server.h"
#include "base/status.h"

namespace suanpan::api {

class WebAssets {
 public:
  // Every regular file under `dir`. NotFound when it has no index.html (the dashboard is not
  // built); files over 64 MiB in all are refused.
  static StatusOr<WebAssets> Load(const std::string& dir);
  // A page saying how to build the dashboard, at / only.
  static WebAssets NotBuilt(const std::string& dir);

  // The answer to a GET or HEAD of one of the files; nullopt for any other request.
  std::optional<HttpResponse> Serve(const HttpRequest& request) const;
  size_t file_count() const { return files_.size(); }
  // Lets the page's scripts also reach `origin` (scheme://host[:port]): the OpenID Connect
  // provider the sign-in page talks to (discovery, token endpoint). Else only this server.
  void AllowConnect(std::string origin) { connect_origin_ = std::move(origin); }

 private:
  struct File {
    std::string content_type, body, etag;
    bool immutable = false;
  };
  std::map<std::string, File> files_;  // by URL path: "/", "/assets/index-3f2a.js"
  std::string connect_origin_;
};

}  // namespace suanpan::api
