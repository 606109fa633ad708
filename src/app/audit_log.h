// The audit log: one JSON object per line for each authentication event, written through a
// spdlog logger (a LogFileSink, or stdout) so lines from concurrent requests never interleave.
// Each line carries the request's id (`request_id`, http/request_id.h) when the event came
// from a request, as the access line of that request does.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/events.h"

namespace spdlog {
class logger;
}

namespace latchkey::app {

class LogFileSink;

class AuditLog final : public EventSink {
 public:
  // path "-" writes to stdout. Throws spdlog::spdlog_ex if the file cannot be opened.
  AuditLog(const std::string& path, const Clock& clock);
  void emit(const Event& event) override;
  void flush();
  // Opens the file again at its path (SIGUSR1, after logrotate renamed it). Nothing to do for
  // stdout. On failure the old file stays in use and the reason is returned. Thread-safe.
  std::optional<std::string> reopen();

 private:
  std::shared_ptr<LogFileSink> file_;  // null for stdout
  std::shared_ptr<spdlog::logger> log_;
  const Clock& clock_;
};

// Forwards every event to several sinks (audit log and metrics).
class FanOut final : public EventSink {
 public:
  void add(EventSink* sink) { sinks_[count_++] = sink; }
  void emit(const Event& event) override {
    for (int i = 0; i < count_; ++i) sinks_[i]->emit(event);
  }

 private:
  EventSink* sinks_[4] = {};
  int count_ = 0;
};

}  // namespace latchkey::app
