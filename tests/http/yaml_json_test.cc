#include "api/http/yaml_json.h"

#include <gtest/gtest.h>

#include "api/http/openapi.h"

namespace backline::http {
namespace {

nlohmann::ordered_json convert(std::string_view yaml) {
  auto j = yaml_to_json(yaml);
  EXPECT_TRUE(j.has_value()) << (j ? "" : j.error());
  return j ? *j : nlohmann::ordered_json();
}

TEST(YamlJson, ConvertsTheSubsetOpenApiUses) {
  auto j = convert(R"(# comment
openapi: 3.1.0
info:
  title: "Backline \"API\""   # trailing comment
  version: '0.1'
  count: 42
  ratio: 0.5
  on: true
  none: ~
paths:
  /v1/calls/{id}/hold:
    post:
      tags: [calls, "hold"]
      security: []
      responses:
        '200':
          description: ok
servers:
- url: http://x:8080/a#b
  name: one
-   url: two
list:
  - - nested
    - seq
  - plain
empty: {}
flow: {a: 1, b: "two"}
)");
  EXPECT_EQ(j["openapi"], "3.1.0");
  EXPECT_EQ(j["info"]["title"], "Backline \"API\"");
  EXPECT_EQ(j["info"]["version"], "0.1");
  EXPECT_EQ(j["info"]["count"], 42);
  EXPECT_EQ(j["info"]["ratio"], 0.5);
  EXPECT_EQ(j["info"]["on"], true);
  EXPECT_TRUE(j["info"]["none"].is_null());
  auto& post = j["paths"]["/v1/calls/{id}/hold"]["post"];
  EXPECT_EQ(post["tags"], nlohmann::ordered_json({"calls", "hold"}));
  EXPECT_TRUE(post["security"].is_array() && post["security"].empty());
  EXPECT_EQ(post["responses"]["200"]["description"], "ok");
  EXPECT_EQ(j["servers"][0]["url"], "http://x:8080/a#b");
  EXPECT_EQ(j["servers"][0]["name"], "one");
  EXPECT_EQ(j["servers"][1]["url"], "two");
  EXPECT_EQ(j["list"][0], nlohmann::ordered_json({"nested", "seq"}));
  EXPECT_EQ(j["list"][1], "plain");
  EXPECT_TRUE(j["empty"].is_object() && j["empty"].empty());
  EXPECT_EQ(j["flow"]["b"], "two");
}

TEST(YamlJson, BlockScalarsKeepOrFoldLines) {
  auto j = convert("a: |\n  one\n  two\n\nb: >-\n  folded\n  text\n\n  para\nc: x\n");
  EXPECT_EQ(j["a"], "one\ntwo\n");
  EXPECT_EQ(j["b"], "folded text\npara");
  EXPECT_EQ(j["c"], "x");
}

TEST(YamlJson, UnsupportedYamlIsAnErrorWithItsLine) {
  auto anchors = yaml_to_json("a: 1\nb: &x 2\n");
  ASSERT_FALSE(anchors.has_value());
  EXPECT_EQ(anchors.error().rfind("line 2:", 0), 0u) << anchors.error();
  EXPECT_FALSE(yaml_to_json("a: 1\na: 2\n").has_value());
  EXPECT_FALSE(yaml_to_json("a:\n  b: 1\n    c: 2\n").has_value());
  EXPECT_FALSE(yaml_to_json("a: [1,\n  2]\n").has_value());
}

TEST(OpenApi, TheEmbeddedDocumentIsOpenApi31Json) {
  const auto& doc = openapi_json();
  ASSERT_TRUE(doc.has_value()) << doc.error();
  auto j = nlohmann::json::parse(*doc);
  EXPECT_EQ(j["openapi"], "3.1.0");
  EXPECT_TRUE(j["paths"].contains("/livez"));
}

}  // namespace
}  // namespace backline::http
