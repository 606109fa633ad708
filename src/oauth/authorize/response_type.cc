#include "oauth/authorize/response_type.h"

namespace latchkey::oauth {
namespace {

// Calls f(word) for each space-separated word; runs of spaces separate as one.
template <typename F>
void for_each_word(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) f(text.substr(i, j - i));
    i = j;
  }
}

}  // namespace

std::optional<ResponseType> parse_response_type(std::string_view text) {
  ResponseType t;
  bool ok = true;
  bool any = false;
  for_each_word(text, [&](std::string_view w) {
    bool* flag = w == "code"       ? &t.code
                 : w == "token"    ? &t.token
                 : w == "id_token" ? &t.id_token
                                   : nullptr;
    if (!flag || *flag) {
      ok = false;  // unknown, or the same word twice
      return;
    }
    *flag = true;
    any = true;
  });
  if (!ok || !any) return std::nullopt;
  return t;
}

bool mentions_front_channel(std::string_view text) {
  bool found = false;
  for_each_word(text,
                [&](std::string_view w) { found = found || w == "token" || w == "id_token"; });
  return found;
}

std::optional<ResponseMode> choose_response_mode(const ResponseType& type, std::string_view mode) {
  if (mode.empty()) {
    return type.fragment_by_default() ? ResponseMode::fragment : ResponseMode::query;
  }
  if (mode == "fragment") return ResponseMode::fragment;
  if (mode == "query" && !type.fragment_by_default()) return ResponseMode::query;
  return std::nullopt;
}

}  // namespace latchkey::oauth
