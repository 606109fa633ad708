// Internal to src/http: builds the OpenSSL server context of the TLS listener from
// TlsOptions. Policy (RFC 9325, RFC 8705): TLS 1.2 or newer; for 1.2 only ECDHE key exchange
// with AEAD ciphers; no compression (CRIME), no renegotiation; a client certificate is asked
// for but not required, and every presented certificate is accepted by the handshake, whether
// it chains to the client CA or not (RFC 8705 §2.2: self-signed ones are matched by thumbprint
// by client authentication, which also decides on expiry).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "http/server.h"

namespace latchkey::http::detail {

// Throws std::runtime_error naming the file that could not be read or used, or saying that
// the key does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsOptions& options);

}  // namespace latchkey::http::detail
