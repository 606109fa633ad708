// Signing private keys sealed under the key-encryption key (docs/operations.md "Signing keys at
// rest"): the key ring, the upgrade of plaintext keys, the admin commands and the KEK file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <string>

#include "app/admin.h"
#include "app/key_encryption.h"
#include "crypto/crypto.h"
#include "crypto/key_sealer.h"
#include "keys/key_ring.h"
#include "store/open.h"
#include "store/temp_dir.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

using keys::KeyRing;
using testsupport::test_sealer;

bool looks_like_pem(const std::string& stored) {
  return stored.find("PRIVATE KEY") != std::string::npos ||
         stored.find("-----") != std::string::npos;
}

class KeysAtRest : public ::testing::Test {
 protected:
  KeysAtRest() : db_(store::open_database("sqlite::memory:")) {}

  // A key stored as the code before sealing stored it: plaintext PKCS#8 PEM.
  std::string save_plaintext_key(const std::string& kid) {
    auto key = crypto::SigningKey::generate_es256(kid);
    db_->save_key({kid, "ES256", key.private_pem(), clock_.now_ms(), 0});
    return boost::json::serialize(key.public_jwk());
  }

  FakeClock clock_;
  crypto::OsRandom random_;
  std::unique_ptr<store::Database> db_;
  crypto::KeySealer other_{std::string(32, 'o'), "/elsewhere/other.kek", random_};
};

TEST_F(KeysAtRest, KeysMadeByTheKeyRingAreStoredSealedNotAsPem) {
  keys::KeyRing ring(*db_, test_sealer(), random_, clock_);
  auto stored = db_->list_keys();
  ASSERT_EQ(stored.size(), 2u);
  for (const auto& r : stored) {
    EXPECT_FALSE(looks_like_pem(r.private_pem)) << r.private_pem.substr(0, 40);
    EXPECT_EQ(crypto::KeySealer::kek_id_of(r.private_pem), test_sealer().id());
  }
  keys::KeyRing::rotate(*db_, test_sealer(), random_, clock_, "RS256");
  for (const auto& r : db_->list_keys()) EXPECT_FALSE(looks_like_pem(r.private_pem)) << r.kid;
}

TEST_F(KeysAtRest, AnotherKekIsRefusedNamingTheFileAndNoKeyIsMade) {
  keys::KeyRing ring(*db_, test_sealer(), random_, clock_);
  auto before = db_->list_keys();
  try {
    keys::KeyRing wrong(*db_, other_, random_, clock_);
    FAIL() << "keys opened under another KEK";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/elsewhere/other.kek"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(before[0].kid), std::string::npos) << e.what();
  }
  auto after = db_->list_keys();
  ASSERT_EQ(after.size(), before.size()) << "new keys were made over the old ones";
  for (std::size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(after[i].private_pem, before[i].private_pem);
}

TEST_F(KeysAtRest, AKeyRingNeverUsesAPlaintextKey) {
  save_plaintext_key("plainkid");
  EXPECT_THROW(keys::KeyRing(*db_, test_sealer(), random_, clock_), std::runtime_error);
}

TEST_F(KeysAtRest, PlaintextKeysAreSealedOnceKeepingKidAndPublicKey) {
  const std::string jwk = save_plaintext_key("oldkid1");
  EXPECT_EQ(keys::KeyRing::seal_plaintext_keys(*db_, test_sealer()), 1);
  EXPECT_EQ(keys::KeyRing::seal_plaintext_keys(*db_, test_sealer()), 0) << "not idempotent";
  auto stored = db_->list_keys();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].kid, "oldkid1");
  EXPECT_FALSE(looks_like_pem(stored[0].private_pem));
  // The ring loads the sealed key as the same key (same kid, same public JWK); it makes no
  // RS256 key since the store is not empty, so only ES256 is asked for.
  keys::KeyRing ring(*db_, test_sealer(), random_, clock_);
  EXPECT_EQ(ring.signing_key("ES256").kid(), "oldkid1");
  EXPECT_EQ(boost::json::serialize(ring.signing_key("ES256").public_jwk()), jwk);
}

TEST_F(KeysAtRest, BootstrapUpgradesAPlaintextDatabase) {
  save_plaintext_key("oldkid2");
  bootstrap(*db_, test_sealer(), random_, clock_);
  for (const auto& r : db_->list_keys()) EXPECT_FALSE(looks_like_pem(r.private_pem)) << r.kid;
}

TEST_F(KeysAtRest, AdminCommandsStoreSealedKeysAndListTheirKek) {
  KekSource kek{test_sealer()};
  Admin admin(*db_, random_, clock_, kek);
  NewUser u;
  u.username = "alice@localhost";
  u.password = "a long enough password";
  u.argon2_memory_kib = 64;
  u.argon2_iterations = 1;
  ASSERT_TRUE(admin.create_user(u).ok());
  ASSERT_TRUE(admin.rotate_key("ES256").ok());
  ASSERT_EQ(db_->list_keys().size(), 3u);
  for (const auto& r : db_->list_keys()) EXPECT_FALSE(looks_like_pem(r.private_pem)) << r.kid;
  const auto listed = admin.list_keys();
  for (const auto& k : listed.at("keys").as_array()) {
    EXPECT_EQ(k.at("key_encryption_key_id").as_string(), test_sealer().id());
  }
}

