// The response_type and response_mode of an authorization request (RFC 6749 §3.1.1, OAuth 2.0
// Multiple Response Type Encoding Practices §2-§5, OIDC Core §3).
#pragma once

#include <optional>
#include <string_view>

namespace latchkey::oauth {

// Which credentials the authorization response carries. Every non-empty combination of
// `code`, `token` and `id_token` is a registered response type (plain OAuth: code, token;
// OIDC implicit: id_token, id_token token; OIDC hybrid: code id_token, code token,
// code id_token token).
struct ResponseType {
  bool code = false;
  bool token = false;
  bool id_token = false;

  // Anything but plain `code` puts a credential in the redirect itself, so its default
  // response mode is the fragment (Multiple Response Types §2.1, §5; OIDC Core §3.2.2.5).
  bool fragment_by_default() const { return token || id_token; }
};

// A space-delimited list of `code`, `token` and `id_token` in any order (RFC 6749 §3.1.1: the
// order does not matter). nullopt for an empty value, an unknown word (including `none`) or a
// word given twice: all unsupported_response_type.
std::optional<ResponseType> parse_response_type(std::string_view text);

// Whether an unparseable response_type still names a front-channel credential, so that its
// error goes where such a response would have gone (the fragment).
bool mentions_front_channel(std::string_view text);

enum class ResponseMode { query, fragment };

// The response_mode parameter (Multiple Response Types §2.1); empty means absent (OIDC Core
// §3.1.2.1: a parameter without a value is treated as omitted). Returns the mode to answer
// in, or nullopt when it is unknown or not allowed for the response type:
// `query` would carry an access or ID token in the URL's query, which reaches server logs and
// Referer headers (Multiple Response Types §3.0 forbids it for `token`; the same holds for
// ID tokens), so only plain `code` may use it.
std::optional<ResponseMode> choose_response_mode(const ResponseType& type, std::string_view mode);

}  // namespace latchkey::oauth
