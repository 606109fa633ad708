// Shared by the fuzz targets that need a server behind them: one sqlite::memory: database per
// process, seeded through app::Admin with one user and one confidential app, a fake clock and a
// deterministic random source (so a crashing input replays the same way from a fresh process).
//
// Inputs may name the seeded app with placeholders, since its client id and secret are only
// known once it is created: $CLIENT_ID, $CLIENT_SECRET and $BASIC (base64 of "id:secret", for an
// Authorization: Basic header). The seed corpora use them; mutations of them are fuzzed as any
// other bytes.
//
// Not thread-safe: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "app/admin.h"
#include "core/clock.h"
#include "core/random.h"
#include "crypto/crypto.h"
#include "crypto/key_sealer.h"
#include "fuzz_check.h"
#include "store/open.h"
#include "store/stores.h"

namespace latchkey::fuzz {

inline constexpr const char* kIssuer = "https://login.fuzz.test";
inline constexpr const char* kCallback = "https://client.fuzz.test/callback";
inline constexpr const char* kUsername = "fuzz@fuzz.test";
inline constexpr const char* kPassword = "fuzz-password";
// Argon2id cost kept tiny so a login attempt does not dominate an iteration.
inline constexpr uint32_t kArgon2MemoryKib = 64;
inline constexpr uint32_t kArgon2Iterations = 1;

// splitmix64: deterministic and fast; the fuzz targets need repeatability, not secrecy.
class FuzzRandom final : public Random {
 public:
  std::string bytes(std::size_t n) override {
    std::string out(n, '\0');
    for (auto& c : out) {
      state_ += 0x9E3779B97F4A7C15ull;
      uint64_t z = state_;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      c = static_cast<char>((z ^ (z >> 31)) & 0xFF);
    }
    return out;
  }

 private:
  uint64_t state_ = 0x6C61746368;
};

struct World {
  FakeClock clock;
  FuzzRandom random;
  // The signing keys' KEK: fixed, like everything else here.
  crypto::KeySealer sealer{std::string(32, 'F'), "fuzz KEK", random};
  std::unique_ptr<store::Database> db;
  std::string client_id;
  std::string client_secret;

  // Built on first use and never destroyed (libFuzzer may exit from any point).
  static World& get() {
    static World* world = [] {
      auto* w = new World;
      w->db = store::open_database("sqlite::memory:");
      app::KekSource kek(w->sealer);
      app::Admin admin(*w->db, w->random, w->clock, kek);
      app::NewUser user;
      user.username = kUsername;
      user.password = kPassword;
      user.name = "Fuzz User";
      user.argon2_memory_kib = kArgon2MemoryKib;
      user.argon2_iterations = kArgon2Iterations;
      if (!admin.create_user(user).ok()) fail("cannot create the seed user");
      app::NewApp a;
      a.name = "Fuzz App";
      a.callbacks = {kCallback, "http://127.0.0.1:9/cb"};
      a.scopes = "api refresh_token openid profile email";
      a.client_credentials_user = kUsername;
      a.allow_implicit = true;
      auto created = admin.create_app(a);
      if (!created.ok()) fail("cannot create the seed app");
      w->client_id = std::string(created->at("client_id").as_string());
      w->client_secret = std::string(created->at("client_secret").as_string());
      return w;
    }();
    return *world;
  }

  // The input with the placeholders above replaced.
  std::string expand(std::string_view in) const {
    const std::string basic = crypto::base64_encode(client_id + ":" + client_secret);
    std::string out;
    out.reserve(in.size() + 64);
    while (!in.empty()) {
      if (in.front() == '$') {
        if (in.starts_with("$CLIENT_ID")) {
          out += client_id;
          in.remove_prefix(10);
          continue;
        }
        if (in.starts_with("$CLIENT_SECRET")) {
          out += client_secret;
          in.remove_prefix(14);
          continue;
        }
        if (in.starts_with("$BASIC")) {
          out += basic;
          in.remove_prefix(6);
          continue;
        }
      }
      out.push_back(in.front());
      in.remove_prefix(1);
    }
    return out;
  }
};

}  // namespace latchkey::fuzz
