// PostgreSQL-specific behaviour the conformance suite cannot see: migrations, durable sessions,
// the bounded connection pool, lost connections, ids shared by several handles, error messages
// (the writer's group commit and the TEXT[] encoding: postgres_writer_test.cc). The tests that need
// a server are skipped, saying so, when LATCHKEY_TEST_POSTGRES_URL is not set.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "postgres_fixture.h"
#include "postgres_server.h"
#include "store/postgres/group_commit.h"
#include "store/postgres/migrations.h"
#include "store/postgres/postgres_array.h"
#include "store/postgres/postgres_connection.h"
#include "store/postgres/postgres_database.h"
#include "store/open.h"

namespace latchkey::store::postgres {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class PostgresBackend : public test::PostgresTest {
 protected:
  // Cuts every connection latchkey has open to the test's database, as a server restart would,
  // and returns how many there were. Waits until their server processes are gone.
  int cut_connections() {
    Connection admin(server_);
    return static_cast<int>(admin
                                .run("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                                     " WHERE application_name = $1",
                                     Params().text(temp_->name()))
                                .rows());
  }
  // Returns once one of latchkey's connections to the test's database waits for a lock (a
  // statement blocked behind a table another session locked), or after 5 s.
  void wait_for_a_lock_wait() {
    Connection watcher(server_);
    for (int i = 0; i < 500; ++i) {
      if (watcher
              .run("SELECT 1 FROM pg_stat_activity WHERE application_name = $1"
                   " AND wait_event_type = 'Lock'",
                   Params().text(temp_->name()))
              .rows() == 1) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
};

TEST_F(PostgresBackend, NewDatabaseIsMigratedToTheLatestVersionAndReopeningKeepsIt) {
  {
    PostgresDatabase db(url_);
    db.create_org({"00D000000000001", "Acme", 1});
  }
  Connection conn(url_);
  EXPECT_EQ(schema_version(conn), latest_schema_version());
  migrate(conn);  // would fail on CREATE TABLE if it ran migration 1 again
  PostgresDatabase again(url_);
  EXPECT_EQ(again.default_org()->name, "Acme");
  EXPECT_EQ(schema_version(conn), latest_schema_version());
}

// Migration 2 adds apps.allow_password_flow: an app written by a version-1 build keeps every
// field and does not allow the username-password flow.
TEST_F(PostgresBackend, Version1AppsSurviveTheMigrationWithoutThePasswordFlow) {
  { PostgresDatabase db(url_); }
  {
    Connection conn(url_);
    // What migration 2 and the ones after it added.
    conn.exec("DROP TABLE admin_tokens");
    conn.exec("ALTER TABLE apps DROP COLUMN allow_password_flow");
    conn.exec("ALTER TABLE tokens DROP COLUMN rotated_ms");
    conn.exec("UPDATE latchkey_schema SET version = 1");
    conn.exec(
        "INSERT INTO apps (client_id, id, org_id, name, secret_hash, callbacks, scopes,"
        " pkce_required, require_secret_web_server, require_secret_refresh, admin_approved_only,"
        " cert_pem, client_credentials_user_id, refresh_policy, refresh_ttl_s,"
        " access_token_ttl_s, allow_implicit, mtls_cert_pem, token_format, created_ms,"
        " mtls_subject_dn, token_endpoint_auth_method)"
        " VALUES ('3MVG9v1', '0Ha000000000001', '00D000000000001', 'One', 'h', '{}', '{api}',"
        " false, true, true, false, '', '', 'until_revoked', 0, 7200, false, '', 'jwt', 1, '',"
        " 'client_secret_post')");
  }
  PostgresDatabase db(url_);
  Connection conn(url_);
  EXPECT_EQ(schema_version(conn), latest_schema_version());
  auto app = db.find_app("3MVG9v1");
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->name, "One");
  EXPECT_EQ(app->scopes, std::vector<std::string>{"api"});
  EXPECT_EQ(app->token_endpoint_auth_method, ClientAuthMethod::client_secret_post);
  EXPECT_FALSE(app->allow_password_flow);
}

// Migration 3 adds tokens.rotated_ms (the refresh reuse grace window): a refresh token a
// version-2 build rotated reads 0, outside every window, so its reuse still revokes the family.
TEST_F(PostgresBackend, Version2RotatedTokensStayUsedUpWhateverTheGraceWindow) {
  { PostgresDatabase db(url_); }
  {
    Connection conn(url_);
    conn.exec("DROP TABLE admin_tokens");  // migration 4
    conn.exec("ALTER TABLE tokens DROP COLUMN rotated_ms");
    conn.exec("UPDATE latchkey_schema SET version = 2");
    conn.exec(
        "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, org_id, scopes, family_id,"
        " code_key, issued_ms, expires_ms, revoked, rotated, cnf_x5t, auth_time_s)"
        " VALUES (77, 'v2-rotated', 'refresh', '3MVGold', '005old', '00Dold', '{api}',"
        " 'fam-v2', '', 7, 0, false, true, '', 0)");
  }
  PostgresDatabase db(url_);
  Connection conn(url_);
  EXPECT_EQ(schema_version(conn), latest_schema_version());
  auto old = db.find_token(SecretRef{77, "v2-rotated"});
  ASSERT_TRUE(old.has_value());
  EXPECT_TRUE(old->rotated);
  EXPECT_EQ(old->rotated_ms, 0);
  Redemption r{Redemption::Kind::refresh_token, old->ref(), "fam-v2"};
  r.now_ms = 1'700'000'000'000;
  r.reuse_since_ms = r.now_ms - 300'000;
  EXPECT_EQ(db.redeem_later(r, {})->wait().status, WriteOutcome::Status::already_redeemed);
  EXPECT_TRUE(db.find_token(old->ref())->revoked);
}

TEST_F(PostgresBackend, RefusesADatabaseFromANewerBuild) {
  { PostgresDatabase db(url_); }
  Connection conn(url_);
  conn.exec("UPDATE latchkey_schema SET version = " + std::to_string(latest_schema_version() + 1));
  try {
    PostgresDatabase db(url_);
    FAIL() << "opened a database of a newer schema";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this build"), std::string::npos) << e.what();
  }
}

// A token handed to a client must survive a crash of the database server: a session whose
// default is synchronous_commit=off (set for a role or a database by someone tuning for speed)
// is switched back on.
TEST_F(PostgresBackend, ConnectionsCommitDurablyWhateverTheSessionDefault) {
  const std::string lax = server_ + (server_.find('?') == std::string::npos ? "?" : "&") +
                          "options=-c%20synchronous_commit%3Doff";
  Connection conn(lax);
  EXPECT_EQ(conn.exec("SHOW synchronous_commit").text(0, 0), "on");
}

TEST_F(PostgresBackend, PreauthorizationForAnUnknownAppThrowsStoreError) {
  PostgresDatabase db(url_);
  EXPECT_THROW(
      db.add_preauthorization({"3MVG9missing", Preauthorization::Kind::profile, "Standard User"}),
      StoreError);
}

// Errors reach logs and 503 answers: PostgreSQL's DETAIL quotes the row ("Key (token_hash)=(…)
// already exists"), which is a secret's hash, so only the primary message is kept.
TEST_F(PostgresBackend, ErrorsDoNotQuoteTheValuesOfTheRow) {
  PostgresDatabase db(url_);
  db.save_tokens({token("hash-of-a-secret-7f3a")});
  try {
    db.save_tokens({token("hash-of-a-secret-7f3a")});
    FAIL() << "a duplicate hash was stored";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()).find("7f3a"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("23505"), std::string::npos) << e.what();
  }
}

// A burst of callers never opens more connections than the pool's size: the one beyond waits
// for a free connection, at most pool_wait, then fails with an error that says why.
TEST_F(PostgresBackend, AFullPoolMakesACallWaitThenFailClearly) {
  PostgresDatabase db(url_, PostgresDatabase::Options{1, milliseconds(300)});
  db.create_org({"00D000000000001", "Acme", 1});
  // Another session locks the tokens table, so a revocation holds the only connection.
  Connection locker(temp_->url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  std::thread held([&] { EXPECT_EQ(db.revoke_by_user("005000000000001"), 0); });
  wait_for_a_lock_wait();
  const auto start = steady_clock::now();
  try {
    (void)db.find_org("00D000000000001");
    ADD_FAILURE() << "a call got a connection beyond the pool's size";
  } catch (const StoreError& e) {
    EXPECT_GE(steady_clock::now() - start, milliseconds(300));
    EXPECT_NE(std::string(e.what()).find("stayed busy for 300 ms"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.open_connections(), 1u);
  locker.exec("ROLLBACK");
  held.join();
  EXPECT_EQ(db.find_org("00D000000000001")->name, "Acme") << "the connection came back";
}

// Row ids come in blocks, and the next blocks are fetched by a writer once half are used: a node
// whose pool is busy (every connection held by slow reads) goes on handing out ids without
// waiting for a pooled connection.
TEST_F(PostgresBackend, IdsKeepComingWhileEveryPooledConnectionIsBusy) {
  PostgresDatabase db(url_, PostgresDatabase::Options{1, milliseconds(300)});
  int64_t last = db.allocate_id();  // the first blocks, through the pool
  Connection locker(temp_->url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  std::thread held([&] { EXPECT_EQ(db.revoke_by_user("005000000000001"), 0); });
  wait_for_a_lock_wait();
  // Three fetches' worth: the first fetch's blocks and two more.
  for (int i = 0; i < 3 * 16 * 64; ++i) {
    const int64_t id = db.allocate_id();
    ASSERT_GT(id, last) << "after " << i << " ids";
    last = id;
  }
  locker.exec("ROLLBACK");
  held.join();
}

// find_code_later's reads (code_reader.h) borrow a pooled connection per batch: when none comes
// free within pool_wait, the batch's reads are answered with the StoreError (the exchange then
// answers 503), the reader goes on, and the next read is answered once a connection is free.
TEST_F(PostgresBackend, ACodeReadThatGetsNoConnectionFailsAndTheNextIsAnswered) {
  PostgresDatabase db(url_, PostgresDatabase::Options{1, milliseconds(300)});
  AuthCode code;
  code.id = db.allocate_code_id();
  code.code_hash = "code-read-later";
  code.client_id = "3MVG9client";
  code.user_id = "005000000000001";
  code.scopes = {"api"};
  db.save_code(code);
  struct Found {
    std::optional<AuthCode> code;
    bool failed = false;
  };
  auto ask = [&db, &code] {
    auto promise = std::make_shared<std::promise<Found>>();
    auto found = promise->get_future();
    db.find_code_later(code.ref(), [promise](std::optional<AuthCode> c, std::exception_ptr e) {
      promise->set_value({std::move(c), e != nullptr});
    });
    return found;
  };
  Connection locker(temp_->url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  std::thread held([&] { EXPECT_EQ(db.revoke_by_user("005000000000001"), 0); });
  wait_for_a_lock_wait();
  auto failed = ask();
  ASSERT_EQ(failed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Found f = failed.get();
  EXPECT_TRUE(f.failed);
  EXPECT_FALSE(f.code);
  locker.exec("ROLLBACK");
  held.join();
  auto answered = ask();
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Found a = answered.get();
  EXPECT_FALSE(a.failed);
  ASSERT_TRUE(a.code);
  EXPECT_EQ(a.code->code_hash, code.code_hash);
}

// Code redemptions queued while the writer is busy go out together, in one statement
// (write_units.h). Two of the same code there: the first wins, the second is its replay,
// saves nothing and revokes what the first saved; a third, of another code, is redeemed.
TEST_F(PostgresBackend, RedemptionsQueuedTogetherShareOneStatementAndOneCodeHasOneWinner) {
  PostgresDatabase::Options options;
  options.writers = 1;
  PostgresDatabase db(url_, options);
  auto code_of = [&db](const std::string& hash) {
    AuthCode c;
    c.id = db.allocate_code_id();
    c.code_hash = hash;
    c.client_id = "3MVG9client";
    c.user_id = "005000000000001";
    c.scopes = {"api"};
    db.save_code(c);
    return c;
  };
  const AuthCode code = code_of("together-code");
  const AuthCode other = code_of("together-other");
  auto token_of = [&db](const std::string& hash, const AuthCode& c) {
    Token t = token(hash);
    t.id = db.allocate_id();
    t.code_key = std::to_string(c.id);
    t.family_id = "family-" + hash;
    return t;
  };
  auto redemption = [](const AuthCode& c) {
    return Redemption{Redemption::Kind::code, c.ref(), std::to_string(c.id)};
  };
  // The only writer waits behind a lock while the three are queued.
  Connection locker(temp_->url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  auto blocked = db.save_tokens_later({token("together-blocker")});
  wait_for_a_lock_wait();
  const Token first = token_of("together-first", code);
  const Token second = token_of("together-second", code);
  const Token third = token_of("together-third", other);
  auto w1 = db.redeem_later(redemption(code), {first});
  auto w2 = db.redeem_later(redemption(code), {second});
  auto w3 = db.redeem_later(redemption(other), {third});
  locker.exec("ROLLBACK");
  EXPECT_TRUE(blocked->wait().is_durable());
  EXPECT_TRUE(w1->wait().is_durable());
  const WriteOutcome replay = w2->wait();
  EXPECT_EQ(replay.status, WriteOutcome::Status::already_redeemed);
  EXPECT_EQ(replay.revoked, 1);
  EXPECT_TRUE(w3->wait().is_durable());
  ASSERT_TRUE(db.find_token(first.ref()));
  EXPECT_TRUE(db.find_token(first.ref())->revoked);
  EXPECT_FALSE(db.find_token(second.ref()));
  ASSERT_TRUE(db.find_token(third.ref()));
  EXPECT_FALSE(db.find_token(third.ref())->revoked);
}

// Token saves queued while the writer is busy go out as one unit (write_units.h): one INSERT
// for all of them, whose rows therefore share one command id (cmin) in the batch's transaction,
// every field kept, scopes with the characters a TEXT[] must quote included. One of them naming
// an id already stored fails that unit's INSERT: every save in the unit fails with it, nothing of
// it is stored, and the batch's other writes commit.
TEST_F(PostgresBackend, TokenSavesQueuedTogetherAreOneInsertAndFailTogether) {
  PostgresDatabase::Options options;
  options.writers = 1;
  PostgresDatabase db(url_, options);
  Connection locker(temp_->url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  auto blocked = db.save_tokens_later({token("saves-blocker")});
  wait_for_a_lock_wait();
  std::vector<Token> saved;
  std::vector<std::shared_ptr<PendingWrite>> pending;
  for (int i = 0; i < 6; ++i) {
    Token access = token("saves-access-" + std::to_string(i));
    access.scopes = {"api", "a,b", "q\"uote", "{brace}", "back\\slash", "", "NULL"};
    access.cnf_x5t = i % 2 == 0 ? "x5t-" + std::to_string(i) : "";
    access.expires_ms = 1700000003600 + i;
    access.auth_time_s = 1700000000 + i;
    std::vector<Token> grant{access};
    if (i % 3 == 0) {  // an access token and its refresh token: one save of two rows
      Token refresh = token("saves-refresh-" + std::to_string(i));
      refresh.kind = TokenKind::refresh;
      refresh.family_id = access.family_id;
      refresh.code_key = "code-" + std::to_string(i);
      grant.push_back(refresh);
    }
    for (Token& t : grant) {
      t.id = db.allocate_id();
      saved.push_back(t);
    }
    pending.push_back(db.save_tokens_later(grant));
  }
  locker.exec("ROLLBACK");
  EXPECT_TRUE(blocked->wait().is_durable());
  for (auto& p : pending) EXPECT_TRUE(p->wait().is_durable());
  for (const Token& t : saved) {
    auto found = db.find_token(t.ref());
    ASSERT_TRUE(found) << t.token_hash;
    EXPECT_EQ(found->id, t.id);
    EXPECT_EQ(found->kind, t.kind);
    EXPECT_EQ(found->scopes, t.scopes) << t.token_hash;
    EXPECT_EQ(found->family_id, t.family_id);
    EXPECT_EQ(found->code_key, t.code_key);
    EXPECT_EQ(found->cnf_x5t, t.cnf_x5t);
    EXPECT_EQ(found->expires_ms, t.expires_ms);
    EXPECT_EQ(found->auth_time_s, t.auth_time_s);
  }
  Connection reader(temp_->url());
  EXPECT_EQ(reader
                .exec("SELECT count(DISTINCT cmin::text) FROM tokens"
                      " WHERE token_hash LIKE 'saves-a%' OR token_hash LIKE 'saves-r%'")
                .int64(0, 0),
            1)
      << "the six saves were not one statement";

  // A unit with a save that collides: all of its saves fail, the code saved beside them lands.
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  blocked = db.save_tokens_later({token("saves-blocker-2")});
  wait_for_a_lock_wait();
  Token fine = token("saves-fine");
  fine.id = db.allocate_id();
  Token collides = token("saves-collides");
  collides.id = saved.front().id;
  AuthCode code;
  code.id = db.allocate_code_id();
  code.code_hash = "saves-code";
  code.client_id = "3MVG9client";
  code.user_id = "005000000000001";
  auto fine_save = db.save_tokens_later({fine});
  auto colliding_save = db.save_tokens_later({collides});
  auto code_save = db.save_code_later(code);
  locker.exec("ROLLBACK");
  EXPECT_TRUE(blocked->wait().is_durable());
  EXPECT_FALSE(fine_save->wait().is_durable());
  EXPECT_FALSE(colliding_save->wait().is_durable());
  EXPECT_TRUE(code_save->wait().is_durable());
  EXPECT_FALSE(db.find_token(fine.ref()));
  EXPECT_TRUE(db.find_code(code.ref()));
}

// The default is one writer (docs/deployment.md, "Pool sizing"): while its batch waits, here
// for a lock, what is queued meanwhile waits for the next batch rather than going out on a
// second connection, so one connection at most waits for the lock.
TEST_F(PostgresBackend, ByDefaultOneWriterCommitsAndWhatIsQueuedMeanwhileWaitsForTheNextBatch) {
  PostgresDatabase db(url_);
  Connection locker(temp_->url());
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  Token first = token("one-writer-first");
  first.id = db.allocate_id();
  auto blocked = db.save_tokens_later({first});
  wait_for_a_lock_wait();
  Token second = token("one-writer-second");
  second.id = db.allocate_id();
  auto queued = db.save_tokens_later({second});
  // Time for a second writer, were there one, to take the save and wait for the lock too.
  std::this_thread::sleep_for(milliseconds(300));
  Connection watcher(server_);
  EXPECT_EQ(watcher
                .run("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                     " AND wait_event_type = 'Lock'",
                     Params().text(temp_->name()))
                .int64(0, 0),
            1);
  locker.exec("ROLLBACK");
  EXPECT_TRUE(blocked->wait().is_durable());
  EXPECT_TRUE(queued->wait().is_durable());
  EXPECT_TRUE(db.find_token(second.ref()));
}

// statement_timeout_ms: a statement that runs too long (pg_sleep here, a query that hangs in
// production) is cancelled by the server and fails with StoreError rather than holding its
// connection, which stays usable.
TEST_F(PostgresBackend, ASlowStatementFailsWithStoreErrorInsteadOfHanging) {
  Connection conn(url_, SessionSettings{milliseconds(200)});
  const auto start = steady_clock::now();
  try {
    conn.exec("SELECT pg_sleep(10)");
    ADD_FAILURE() << "a 10 s statement ran to its end";
  } catch (const ConnectionLost& e) {
    ADD_FAILURE() << "the connection was lost rather than the statement cancelled: " << e.what();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("57014"), std::string::npos) << e.what();
  }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(conn.exec("SELECT 1").int64(0, 0), 1) << "the connection serves the next statement";

  // The writer's connection too: a slow write fails its caller, and the next write lands.
  GroupCommit writer(url_, SessionSettings{milliseconds(200)});
  std::mutex mu;
  std::condition_variable cv;
  int settled = 0;
  std::exception_ptr slow_error;
  std::exception_ptr next_error;
  writer.submit([](Connection& c) { c.exec("SELECT pg_sleep(10)"); },
                [&](std::exception_ptr e) {
                  std::lock_guard lock(mu);
                  slow_error = std::move(e);
                  ++settled;
                  cv.notify_all();
                });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return settled == 1; }))
        << "the slow write did not settle within 5 s";
  }
  EXPECT_NE(slow_error, nullptr);
  writer.submit([](Connection& c) { c.exec("SELECT 1"); },
                [&](std::exception_ptr e) {
                  std::lock_guard lock(mu);
                  next_error = std::move(e);
                  ++settled;
                  cv.notify_all();
                });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return settled == 2; }));
  EXPECT_EQ(next_error, nullptr);
}

// The same through open_database(): a call blocked behind a lock another session holds (a hung
// transaction elsewhere) gives its pooled connection back after statement_timeout_ms with
// StoreError, which the HTTP layer answers 503, instead of waiting for as long as the lock is
// held. The lock holder is cut by the server after 10 s, so without the timeout this fails
// rather than hangs.
TEST_F(PostgresBackend, ACallBlockedBehindALockFailsAfterTheStatementTimeout) {
  auto db = open_database(url_ + "&statement_timeout_ms=300&pool_size=1");
  db->save_tokens({token("held")});
  Connection locker(temp_->url());
  locker.exec("SET idle_in_transaction_session_timeout = '10s'");
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  const auto start = steady_clock::now();
  try {
    (void)db->revoke_by_user("005000000000001");
    ADD_FAILURE() << "the revocation went through a table lock held elsewhere";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("statement timeout"), std::string::npos) << e.what();
  }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  locker.exec("ROLLBACK");
  // The pool's one connection came back and serves the next call.
  EXPECT_EQ(db->revoke_by_user("005000000000001"), 1);
}

