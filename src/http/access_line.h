// The access line: one per request answered (docs/operations.md "Logs"), in the format the
// operator chose (`serve --log-format`). Never the query string, a header or a body: they can
// carry codes, tokens and passwords (RFC 9700 §4.3); the path alone, as received.
//
//   text: method=GET path=/x status=200 bytes=12 us=345 addr=127.0.0.1 request_id=ID
//         (logfmt after the logger's time and level; no value holds a space: the path comes
//         from the request line, and request ids are visible ASCII, http/request_id.h)
//   json: "msg":"GET /x 200","method":"GET","path":"/x","status":200,"duration_ms":0.345,
//         "client":"127.0.0.1","request_id":"ID","bytes":12 (members that JsonLogFormatter
//         places after ts and level)
//
// Thread safety: pure, but for the logger's, which spdlog's loggers provide.
#pragma once

#include <spdlog/logger.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace latchkey::http {

enum class LogFormat { text, json };

struct AccessLine {
  std::string_view method;
  std::string_view path;  // without the query string
  unsigned status = 0;
  std::size_t bytes = 0;    // of the response body
  std::int64_t micros = 0;  // from the request's first byte to the response written
  std::string_view client;  // the TCP peer's address
  std::string_view request_id;
};

// Appends the message of `line` in `format` (the text above, or the JSON members).
void append_access_line(LogFormat format, const AccessLine& line, spdlog::memory_buf_t& dest);

// Logs `line` at info on `log`, as a message JsonLogFormatter takes as members.
void log_access_line(spdlog::logger& log, LogFormat format, const AccessLine& line);

}  // namespace latchkey::http
