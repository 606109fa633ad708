// Salesforce's single-access URL (the "UI bridge" that `sf org open` uses; docs/behaviour.md §4):
//
//   GET /services/oauth2/singleaccess[?redirect_uri=/path]  (Bearer; `web` or `full` scope)
//     → {"frontdoor_uri":"{issuer}/secur/frontdoor.jsp?otp=…"}
//   GET /secur/frontdoor.jsp?otp=…
//     → signs the browser in as the token's user (a session as the login form makes) and
//       redirects to redirect_uri, or to the landing page.
//
// The otp is no stored secret: it is the token's user, org and client, an expiry 5 minutes
// ahead, a random nonce and the redirect path, with an HMAC-SHA256 over them under a key
// derived from the key-encryption key (every node of an installation has it). Its one use is
// recorded in the ReplayStore (the database), so a second use is refused by every node. A
// redirect_uri must be a path of this server ("/…", never "//…"): the front door is no open
// redirector. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "http/message.h"
#include "oauth/authorize/authorize_endpoint.h"
#include "store/stores.h"
#include "token/opaque_tokens.h"

namespace latchkey::oauth {

struct FrontDoorDeps {
  const token::OpaqueTokens& tokens;
  store::UserStore& users;
  store::ReplayStore& replays;
  AuthorizeEndpoint& sessions;  // makes the browser session
  Random& random;
  const Clock& clock;
  std::string issuer;
  // HMAC key of the otps; crypto::KeySealer::derive_key in a server. When empty (tests), the
  // constructor draws one from `random`.
  std::string key;
};

class FrontDoor {
 public:
  explicit FrontDoor(FrontDoorDeps deps);
  // GET /services/oauth2/singleaccess. Reads only.
  http::Response single_access(const http::Request& request);
  // GET /secur/frontdoor.jsp. Writes the otp's use and the session.
  http::Response enter(const http::Request& request);

 private:
  std::string mac(std::string_view payload) const;

  FrontDoorDeps d_;
};

}  // namespace latchkey::oauth
