// The JSON form of the server's log (`serve --log-format json`, docs/operations.md "Logs"):
// each message is one JSON object on one line, {"ts":…,"level":…,"msg":…}, `ts` in RFC 3339
// UTC with milliseconds (2026-12-03T22:02:35.123Z), `level` spdlog's name (info, warning,
// error, …). A message logged with kJsonMembers as its source location's file name is already
// a list of JSON members ("msg" among them: the access line, http/access_line.h) and is placed
// after `level` as it is; any other message becomes the `msg` string.
//
// Thread safety: a formatter is used by one sink, under that sink's lock (spdlog's contract);
// the free functions are pure.
#pragma once

#include <spdlog/formatter.h>

#include <chrono>
#include <memory>
#include <string_view>

namespace latchkey::http {

// Compared by address (one definition for the program): no text a message can carry forges it.
inline constexpr char kJsonMembers[] = "latchkey-json-members";

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Appends `text` as a JSON string, quotes included (RFC 8259 §7): `"` and `\` escaped, control
// characters as \n, \r, \t or \u00XX, UTF-8 as it is; a byte that is not part of well-formed
// UTF-8 becomes \u00XX (its value), so every line is valid JSON whatever a client sent.
void append_json_string(std::string_view text, spdlog::memory_buf_t& dest);

// Appends `t` as RFC 3339 UTC with milliseconds: 2026-12-03T22:02:35.123Z.
void append_rfc3339_ms(std::chrono::system_clock::time_point t, spdlog::memory_buf_t& dest);

}  // namespace latchkey::http
