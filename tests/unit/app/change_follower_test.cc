// A running server picks up what other processes change in its database without a signal
// (docs/deployment.md "What each node caches"): here the signing keys, rotated by another
// process (the CLI) behind the application's back, on SQLite, which announces nothing.
#include "app/change_follower.h"

#include <gtest/gtest.h>

#include <chrono>
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

TEST(ChangeFollower, RotatedKeysArePublishedWithoutASignal) {
  TestWorld world;
  AppOptions options;
  options.issuer = "http://issuer.test";
  Application application(world.db().stores(), world.random(), world.clock(),
                          testsupport::test_sealer(), options);
  ChangeFollower::Options fo;
  fo.key_check_ms = 20;
  ChangeFollower follower(world.db(), nullptr, application, fo);

  const std::string new_kid = keys::KeyRing::rotate(world.db(), testsupport::test_sealer(),
                                                    world.random(), world.clock(), "RS256");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (follower.reloads() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(follower.reloads(), 1);
  const std::string jwks = application.handle(jwks_request()).body;
  EXPECT_NE(jwks.find(new_kid), std::string::npos) << jwks;

  // Unchanged keys are not reloaded again, however often they are checked.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(follower.reloads(), 1);
}

// A reload asked for (SIGHUP after `latchkey keys rotate`, or a key the admin API made) notes the
// keys it loaded: the checks that follow find nothing new and do not load them a second time.
TEST(ChangeFollower, AReloadAskedForIsNotRepeatedByTheNextChecks) {
  TestWorld world;
  AppOptions options;
  options.issuer = "http://issuer.test";
  Application application(world.db().stores(), world.random(), world.clock(),
                          testsupport::test_sealer(), options);
  ChangeFollower::Options fo;
  // Long enough that no check comes between the rotation and the reload asked for.
  fo.key_check_ms = 1000;
  ChangeFollower follower(world.db(), nullptr, application, fo);

  const std::string new_kid = keys::KeyRing::rotate(world.db(), testsupport::test_sealer(),
                                                    world.random(), world.clock(), "ES256");
  auto reloaded = follower.reload_keys();
  ASSERT_TRUE(reloaded) << reloaded.error().debug();
  EXPECT_NE(reloaded->find(new_kid), std::string::npos) << *reloaded;
  EXPECT_EQ(follower.reloads(), 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two checks at least
  EXPECT_EQ(follower.reloads(), 1);
  const std::string jwks = application.handle(jwks_request()).body;
  EXPECT_NE(jwks.find(new_kid), std::string::npos) << jwks;
}

}  // namespace
}  // namespace latchkey::app
