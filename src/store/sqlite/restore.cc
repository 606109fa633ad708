// CopyStore::restore: a whole snapshot in one write (store/snapshot.h).
#include <string>

#include "store/snapshot.h"
#include "store/sqlite/row_writes.h"
#include "store/sqlite/sqlite_database.h"
#include "store/tables.h"

namespace latchkey::store::sqlite {

bool SqliteDatabase::restore(const Snapshot& snapshot) {
  // One piece of work is one transaction, or undone alone when it throws (group_commit.h), so
  // a refused record leaves the file as it was. It may run twice: it only reads the snapshot.
  return write([&](Connection& conn) -> bool {
    {
      Statement st = conn.prepare(count_rows_sql());
      if (!st.step()) throw StoreError("sqlite: counting rows returned nothing");
      for (std::size_t i = 0; i < kTableNames.size(); ++i) {
        if (st.column_int(static_cast<int>(i)) != 0) return false;
      }
    }
    for (const Org& org : snapshot.orgs) insert_org(conn, org);
    for (const User& user : snapshot.users) {
      if (!insert_user(conn, user)) {
        throw StoreError("sqlite: restore: the username of user " + user.id + " is given twice");
      }
    }
    for (const App& app : snapshot.apps) {
      if (!insert_app(conn, app)) {
        throw StoreError("sqlite: restore: the client id " + app.client_id + " is given twice");
      }
    }
    for (const Preauthorization& p : snapshot.preauthorizations) insert_preauthorization(conn, p);
    for (const Consent& c : snapshot.consents) upsert_consent(conn, c);
    for (const SigningKeyRecord& k : snapshot.keys) upsert_key(conn, k);
    return true;
  });
}

}  // namespace latchkey::store::sqlite
