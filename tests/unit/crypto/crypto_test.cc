#include "crypto/crypto.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace latchkey::crypto {
namespace {

std::string hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

TEST(Crypto, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(hex(sha256("abc")), sha256_hex("abc"));
}

TEST(Crypto, HexEncodeIsLowercaseTwoCharactersAByte) {
  EXPECT_EQ(hex_encode(std::string("\x00\x0f\xf0\xff", 4)), "000ff0ff");
  EXPECT_EQ(hex_encode(""), "");
}

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HmacSha256MatchesRfc4231Case6KeyLongerThanABlock) {
  // A key over 64 bytes is hashed first (RFC 2104 §2); each use starts from a shared context.
  EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'),
                            "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HashesAgreeAcrossThreads) {
  // The algorithm objects are fetched once and shared: threads hashing at the same time must
  // each get the right answer.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&wrong] {
      for (int i = 0; i < 2000; ++i) {
        if (hex(hmac_sha256("Jefe", "what do ya want for nothing?")) !=
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" ||
            sha256_hex("abc") !=
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Crypto, HmacSha256AcceptsEmptyKey) {
  // Well-known HMAC-SHA256("", "") value.
  EXPECT_EQ(hex(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Crypto, Base64MatchesRfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Crypto, Base64UrlOmitsPaddingAndUsesUrlAlphabet) {
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
}

TEST(Crypto, Base64UrlRoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(base64url_decode(base64url_encode(data)), data) << i;
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << i;
    data += static_cast<char>((i * 37 + 11) & 0xFF);
  }
}

TEST(Crypto, Base64UrlAcceptsOptionalPadding) {
  EXPECT_EQ(base64url_decode("Zg"), "f");
  EXPECT_EQ(base64url_decode("Zg=="), "f");
  EXPECT_EQ(base64url_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm8"), "fo");
}

TEST(Crypto, Base64UrlRejectsInvalidInput) {
  const std::vector<std::string> bad = {
      "Z",      // len % 4 == 1 cannot encode whole bytes
      "Zm9vY",  // same, after full quanta
      "Zg=",    // padding that does not complete the quantum
      "Zg===",  // too much padding
      "=",      // padding alone
      "Zm+v",   // standard alphabet character in base64url
      "Zm/v",
      "Zm 9v",  // whitespace
      "Zm9v\n",
      "Zh",  // non-zero unused bits (RFC 4648 §3.5)
      "Zm9=",
      "Z=g=",  // padding in the middle
      std::string("Zm\0v", 4),
      "\xc3\xa9\xc3\xa9",
  };
  for (const auto& text : bad) EXPECT_FALSE(base64url_decode(text).has_value()) << text;
  EXPECT_FALSE(base64_decode("Zm-v").has_value());
  EXPECT_FALSE(base64_decode("Zm_v").has_value());
}

TEST(Crypto, ConstantTimeEqualComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(Crypto, OsRandomReturnsRequestedLength) {
  OsRandom random;
  EXPECT_EQ(random.bytes(0).size(), 0u);
  EXPECT_EQ(random.bytes(1).size(), 1u);
  EXPECT_EQ(random.bytes(4096).size(), 4096u);
  EXPECT_NE(random.bytes(32), random.bytes(32));
}

// Pooled requests are served from a page drawn at once: across several refills no value repeats,
// and requests above the pooled size go to the generator directly.
TEST(Crypto, OsRandomPooledBytesNeverRepeatAcrossRefills) {
  OsRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {  // 2000 x 32 bytes: about 16 pages
    seen.insert(random.bytes(32));
    seen.insert(random.bytes(OsRandom::kPooledMax));
    seen.insert(random.bytes(OsRandom::kPooledMax + 1));
  }
  EXPECT_EQ(seen.size(), 6000u);
}

// A forked child must not hand out the bytes its parent hands out next: the pool's page is
// zeroed in the child (MADV_WIPEONFORK), which then draws its own.
TEST(Crypto, OsRandomForkedChildDrawsBytesOfItsOwn) {
  OsRandom random;
  (void)random.bytes(32);  // the pool now holds a page the parent has started on
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    const std::string mine = random.bytes(32);
    const bool written = write(fds[1], mine.data(), mine.size()) == 32;
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  std::string from_child(32, '\0');
  std::size_t got = 0;
  while (got < 32) {
    const ssize_t r = read(fds[0], from_child.data() + got, 32 - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_EQ(got, 32u);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(hex(from_child), hex(random.bytes(32)));
}

TEST(Crypto, RandomTokenIs43Base64UrlCharsAndDistinct) {
  OsRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string token = random_token(random);
    ASSERT_EQ(token.size(), 43u);
    ASSERT_EQ(base64url_decode(token)->size(), 32u);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(random_token(random, 16).size(), 22u);
}

}  // namespace
}  // namespace latchkey::crypto
