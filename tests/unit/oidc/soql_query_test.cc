// The SOQL subset /services/data/vNN.N/query answers (oidc/soql_query.h): the forms accepted,
// those refused, quoting, and keywords in any case.
#include "oidc/soql_query.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace latchkey::oidc {
namespace {

SoqlQuery accepted(const std::string& text) {
  auto r = parse_soql(text);
  if (auto* e = std::get_if<SoqlSyntaxError>(&r)) {
    ADD_FAILURE() << text << ": " << e->message;
    return {};
  }
  return std::get<SoqlQuery>(r);
}

std::string refused(const std::string& text) {
  auto r = parse_soql(text);
  if (std::holds_alternative<SoqlQuery>(r)) {
    ADD_FAILURE() << text << " was accepted";
    return {};
  }
  return std::get<SoqlSyntaxError>(r).message;
}

TEST(SoqlQuery, TheSalesforceClisOrganizationQuery) {
  auto q = accepted(
      "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, "
      "OrganizationType FROM Organization");
  EXPECT_EQ(q.fields,
            (std::vector<std::string>{"Name", "InstanceName", "IsSandbox", "TrialExpirationDate",
                                      "NamespacePrefix", "OrganizationType"}));
  EXPECT_EQ(q.object, "Organization");
  EXPECT_FALSE(q.id);
  EXPECT_FALSE(q.limit);
  EXPECT_FALSE(q.other_clauses);
}

TEST(SoqlQuery, AUserByIdWithALimit) {
  auto q = accepted("SELECT Id,Username FROM User WHERE Id = '005000000000001AAA' LIMIT 1");
  EXPECT_EQ(q.fields, (std::vector<std::string>{"Id", "Username"}));
  EXPECT_EQ(q.object, "User");
  EXPECT_EQ(q.id, "005000000000001AAA");
  EXPECT_EQ(q.limit, 1);
  EXPECT_FALSE(q.other_clauses);
}

TEST(SoqlQuery, KeywordsInAnyCaseAndAnyWhitespace) {
  auto q = accepted("select id\n\tfrom user\r\n where ID='005x'   limit 20 ");
  EXPECT_EQ(q.fields, (std::vector<std::string>{"id"}));
  EXPECT_EQ(q.object, "user");
  EXPECT_EQ(q.id, "005x");
  EXPECT_EQ(q.limit, 20);
  EXPECT_TRUE(soql_name_equals("ScratchOrgInfo", "scratchorginfo"));
  EXPECT_FALSE(soql_name_equals("User", "Users"));
}

TEST(SoqlQuery, TheDevHubProbeParsesSoThatItsObjectCanBeRefused) {
  auto q = accepted("SELECT Id FROM ScratchOrgInfo limit 1");
  EXPECT_EQ(q.object, "ScratchOrgInfo");
  EXPECT_FALSE(q.other_clauses);
  auto active = accepted(
      "select Id, ExpirationDate, ScratchOrg from ScratchOrgInfo where ScratchOrg = "
      "'00D000000000001' and Status = 'Active'");
  EXPECT_EQ(active.object, "ScratchOrgInfo");
  EXPECT_TRUE(active.other_clauses);
}

TEST(SoqlQuery, LiteralsUnescapeSoqlsEscapes) {
  EXPECT_EQ(accepted(R"(SELECT Id FROM User WHERE Id = 'it\'s \\ \"x\"')").id, R"(it's \ "x")");
  EXPECT_EQ(accepted("SELECT Id FROM User WHERE Id = ''").id, "");
  EXPECT_EQ(accepted("SELECT Id FROM User WHERE Id = 'a, b FROM c'").id, "a, b FROM c");
}

TEST(SoqlQuery, ClausesOutsideTheSubsetAreKeptAsOther) {
  for (const char* text :
       {"SELECT Id FROM User WHERE Id = '1' AND IsActive = true",
        "SELECT Id FROM User WHERE Username = 'a@b'", "SELECT Id FROM Organization ORDER BY Name",
        "SELECT Id FROM Organization LIMIT 1 OFFSET 2", "SELECT Id FROM User WHERE Id = 5",
        "SELECT Id FROM Organization LIMIT", "SELECT Id FROM Organization WHERE"}) {
    EXPECT_TRUE(accepted(text).other_clauses) << text;
  }
}

TEST(SoqlQuery, TextThatIsNotSelectFieldsFromObjectIsMalformed) {
  EXPECT_EQ(refused(""), "unexpected end of query");
  EXPECT_EQ(refused("SELECT"), "unexpected end of query");
  EXPECT_EQ(refused("SELECT FROM User"), "unexpected token: 'FROM'");
  EXPECT_EQ(refused("SELECT Id User"), "unexpected token: 'User'");
  EXPECT_EQ(refused("SELECT Id, FROM User"), "unexpected token: 'FROM'");
  EXPECT_EQ(refused("SELECT Id FROM"), "unexpected end of query");
  EXPECT_EQ(refused("SELECT Id FROM 'User'"), "unexpected token: 'User'");
  EXPECT_EQ(refused("SELECT COUNT() FROM User"), "unexpected token: '('");
  EXPECT_EQ(refused("SELECT * FROM User"), "unexpected token: '*'");
  EXPECT_EQ(refused("DELETE FROM User"), "unexpected token: 'DELETE'");
  EXPECT_EQ(refused("SELECT Owner.Name FROM Organization"), "unexpected token: '.'");
}

TEST(SoqlQuery, BrokenLiteralsAreMalformed) {
  EXPECT_EQ(refused("SELECT Id FROM User WHERE Id = '005"),
            "Invalid string literal: no closing quote");
  EXPECT_EQ(refused(R"(SELECT Id FROM User WHERE Id = '005\n')"),
            "Invalid string literal: unsupported escape sequence");
  EXPECT_EQ(refused(R"(SELECT Id FROM User WHERE Id = '005\)"),
            "Invalid string literal: unsupported escape sequence");
}

TEST(SoqlQuery, OversizedQueriesAreRefused) {
  EXPECT_EQ(refused("SELECT Id FROM User WHERE Id = '" + std::string(5000, 'a') + "'"),
            "query too long");
  std::string many = "SELECT f0";
  for (int i = 1; i <= 100; ++i) many += ", f" + std::to_string(i);
  EXPECT_EQ(refused(many + " FROM User"), "too many fields");
}

}  // namespace
}  // namespace latchkey::oidc
