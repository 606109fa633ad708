// PublicKey and SigningKey from jose.h: key parsing, JWK export (RFC 7517, RFC 7518 §6), and
// the raw RS256/ES256 signature primitives (RFC 7518 §3.3, §3.4).
#include "crypto/jose.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <stdexcept>

#include "crypto/certificate.h"
#include "crypto/crypto.h"
#include "crypto/openssl_ptr.h"

namespace latchkey::crypto {

struct PublicKey::Impl {
  detail::PkeyPtr pkey;
};

struct SigningKey::Impl {
  detail::PkeyPtr pkey;
};

namespace {

using detail::BignumPtr;
using detail::BioPtr;
using detail::EcdsaSigPtr;
using detail::MdCtxPtr;
using detail::PkeyPtr;
using detail::X509Ptr;

// P-256 coordinates and the R and S halves of an ES256 signature are 32 octets
// (RFC 7518 §3.4, §6.2.1.2).
constexpr int kP256Bytes = 32;
constexpr std::size_t kMinRsaBits = 2048;  // RFC 7518 §3.3

// Errors that OpenSSL queues while we reject bad input are dropped on scope exit, so they do
// not surface later in an unrelated TLS call on the same thread.
class ErrorMark {
 public:
  ErrorMark() { ERR_set_mark(); }
  ~ErrorMark() { ERR_pop_to_mark(); }
  ErrorMark(const ErrorMark&) = delete;
  ErrorMark& operator=(const ErrorMark&) = delete;
};

// PEM passphrase callback that refuses: without it OpenSSL would prompt on the terminal for
// an encrypted key.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The JWS algorithm a key can serve, or "" when it fits neither RS256 nor ES256.
std::string alg_for(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey);
    return bits > 0 && static_cast<std::size_t>(bits) >= kMinRsaBits ? "RS256" : "";
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) return "";
    const std::string_view name(group, len);
    return name == "prime256v1" || name == "P-256" ? "ES256" : "";
  }
  return "";
}

// A big-endian unsigned integer parameter of the key, left-padded to `width` octets when
// width > 0, minimal otherwise (RFC 7518 §2 "Base64urlUInt").
std::string bn_param(const EVP_PKEY* pkey, const char* name, int width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return {};
  BignumPtr bn(raw);
  const int len = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(len), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), len) != len) return {};
  return out;
}

std::optional<std::string> certificate_der(X509* cert) {
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert, &p) != len) return std::nullopt;
  return der;
}

// RFC 7518 §3.4: JWS carries R||S; OpenSSL speaks the DER ECDSA-Sig-Value.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw) {
  if (raw.size() != 2 * kP256Bytes) return std::nullopt;
  BignumPtr r(BN_bin2bn(bytes(raw), kP256Bytes, nullptr));
  BignumPtr s(BN_bin2bn(bytes(raw) + kP256Bytes, kP256Bytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  // Owned by sig after a successful set0: let go of them without freeing.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

std::optional<std::string> ecdsa_der_to_raw(std::string_view der) {
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return std::nullopt;
  const unsigned char* p = bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kP256Bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256Bytes) != kP256Bytes ||
      BN_bn2binpad(s, out + kP256Bytes, kP256Bytes) != kP256Bytes) {
    return std::nullopt;
  }
  return raw;
}

std::string public_pem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) return {};
  return detail::bio_contents(bio.get());
}

std::string private_pkcs8_pem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey emits PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3.
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return detail::bio_contents(bio.get());
}

SigningKey generated(std::string kid, const std::string& alg, PkeyPtr pkey) {
  if (!pkey) throw std::runtime_error("key generation failed for " + alg);
  // Going through PKCS#8 keeps one construction path (from_pem) for every SigningKey.
  auto key = SigningKey::from_pem(std::move(kid), alg, private_pkcs8_pem(pkey.get()));
  if (!key) throw std::runtime_error("generated key unusable for " + alg);
  return std::move(*key);
}

}  // namespace

