// The small, explicit subset of SOQL that /services/data/vNN.N/query answers (docs/behaviour.md
// §4): what the Salesforce CLI and jsforce send after a login, and no more.
//
//   SELECT field [, field]... FROM object [WHERE Id = 'literal'] [LIMIT n]
//
// Keywords, field and object names are case-insensitive (as in SOQL); a field or object is an
// identifier ([A-Za-z_][A-Za-z0-9_]*), a literal is in single quotes with SOQL's escapes \' \"
// and \\. Anything after the object that is not in the subset (another condition, ORDER BY,
// a function) is kept as `other_clauses`, so that the caller can still answer an unknown
// object with INVALID_TYPE, as Salesforce does, before refusing the clause. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace latchkey::oidc {

struct SoqlQuery {
  std::vector<std::string> fields;  // as written, in order
  std::string object;               // as written
  std::optional<std::string> id;    // WHERE Id = '…', unescaped
  std::optional<int64_t> limit;     // LIMIT n
  bool other_clauses = false;       // something after FROM object outside the subset
};

// Why a query is not even of the shape SELECT … FROM object: the message of Salesforce's
// MALFORMED_QUERY error.
struct SoqlSyntaxError {
  std::string message;
};

std::variant<SoqlQuery, SoqlSyntaxError> parse_soql(std::string_view text);

// ASCII case-insensitive equality, as SOQL compares keywords and names.
bool soql_name_equals(std::string_view a, std::string_view b);

}  // namespace latchkey::oidc
