// The audit log: one JSON object per line for each authentication event, written through a
// spdlog logger (file or stdout) so writes are serialized and buffered.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/events.h"

namespace spdlog {
class logger;
}

namespace latchkey::app {

class AuditLog final : public EventSink {
 public:
  // path "-" writes to stdout. Throws spdlog::spdlog_ex if the file cannot be opened.
  AuditLog(const std::string& path, const Clock& clock);
  void emit(const Event& event) override;
  void flush();

 private:
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
