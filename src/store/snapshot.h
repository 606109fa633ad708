// What an installation is configured with, as stored: the records `latchkey export` writes out
// and `latchkey import` restores (docs/operations.md "Backup and restore"), and the first part
// of what `latchkey migrate` copies (store/copy.h). Never the records a server makes as it
// serves: codes, tokens, browser sessions and replay keys.
//
// Thread safety: a plain value; read_snapshot() is as thread-safe as the database.
#pragma once

#include <vector>

#include "store/records.h"
#include "store/stores.h"

namespace latchkey::store {

struct Snapshot {
  std::vector<Org> orgs;  // creation order: the default org first
  std::vector<User> users;
  std::vector<App> apps;
  std::vector<Preauthorization> preauthorizations;
  std::vector<Consent> consents;
  // Sealed under the key-encryption key exactly as stored; oldest first, the order they were
  // made in.
  std::vector<SigningKeyRecord> keys;
};

// Every such record of `db`, each table in the order its listing returns (stores.h), the keys
// oldest first and the pre-authorizations app by app. Two reads of an unchanged database are
// equal. Not one transaction: the database must not change meanwhile for the tables to agree.
// Throws StoreError.
[[nodiscard]] Snapshot read_snapshot(Database& db);

}  // namespace latchkey::store
