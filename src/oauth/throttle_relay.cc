#include "oauth/throttle_relay.h"

#include "crypto/crypto.h"

namespace latchkey::oauth {
namespace {

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case included: publish() writes lower case only
}

// The key a publish() wrote as 64 lower-case hex characters; false for anything else.
bool parse_key(std::string_view hex, ThrottleKey& key) {
  if (hex.size() != key.size() * 2) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    key[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

ThrottleRelay::ThrottleRelay(store::ChangeBoard& board, Random& random)
    : board_(board), node_id_(crypto::hex_encode(random.bytes(8))) {}

void ThrottleRelay::add(FailureThrottle& throttle) { throttles_[throttle.name()] = &throttle; }

void ThrottleRelay::publish(std::string_view throttle, const ThrottleKey& key, bool failed) {
  std::string text = node_id_;
  text += ':';
  // PostgreSQL delivers identical payloads announced in one transaction once, and one commit
  // carries many announcements (group commit): five failures of one key must stay five.
  text += std::to_string(sequence_.fetch_add(1, std::memory_order_relaxed));
  text += ':';
  text += throttle;
  text += failed ? ":f:" : ":s:";
  text +=
      crypto::hex_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  board_.announce({store::Change::Kind::throttle, std::move(text)});
}

bool ThrottleRelay::hear(const store::Change& change) {
  if (change.kind != store::Change::Kind::throttle) return false;
  // node:sequence:name:f|s:hex, the name free of ':' (names are ours: "login.address" and
  // the like).
  const std::string& k = change.key;
  const std::size_t node_end = k.find(':');
  if (node_end == std::string::npos || std::string_view(k).substr(0, node_end) == node_id_) {
    return false;
  }
  const std::size_t a = k.find(':', node_end + 1);  // the sequence is only there to differ
  if (a == std::string::npos) return false;
  const std::size_t b = k.find(':', a + 1);
  if (b == std::string::npos || b + 3 > k.size() || k[b + 2] != ':') return false;
  const char what = k[b + 1];
  if (what != 'f' && what != 's') return false;
  auto it = throttles_.find(k.substr(a + 1, b - a - 1));
  if (it == throttles_.end()) return false;
  ThrottleKey key{};
  if (!parse_key(std::string_view(k).substr(b + 3), key)) return false;
  if (what == 'f') {
    it->second->failure_elsewhere(key);
  } else {
    it->second->success_elsewhere(key);
  }
  return true;
}

}  // namespace latchkey::oauth
