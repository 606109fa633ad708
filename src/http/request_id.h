// Request ids (docs/operations.md "Logs"): every request carries one, taken from the client's
// (or a proxy's) `X-Request-Id` when that is acceptable, otherwise made here. The server echoes
// it on the response as `X-Request-Id` and writes it in the access line; handlers copy it into
// the audit events the request causes (core/events.h), so one id ties the three together.
//
// Thread safety: acceptable_request_id is pure; a RequestIds may be shared by every thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::http {

// Longest X-Request-Id taken as given; a longer one is replaced.
inline constexpr std::size_t kMaxRequestIdLength = 128;

// Whether an incoming X-Request-Id is used as it is: 1 to 128 visible ASCII characters
// (0x21-0x7E, RFC 5234 VCHAR). Anything else (empty, longer, a space, a control character, a
// byte above 0x7E) is ignored and an id is made instead, so that no id can break a log line or
// a response header, or forge either.
bool acceptable_request_id(std::string_view id);

// Makes request ids: 22 base64url characters (16 bytes): 8 random bytes drawn once per
// RequestIds, then a per-request counter scrambled by a bijection keyed with 8 more random
// bytes. Ids of one RequestIds never repeat (the counter would have to wrap 2^64) and share
// their first ten characters, which thus tell one server process (and start) from another;
// the rest neither counts nor orders requests to the eye. Costs an atomic increment and no
// allocation per id: drawing 16 fresh bytes from the CSPRNG per request cost a microsecond or more
// (OpenSSL 3 locks it), and nothing needs the ids to be secret: a client may choose its own.
class RequestIds {
 public:
  // Draws the prefix and the key (OpenSSL's CSPRNG); throws std::runtime_error if it fails.
  RequestIds();
  // Replaces the content of `out` with a new id (keeping its capacity). Thread-safe, lock-free.
  void next(std::string& out);

 private:
  std::array<unsigned char, 8> prefix_{};
  std::uint64_t key_ = 0;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace latchkey::http
