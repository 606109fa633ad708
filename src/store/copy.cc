#include "store/copy.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string_view>

#include "store/snapshot.h"
#include "store/tables.h"

namespace latchkey::store {
namespace {

// Takes every `stride`-th of the rows it is shown, at most `limit` of them, so that a sample of
// a table whose size is known beforehand spreads over all of it.
template <class Row>
class Sampler {
 public:
  Sampler(int64_t rows, int64_t limit)
      : stride_(std::max<int64_t>(1, limit > 0 ? rows / limit : 1)), limit_(limit) {}
  void offer(const Row& row) {
    if (seen_++ % stride_ == 0 && static_cast<int64_t>(taken_.size()) < limit_) {
      taken_.push_back(row);
    }
  }
  const std::vector<Row>& taken() const { return taken_; }

 private:
  int64_t stride_;
  int64_t limit_;
  int64_t seen_ = 0;
  std::vector<Row> taken_;
};

int64_t rows_of(const std::vector<TableRows>& counts, std::string_view table) {
  for (const TableRows& t : counts) {
    if (t.table == table) return t.rows;
  }
  throw StoreError("count_rows did not count table " + std::string(table));
}

// "tokens 12, orgs 1": the tables that hold rows.
std::string non_empty_tables(const std::vector<TableRows>& counts) {
  std::string out;
  for (const TableRows& t : counts) {
    if (t.rows == 0) continue;
    if (!out.empty()) out += ", ";
    out += t.table + " " + std::to_string(t.rows);
  }
  return out;
}

// Copies one table, page by page: `read(after, page)` returns the next page after the key
// `after` (whose type the table's paging uses), `key_of` a row's paging key, `write` stores a
// page in the target, `offer` sees every row (the sampler).
template <class Row, class Key, class Read, class KeyOf, class Write>
int64_t copy_pages(Key after, int page, Read&& read, KeyOf&& key_of, Write&& write,
                   const std::function<void(const Row&)>& offer) {
  int64_t copied = 0;
  for (;;) {
    std::vector<Row> rows = read(after, page);
    if (rows.empty()) break;
    for (const Row& row : rows) {
      if (offer) offer(row);
    }
    write(rows);
    copied += static_cast<int64_t>(rows.size());
    if (static_cast<int>(rows.size()) < page) break;
    after = key_of(rows.back());
  }
  return copied;
}

}  // namespace

CopyOutcome copy_database(Database& from, Database& to,
                          const std::function<void(const TableCopy&)>& progress, int page,
                          int64_t sample) {
  CopyOutcome outcome;
  if (page < 1) throw StoreError("copy_database: page must be positive");
  const std::vector<TableRows> target_before = to.count_rows();
  if (std::string busy = non_empty_tables(target_before); !busy.empty()) {
    outcome.refused = "the target database is not empty (" + busy + ")";
    return outcome;
  }
  const std::vector<TableRows> source_before = from.count_rows();
  const auto done = [&](std::string_view table, int64_t copied) {
    TableCopy t{std::string(table), rows_of(source_before, table), copied};
    outcome.tables.push_back(t);
    if (progress) progress(t);
  };

  // What the installation is configured with first, in one transaction (store/snapshot.h):
  // orgs, users, apps and what names them, and the signing keys sealed as stored, so the same
  // KEK opens them in the target.
  const Snapshot config = read_snapshot(from);
  if (!to.restore(config)) {
    outcome.refused =
        "the target database is not empty (" + non_empty_tables(to.count_rows()) + ")";
    return outcome;
  }
  done("orgs", static_cast<int64_t>(config.orgs.size()));
  done("users", static_cast<int64_t>(config.users.size()));
  done("apps", static_cast<int64_t>(config.apps.size()));
  done("preauthorizations", static_cast<int64_t>(config.preauthorizations.size()));
  done("consents", static_cast<int64_t>(config.consents.size()));
  done("signing_keys", static_cast<int64_t>(config.keys.size()));

  Sampler<AuthCode> codes_sample(rows_of(source_before, "auth_codes"), sample);
  done("auth_codes", copy_pages<AuthCode>(
                         std::numeric_limits<int64_t>::min(), page,
                         [&](int64_t after, int n) { return from.codes_after(after, n); },
                         [](const AuthCode& c) { return c.id; },
                         [&](const std::vector<AuthCode>& rows) {
                           for (const AuthCode& c : rows) to.save_code(c);
                         },
                         [&](const AuthCode& c) { codes_sample.offer(c); }));

  Sampler<Token> tokens_sample(rows_of(source_before, "tokens"), sample);
  done("tokens", copy_pages<Token>(
                     std::numeric_limits<int64_t>::min(), page,
                     [&](int64_t after, int n) { return from.tokens_after(after, n); },
                     [](const Token& t) { return t.id; },
                     [&](const std::vector<Token>& rows) { to.save_tokens(rows); },
                     [&](const Token& t) { tokens_sample.offer(t); }));

  done("sessions",
       copy_pages<Session>(
           std::string(), page,
           [&](const std::string& after, int n) { return from.sessions_after(after, n); },
           [](const Session& s) { return s.session_hash; },
           [&](const std::vector<Session>& rows) {
             for (const Session& s : rows) to.save_session(s);
           },
           {}));

  done("replay_keys",
       copy_pages<ReplayKey>(
           std::string(), page,
           [&](const std::string& after, int n) { return from.replay_keys_after(after, n); },
           [](const ReplayKey& k) { return k.key; },
           [&](const std::vector<ReplayKey>& rows) {
             for (const ReplayKey& k : rows) to.save_replay_key(k);
           },
           {}));

  // The admin API's credentials, as their hashes: the admins' tools keep working after the move.
  const std::vector<AdminToken> admins = from.list_admin_tokens();
  int64_t admins_copied = 0;
  for (const AdminToken& a : admins) admins_copied += to.create_admin_token(a) ? 1 : 0;
  done("admin_tokens", admins_copied);

  // Verification: counts, keys, and a sample looked up as a client's presentation would be.
  const std::vector<TableRows> source_after = from.count_rows();
  const std::vector<TableRows> target_after = to.count_rows();
  for (std::string_view table : kTableNames) {
    const int64_t before = rows_of(source_before, table);
    const int64_t after = rows_of(source_after, table);
    const int64_t target = rows_of(target_after, table);
    if (before != after) {
      outcome.mismatches.push_back(std::string(table) + ": the source changed during the copy (" +
                                   std::to_string(before) + " rows, then " + std::to_string(after) +
                                   "); stop every server on it first");
    }
    if (after != target) {
      outcome.mismatches.push_back(std::string(table) + ": " + std::to_string(after) +
                                   " rows in the source, " + std::to_string(target) +
                                   " in the target");
    }
  }
  if (from.list_keys() != to.list_keys()) {
    outcome.mismatches.push_back("signing_keys: the target's keys differ from the source's");
  }
  for (const Token& t : tokens_sample.taken()) {
    const std::optional<Token> found = to.find_token(t.ref());
    if (!found || *found != t) {
      outcome.mismatches.push_back(
          "tokens: row " + std::to_string(t.id) +
          (found ? " differs in the target" : " is not found in the target"));
    }
    ++outcome.tokens_checked;
  }
  for (const AuthCode& c : codes_sample.taken()) {
    const std::optional<AuthCode> found = to.find_code(c.ref());
    if (!found || *found != c) {
      outcome.mismatches.push_back(
          "auth_codes: row " + std::to_string(c.id) +
          (found ? " differs in the target" : " is not found in the target"));
    }
    ++outcome.codes_checked;
  }
  return outcome;
}

}  // namespace latchkey::store
