// CopyStore::restore: a whole snapshot in one transaction (store/snapshot.h).
#include <string>

#include "store/postgres/postgres_database.h"
#include "store/postgres/row_writes.h"
#include "store/snapshot.h"
#include "store/tables.h"

namespace latchkey::store::postgres {

bool PostgresDatabase::restore(const Snapshot& snapshot) {
  return transact([&](Connection& conn) -> bool {
    // A restore of many records takes longer than any request's statement may
    // (Options::statement_timeout), as count_rows() does; a command runs it, not a request.
    conn.exec("SET LOCAL statement_timeout = 0");
    Result r = conn.run(count_rows_sql());
    for (std::size_t i = 0; i < kTableNames.size(); ++i) {
      if (r.int64(0, static_cast<int>(i)) != 0) return false;
    }
    for (const Org& org : snapshot.orgs) insert_org(conn, org);
    for (const User& user : snapshot.users) {
      if (!insert_user(conn, user)) {
        throw StoreError("postgres: restore: the username of user " + user.id + " is given twice");
      }
    }
    for (const App& app : snapshot.apps) {
      if (!insert_app(conn, app)) {
        throw StoreError("postgres: restore: the client id " + app.client_id + " is given twice");
      }
    }
    for (const Preauthorization& p : snapshot.preauthorizations) insert_preauthorization(conn, p);
    for (const Consent& c : snapshot.consents) upsert_consent(conn, c);
    for (const SigningKeyRecord& k : snapshot.keys) upsert_key(conn, k);
    return true;
  });
}

}  // namespace latchkey::store::postgres