TEST_F(KeysAtRest, RewrapSealsEveryKeyUnderTheNewKekKeepingKids) {
  KekSource kek{test_sealer()};
  Admin admin(*db_, random_, clock_, kek);
  ASSERT_TRUE(admin.rotate_key("RS256").ok());  // one retired key too
  keys::KeyRing before(*db_, test_sealer(), random_, clock_);
  KekSource fresh{other_};
  auto out = admin.rewrap_keys(fresh);
  ASSERT_TRUE(out.ok()) << out.error().description();
  EXPECT_EQ(out->at("rewrapped").as_int64(), 3);
  EXPECT_EQ(out->at("key_encryption_key_id").as_string(), other_.id());
  for (const auto& r : db_->list_keys()) {
    EXPECT_EQ(crypto::KeySealer::kek_id_of(r.private_pem), other_.id()) << r.kid;
  }
  EXPECT_THROW(keys::KeyRing(*db_, test_sealer(), random_, clock_), std::runtime_error);
  keys::KeyRing after(*db_, other_, random_, clock_);
  EXPECT_EQ(after.jwks_json(), before.jwks_json()) << "rewrap changed the published keys";
  // Run again (as after an interruption): nothing left to do.
  auto again = admin.rewrap_keys(fresh);
  ASSERT_TRUE(again.ok()) << again.error().description();
  EXPECT_EQ(again->at("rewrapped").as_int64(), 0);
}

TEST_F(KeysAtRest, RewrapWithTheWrongCurrentKekChangesNothing) {
  keys::KeyRing ring(*db_, test_sealer(), random_, clock_);
  auto before = db_->list_keys();
  KekSource wrong{other_};
  Admin admin(*db_, random_, clock_, wrong);
  crypto::KeySealer third(std::string(32, '3'), "/new.kek", random_);
  KekSource fresh{third};
  auto out = admin.rewrap_keys(fresh);
  ASSERT_FALSE(out.ok());
  auto after = db_->list_keys();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(after[i].private_pem, before[i].private_pem);
}

TEST(KekFileFor, NamedFileOrBesideTheSqliteDatabase) {
  EXPECT_EQ(*kek_file_for("sqlite:/var/lib/lk.db", ""), "/var/lib/lk.db.kek");
  EXPECT_EQ(*kek_file_for("sqlite:lk.db", ""), "lk.db.kek");
  EXPECT_EQ(*kek_file_for("sqlite:/var/lib/lk.db", "/etc/lk.kek"), "/etc/lk.kek");
  EXPECT_EQ(*kek_file_for("sqlite::memory:", ""), "");
  // A shared database has no "beside": the file must be named.
  auto pg = kek_file_for("postgresql://lk@db/lk", "");
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.error().description().find("--key-encryption-key-file"), std::string::npos);
  EXPECT_EQ(*kek_file_for("postgresql://lk@db/lk", "/etc/lk.kek"), "/etc/lk.kek");
}

TEST(KekFile, IsCreatedMode0600AndReadBackTheSame) {
  store::test::TempDir dir;
  crypto::OsRandom random;
  const std::string path = dir.file("lk.db.kek");
  auto made = read_or_create_kek_file(path, random);
  ASSERT_TRUE(made.ok()) << made.error().description();
  EXPECT_EQ(made->size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, crypto::KeySealer::kek_file_text(*made));
  auto again = read_or_create_kek_file(path, random);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *made) << "an existing KEK file was replaced";
}

TEST(KekFile, AFileOfTheWrongFormatIsRefusedNamingIt) {
  store::test::TempDir dir;
  crypto::OsRandom random;
  const std::string path = dir.file("bad.kek");
  std::ofstream(path) << "not a key\n";
  auto r = read_or_create_kek_file(path, random);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().description().find(path), std::string::npos) << r.error().description();
  EXPECT_NE(r.error().description().find("64 hex"), std::string::npos);
}

TEST(KekFile, AMissingFileIsNotCreatedForADatabaseWhoseKeysAreSealed) {
  store::test::TempDir dir;
  crypto::OsRandom random;
  FakeClock clock;
  auto db = store::open_database("sqlite::memory:");
  keys::KeyRing ring(*db, test_sealer(), random, clock);
  const std::string path = dir.file("moved.db.kek");
  KekSource kek(path, random);
  auto s = kek.sealer(db.get());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().description().find(path), std::string::npos) << s.error().description();
  EXPECT_NE(s.error().description().find("does not exist"), std::string::npos);
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "a new KEK file was made for sealed keys";
  // An empty database gets its KEK file on first use.
  auto empty = store::open_database("sqlite::memory:");
  KekSource fresh(path, random);
  EXPECT_TRUE(fresh.sealer(empty.get()).ok());
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace latchkey::app
