// AES-256-GCM and the sealed form of the signing keys (docs/operations.md "Signing keys at rest").
#include "crypto/key_sealer.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <string>

#include "crypto/aead.h"
#include "crypto/crypto.h"

namespace latchkey::crypto {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i < h.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  }
  return out;
}

const std::string kPem =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49...\n"
    "-----END PRIVATE KEY-----\n";

TEST(Aes256Gcm, MatchesTheGcmSpecificationTestVectors) {
  // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14.
  const std::string key(32, '\0'), nonce(12, '\0');
  EXPECT_EQ(aes256gcm_seal(key, nonce, "", ""), unhex("530f8afbc74536b9a963b4f1c4cb738b"));
  EXPECT_EQ(aes256gcm_seal(key, nonce, std::string(16, '\0'), ""),
            unhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"));
  auto opened = aes256gcm_open(
      key, nonce, unhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"), "");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, std::string(16, '\0'));
}

TEST(Aes256Gcm, RefusesAnyChangeAndWrongSizes) {
  const std::string key(32, 'k'), nonce(12, 'n');
  const std::string sealed = aes256gcm_seal(key, nonce, "secret", "aad");
  EXPECT_EQ(aes256gcm_open(key, nonce, sealed, "aad"), std::optional<std::string>("secret"));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    EXPECT_FALSE(aes256gcm_open(key, nonce, bad, "aad")) << "byte " << i;
  }
  EXPECT_FALSE(aes256gcm_open(key, nonce, sealed, "aaD"));
  EXPECT_FALSE(aes256gcm_open(std::string(32, 'K'), nonce, sealed, "aad"));
  EXPECT_FALSE(aes256gcm_open(key, std::string(12, 'N'), sealed, "aad"));
  EXPECT_FALSE(aes256gcm_open(key, nonce, sealed.substr(0, 15), "aad"));
  EXPECT_FALSE(aes256gcm_open(std::string(31, 'k'), nonce, sealed, "aad"));
  EXPECT_THROW(aes256gcm_seal(std::string(16, 'k'), nonce, "x", ""), std::invalid_argument);
  EXPECT_THROW(aes256gcm_seal(key, std::string(16, 'n'), "x", ""), std::invalid_argument);
}

class KeySealerTest : public ::testing::Test {
 protected:
  OsRandom random_;
  KeySealer sealer_{std::string(32, 'a'), "/etc/latchkey/a.kek", random_};
  KeySealer other_{std::string(32, 'b'), "/etc/latchkey/b.kek", random_};
};

TEST_F(KeySealerTest, RoundTripsAndTheStoredFormIsNoLongerPem) {
  std::string sealed = sealer_.seal("kid1", "RS256", kPem);
  EXPECT_TRUE(sealed.starts_with("lk-kek-v1:" + sealer_.id() + ":")) << sealed;
  EXPECT_EQ(sealed.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(sealed.find("MIGHAgEA"), std::string::npos);
  EXPECT_TRUE(KeySealer::is_sealed(sealed));
  EXPECT_FALSE(KeySealer::is_sealed(kPem));
  EXPECT_EQ(KeySealer::kek_id_of(sealed), sealer_.id());
  auto opened = sealer_.open("kid1", "RS256", sealed);
  ASSERT_TRUE(opened.ok()) << opened.error().description();
  EXPECT_EQ(*opened, kPem);
  // A fresh nonce each time: the same key sealed twice gives two different envelopes.
  EXPECT_NE(sealer_.seal("kid1", "RS256", kPem), sealed);
}

TEST_F(KeySealerTest, TheKekIdIsAPrefixOfItsSha256) {
  EXPECT_EQ(sealer_.id(), sha256_hex(std::string(32, 'a')).substr(0, 16));
  EXPECT_NE(sealer_.id(), other_.id());
}

TEST_F(KeySealerTest, AnotherKekIsRefusedByItsId) {
  auto opened = other_.open("kid1", "RS256", sealer_.seal("kid1", "RS256", kPem));
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().description().find(sealer_.id()), std::string::npos)
      << opened.error().description();
}

TEST_F(KeySealerTest, AnotherKekPassedOffUnderThisKeksIdDoesNotAuthenticate) {
  // Relabel an envelope of the other KEK with this KEK's id: the id is in the AAD, and the
  // key is wrong anyway.
  std::string sealed = other_.seal("kid1", "RS256", kPem);
  sealed.replace(10, 16, sealer_.id());
  EXPECT_FALSE(sealer_.open("kid1", "RS256", sealed).ok());
}

TEST_F(KeySealerTest, TamperedCiphertextIsRefused) {
  const std::string sealed = sealer_.seal("kid1", "RS256", kPem);
  const std::size_t body = std::string("lk-kek-v1:").size() + 17;
  for (std::size_t i = body; i < sealed.size(); i += 7) {
    std::string bad = sealed;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(sealer_.open("kid1", "RS256", bad).ok()) << "character " << i;
  }
  EXPECT_FALSE(sealer_.open("kid1", "RS256", sealed.substr(0, sealed.size() - 4)).ok());
  EXPECT_FALSE(sealer_.open("kid1", "RS256", "lk-kek-v1:" + sealer_.id() + ":").ok());
  EXPECT_FALSE(sealer_.open("kid1", "RS256", "lk-kek-v1:" + sealer_.id() + ":!!!!").ok());
  EXPECT_FALSE(sealer_.open("kid1", "RS256", kPem).ok()) << "plaintext is never accepted";
}

TEST_F(KeySealerTest, TheEnvelopeIsBoundToItsKidAndAlg) {
  const std::string sealed = sealer_.seal("kid1", "RS256", kPem);
  EXPECT_FALSE(sealer_.open("kid2", "RS256", sealed).ok()) << "moved to another row";
  EXPECT_FALSE(sealer_.open("kid1", "ES256", sealed).ok()) << "relabelled with another alg";
  // Length-prefixed parts: moving bytes between kid and alg changes the AAD.
  EXPECT_FALSE(sealer_.open("kid1R", "S256", sealed).ok());
  EXPECT_TRUE(sealer_.open("kid1", "RS256", sealed).ok());
}

TEST(KekFile, FormatIs64HexCharactersAndAtMostANewline) {
  const std::string kek = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const std::string text = KeySealer::kek_file_text(kek);
  EXPECT_EQ(text, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  EXPECT_EQ(KeySealer::parse_kek_file(text), kek);
  EXPECT_EQ(KeySealer::parse_kek_file(text.substr(0, 64)), kek);
  EXPECT_FALSE(KeySealer::parse_kek_file(""));
  EXPECT_FALSE(KeySealer::parse_kek_file(text.substr(0, 62) + "\n"));    // 31 bytes
  EXPECT_FALSE(KeySealer::parse_kek_file(text.substr(0, 64) + "00\n"));  // 33 bytes
  EXPECT_FALSE(KeySealer::parse_kek_file(text + "\n"));                  // two newlines
  EXPECT_FALSE(KeySealer::parse_kek_file("g" + text.substr(1)));         // not hex
  EXPECT_FALSE(KeySealer::parse_kek_file(std::string(32, 'x')));         // raw bytes
}

// The derived key is RFC 5869's HKDF-Expand of the KEK, checked here against OpenSSL's own
// HKDF; the same on every node given the KEK, different for another purpose or another KEK.
TEST_F(KeySealerTest, DerivedKeysAreHkdfExpandOfTheKekPerPurpose) {
  const std::string csrf = sealer_.derive_key("csrf v1");
  ASSERT_EQ(csrf.size(), 32u);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  ASSERT_NE(ctx, nullptr);
  const std::string kek(32, 'a');
  const std::string info = "latchkey csrf v1";
  unsigned char out[32];
  std::size_t out_len = sizeof out;
  ASSERT_EQ(EVP_PKEY_derive_init(ctx), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_hkdf_mode(ctx, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set1_hkdf_key(ctx, reinterpret_cast<const unsigned char*>(kek.data()),
                                       static_cast<int>(kek.size())),
            1);
  ASSERT_EQ(EVP_PKEY_CTX_add1_hkdf_info(ctx, reinterpret_cast<const unsigned char*>(info.data()),
                                        static_cast<int>(info.size())),
            1);
  ASSERT_EQ(EVP_PKEY_derive(ctx, out, &out_len), 1);
  EVP_PKEY_CTX_free(ctx);
  EXPECT_EQ(csrf, std::string(reinterpret_cast<const char*>(out), out_len));

  KeySealer same_kek(std::string(32, 'a'), "/elsewhere/a.kek", random_);
  EXPECT_EQ(same_kek.derive_key("csrf v1"), csrf);
  EXPECT_NE(sealer_.derive_key("csrf v2"), csrf);
  EXPECT_NE(other_.derive_key("csrf v1"), csrf);
}

}  // namespace
}  // namespace latchkey::crypto
