#include "http/json_log_formatter.h"

#include <spdlog/details/log_msg.h>

#include <ctime>

namespace latchkey::http {
namespace {

void append(std::string_view s, spdlog::memory_buf_t& dest) {
  dest.append(s.data(), s.data() + s.size());
}

// Two digits, zero-padded (and more digits for larger values, which time parts never reach).
void append_2(int v, spdlog::memory_buf_t& dest) {
  dest.push_back(static_cast<char>('0' + v / 10 % 10));
  dest.push_back(static_cast<char>('0' + v % 10));
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629 §4: no overlong
// forms, no surrogates, nothing above U+10FFFF), 0 if there is none.
std::size_t utf8_sequence(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char lead = b(0);
  if (lead >= 0xC2 && lead <= 0xDF) return cont(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (lead == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (lead == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void append_u00(unsigned char c, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  append("\\u00", dest);
  dest.push_back(kHex[c >> 4]);
  dest.push_back(kHex[c & 15]);
}

}  // namespace

void append_json_string(std::string_view text, spdlog::memory_buf_t& dest) {
  dest.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_sequence(text.substr(i)); n > 0) {
        append(text.substr(i, n), dest);
        i += n;
      } else {
        append_u00(c, dest);
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        append("\\\"", dest);
        break;
      case '\\':
        append("\\\\", dest);
        break;
      case '\n':
        append("\\n", dest);
        break;
      case '\r':
        append("\\r", dest);
        break;
      case '\t':
        append("\\t", dest);
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          append_u00(c, dest);
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  dest.push_back('"');
}

void append_rfc3339_ms(std::chrono::system_clock::time_point t, spdlog::memory_buf_t& dest) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
  auto seconds = static_cast<std::time_t>(ms / 1000);
  auto millis = static_cast<int>(ms % 1000);
  if (millis < 0) {  // before 1970: floor, not truncation
    millis += 1000;
    --seconds;
  }
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  const int year = tm.tm_year + 1900;
  append_2(year / 100, dest);
  append_2(year % 100, dest);
  dest.push_back('-');
  append_2(tm.tm_mon + 1, dest);
  dest.push_back('-');
  append_2(tm.tm_mday, dest);
  dest.push_back('T');
  append_2(tm.tm_hour, dest);
  dest.push_back(':');
  append_2(tm.tm_min, dest);
  dest.push_back(':');
  append_2(tm.tm_sec, dest);
  dest.push_back('.');
  dest.push_back(static_cast<char>('0' + millis / 100));
  append_2(millis % 100, dest);
  dest.push_back('Z');
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  append("{\"ts\":\"", dest);
  append_rfc3339_ms(msg.time, dest);
  append("\",\"level\":", dest);
  const auto level = spdlog::level::to_string_view(msg.level);
  append_json_string(std::string_view(level.data(), level.size()), dest);
  dest.push_back(',');
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (msg.source.filename == kJsonMembers) {
    append(payload, dest);
  } else {
    append("\"msg\":", dest);
    append_json_string(payload, dest);
  }
  append("}\n", dest);
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace latchkey::http
