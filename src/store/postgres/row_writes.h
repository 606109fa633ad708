// The single-row writes of the records an installation is configured with, on a connection the
// caller holds inside its transaction: each store method runs one as its own write, and
// PostgresDatabase::restore() runs them all in one (store/snapshot.h). Throw StoreError as the
// connection does.
//
// Thread safety: as the connection's (one thread at a time).
#pragma once

#include <cstdint>

#include "store/records.h"
#include "store/postgres/postgres_connection.h"

namespace latchkey::store::postgres {

// users_orgs.cc
void insert_org(Connection& conn, const Org& org);
// False, inserting nothing, when the username is taken.
bool insert_user(Connection& conn, const User& user);
// apps.cc. False, inserting nothing, when the client id is taken.
bool insert_app(Connection& conn, const App& app);
// Idempotent; an unknown client id fails the foreign key.
void insert_preauthorization(Connection& conn, const Preauthorization& p);
// consents.cc: inserts or replaces the user's approval of the app.
void upsert_consent(Connection& conn, const Consent& consent);
// keys.cc: inserts or replaces the key of that kid; returns the rows it changed (1).
int64_t upsert_key(Connection& conn, const SigningKeyRecord& key);

}  // namespace latchkey::store::postgres
