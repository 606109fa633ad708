// Discovery (OIDC Discovery 1.0 §3, RFC 8414 §2) and the JWKS. Both documents are built
// once at start-up from what is switched on, so they advertise exactly what is served.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"
#include "oidc/key_ring.h"

namespace latchkey::oidc {

class Discovery {
 public:
  // mtls_base_url: the TLS listener's https://HOST:PORT when mutual TLS is on (RFC 8705 §5:
  // advertised as mtls_endpoint_aliases, with bound tokens and both mTLS client auth methods);
  // empty advertises none of it.
  Discovery(std::string issuer, const std::vector<std::string>& grant_types, const KeyRing& keys,
            const std::string& mtls_base_url = {});
  http::Response configuration() const;
  http::Response jwks() const;

 private:
  std::string configuration_;
  std::string jwks_;
};

}  // namespace latchkey::oidc
