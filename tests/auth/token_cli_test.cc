// `backline token` run as a subprocess: its stdout is exactly one token, which the module
// verifies with the development key of the same data directory.
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "api/auth/dev_key.h"
#include "tests/auth/auth_fixture.h"

namespace backline::auth {
namespace {

using namespace backline::auth::testing;

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

run_result run(const std::string& args, const std::filesystem::path& scratch) {
  const auto err_path = scratch / "stderr.txt";
  const std::string command = fmt::format("'{}' {} 2>'{}'", BACKLINE, args, err_path.string());
  run_result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

std::int64_t wall_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(BacklineToken, PrintsOnlyATokenTheModuleVerifies) {
  const auto data = fresh_dir("cli");
  const auto r = run(fmt::format("token --data '{}' --sub alice --role agent --role supervisor "
                                 "--ttl 600",
                                 data.string()),
                     data);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  ASSERT_EQ(r.out.back(), '\n');
  const std::string token = r.out.substr(0, r.out.size() - 1);
  EXPECT_EQ(token.find_first_of(" \n\t"), std::string::npos) << "stdout holds only the token";
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  // Loud on stderr.
  EXPECT_NE(r.err.find("DEVELOPMENT KEY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NEVER use it in production"), std::string::npos) << r.err;

  struct stat st {};
  ASSERT_EQ(::stat((data / "auth" / "dev-es256.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  dev_key_options options;
  options.warn = [](std::string_view) {};
  const auto dev = ensure_dev_key(data, options);
  ASSERT_TRUE(dev);
  EXPECT_FALSE(dev->created) << "the test reuses the key the tool made";
  const auto v = verifier::make(dev->config);
  ASSERT_TRUE(v);
  const std::int64_t now = wall_now_s();
  const auto c = v->verify(token, now);
  ASSERT_TRUE(c) << errc_name(c.error().code) << ": " << c.error().detail;
  EXPECT_EQ(c->tenant, "acme_support");
  EXPECT_EQ(c->subject, "alice");
  EXPECT_EQ(c->roles, (role_set{role::agent, role::supervisor}));
  EXPECT_EQ(c->jti.size(), 32u);
  EXPECT_EQ(c->exp_s - c->iat_s, 600);
  EXPECT_NEAR(static_cast<double>(c->iat_s), static_cast<double>(now), 60.0);
  // After its ttl (and the skew) it is refused.
  EXPECT_EQ(v->verify(token, c->exp_s + 60).error().code, errc::expired);
  std::filesystem::remove_all(data);
}

TEST(BacklineToken, TenantAndAudienceAreClaims) {
  const auto data = fresh_dir("cli");
  const auto r = run(fmt::format("token --data '{}' --sub cti --role telephony --tenant "
                                 "globex_help --aud backline-staging",
                                 data.string()),
                     data);
  ASSERT_EQ(r.code, 0) << r.err;
  dev_key_options options;
  options.issuers = {"globex_help"};
  options.audience = "backline-staging";
  options.warn = [](std::string_view) {};
  const auto dev = ensure_dev_key(data, options);
  ASSERT_TRUE(dev);
  const auto c =
      verifier::make(dev->config)->verify(r.out.substr(0, r.out.size() - 1), wall_now_s());
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->tenant, "globex_help");
  EXPECT_EQ(c->roles, role_set{role::telephony});
  // The default configuration (acme_support, backline) refuses it.
  options.issuers = {"acme_support"};
  options.audience = "backline";
  const auto default_dev = ensure_dev_key(data, options);
  EXPECT_EQ(verifier::make(default_dev->config)
                ->verify(r.out.substr(0, r.out.size() - 1), wall_now_s())
                .error()
                .code,
            errc::wrong_issuer);
  std::filesystem::remove_all(data);
}

TEST(BacklineToken, RefusesBadOptionsWithUsageCode) {
  const auto data = fresh_dir("cli");
  const auto d = data.string();
  EXPECT_EQ(run(fmt::format("token --data '{}' --sub alice --role root", d), data).code, 2);
  EXPECT_EQ(run(fmt::format("token --data '{}' --sub alice", d), data).code, 2);
  EXPECT_EQ(run(fmt::format("token --data '{}' --role agent", d), data).code, 2);
  const auto ttl = run(fmt::format("token --data '{}' --sub a --role agent --ttl 999999", d), data);
  EXPECT_EQ(ttl.code, 2);
  EXPECT_NE(ttl.err.find("--ttl"), std::string::npos) << ttl.err;
  EXPECT_TRUE(ttl.out.empty());
  std::filesystem::remove_all(data);
}

TEST(BacklineToken, HelpHasExamples) {
  const auto data = fresh_dir("cli");
  const auto r = run("token --help", data);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("never use it in production"), std::string::npos) << r.out;
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace backline::auth
