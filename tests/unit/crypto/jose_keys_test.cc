#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "crypto/public_key_cache.h"
#include "crypto/openssl_ptr.h"

namespace latchkey::crypto {
namespace {

using detail::BioPtr;
using detail::PkeyPtr;
using detail::X509Ptr;

constexpr std::int64_t kNotBefore = 1700000000;  // 2023-11-14T22:13:20Z, UTCTime
constexpr std::int64_t kNotAfter = 2600000000;   // 2052-05-22T22:13:20Z, GeneralizedTime

const SigningKey& rsa_key() {
  static const SigningKey key = SigningKey::generate_rs256("rsa-1");
  return key;
}
const SigningKey& ec_key() {
  static const SigningKey key = SigningKey::generate_es256("ec-1");
  return key;
}

PkeyPtr private_pkey(const SigningKey& key) {
  const std::string pem = key.private_pem();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string public_pem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), pkey), 1);
  return detail::bio_contents(bio.get());
}

struct Certificate {
  std::string pem;
  std::string der;
};

// A self-signed X.509 v3 certificate for `pkey`, as an app's --cert would be.
Certificate self_signed(EVP_PKEY* pkey) {
  X509Ptr cert(X509_new());
  EXPECT_TRUE(cert);
  EXPECT_EQ(X509_set_version(cert.get(), X509_VERSION_3), 1);
  EXPECT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 42), 1);
  EXPECT_TRUE(ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(kNotBefore)));
  EXPECT_TRUE(ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(kNotAfter)));
  EXPECT_EQ(X509_set_pubkey(cert.get(), pkey), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  EXPECT_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("latchkey test"), -1,
                                       -1, 0),
            1);
  EXPECT_EQ(X509_set_issuer_name(cert.get(), name), 1);
  EXPECT_GT(X509_sign(cert.get(), pkey, EVP_sha256()), 0);

  Certificate out;
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_X509(bio.get(), cert.get()), 1);
  out.pem = detail::bio_contents(bio.get());
  const int len = i2d_X509(cert.get(), nullptr);
  out.der.resize(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  EXPECT_EQ(i2d_X509(cert.get(), &p), len);
  return out;
}

TEST(PublicKey, FromCertificateGivesAlgValidityAndThumbprint) {
  for (const SigningKey* key : {&rsa_key(), &ec_key()}) {
    PkeyPtr pkey = private_pkey(*key);
    ASSERT_TRUE(pkey);
    const Certificate cert = self_signed(pkey.get());
    auto pub = PublicKey::from_pem(cert.pem);
    ASSERT_TRUE(pub.has_value()) << key->alg();
    EXPECT_EQ(pub->alg(), key->alg());
    EXPECT_EQ(pub->not_before_s(), kNotBefore);
    EXPECT_EQ(pub->not_after_s(), kNotAfter);
    // RFC 8705 §3.1: base64url of the SHA-256 of the DER certificate.
    EXPECT_EQ(pub->x5t_s256(), base64url_encode(sha256(cert.der)));
    EXPECT_EQ(pub->x5t_s256().size(), 43u);
    EXPECT_EQ(pub->jwk(), key->public_key().jwk());
  }
}

TEST(PublicKey, CertificateKeyVerifiesTokensOfItsPrivateKey) {
  // The JWT bearer flow: the app signs with its private key, we hold its certificate.
  PkeyPtr pkey = private_pkey(rsa_key());
  auto pub = PublicKey::from_pem(self_signed(pkey.get()).pem);
  ASSERT_TRUE(pub.has_value());
  auto jwt = decode_jwt(sign_jwt(rsa_key(), {{"iss", "client"}}));
  ASSERT_TRUE(jwt.ok());
  EXPECT_TRUE(verify_jwt(*jwt, *pub));
}

TEST(PublicKey, CertificateAmongOtherPemBlocksIsFound) {
  PkeyPtr pkey = private_pkey(ec_key());
  const Certificate cert = self_signed(pkey.get());
  auto pub = PublicKey::from_pem("subject=CN = latchkey test\n" + cert.pem + "\n");
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->x5t_s256(), base64url_encode(sha256(cert.der)));
}

TEST(PublicKey, FromPublicKeyPemHasNoCertificateFields) {
  PkeyPtr pkey = private_pkey(ec_key());
  auto pub = PublicKey::from_pem(public_pem(pkey.get()));
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->alg(), "ES256");
  EXPECT_EQ(pub->not_before_s(), 0);
  EXPECT_EQ(pub->not_after_s(), 0);
  EXPECT_EQ(pub->x5t_s256(), "");
}

