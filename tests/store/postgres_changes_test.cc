// The announcements of the PostgreSQL backend (store/change.h, change_listener.h): every write
// that changes a record a server caches tells the watching servers, in its own transaction; a
// watch that loses its connection says so and listens again by itself. Skipped, saying so, when
// LATCHKEY_TEST_POSTGRES_URL is not set.
//
// Tests running at once on one server share its NOTIFY channel (channels are per database, the
// tests' databases are schemas of one), so a test checks that what it expects arrives, never
// that nothing else does.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/cond_var.h"
#include "core/mutex.h"
#include "postgres_fixture.h"
#include "store/change.h"
#include "store/postgres/change_listener.h"
#include "store/postgres/postgres_connection.h"
#include "store/postgres/postgres_database.h"
#include "conformance.h"

namespace latchkey::store::postgres {
namespace {

using std::chrono::milliseconds;

// What a watch told, for the test thread to wait on.
class Heard {
 public:
  ChangeHandlers handlers() {
    return {[this](const Change& c) {
              MutexLock lock(mu_);
              changes_.push_back(c);
              cv_.notify_all();
            },
            [this](bool on) {
              MutexLock lock(mu_);
              listening_.push_back(on);
              cv_.notify_all();
            }};
  }
  // Waits up to 5 s for `change`; true if it came.
  bool wait_for(const Change& change) {
    return wait([&] {
      for (const Change& c : changes_) {
        if (c == change) return true;
      }
      return false;
    });
  }
  // Waits up to 5 s until the watch said `on` `times` times in all.
  bool wait_listening(bool on, int times) {
    return wait([&] {
      int n = 0;
      for (bool b : listening_) n += b == on ? 1 : 0;
      return n >= times;
    });
  }

 private:
  template <class Pred>
  bool wait(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    MutexLock lock(mu_);
    while (!done()) {
      if (!cv_.wait_until(lock, deadline)) return done();
    }
    return true;
  }
  Mutex mu_;
  CondVar cv_;
  std::vector<Change> changes_;
  std::vector<bool> listening_;
};

constexpr char kOrg[] = "00D000000000001";
constexpr char kUser[] = "005000000000001";
constexpr char kClient[] = "3MVG9changes";

class PostgresChanges : public test::PostgresTest {
 protected:
  void SetUp() override {
    test::PostgresTest::SetUp();
    if (IsSkipped()) return;
    db_ = std::make_unique<PostgresDatabase>(url_);
    db_->create_org(testing::sample_org(kOrg, 1));
    User u = testing::sample_user(kUser, "alice@example.com");
    u.org_id = kOrg;
    ASSERT_TRUE(db_->create_user(u));
    App a = testing::sample_app(kClient);
    a.org_id = kOrg;
    a.client_credentials_user_id = kUser;
    db_->create_app(a);
    watch_ = db_->watch_changes(heard_.handlers());
    ASSERT_TRUE(heard_.wait_listening(true, 1));
  }
  void TearDown() override {
    watch_.reset();
    db_.reset();
  }

  static Token token(const std::string& hash, const std::string& family) {
    Token t = test::PostgresTest::token(hash);
    t.client_id = kClient;
    t.user_id = kUser;
    t.org_id = kOrg;
    t.family_id = family;
    return t;
  }

  std::unique_ptr<PostgresDatabase> db_;
  Heard heard_;
  std::unique_ptr<ChangeWatch> watch_;
};

TEST_F(PostgresChanges, EveryWriteThatChangesACachedRecordIsAnnounced) {
  db_->save_tokens({token("h1", "f1"), token("h2", "f2")});
  EXPECT_EQ(db_->revoke_token(SecretRef::by_hash("h1")), 1);
  EXPECT_TRUE(heard_.wait_for(Change::token("h1")));

  EXPECT_TRUE(db_->set_user_active(kUser, false));
  EXPECT_TRUE(heard_.wait_for(Change::user(kUser)));

  EXPECT_TRUE(db_->update_secret_hash(kClient, "rotated"));
  EXPECT_TRUE(heard_.wait_for(Change::app(kClient)));

  db_->save_key({"kid-1", "RS256", "lk-kek-v1:sealed", 1, 0});
  EXPECT_TRUE(heard_.wait_for(Change::signing_keys()));

  EXPECT_EQ(db_->revoke_family("f2"), 1);
  EXPECT_TRUE(heard_.wait_for(Change::all_tokens()));
}

// A replayed code revokes the tokens it bought inside the writer's transaction, which announces
// it there.
TEST_F(PostgresChanges, ARefusedRedemptionThatRevokesIsAnnounced) {
  Token refresh = token("r1", "fam");
  refresh.kind = TokenKind::refresh;
  Token other = token("a1", "fam");
  db_->save_tokens({refresh, other});
  const auto ref = SecretRef::by_hash("r1");
  ASSERT_TRUE(testing::redeem(*db_, Redemption::Kind::refresh_token, ref, "fam").is_durable());
  WriteOutcome again = testing::redeem(*db_, Redemption::Kind::refresh_token, ref, "fam");
  ASSERT_EQ(again.status, WriteOutcome::Status::already_redeemed);
  EXPECT_TRUE(heard_.wait_for(Change::all_tokens()));
}

// A database restart or failover cuts the watch's connection: it says it lost the announcements,
// reconnects by itself and says it listens again; what is announced then arrives.
TEST_F(PostgresChanges, AWatchWhoseConnectionIsCutListensAgain) {
  Connection admin(server_);
  const auto cut = admin.run(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
      " WHERE application_name = $1 AND query LIKE 'LISTEN%'",
      Params().text(temp_->name()));
  ASSERT_EQ(cut.rows(), 1);
  EXPECT_TRUE(heard_.wait_listening(false, 1));
  EXPECT_TRUE(heard_.wait_listening(true, 2));
  db_->save_tokens({token("h9", "f9")});
  EXPECT_EQ(db_->revoke_token(SecretRef::by_hash("h9")), 1);
  EXPECT_TRUE(heard_.wait_for(Change::token("h9")));
}

TEST(ChangeWire, RoundTripsEveryKindAndRejectsOtherText) {
  for (const Change& c : {Change::app("3MVG:x"), Change::user("005a"), Change::org("00D"),
                          Change::token("abc"), Change::all_tokens(), Change::signing_keys()}) {
    EXPECT_EQ(parse_change(to_wire(c)), c) << to_wire(c);
  }
  EXPECT_EQ(to_wire(Change::token("abc")), "token:abc");
  EXPECT_FALSE(parse_change("nonsense"));
  EXPECT_FALSE(parse_change("table:x"));
}

}  // namespace
}  // namespace latchkey::store::postgres
