// Copying one database into another, empty one (`latchkey migrate`, docs/operations.md "Moving
// from SQLite to PostgreSQL"): every row of every table, as stored, through the store
// interfaces alone, so any backend can be the source or the target.
//
// What stays valid across the copy, and why:
//  - codes and tokens keep their row ids and hashes, so an opaque token or a code, which carries
//    its row id (records.h SecretRef), is found in the target as in the source; those found by
//    hash keep their negative ids, which is what puts them in the target's hash index;
//  - signing keys are copied sealed, exactly as stored: the same key-encryption key file opens
//    them in the target, and nothing here ever sees a private key;
//  - users keep their password hashes, apps their client secret hashes and pre-authorizations,
//    users their approvals (consents), browsers their sessions, and recorded assertion
//    identifiers (replay keys) stay recorded, so a replay is still refused after the move;
//  - admin tokens keep their names and hashes, so the admin API accepts the same tokens.
// Expired rows are copied too; the target's purge removes them as the source's would have.
// Each backend moves its id allocator above every stored id when it is opened, so the servers
// started on the target never hand out an id a copied row has.
//
// The copy is not one transaction: the source must not change meanwhile (stop every server on
// it), and a copy that fails part-way leaves a partial target, which a second copy refuses as
// not empty (drop and create it again).
//
// Thread safety: one call at a time per pair of databases; the databases themselves are
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/stores.h"

namespace latchkey::store {

// One table's part of a copy.
struct TableCopy {
  std::string table;        // as in kTableNames (store/tables.h)
  int64_t source_rows = 0;  // counted in the source before the copy
  int64_t copied = 0;       // rows written to the target
};

struct CopyOutcome {
  // Why nothing was copied (the target is not empty: "tokens 12, orgs 1"); empty otherwise.
  std::string refused;
  // Every table, in kTableNames order, once copied (empty when refused).
  std::vector<TableCopy> tables;
  // How many copied tokens and codes were looked up in the target, by their SecretRef (id and
  // hash, as a client presenting them is), and found equal to the source's rows.
  int64_t tokens_checked = 0;
  int64_t codes_checked = 0;
  // What the verification found different, one line each ("tokens: 10 rows in the source, 9 in
  // the target"); empty when the copy is verified.
  std::vector<std::string> mismatches;

  [[nodiscard]] bool verified() const { return refused.empty() && mismatches.empty(); }
};

// Copies every row of `from` into `to` and verifies the copy: the rows of every table counted
// in both after the copy must be equal (and equal to the source's count before it, or the
// source changed meanwhile), the signing keys equal field by field, and a sample of up to
// `sample` tokens and as many codes, spread over their tables, found in the target by their
// SecretRef with every field equal. Refuses, copying nothing, when `to` holds any row.
// `progress` is called once per table as it is done. Rows are read and written in pages of
// `page` rows. Throws StoreError when either database fails.
[[nodiscard]] CopyOutcome copy_database(Database& from, Database& to,
                                        const std::function<void(const TableCopy&)>& progress,
                                        int page = 500, int64_t sample = 100);

}  // namespace latchkey::store
