// The fixture of the PostgreSQL-specific store tests: a fresh database (a schema) of its own on
// the server LATCHKEY_TEST_POSTGRES_URL names, skipped, saying so, when none is named. The
// test's connections carry its schema's name as their application_name, so that it can find
// and cut them without touching those of tests running beside it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "postgres_server.h"
#include "store/postgres/postgres_connection.h"
#include "store/records.h"

namespace latchkey::store::test {

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = postgres_server_url();
    if (!server) {
      GTEST_SKIP() << "LATCHKEY_TEST_POSTGRES_URL is not set: the PostgreSQL backend is not tested";
    }
    server_ = *server;
    temp_ = std::make_unique<TempPostgresDatabase>(server_);
    url_ = temp_->url() + "&application_name=" + temp_->name();
  }

  // A token row with the fields a store needs, in a family of its own.
  static Token token(const std::string& hash) {
    Token t;
    t.token_hash = hash;
    t.client_id = "3MVG9client";
    t.user_id = "005000000000001";
    t.family_id = "family-" + hash;
    t.issued_ms = 1700000000000;
    return t;
  }

  std::string server_;
  std::unique_ptr<TempPostgresDatabase> temp_;
  std::string url_;
};

// The writers' tests (store/postgres/group_commit.h): the same fixture with a table
// t (k TEXT PRIMARY KEY, v BIGINT NOT NULL) in the test's database.
class PostgresTableTest : public PostgresTest {
 protected:
  void SetUp() override {
    PostgresTest::SetUp();
    if (IsSkipped()) return;
    postgres::Connection setup(url_);
    setup.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)");
  }
  // The rows of t matching `where` (SQL), read on a connection of its own.
  int64_t count(const std::string& where = "true") {
    postgres::Connection reader(url_);
    return reader.exec("SELECT count(*) FROM t WHERE " + where).int64(0, 0);
  }
};

}  // namespace latchkey::store::test
