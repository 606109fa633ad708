// Failure counts shared between the nodes of one installation (oauth/throttle_relay.h): what
// one node's throttle counts, the other's counts too, through the announcements a database
// would carry (here a board that hands each announcement to both relays, as PostgreSQL's
// NOTIFY reaches every listener, the sender's included).
#include "oauth/throttle_relay.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "oauth/login_throttle.h"

namespace latchkey::oauth {
namespace {

// Announcements are delivered at commit(), as PostgreSQL delivers a transaction's NOTIFYs at
// its COMMIT: identical ones made in one transaction once only.
class Board final : public store::ChangeBoard {
 public:
  void announce(const store::Change& change) override {
    announced.push_back(change);
    for (const store::Change& c : pending_) {
      if (c == change) return;
    }
    pending_.push_back(change);
  }
  void commit() {
    for (const store::Change& c : pending_) {
      for (ThrottleRelay* r : listeners) r->hear(c);
    }
    pending_.clear();
  }
  std::vector<ThrottleRelay*> listeners;
  std::vector<store::Change> announced;

 private:
  std::vector<store::Change> pending_;
};

struct Node {
  Node(Board& board, const Clock& clock)
      : relay(board, random), throttle(clock, 50'000, 15 * 60 * 1000, &relay) {}
  crypto::OsRandom random;
  ThrottleRelay relay;
  LoginThrottle throttle;
};

TEST(ThrottleRelay, FailuresAtOneNodeDelayTheSameGuessesAtTheOther) {
  FakeClock clock;
  Board board;
  Node a(board, clock), b(board, clock);
  board.listeners = {&a.relay, &b.relay};
  const auto keys = LoginThrottle::keys_of("victim@localhost", "203.0.113.9");
  for (int i = 0; i < LoginThrottle::kFreePerUserAndAddress; ++i) {
    EXPECT_EQ(b.throttle.wait_s(keys), 0) << "failure " << i;
    a.throttle.failure(keys);
  }
  board.commit();  // all five in one transaction, as a group commit may send them
  EXPECT_GT(a.throttle.wait_s(keys), 0);
  EXPECT_EQ(b.throttle.wait_s(keys), a.throttle.wait_s(keys))
      << "node B counted node A's failures once each, as A did";

  // A success at B clears the count at both, and is announced because it cleared one.
  const std::size_t before = board.announced.size();
  clock.advance_s(60);
  b.throttle.success(keys);
  EXPECT_EQ(board.announced.size(), before + 2);  // (user, address) and user
  board.commit();
  a.throttle.failure(keys);
  EXPECT_EQ(a.throttle.wait_s(keys), 0) << "node A's count started over";
}

TEST(ThrottleRelay, ASuccessThatClearsNothingIsNotAnnounced) {
  FakeClock clock;
  Board board;
  Node a(board, clock);
  board.listeners = {&a.relay};
  a.throttle.success(LoginThrottle::keys_of("someone@localhost", "203.0.113.9"));
  EXPECT_TRUE(board.announced.empty());
}

TEST(ThrottleRelay, IgnoresItsOwnAnnouncementsAndWhatIsMalformed) {
  FakeClock clock;
  Board board;
  Node a(board, clock);
  crypto::OsRandom random;
  ThrottleRelay other(board, random);
  FailureThrottle t(clock, 100, 60'000, 5, {"login.address", &other});
  other.add(t);
  board.listeners = {&a.relay};
  t.failure(FailureThrottle::key_of("x"));
  board.commit();
  ASSERT_EQ(board.announced.size(), 1u);
  const store::Change heard = board.announced[0];
  EXPECT_EQ(heard.key.rfind(other.node_id() + ":0:login.address:f:", 0), 0u) << heard.key;
  EXPECT_FALSE(other.hear(heard)) << "its own report, counted already";
  EXPECT_TRUE(a.relay.hear(heard));

  const std::string hex(64, 'a');
  for (const std::string& bad : std::vector<std::string>{
           "node:1:login.address:x:" + hex, "node:1:nosuch:f:" + hex,
           "node:1:login.address:f:" + hex + "a", "node:1:login.address:f:" + std::string(64, 'G'),
           "node", "node:1", "node:1:login.address", "node:1:login.address:f",
           "node:login.address:f:" + hex}) {
    EXPECT_FALSE(a.relay.hear({store::Change::Kind::throttle, bad})) << bad;
  }
  EXPECT_FALSE(a.relay.hear({store::Change::Kind::user, heard.key}));
}

}  // namespace
}  // namespace latchkey::oauth
