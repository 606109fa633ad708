#include "store/postgres/postgres_array.h"

#include "store/stores.h"

namespace latchkey::store::postgres {
namespace {

[[noreturn]] void corrupt() { throw StoreError("postgres: corrupt list column (not a text[])"); }

// Case-insensitive "NULL", which the server writes for a NULL element (and quotes otherwise).
bool is_null_word(std::string_view s) {
  if (s.size() != 4) return false;
  constexpr std::string_view kNull = "null";
  for (std::size_t i = 0; i < 4; ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kNull[i]) return false;
  }
  return true;
}

}  // namespace

std::string encode_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[k]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::vector<std::string> decode_text_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') corrupt();
  std::string_view body = text.substr(1, text.size() - 2);
  if (body.empty()) return out;
  std::size_t i = 0;
  for (;;) {
    std::string item;
    if (i < body.size() && body[i] == '"') {
      ++i;
      for (;;) {
        if (i >= body.size()) corrupt();
        char c = body[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= body.size()) corrupt();
          c = body[i++];
        }
        item.push_back(c);
      }
    } else {
      std::size_t end = body.find(',', i);
      if (end == std::string_view::npos) end = body.size();
      std::string_view bare = body.substr(i, end - i);
      // A bare element holds none of these (the server quotes them); a nested array starts
      // with a brace.
      if (bare.empty() || is_null_word(bare) ||
          bare.find_first_of("{}\"\\ \t\n\r\v\f") != std::string_view::npos) {
        corrupt();
      }
      item.assign(bare);
      i = end;
    }
    out.push_back(std::move(item));
    if (i == body.size()) return out;
    if (body[i] != ',') corrupt();
    ++i;
  }
}

}  // namespace latchkey::store::postgres