// A server restart cuts every connection: a read is answered on a fresh one; a write that was
// sent on a cut connection fails (its outcome is unknown), and the next one lands.
TEST_F(PostgresBackend, ALostConnectionIsReplaced) {
  PostgresDatabase db(url_);
  db.create_org({"00D000000000001", "Acme", 1});
  ASSERT_GE(cut_connections(), 1);
  EXPECT_EQ(db.find_org("00D000000000001")->name, "Acme");

  ASSERT_GE(cut_connections(), 1);
  EXPECT_THROW(db.create_org({"00D000000000002", "Beta", 2}), StoreError);
  db.create_org({"00D000000000002", "Beta", 2});
  EXPECT_EQ(db.find_org("00D000000000002")->name, "Beta");
}

// A server gone silent on an open TCP connection (a host gone, a network cut) is noticed in
// about 30 s rather than never (docs/operations.md): keepalives and tcp_user_timeout are set
// unless the URL sets them itself.
TEST_F(PostgresBackend, ConnectionsNoticeASilentServerUnlessTheUrlSaysOtherwise) {
  Connection plain(url_);
  EXPECT_EQ(plain.option("keepalives_idle"), "10");
  EXPECT_EQ(plain.option("keepalives_interval"), "5");
  EXPECT_EQ(plain.option("keepalives_count"), "3");
  EXPECT_EQ(plain.option("tcp_user_timeout"), "30000");
  Connection own(url_ + "&tcp_user_timeout=5000&keepalives_idle=60");
  EXPECT_EQ(own.option("tcp_user_timeout"), "5000");
  EXPECT_EQ(own.option("keepalives_idle"), "60");
}

