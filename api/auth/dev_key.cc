#include "api/auth/dev_key.h"

#include <sys/stat.h>

#include <cstdio>
#include <system_error>

#include <fmt/format.h>

namespace backline::auth {

namespace {

result<key> load_or_create(const std::filesystem::path& path, bool& created) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return fail(errc::key_error,
                  fmt::format("{} can be read by group or others: run chmod 600 {} (or delete it "
                              "to get a new development key)",
                              path.string(), path.string()));
    }
    return key::from_private_pem_file(algorithm::es256, path);
  }
  auto k = key::generate(algorithm::es256);
  if (!k) return k;
  auto pem = k->private_pem();
  if (!pem) return std::unexpected(pem.error());
  if (auto w = write_file_atomically(path, *pem, 0600); !w) return std::unexpected(w.error());
  created = true;
  return k;
}

result<void> ensure_public_file(const key& k, const std::filesystem::path& path) {
  auto pem = k.public_pem();
  if (!pem) return std::unexpected(pem.error());
  if (auto existing = read_small_file(path); existing && *existing == *pem) return {};
  return write_file_atomically(path, *pem, 0644);
}

}  // namespace

std::string dev_key_warning(const std::filesystem::path& private_key_path, bool created) {
  return fmt::format(
      "\n"
      "************************************************************************\n"
      "** WARNING: DEVELOPMENT KEY {}\n"
      "**   {}\n"
      "** Tokens are signed and checked with this key from the data directory.\n"
      "** Anyone who can read it can mint ANY token for ANY tenant and role.\n"
      "** NEVER use it in production: configure production auth with your\n"
      "** identity provider's public key (path, algorithm, issuers, audience).\n"
      "************************************************************************\n",
      created ? "(CREATED NOW)" : "IN USE", private_key_path.string());
}

result<dev_key> ensure_dev_key(const std::filesystem::path& data_dir,
                               const dev_key_options& options) {
  const auto dir = data_dir / "auth";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return fail(errc::io_error, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  dev_key out;
  out.private_key_path = dir / dev_key_file;
  out.public_key_path = dir / dev_public_key_file;
  auto k = load_or_create(out.private_key_path, out.created);
  if (!k) return std::unexpected(k.error());
  if (auto pub = ensure_public_file(*k, out.public_key_path); !pub) {
    return std::unexpected(pub.error());
  }
  auto pem = k->public_pem();
  if (!pem) return std::unexpected(pem.error());
  auto public_key = key::from_public_pem(algorithm::es256, *pem);
  if (!public_key) return std::unexpected(public_key.error());
  out.signing_key = std::move(*k);
  out.config.verification_key = std::move(*public_key);
  out.config.issuers = options.issuers;
  out.config.audience = options.audience;
  out.config.key_id = std::string(dev_key_id);
  if (auto v = verifier::make(out.config); !v) return std::unexpected(v.error());

  const std::string warning = dev_key_warning(out.private_key_path, out.created);
  if (options.warn) {
    options.warn(warning);
  } else {
    std::fputs(warning.c_str(), stderr);
  }
  return out;
}

}  // namespace backline::auth
