#include "api/auth/keys.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace backline::auth {

namespace {

constexpr int rsa_bits_min = 2048;
constexpr int rsa_bits_max = 16384;
constexpr std::size_t es256_half_bytes = 32;

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_free>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* p) {
  return {p, EVP_PKEY_free};
}

// OpenSSL's reason for the last failure, then an empty error queue (it is thread-local and
// would otherwise leak into the next, unrelated call on this thread).
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  std::string reason =
      e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown" : "unknown";
  ERR_clear_error();
  return reason;
}

int no_passphrase(char*, int, int, void*) {
  return 0;
}

// The key material must fit the algorithm it is bound to.
result<void> check_fits(algorithm alg, EVP_PKEY* p) {
  if (alg == algorithm::rs256) {
    if (!EVP_PKEY_is_a(p, "RSA")) return fail(errc::key_error, "RS256 needs an RSA key");
    const int bits = EVP_PKEY_get_bits(p);
    if (bits < rsa_bits_min || bits > rsa_bits_max) {
      return fail(errc::key_error,
                  fmt::format("RS256 needs an RSA key of {} to {} bits, this one has {}",
                              rsa_bits_min, rsa_bits_max, bits));
    }
    return {};
  }
  if (alg == algorithm::es256) {
    char group[64] = {};
    std::size_t len = 0;
    if (!EVP_PKEY_is_a(p, "EC") || EVP_PKEY_get_group_name(p, group, sizeof group, &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      ERR_clear_error();
      return fail(errc::key_error, "ES256 needs an EC key on the P-256 curve (prime256v1)");
    }
    return {};
  }
  return fail(errc::key_error, "HS256 takes a shared secret, not a PEM key");
}

result<std::string> digest_sign(EVP_PKEY* p, std::string_view input) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, p) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
    return fail(errc::key_error, "cannot sign: " + openssl_reason());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     input.size()) != 1) {
    return fail(errc::key_error, "cannot sign: " + openssl_reason());
  }
  sig.resize(len);
  return sig;
}

bool digest_verify(EVP_PKEY* p, std::string_view input, std::string_view sig) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, p) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

// DER ECDSA-Sig-Value -> R || S, each left-padded to 32 bytes.
result<std::string> der_to_jws(std::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (!sig) return fail(errc::key_error, "cannot sign: " + openssl_reason());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * es256_half_bytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, es256_half_bytes) < 0 ||
      BN_bn2binpad(s, o + es256_half_bytes, es256_half_bytes) < 0) {
    return fail(errc::key_error, "cannot sign: " + openssl_reason());
  }
  return out;
}

// R || S -> DER, or empty when the input is not 64 bytes.
std::string jws_to_der(std::string_view raw) {
  if (raw.size() != 2 * es256_half_bytes) return {};
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(in, es256_half_bytes, nullptr);
  BIGNUM* s = BN_bin2bn(in + es256_half_bytes, es256_half_bytes, nullptr);
  ecdsa_sig_ptr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return {};
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

result<std::string> bio_text(BIO* b) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(b, &data);
  if (len <= 0) return fail(errc::key_error, "cannot write PEM: " + openssl_reason());
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

std::string_view algorithm_name(algorithm alg) {
  switch (alg) {
    case algorithm::rs256:
      return "RS256";
    case algorithm::es256:
      return "ES256";
    case algorithm::hs256:
      return "HS256";
  }
  return "?";
}

std::optional<algorithm> parse_algorithm(std::string_view name) {
  if (name == "RS256") return algorithm::rs256;
  if (name == "ES256") return algorithm::es256;
  if (name == "HS256") return algorithm::hs256;
  return std::nullopt;
}

result<std::string> key::sign(std::string_view signing_input) const {
  if (!can_sign_) return fail(errc::key_error, "this key cannot sign (public key or empty)");
  if (alg_ == algorithm::hs256) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
              mac, &len)) {
      return fail(errc::key_error, "cannot sign: " + openssl_reason());
    }
    return std::string(reinterpret_cast<const char*>(mac), len);
  }
  auto sig = digest_sign(pkey_.get(), signing_input);
  if (!sig || alg_ == algorithm::rs256) return sig;
  return der_to_jws(*sig);
}

bool key::verify(std::string_view signing_input, std::string_view signature) const {
  switch (alg_) {
    case algorithm::hs256: {
      if (secret_.empty() || signature.size() != 32) return false;
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
                reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
                mac, &len) ||
          len != 32) {
        ERR_clear_error();
        return false;
      }
      return CRYPTO_memcmp(mac, signature.data(), len) == 0;
    }
    case algorithm::rs256:
      if (!pkey_ || signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey_.get()))) {
        return false;
      }
      return digest_verify(pkey_.get(), signing_input, signature);
    case algorithm::es256: {
      if (!pkey_) return false;
      const std::string der = jws_to_der(signature);
      return !der.empty() && digest_verify(pkey_.get(), signing_input, der);
    }
  }
  return false;
}

