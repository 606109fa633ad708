// The KeyRing in use, replaced whole when the server reloads its signing keys (SIGHUP, after
// `latchkey keys rotate`). Readers take a snapshot with current(): one atomic load, no mutex,
// and the snapshot keeps its ring alive, so a reload never frees keys a request is signing
// with; that request finishes with the ring it loaded while new ones get the new ring.
// Thread-safe; owned by the composition root (src/app/), never global.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

#include "keys/key_ring.h"

namespace latchkey::keys {

class CurrentKeyRing {
 public:
  explicit CurrentKeyRing(std::shared_ptr<const KeyRing> ring) : ring_(std::move(ring)) {}
  CurrentKeyRing(const CurrentKeyRing&) = delete;
  CurrentKeyRing& operator=(const CurrentKeyRing&) = delete;

  std::shared_ptr<const KeyRing> current() const { return ring_.load(std::memory_order_acquire); }
  void replace(std::shared_ptr<const KeyRing> ring) {
    ring_.store(std::move(ring), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const KeyRing>> ring_;
};

}  // namespace latchkey::keys