std::optional<PublicKey> PublicKey::from_pem(std::string_view pem) {
  ErrorMark mark;
  auto bio = detail::memory_bio(pem);
  if (!bio) return std::nullopt;
  PublicKey key;
  PkeyPtr pkey;
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!cert) return std::nullopt;
    pkey.reset(X509_get_pubkey(cert.get()));
    auto der = certificate_der(cert.get());
    // The same reading of notBefore/notAfter as every other use of a certificate.
    auto validity = der ? certificate_validity(*der) : std::nullopt;
    if (!pkey || !validity) return std::nullopt;
    key.not_before_s_ = validity->not_before_s;
    key.not_after_s_ = validity->not_after_s;
    key.x5t_s256_ = base64url_encode(sha256(*der));  // RFC 8705 §3.1
  } else if (pem.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
    if (!pkey) return std::nullopt;
  } else {
    return std::nullopt;
  }
  key.alg_ = alg_for(pkey.get());
  key.impl_ = std::make_shared<const Impl>(Impl{std::move(pkey)});
  return key;
}

boost::json::object PublicKey::jwk() const {
  boost::json::object jwk;
  if (!impl_) return jwk;
  const EVP_PKEY* pkey = impl_->pkey.get();
  if (alg_ == "RS256") {  // RFC 7518 §6.3.1
    jwk["kty"] = "RSA";
    jwk["n"] = base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_RSA_E));
  } else if (alg_ == "ES256") {  // RFC 7518 §6.2.1: fixed-width coordinates
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kP256Bytes));
    jwk["y"] = base64url_encode(bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kP256Bytes));
  }
  return jwk;
}

bool PublicKey::verify(std::string_view alg, std::string_view signing_input,
                       std::string_view signature) const {
  if (!impl_ || alg_.empty() || alg != alg_) return false;
  ErrorMark mark;
  EVP_PKEY* pkey = impl_->pkey.get();
  std::string der;
  std::string_view sig = signature;
  if (alg_ == "ES256") {
    auto converted = ecdsa_raw_to_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    sig = der;
  } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) {
    // RFC 8017 §8.2.2 step 1: an RSASSA-PKCS1-v1_5 signature is exactly k octets long.
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), bytes(sig), sig.size(), bytes(signing_input),
                          signing_input.size()) == 1;
}

SigningKey SigningKey::generate_rs256(std::string kid) {
  return generated(std::move(kid), "RS256", PkeyPtr(EVP_RSA_gen(2048)));
}

SigningKey SigningKey::generate_es256(std::string kid) {
  return generated(std::move(kid), "ES256", PkeyPtr(EVP_EC_gen("P-256")));
}

std::optional<SigningKey> SigningKey::from_pem(std::string kid, std::string alg,
                                               std::string_view private_pem) {
  ErrorMark mark;
  if (alg != "RS256" && alg != "ES256") return std::nullopt;
  auto bio = detail::memory_bio(private_pem);
  if (!bio) return std::nullopt;
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey || alg_for(pkey.get()) != alg) return std::nullopt;
  // The private and public halves must belong together: a damaged key (an RSA modulus that is
  // not p*q, an EC point that is not d*G) would otherwise load and sign tokens nobody can verify.
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) return std::nullopt;
  auto pub = PublicKey::from_pem(public_pem(pkey.get()));
  if (!pub || pub->alg() != alg) return std::nullopt;
  SigningKey key;
  key.kid_ = std::move(kid);
  key.alg_ = std::move(alg);
  key.public_ = std::move(*pub);
  key.impl_ = std::make_shared<const Impl>(Impl{std::move(pkey)});
  return key;
}

std::string SigningKey::private_pem() const {
  if (!impl_) return {};
  ErrorMark mark;
  return private_pkcs8_pem(impl_->pkey.get());
}

boost::json::object SigningKey::public_jwk() const {
  boost::json::object jwk = public_.jwk();
  jwk["kid"] = kid_;
  jwk["alg"] = alg_;
  jwk["use"] = "sig";  // RFC 7517 §4.2
  return jwk;
}

std::string SigningKey::sign(std::string_view signing_input) const {
  // Every failure below means a broken key or library, never bad input; there is no valid
  // token to return, so it is reported as an exception for the caller's server_error path.
  if (!impl_) throw std::logic_error("sign() on an empty SigningKey");
  ErrorMark mark;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(signing_input), signing_input.size()) != 1) {
    throw std::runtime_error("JWS signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     bytes(signing_input), signing_input.size()) != 1) {
    throw std::runtime_error("JWS signing failed");
  }
  sig.resize(len);
  if (alg_ == "ES256") {
    auto raw = ecdsa_der_to_raw(sig);
    if (!raw) throw std::runtime_error("ECDSA signature conversion failed");
    return std::move(*raw);
  }
  return sig;
}

}  // namespace latchkey::crypto
