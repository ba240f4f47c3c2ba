// The route table and the OpenAPI document agree: same (method, path) pairs, same roles; and the
// one mapping from Status codes to HTTP statuses.

#include "api/api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "api/web_assets.h"
#include "testing/builders.h"

namespace suanpan::api {
namespace {

using Json = nlohmann::json;

class NullClock final : public Clock {
 public:
  int64_t NowMs() const override { return 0; }
};

TEST(ApiTest, RoutesAndTheOpenApiDocumentAgree) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("suanpan_api_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto store = store::OpenSqliteStore((dir / "s.db").string());
  ASSERT_TRUE(store.ok());
  NullClock clock;
  control::Metrics metrics;
  auto plane = control::ControlPlane::Open(
      testing::TestPool().Cluster("c", "H100", 1, 8).Tenant("a").Build(), std::move(*store),
      control::ControlOptions{}, clock, &metrics);
  ASSERT_TRUE(plane.ok());
  Api api(**plane, metrics);

  const Json doc = Json::parse(OpenApiDocument());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::map<std::pair<std::string, std::string>, std::set<std::string>> documented;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::set<std::string> roles;
      for (const Json& r : op["x-roles"]) roles.insert(r.get<std::string>());
      documented[{m, path}] = roles;
      EXPECT_TRUE(op.contains("operationId")) << m << " " << path;
      EXPECT_TRUE(op.contains("responses")) << m << " " << path;
    }
  }
  std::map<std::pair<std::string, std::string>, std::set<std::string>> routed;
  for (const RouteInfo& r : api.Routes()) {
    std::set<std::string> roles;
    for (control::Role role : r.roles) roles.insert(std::string(control::RoleName(role)));
    routed[{r.method, r.pattern}] = roles;
  }
  EXPECT_EQ(routed, documented);
  std::filesystem::remove_all(dir);
}

TEST(ApiTest, StatusCodesMapToHttpStatuses) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternal), 500);
}

TEST(ApiTest, EntityTagsMatchIfNoneMatchAsRfc9110Says) {
  const std::string tag = EntityTag("{\"a\":1}\n");
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_NE(tag, EntityTag("{\"a\":2}\n"));
  EXPECT_TRUE(EtagMatches(tag, tag));
  EXPECT_TRUE(EtagMatches("W/" + tag, tag));                   // weak comparison
  EXPECT_TRUE(EtagMatches("\"x\", " + tag + " ,\"y\"", tag));  // one of a list
  EXPECT_TRUE(EtagMatches("*", tag));
  EXPECT_FALSE(EtagMatches("", tag));
  EXPECT_FALSE(EtagMatches("\"x\"", tag));
  EXPECT_FALSE(EtagMatches(tag.substr(0, tag.size() - 2) + "\"", tag));
}

HttpRequest Get(std::string path, std::string if_none_match = "") {
  HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  if (!if_none_match.empty()) r.headers["if-none-match"] = std::move(if_none_match);
  return r;
}

TEST(ApiTest, WebAssetsServeTheirFilesOnlyWithCachingHeaders) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("suanpan_web_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  EXPECT_EQ(WebAssets::Load(dir.string()).status().code(), StatusCode::kNotFound);
  fs::create_directories(dir / "assets");
  std::ofstream(dir / "index.html") << "<!doctype html><title>x</title>";
  std::ofstream(dir / "assets" / "index-abc.js") << "console.log(1)";
  std::ofstream(dir.parent_path() / "secret.txt") << "not served";
  auto web = WebAssets::Load(dir.string());
  ASSERT_TRUE(web.ok()) << web.status().ToString();
  EXPECT_EQ(web->file_count(), 2u);

  auto index = web->Serve(Get("/"));
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->body, "<!doctype html><title>x</title>");
  std::map<std::string, std::string> h(index->headers.begin(), index->headers.end());
  EXPECT_EQ(h["Cache-Control"], "no-cache");
  EXPECT_NE(h["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
  // Revalidation: the same tag gives an empty 304.
  auto again = web->Serve(Get("/index.html", h["ETag"]));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  auto js = web->Serve(Get("/assets/index-abc.js"));
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  std::map<std::string, std::string> jh(js->headers.begin(), js->headers.end());
  EXPECT_EQ(jh["Cache-Control"], "public, max-age=31536000, immutable");

  // Anything else is not ours: the API answers it (404 with a named path, or the route).
  for (const char* p : {"/v1/jobs", "/../secret.txt", "/assets/../../secret.txt", "/assets/",
                        "/healthz", "/index.htm", "/assets/index-abc.js/"}) {
    EXPECT_FALSE(web->Serve(Get(p)).has_value()) << p;
  }
  HttpRequest post = Get("/");
  post.method = "POST";
  EXPECT_FALSE(web->Serve(post).has_value());
  HttpRequest head = Get("/");
  head.method = "HEAD";
  ASSERT_TRUE(web->Serve(head).has_value());
  EXPECT_TRUE(web->Serve(head)->body.empty());

  // Not built: / says how to build it; nothing else is served.
  WebAssets none = WebAssets::NotBuilt("/nowhere");
  auto page = none.Serve(Get("/"));
  ASSERT_TRUE(page.has_value());
  EXPECT_NE(page->body.find("not built"), std::string::npos);
  EXPECT_FALSE(none.Serve(Get("/assets/x.js")).has_value());
  fs::remove_all(dir);
  fs::remove(dir.parent_path() / "secret.txt");
}

}  // namespace
}  // namespace suanpan::api
