#include "oidc/soql_query.h"

#include <charconv>

namespace latchkey::oidc {
namespace {

constexpr std::size_t kMaxQuery = 4096;  // far more than the subset ever needs
constexpr std::size_t kMaxFields = 100;

struct Token {
  enum class Kind { word, string, number, comma, equals, other } kind;
  std::string text;  // the word or number as written; a string's value unescaped
};

bool word_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool word_char(char c) { return word_start(c) || digit(c); }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits the text into tokens; nullopt (with `error`) for an unterminated literal or a bad
// escape, which no later step could make sense of.
std::optional<std::vector<Token>> tokenize(std::string_view s, std::string& error) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (space(c)) {
      ++i;
    } else if (word_start(c)) {
      std::size_t j = i;
      while (j < s.size() && word_char(s[j])) ++j;
      out.push_back({Token::Kind::word, std::string(s.substr(i, j - i))});
      i = j;
    } else if (digit(c)) {
      std::size_t j = i;
      while (j < s.size() && word_char(s[j])) ++j;
      out.push_back({Token::Kind::number, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == '\'') {
      std::string value;
      std::size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        char d = s[j];
        if (d == '\'') {
          closed = true;
          ++j;
          break;
        }
        if (d == '\\') {
          if (j + 1 >= s.size() || (s[j + 1] != '\'' && s[j + 1] != '"' && s[j + 1] != '\\')) {
            error = "Invalid string literal: unsupported escape sequence";
            return std::nullopt;
          }
          value += s[j + 1];
          j += 2;
          continue;
        }
        value += d;
        ++j;
      }
      if (!closed) {
        error = "Invalid string literal: no closing quote";
        return std::nullopt;
      }
      out.push_back({Token::Kind::string, std::move(value)});
      i = j;
    } else if (c == ',') {
      out.push_back({Token::Kind::comma, ","});
      ++i;
    } else if (c == '=') {
      out.push_back({Token::Kind::equals, "="});
      ++i;
    } else {
      out.push_back({Token::Kind::other, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

bool is_keyword(const Token& t, std::string_view keyword) {
  return t.kind == Token::Kind::word && soql_name_equals(t.text, keyword);
}

bool reserved(const Token& t) {
  for (auto k : {"SELECT", "FROM", "WHERE", "LIMIT", "ORDER", "GROUP", "AND", "OR", "NOT"}) {
    if (is_keyword(t, k)) return true;
  }
  return false;
}

SoqlSyntaxError unexpected(const std::vector<Token>& tokens, std::size_t at) {
  if (at >= tokens.size()) return {"unexpected end of query"};
  return {"unexpected token: '" + tokens[at].text + "'"};
}

}  // namespace

bool soql_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::variant<SoqlQuery, SoqlSyntaxError> parse_soql(std::string_view text) {
  if (text.size() > kMaxQuery) return SoqlSyntaxError{"query too long"};
  std::string error;
  auto tokens = tokenize(text, error);
  if (!tokens) return SoqlSyntaxError{error};
  const auto& t = *tokens;
  std::size_t i = 0;
  if (t.empty() || !is_keyword(t[0], "SELECT")) return unexpected(t, 0);
  ++i;
  SoqlQuery q;
  // field [, field]...
  while (true) {
    if (i >= t.size() || t[i].kind != Token::Kind::word || reserved(t[i])) return unexpected(t, i);
    if (q.fields.size() == kMaxFields) return SoqlSyntaxError{"too many fields"};
    q.fields.push_back(t[i].text);
    ++i;
    if (i < t.size() && t[i].kind == Token::Kind::comma) {
      ++i;
      continue;
    }
    break;
  }
  if (i >= t.size() || !is_keyword(t[i], "FROM")) return unexpected(t, i);
  ++i;
  if (i >= t.size() || t[i].kind != Token::Kind::word || reserved(t[i])) return unexpected(t, i);
  q.object = t[i].text;
  ++i;
  // [WHERE Id = 'literal']
  if (i + 3 < t.size() && is_keyword(t[i], "WHERE") && is_keyword(t[i + 1], "Id") &&
      t[i + 2].kind == Token::Kind::equals && t[i + 3].kind == Token::Kind::string) {
    q.id = t[i + 3].text;
    i += 4;
  }
  // [LIMIT n]
  if (i + 1 < t.size() && is_keyword(t[i], "LIMIT") && t[i + 1].kind == Token::Kind::number) {
    const std::string& n = t[i + 1].text;
    int64_t v = 0;
    auto res = std::from_chars(n.data(), n.data() + n.size(), v);
    if (res.ec != std::errc{} || res.ptr != n.data() + n.size()) return unexpected(t, i + 1);
    q.limit = v;
    i += 2;
  }
  q.other_clauses = i < t.size();
  return q;
}

}  // namespace latchkey::oidc
