// PKCE (RFC 7636). Only S256 exists here: "plain" is refused at authorize time (RFC 9700
// §2.1.1 recommends S256; plain offers no protection when the challenge leaks).
#pragma once

#include <string>
#include <string_view>

namespace latchkey::oauth {

// RFC 7636 §4.1: 43..128 chars of [A-Z a-z 0-9 - . _ ~], except that up to 256 are taken:
// Salesforce asks for the base64url of 128 random bytes (171 characters), and jsforce, with it
// the Salesforce CLI's web login, sends exactly that (docs/behaviour.md §5.2).
bool valid_code_verifier(std::string_view verifier);
// An S256 challenge is base64url(SHA-256) without padding: exactly 43 chars of that alphabet.
bool valid_s256_challenge(std::string_view challenge);
// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in
// constant time.
bool verify_s256(std::string_view verifier, std::string_view challenge);

}  // namespace latchkey::oauth
