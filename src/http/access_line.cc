#include "http/access_line.h"

#include <fmt/format.h>

#include <iterator>

#include "http/json_log_formatter.h"

namespace latchkey::http {
namespace {

void append(std::string_view s, spdlog::memory_buf_t& dest) {
  dest.append(s.data(), s.data() + s.size());
}

}  // namespace

void append_access_line(LogFormat format, const AccessLine& line, spdlog::memory_buf_t& dest) {
  if (format == LogFormat::text) {
    fmt::format_to(std::back_inserter(dest),
                   "method={} path={} status={} bytes={} us={} addr={} request_id={}", line.method,
                   line.path, line.status, line.bytes, line.micros, line.client, line.request_id);
    return;
  }
  // "msg" first, as every JSON line has it: what a person scanning the log reads.
  append("\"msg\":", dest);
  spdlog::memory_buf_t msg;
  fmt::format_to(std::back_inserter(msg), "{} {} {}", line.method, line.path, line.status);
  append_json_string(std::string_view(msg.data(), msg.size()), dest);
  append(",\"method\":", dest);
  append_json_string(line.method, dest);
  append(",\"path\":", dest);
  append_json_string(line.path, dest);
  fmt::format_to(std::back_inserter(dest), ",\"status\":{},\"duration_ms\":{}.{:03}", line.status,
                 line.micros / 1000, line.micros % 1000);
  append(",\"client\":", dest);
  append_json_string(line.client, dest);
  append(",\"request_id\":", dest);
  append_json_string(line.request_id, dest);
  fmt::format_to(std::back_inserter(dest), ",\"bytes\":{}", line.bytes);
}

void log_access_line(spdlog::logger& log, LogFormat format, const AccessLine& line) {
  if (!log.should_log(spdlog::level::info)) return;
  spdlog::memory_buf_t message;
  append_access_line(format, line, message);
  log.log(spdlog::source_loc{kJsonMembers, 1, kJsonMembers}, spdlog::level::info,
          spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace latchkey::http
