// Form and query decoding, the Basic and Bearer Authorization headers and the Cookie header
// (src/http/params.h): the parsers that see every request's bytes first; and the Forwarded /
// X-Forwarded-For parsing of http/client_address.h, as a trusted proxy's request would meet it.
//
// Invariants: form_decode(form_encode(x)) == x; what parse_form accepts re-encodes to a form
// that parses to the same pairs; what parse_basic / parse_bearer / cookie_value return obeys
// their contracts and survives a round trip through the header it came from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "fuzz_check.h"
#include "http/client_address.h"
#include "http/params.h"

namespace {

using namespace latchkey;

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

void check_encoding(std::string_view text) {
  const std::string encoded = http::form_encode(text);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%') {
      if (i + 2 >= encoded.size() || !is_upper_hex(encoded[i + 1]) ||
          !is_upper_hex(encoded[i + 2])) {
        fuzz::fail("form_encode: malformed escape");
      }
      i += 2;
    } else if (!is_unreserved(encoded[i])) {
      fuzz::fail("form_encode: reserved character left unescaped");
    }
  }
  const auto decoded = http::form_decode(encoded);
  if (!decoded || *decoded != text) fuzz::fail("form_decode(form_encode(x)) != x");

  if (const auto once = http::form_decode(text)) {
    const auto again = http::form_decode(http::form_encode(*once));
    if (!again || *again != *once) fuzz::fail("form_decode round trip of a decoded value");
  }
}

void check_form(std::string_view text) {
  auto params = http::parse_form(text);
  if (!params.ok()) return;
  std::string reencoded;
  for (std::size_t i = 0; i < params->items().size(); ++i) {
    const auto& [name, value] = params->items()[i];
    if (name.empty()) fuzz::fail("parse_form: empty name kept");
    if (name.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      fuzz::fail("parse_form: NUL in a name or value");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (params->items()[j].first == name) fuzz::fail("parse_form: repeated name accepted");
    }
    if (params->get(name) != std::string_view(value)) fuzz::fail("Params::get disagrees");
    if (!reencoded.empty()) reencoded += '&';
    reencoded += http::form_encode(name) + "=" + http::form_encode(value);
  }
  auto again = http::parse_form(reencoded);
  if (!again.ok() || again->items() != params->items()) {
    fuzz::fail("parse_form of the re-encoded form differs");
  }
}

void check_basic(std::string_view header) {
  const auto creds = http::parse_basic(header);
  if (!creds) return;
  if (creds->id.empty()) fuzz::fail("parse_basic: empty id");
  if (creds->id.find('\0') != std::string::npos || creds->secret.find('\0') != std::string::npos) {
    fuzz::fail("parse_basic: NUL in id or secret");
  }
  // RFC 6749 §2.3.1: what a conforming client would send for the same credentials.
  const std::string sent = "Basic " + crypto::base64_encode(http::form_encode(creds->id) + ":" +
                                                            http::form_encode(creds->secret));
  const auto again = http::parse_basic(sent);
  if (!again || again->id != creds->id || again->secret != creds->secret) {
    fuzz::fail("parse_basic round trip");
  }
}

void check_bearer(std::string_view header) {
  const auto token = http::parse_bearer(header);
  if (!token) return;
  if (token->empty()) fuzz::fail("parse_bearer: empty token");
  for (char c : *token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) fuzz::fail("parse_bearer: space or control in token");
  }
  const auto again = http::parse_bearer("Bearer " + *token);
  if (!again || *again != *token) fuzz::fail("parse_bearer round trip");
}

void check_cookie(std::string_view header, std::string_view name) {
  const auto value = http::cookie_value(header, name);
  if (!value) return;
  if (value->find(';') != std::string::npos) fuzz::fail("cookie_value: ';' inside a value");
  if (header.find(name) == std::string_view::npos) fuzz::fail("cookie_value: name not in header");
}

// Whatever a trusted proxy's headers say, the client address is the peer's or an address that
// parses again to itself; an address parse_address accepts is normal (parses to itself).
void check_client_address(std::string_view input) {
  if (const auto a = http::parse_address(input)) {
    if (http::parse_address(*a) != *a) fuzz::fail("parse_address: not normal");
  }
  (void)http::Cidr::parse(input);
  static const std::vector<http::Cidr> everyone = {*http::Cidr::parse("0.0.0.0/0"),
                                                   *http::Cidr::parse("::/0")};
  for (const char* header : {"forwarded", "x-forwarded-for"}) {
    http::Request r;
    r.remote_addr = "10.0.0.1";
    r.headers.emplace_back(header, std::string(input));
    const std::string client = http::client_address(r, everyone);
    if (client != r.remote_addr && http::parse_address(client) != client) {
      fuzz::fail("client_address: neither the peer nor an address");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_encoding(input);
  check_form(input);
  check_basic(input);
  check_bearer(input);
  // The cookie names the server sets, and one taken from the input itself ("name\n header").
  for (std::string_view name :
       {"lk_sid", "lk_csrf", "__Host-lk_sid", "__Host-lk_csrf", "lk_demo"}) {
    check_cookie(input, name);
  }
  check_client_address(input);
  if (const std::size_t nl = input.find('\n'); nl != std::string_view::npos) {
    check_cookie(input.substr(nl + 1), input.substr(0, nl));
  }
  return 0;
}
