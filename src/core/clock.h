// Clock seam: expiry and replay logic reads time only through this, so tests use a fake.
#pragma once

#include <chrono>
#include <cstdint>

namespace latchkey {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t now_ms() const = 0;
  int64_t now_s() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// Thread-compatible fake for tests: set or advance time explicitly.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t now_ms() const override { return now_; }
  void advance_s(int64_t s) { now_ += s * 1000; }
  void set_ms(int64_t ms) { now_ = ms; }

 private:
  int64_t now_;
};

}  // namespace latchkey
