// The route table and the OpenAPI document agree: same (method, path) pairs, same roles; and the
// one mapping from Status codes to HTTP statuses.

#include "api/api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

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

}  // namespace
}  // namespace suanpan::api