result<std::string> key::public_pem() const {
  if (!pkey_) return fail(errc::key_error, "an HMAC secret has no public key");
  bio_ptr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PUBKEY(b.get(), pkey_.get()) != 1) {
    return fail(errc::key_error, "cannot write PEM: " + openssl_reason());
  }
  return bio_text(b.get());
}

result<std::string> key::private_pem() const {
  if (!pkey_ || !can_sign_) return fail(errc::key_error, "no private key to write");
  bio_ptr b(BIO_new(BIO_s_mem()));
  if (!b ||
      PEM_write_bio_PrivateKey(b.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail(errc::key_error, "cannot write PEM: " + openssl_reason());
  }
  return bio_text(b.get());
}

result<key> key::from_public_pem(algorithm alg, std::string_view pem) {
  if (alg == algorithm::hs256) return fail(errc::key_error, "HS256 takes a secret, not a PEM");
  if (pem.size() > key_file_bytes_max) return fail(errc::key_error, "the PEM is too large");
  bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = b ? PEM_read_bio_PUBKEY(b.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (!raw) {
    return fail(errc::key_error,
                "not a PEM public key (expected -----BEGIN PUBLIC KEY-----): " + openssl_reason());
  }
  key k;
  k.alg_ = alg;
  k.pkey_ = own(raw);
  if (auto fits = check_fits(alg, raw); !fits) return std::unexpected(fits.error());
  return k;
}

result<key> key::from_private_pem(algorithm alg, std::string_view pem) {
  if (alg == algorithm::hs256) return fail(errc::key_error, "HS256 takes a secret, not a PEM");
  if (pem.size() > key_file_bytes_max) return fail(errc::key_error, "the PEM is too large");
  bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = b ? PEM_read_bio_PrivateKey(b.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (!raw) {
    return fail(errc::key_error, "not an unencrypted PEM private key: " + openssl_reason());
  }
  key k;
  k.alg_ = alg;
  k.pkey_ = own(raw);
  k.can_sign_ = true;
  if (auto fits = check_fits(alg, raw); !fits) return std::unexpected(fits.error());
  return k;
}

result<key> key::from_public_pem_file(algorithm alg, const std::filesystem::path& path) {
  auto text = read_small_file(path);
  if (!text) return std::unexpected(text.error());
  auto k = from_public_pem(alg, *text);
  if (!k) return fail(k.error().code, fmt::format("{}: {}", path.string(), k.error().detail));
  return k;
}

result<key> key::from_private_pem_file(algorithm alg, const std::filesystem::path& path) {
  auto text = read_small_file(path);
  if (!text) return std::unexpected(text.error());
  auto k = from_private_pem(alg, *text);
  if (!k) return fail(k.error().code, fmt::format("{}: {}", path.string(), k.error().detail));
  return k;
}

result<key> key::hmac(std::string secret) {
  if (secret.size() < hmac_secret_bytes_min) {
    return fail(errc::bad_config,
                fmt::format("an HS256 secret needs at least {} bytes", hmac_secret_bytes_min));
  }
  key k;
  k.alg_ = algorithm::hs256;
  k.secret_ = std::move(secret);
  k.can_sign_ = true;
  return k;
}

result<key> key::generate(algorithm alg) {
  if (alg == algorithm::hs256) {
    std::string secret(hmac_secret_bytes_min, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                   static_cast<int>(secret.size())) != 1) {
      return fail(errc::key_error, "no randomness: " + openssl_reason());
    }
    return hmac(std::move(secret));
  }
  EVP_PKEY* raw = alg == algorithm::rs256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{rsa_bits_min})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!raw) return fail(errc::key_error, "cannot generate a key: " + openssl_reason());
  key k;
  k.alg_ = alg;
  k.pkey_ = own(raw);
  k.can_sign_ = true;
  return k;
}

result<std::string> read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(errc::io_error, fmt::format("cannot read {}", path.string()));
  std::string text(key_file_bytes_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return fail(errc::io_error, fmt::format("cannot read {}", path.string()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > key_file_bytes_max) {
    return fail(errc::io_error, fmt::format("{} is larger than {} bytes: is it the right file?",
                                            path.string(), key_file_bytes_max));
  }
  return text;
}

result<void> write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                                   unsigned mode) {
  const auto io_fail = [&](std::string_view what) {
    return fail(errc::io_error,
                fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(errno)));
  };
  const std::filesystem::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());  // a leftover of a crash; O_EXCL below keeps the mode ours
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_fail("create");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  // The umask may have narrowed `mode` at creation; set it exactly.
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_fail("sync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return io_fail("rename into");
  }
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace backline::auth
