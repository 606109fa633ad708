// Discovery (OIDC Discovery 1.0 §3, RFC 8414 §2) and the JWKS. The discovery document is
// built once at start-up from what is switched on, so it advertises exactly what is served;
// the JWKS is the current key ring's, so a key reload (SIGHUP) publishes the new keys.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"
#include "keys/current_key_ring.h"

namespace latchkey::oidc {

class Discovery {
 public:
  // mtls_base_url: the TLS listener's https://HOST:PORT when mutual TLS is on (RFC 8705 §5:
  // advertised as mtls_endpoint_aliases, with bound tokens and both mTLS client auth methods);
  // empty advertises none of it.
  Discovery(const std::string& issuer, const std::vector<std::string>& grant_types,
            const keys::CurrentKeyRing& keys, const std::string& mtls_base_url = {});
  http::Response configuration() const;
  http::Response jwks() const;

 private:
  std::string configuration_;
  const keys::CurrentKeyRing& keys_;
};

}  // namespace latchkey::oidc