// With one writer, so that the write after the cut is sent on the connection that was cut.
TEST_F(PostgresBackend, AQueuedWriteOnALostConnectionFailsAndTheNextOneLands) {
  PostgresDatabase::Options one_writer;
  one_writer.writers = 1;
  PostgresDatabase db(url_, one_writer);
  ASSERT_TRUE(db.save_tokens_later({token("before")})->wait().is_durable());
  ASSERT_GE(cut_connections(), 1);
  WriteOutcome lost = db.save_tokens_later({token("lost")})->wait();
  EXPECT_EQ(lost.status, WriteOutcome::Status::failed);
  EXPECT_FALSE(lost.error.empty());
  EXPECT_TRUE(db.save_tokens_later({token("after")})->wait().is_durable());
  EXPECT_TRUE(db.find_token(SecretRef::by_hash("before")));
  EXPECT_TRUE(db.find_token(SecretRef::by_hash("after")));
}

// GET /readyz (behaviour §4): while the database cannot be reached, ping() fails with
// StoreError at once rather than hanging, and once it can again, ping() answers on a fresh
// connection without anything being reopened. The database is renamed away and back, which
// refuses new connections to it as a stopped server would.
TEST_F(PostgresBackend, PingFailsWhileTheDatabaseIsUnreachableAndAnswersOnceItIsBack) {
  test::TempPostgresDatabase own(server_, test::TempPostgresDatabase::Kind::database);
  PostgresDatabase db(own.url());
  ASSERT_NO_THROW(db.ping());
  Connection admin(server_);
  const std::string away = own.name() + "_away";
  admin.run("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1",
            Params().text(own.name()));
  admin.exec("ALTER DATABASE " + own.name() + " RENAME TO " + away);
  const auto start = steady_clock::now();
  try {
    db.ping();
    ADD_FAILURE() << "ping answered with its database gone";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  admin.exec("ALTER DATABASE " + away + " RENAME TO " + own.name());
  EXPECT_NO_THROW(db.ping());
}

// Two nodes allocate from the same sequence: their ids never collide, and each node's increase.
TEST_F(PostgresBackend, IdsOfTwoHandlesNeverCollideAndEachHandlesIncrease) {
  PostgresDatabase a(url_);
  PostgresDatabase b(url_);
  std::set<int64_t> seen;
  int64_t last_a = 0;
  int64_t last_b = 0;
  for (int i = 0; i < 300; ++i) {
    const int64_t ia = a.allocate_id();
    const int64_t ib = b.allocate_id();
    EXPECT_GT(ia, last_a);
    EXPECT_GT(ib, last_b);
    last_a = ia;
    last_b = ib;
    EXPECT_TRUE(seen.insert(ia).second) << ia;
    EXPECT_TRUE(seen.insert(ib).second) << ib;
  }
}

}  // namespace
}  // namespace latchkey::store::postgres
