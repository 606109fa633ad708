// The document of `latchkey export` and `latchkey import` (docs/operations.md "Backup and
// restore"): one JSON object holding what an installation is configured with (store/snapshot.h).
//
//   {"format": "latchkey-export", "version": 1,
//    "orgs": [...], "users": [...], "apps": [...], "preauthorizations": [...],
//    "consents": [...], "signing_keys": [...]}
//
// Every record with every field, under the names of records.h, enums by their stored names
// (store/record_names.h). Secrets only as stored: apps' client secret hashes, users' password
// hashes (Argon2id PHC strings), signing keys sealed under the key-encryption key, each with
// the id of that KEK (crypto/key_sealer.h). Never a token, code, session or replay key.
// The records keep the order read_snapshot() gives and the document says nothing of when it
// was made, so two exports of the same records are byte-identical.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "store/snapshot.h"

namespace latchkey::app {

inline constexpr std::string_view kExportFormat = "latchkey-export";
// Raised when a field is added, renamed or given another meaning; import refuses any other.
inline constexpr int kExportVersion = 1;

// The document of `snapshot`, indented, ending in a newline. An error, and no document, when a
// signing key is not sealed (a database from before sealing: a server seals its keys when it
// starts), so that no private key ever leaves the database in clear.
Result<std::string> export_document(const store::Snapshot& snapshot);

// The snapshot a document holds. An error naming what is wrong (the field, as in
// "users[2].password_hash: missing") for text that is not JSON, another format or version, a
// missing, mistyped or unknown field, an unknown enum name, a signing key not sealed or whose
// kek_id is not its envelope's, and for records that do not hold together: a user id, username
// (ASCII letters caselessly), client id or kid given twice, a user or app of an org not given,
// a pre-authorization, approval or run-as user naming a user or app not given.
Result<store::Snapshot> parse_export_document(std::string_view text);

}  // namespace latchkey::app
