// The development key: made once in the data directory, private and loud about it.
#include <sys/stat.h>

#include "api/auth/dev_key.h"
#include "tests/auth/auth_fixture.h"

namespace backline::auth {
namespace {

using namespace backline::auth::testing;

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

TEST(DevKey, IsCreatedOnceThenReused) {
  const auto data = fresh_dir("devkey");
  std::vector<std::string> warnings;
  dev_key_options options;
  options.warn = [&](std::string_view w) { warnings.emplace_back(w); };

  const auto first = ensure_dev_key(data, options);
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->private_key_path, data / "auth" / "dev-es256.pem");
  EXPECT_EQ(mode_of(first->private_key_path), 0600u);
  EXPECT_EQ(mode_of(data / "auth"), 0700u);
  EXPECT_TRUE(std::filesystem::exists(first->public_key_path));

  const auto second = ensure_dev_key(data, options);
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_FALSE(second->created);
  EXPECT_EQ(*second->signing_key.public_pem(), *first->signing_key.public_pem());
  EXPECT_EQ(mode_of(second->private_key_path), 0600u);

  // Loud, every time.
  ASSERT_EQ(warnings.size(), 2u);
  for (const auto& w : warnings) {
    EXPECT_NE(w.find("DEVELOPMENT KEY"), std::string::npos) << w;
    EXPECT_NE(w.find("NEVER use it in production"), std::string::npos) << w;
    EXPECT_NE(w.find(first->private_key_path.string()), std::string::npos) << w;
  }
  std::filesystem::remove_all(data);
}

TEST(DevKey, ItsConfigVerifiesWhatItsKeySigns) {
  const auto data = fresh_dir("devkey");
  dev_key_options options;
  options.warn = [](std::string_view) {};
  const auto dev = ensure_dev_key(data, options);
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->config.verification_key.alg(), algorithm::es256);
  EXPECT_FALSE(dev->config.verification_key.can_sign());
  token_request r{.tenant = "acme_support",
                  .subject = "alice",
                  .audience = {"backline"},
                  .roles = {role::agent},
                  .iat_s = now_s,
                  .exp_s = now_s + 3600,
                  .jti = random_jti(),
                  .key_id = std::string(dev_key_id)};
  const auto token = mint(dev->signing_key, r);
  ASSERT_TRUE(token);
  const auto c = verifier::make(dev->config)->verify(*token, now_s);
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->subject, "alice");
  // Another data directory is another key.
  const auto data2 = fresh_dir("devkey2");
  const auto other = ensure_dev_key(data2, options);
  ASSERT_TRUE(other);
  EXPECT_EQ(verifier::make(other->config)->verify(*token, now_s).error().code, errc::bad_signature);
  std::filesystem::remove_all(data);
  std::filesystem::remove_all(data2);
}

TEST(DevKey, RefusesAKeyFileOthersCanRead) {
  const auto data = fresh_dir("devkey");
  dev_key_options options;
  options.warn = [](std::string_view) {};
  ASSERT_TRUE(ensure_dev_key(data, options));
  std::filesystem::permissions(data / "auth" / "dev-es256.pem", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  const auto again = ensure_dev_key(data, options);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, errc::key_error);
  EXPECT_NE(again.error().detail.find("chmod 600"), std::string::npos);
  std::filesystem::remove_all(data);
}

TEST(DevKey, RewritesAMissingPublicKey) {
  const auto data = fresh_dir("devkey");
  dev_key_options options;
  options.warn = [](std::string_view) {};
  const auto first = ensure_dev_key(data, options);
  ASSERT_TRUE(first);
  std::filesystem::remove(first->public_key_path);
  const auto second = ensure_dev_key(data, options);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(*read_small_file(second->public_key_path), *first->signing_key.public_pem());
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace backline::auth
