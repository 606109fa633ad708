// A running server picks up what other processes change in its database without a signal
// (docs/deployment.md "What each node caches"): here the signing keys, rotated by another
// process (the CLI) behind the application's back, on SQLite, which announces nothing.
#include "app/change_follower.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "keys/key_ring.h"
#include "unit/support/test_support.h"

namespace latchkey::app {
namespace {

using testsupport::TestWorld;

http::Request jwks_request() {
  http::Request r;
  r.method = "GET";
  r.path = r.target = "/id/keys";
  return r;
}

// An application on a test database, and a follower of its keys checking every `key_check_ms`.
class ChangeFollowerTest : public ::testing::Test {
 protected:
  ChangeFollowerTest()
      : application_(world_.db().stores(), world_.random(), world_.clock(),
                     testsupport::test_sealer(), app_options()) {}

  std::unique_ptr<ChangeFollower> follow(int64_t key_check_ms) {
    ChangeFollower::Options fo;
    fo.key_check_ms = key_check_ms;
    return std::make_unique<ChangeFollower>(world_.db(), nullptr, application_, fo);
  }
  // As `latchkey keys rotate` does in another process: the new key's kid.
  std::string rotate(const std::string& alg) {
    return keys::KeyRing::rotate(world_.db(), testsupport::test_sealer(), world_.random(),
                                 world_.clock(), alg);
  }
  std::string jwks() { return application_.handle(jwks_request()).body; }

  TestWorld world_;
  Application application_;

 private:
  static AppOptions app_options() {
    AppOptions options;
    options.issuer = "http://issuer.test";
    return options;
  }
};

TEST_F(ChangeFollowerTest, RotatedKeysArePublishedWithoutASignal) {
  auto follower = follow(20);
  const std::string new_kid = rotate("RS256");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (follower->reloads() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(follower->reloads(), 1);
  EXPECT_NE(jwks().find(new_kid), std::string::npos) << jwks();

  // Unchanged keys are not reloaded again, however often they are checked.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(follower->reloads(), 1);
}

// A reload asked for (SIGHUP after `latchkey keys rotate`, or a key the admin API made) notes the
// keys it loaded: the checks that follow find nothing new and do not load them a second time.
TEST_F(ChangeFollowerTest, AReloadAskedForIsNotRepeatedByTheNextChecks) {
  // Long enough that no check comes between the rotation and the reload asked for.
  auto follower = follow(1000);
  const std::string new_kid = rotate("ES256");
  auto reloaded = follower->reload_keys();
  ASSERT_TRUE(reloaded) << reloaded.error().debug();
  EXPECT_NE(reloaded->find(new_kid), std::string::npos) << *reloaded;
  EXPECT_EQ(follower->reloads(), 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two checks at least
  EXPECT_EQ(follower->reloads(), 1);
  EXPECT_NE(jwks().find(new_kid), std::string::npos) << jwks();
}

}  // namespace
}  // namespace latchkey::app
