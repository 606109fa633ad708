#include "web/json_pretty.h"

#include <cstddef>

namespace latchkey::web {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_structural(char c) {
  return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':';
}

// Index of the first non-whitespace character at or after `i`.
std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_json_space(s[i])) ++i;
  return i;
}

void newline(std::string& out, int depth) {
  out += '\n';
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

}  // namespace

std::string pretty_json(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 2);
  int depth = 0;
  std::string expected_closers;  // a stack of '}' and ']'
  bool after_value = false;      // the last token was a string or a scalar
  bool expect_key = false;       // an object member must start here
  std::size_t i = skip_space(json, 0);
  while (i < json.size()) {
    const char c = json[i];
    if (expect_key && !is_json_space(c)) {
      if (c != '"') return std::string(json);
      expect_key = false;
    }
    if (c == '"') {
      const std::size_t start = i++;
      bool closed = false;
      while (i < json.size()) {
        if (json[i] == '\\') {
          i += 2;
        } else if (json[i++] == '"') {
          closed = true;
          break;
        }
      }
      if (!closed) return std::string(json);
      out.append(json.substr(start, i - start));
      after_value = true;
      continue;
    }
    if (c == '{' || c == '[') {
      const char closer = c == '{' ? '}' : ']';
      out += c;
      const std::size_t next = skip_space(json, i + 1);
      if (next < json.size() && json[next] == closer) {
        out += closer;
        i = next + 1;
        continue;
      }
      expected_closers += closer;
      expect_key = closer == '}';
      newline(out, ++depth);
    } else if (c == '}' || c == ']') {
      if (expected_closers.empty() || expected_closers.back() != c) return std::string(json);
      expected_closers.pop_back();
      newline(out, --depth);
      out += c;
    } else if (c == ',') {
      out += c;
      expect_key = !expected_closers.empty() && expected_closers.back() == '}';
      newline(out, depth);
    } else if (c == ':') {
      out += ": ";
    } else if (is_json_space(c)) {
      // Whitespace between tokens is replaced by the layout above; between two values it
      // would be lost, so such text (not JSON) is shown as it came.
      const std::size_t next = skip_space(json, i);
      if (after_value && next < json.size() && !is_structural(json[next])) {
        return std::string(json);
      }
      i = next;
      continue;
    } else {
      out += c;
    }
    after_value = !is_structural(c);
    ++i;
  }
  if (!expected_closers.empty()) return std::string(json);
  return out;
}

}  // namespace latchkey::web
