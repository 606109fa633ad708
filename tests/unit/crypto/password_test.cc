#include "crypto/password.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace latchkey::crypto {
namespace {

// Small costs keep the suite fast; production uses the OWASP defaults.
constexpr Argon2Params kFast{.memory_kib = 1024, .iterations = 1, .parallelism = 1};

TEST(PasswordHasher, HashIsArgon2idPhcString) {
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  const std::string phc = hasher.hash("correct horse battery staple");
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << phc;
  EXPECT_EQ(phc.find('\0'), std::string::npos);
}

TEST(PasswordHasher, VerifiesCorrectPassword) {
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  const std::string phc = hasher.hash("correct horse battery staple");
  EXPECT_TRUE(hasher.verify(phc, "correct horse battery staple"));
}

TEST(PasswordHasher, RefusesWrongPassword) {
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  const std::string phc = hasher.hash("correct horse battery staple");
  EXPECT_FALSE(hasher.verify(phc, "correct horse battery stapl"));
  EXPECT_FALSE(hasher.verify(phc, ""));
  EXPECT_FALSE(hasher.verify(phc, std::string("correct horse battery staple\0", 29)));
}

TEST(PasswordHasher, SaltMakesEqualPasswordsHashDifferently) {
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  const std::string a = hasher.hash("pw");
  const std::string b = hasher.hash("pw");
  EXPECT_NE(a, b);
  EXPECT_TRUE(hasher.verify(a, "pw"));
  EXPECT_TRUE(hasher.verify(b, "pw"));
}

TEST(PasswordHasher, EmptyPasswordHashesAndVerifies) {
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  const std::string phc = hasher.hash("");
  EXPECT_TRUE(hasher.verify(phc, ""));
  EXPECT_FALSE(hasher.verify(phc, "x"));
}

TEST(PasswordHasher, VerifiesHashMadeWithOtherParams) {
  // Parameters travel in the PHC string, so raising costs later keeps old hashes valid.
  OsRandom random;
  const std::string phc =
      PasswordHasher(random, {.memory_kib = 2048, .iterations = 2, .parallelism = 2}).hash("pw");
  EXPECT_TRUE(PasswordHasher(random, kFast).verify(phc, "pw"));
}

TEST(PasswordHasher, RefusesMalformedPhcWithoutCrashing) {
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  const std::string good = hasher.hash("pw");
  const std::vector<std::string> bad = {
      "",
      "pw",
      "$",
      "$argon2id$",
      "$argon2id$v=19$",
      "$argon2id$v=19$m=1024,t=1,p=1$",
      "$argon2id$v=19$m=1024,t=1,p=1$$",
      "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$",
      "$argon2id$v=19$m=,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1024,t=4294967295,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=19$m=1024,t=1,p=1$!!!!$aGFzaGhhc2hoYXNoaGFzaA",
      "$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
      good.substr(0, good.size() - 5),
      good + "AAAA",
      good + std::string("\0", 1),
      std::string(100000, '$'),
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
  };
  for (const auto& phc : bad) EXPECT_FALSE(hasher.verify(phc, "pw")) << phc;
}

TEST(PasswordHasher, RefusesNonArgon2idVariants) {
  // Same parameters and encoding, but argon2i / argon2d: only Argon2id is accepted.
  OsRandom random;
  PasswordHasher hasher(random, kFast);
  std::string phc = hasher.hash("pw");
  ASSERT_TRUE(hasher.verify(phc, "pw"));
  std::string as_i = phc;
  as_i.replace(0, 10, "$argon2i$");
  std::string as_d = phc;
  as_d.replace(0, 10, "$argon2d$");
  EXPECT_FALSE(hasher.verify(as_i, "pw"));
  EXPECT_FALSE(hasher.verify(as_d, "pw"));
}

}  // namespace
}  // namespace latchkey::crypto