TEST(PublicKey, FromPemRejectsGarbage) {
  PkeyPtr pkey = private_pkey(rsa_key());
  const std::string cert = self_signed(pkey.get()).pem;
  const std::string pub = public_pem(pkey.get());
  const std::vector<std::string> bad = {
      "",
      "garbage",
      "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
      "-----END CERTIFICATE-----\n",
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
      "-----BEGIN PUBLIC KEY-----\n",
      cert.substr(0, cert.size() / 2),
      pub.substr(0, pub.size() / 2),
      rsa_key().private_pem(),  // a private key is not a public key or certificate
      std::string("\0\0\0", 3),
  };
  for (const auto& pem : bad) EXPECT_FALSE(PublicKey::from_pem(pem).has_value()) << pem;
}

TEST(PublicKey, SmallRsaKeyIsNotUsable) {
  // RFC 7518 §3.3: RS256 keys must be at least 2048 bits.
  PkeyPtr small(EVP_RSA_gen(1024));
  ASSERT_TRUE(small);
  auto pub = PublicKey::from_pem(public_pem(small.get()));
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->alg(), "");
  EXPECT_FALSE(pub->verify("RS256", "a.b", std::string(128, 'x')));
  EXPECT_FALSE(pub->verify("", "a.b", std::string(128, 'x')));
}

TEST(PublicKey, OtherCurveIsNotUsable) {
  PkeyPtr p384(EVP_EC_gen("P-384"));
  ASSERT_TRUE(p384);
  auto pub = PublicKey::from_pem(public_pem(p384.get()));
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(pub->alg(), "");
}

TEST(PublicKey, JwkFieldsHaveRfc7518Sizes) {
  const boost::json::object rsa = rsa_key().public_key().jwk();
  EXPECT_EQ(rsa.at("kty"), "RSA");
  EXPECT_EQ(rsa.at("n").as_string().size(), 342u);  // 256 octets
  EXPECT_EQ(rsa.at("e"), "AQAB");                   // 65537
  EXPECT_EQ(rsa.size(), 3u);

  const boost::json::object ec = ec_key().public_key().jwk();
  EXPECT_EQ(ec.at("kty"), "EC");
  EXPECT_EQ(ec.at("crv"), "P-256");
  EXPECT_EQ(ec.at("x").as_string().size(), 43u);  // 32 octets, left-padded
  EXPECT_EQ(ec.at("y").as_string().size(), 43u);
  EXPECT_EQ(ec.size(), 4u);
}

TEST(PublicKey, EcJwkCoordinatesArePaddedToFullWidth) {
  // About 1 key in 128 has a coordinate with a leading zero octet; generate enough to hit it.
  for (int i = 0; i < 300; ++i) {
    const boost::json::object jwk = SigningKey::generate_es256("k").public_key().jwk();
    ASSERT_EQ(base64url_decode(jwk.at("x").as_string())->size(), 32u);
    ASSERT_EQ(base64url_decode(jwk.at("y").as_string())->size(), 32u);
  }
}

TEST(SigningKey, PublicJwkAddsKidAlgAndUse) {
  const boost::json::object jwk = ec_key().public_jwk();
  EXPECT_EQ(jwk.at("kid"), "ec-1");
  EXPECT_EQ(jwk.at("alg"), "ES256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("x"), ec_key().public_key().jwk().at("x"));
  EXPECT_FALSE(jwk.contains("d"));  // never the private part
  EXPECT_EQ(rsa_key().public_jwk().at("alg"), "RS256");
  EXPECT_FALSE(rsa_key().public_jwk().contains("d"));
}

TEST(SigningKey, PrivatePemRoundTripSignsVerifiably) {
  for (const SigningKey* key : {&rsa_key(), &ec_key()}) {
    const std::string pem = key->private_pem();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << "PKCS#8 expected";
    auto loaded = SigningKey::from_pem("reloaded", key->alg(), pem);
    ASSERT_TRUE(loaded.has_value()) << key->alg();
    EXPECT_EQ(loaded->kid(), "reloaded");
    EXPECT_EQ(loaded->alg(), key->alg());
    EXPECT_EQ(loaded->public_key().jwk(), key->public_key().jwk());
    auto jwt = decode_jwt(sign_jwt(*loaded, {{"sub", "x"}}));
    ASSERT_TRUE(jwt.ok());
    EXPECT_TRUE(verify_jwt(*jwt, key->public_key()));
  }
}

TEST(SigningKey, FromPemRejectsMismatchedAlgAndGarbage) {
  EXPECT_FALSE(SigningKey::from_pem("k", "ES256", rsa_key().private_pem()).has_value());
  EXPECT_FALSE(SigningKey::from_pem("k", "RS256", ec_key().private_pem()).has_value());
  EXPECT_FALSE(SigningKey::from_pem("k", "HS256", rsa_key().private_pem()).has_value());
  EXPECT_FALSE(SigningKey::from_pem("k", "none", ec_key().private_pem()).has_value());
  EXPECT_FALSE(SigningKey::from_pem("k", "RS256", "").has_value());
  EXPECT_FALSE(SigningKey::from_pem("k", "RS256", "garbage").has_value());
  const std::string pem = rsa_key().private_pem();
  EXPECT_FALSE(SigningKey::from_pem("k", "RS256", pem.substr(0, pem.size() / 2)).has_value());
  EXPECT_FALSE(
      SigningKey::from_pem("k", "RS256", public_pem(private_pkey(rsa_key()).get())).has_value());
}

TEST(SigningKey, FromPemRefusesEncryptedKeyWithoutPrompting) {
  // Without a refusing passphrase callback OpenSSL would block reading the terminal.
  PkeyPtr pkey = private_pkey(ec_key());
  BioPtr bio(BIO_new(BIO_s_mem()));
  static const char kPass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey.get(), EVP_aes_256_cbc(), kPass,
                                          static_cast<int>(sizeof(kPass) - 1), nullptr, nullptr),
            1);
  const std::string encrypted = detail::bio_contents(bio.get());
  ASSERT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  EXPECT_FALSE(SigningKey::from_pem("k", "ES256", encrypted).has_value());
}

TEST(SigningKey, SmallRsaKeyIsRefused) {
  PkeyPtr small(EVP_RSA_gen(1024));
  ASSERT_TRUE(small);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), small.get(), nullptr, nullptr, 0, nullptr, nullptr),
            1);
  EXPECT_FALSE(SigningKey::from_pem("k", "RS256", detail::bio_contents(bio.get())).has_value());
}

}  // namespace
}  // namespace latchkey::crypto

namespace latchkey::crypto {
namespace {

// Regression (found by tests/fuzz/fuzz_pem): a private key whose halves do not belong
// together (here one byte of the RSA modulus changed, so n != p*q) must not load, or every
// token it signs would fail verification at clients with no error at start-up.
TEST(SigningKey, FromPemRejectsKeyWhosePublicHalfDoesNotMatch) {
  auto good = SigningKey::generate_rs256("k1");
  std::string pem = good.private_pem();
  ASSERT_TRUE(SigningKey::from_pem("k1", "RS256", pem).has_value());
  // Flip one base64 character inside the modulus (well past the PEM header and the length
  // prefix of the first INTEGERs), keeping the PEM decodable.
  std::size_t at = pem.find('\n') + 1 + 64 + 1 + 20;
  pem[at] = pem[at] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(SigningKey::from_pem("k1", "RS256", pem).has_value());
}

// The cache answers what PublicKey::from_pem answers, for each PEM its own key.
TEST(PublicKeyCache, ReturnsTheKeyOfEachPemAndRemembersNoFailure) {
  PkeyPtr rsa = private_pkey(rsa_key());
  PkeyPtr ec = private_pkey(ec_key());
  const Certificate rsa_cert = self_signed(rsa.get());
  const Certificate ec_cert = self_signed(ec.get());
  PublicKeyCache cache(/*max_entries=*/1);
  for (int round = 0; round < 2; ++round) {
    auto a = cache.get(rsa_cert.pem);
    auto b = cache.get(ec_cert.pem);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->alg(), "RS256");
    EXPECT_EQ(a->x5t_s256(), base64url_encode(sha256(rsa_cert.der)));
    EXPECT_EQ(b->alg(), "ES256");
    EXPECT_EQ(b->x5t_s256(), base64url_encode(sha256(ec_cert.der)));
  }
  EXPECT_FALSE(cache.get("garbage"));
  EXPECT_FALSE(cache.get(rsa_cert.pem.substr(0, rsa_cert.pem.size() / 2)));
}

}  // namespace
}  // namespace latchkey::crypto
