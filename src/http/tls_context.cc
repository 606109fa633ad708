#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace latchkey::http::detail {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: forward secret (ECDHE) and authenticated encryption (GCM, ChaCha20-Poly1305)
// only. TLS 1.3 suites are all AEAD; OpenSSL's default list for them stays.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Needed for session resumption when client certificates are requested.
constexpr unsigned char kSessionIdContext[] = "latchkey";

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  std::string last;
  while (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    last = buf;
    code = ERR_get_error();
  }
  return last.empty() ? std::string("unknown OpenSSL error") : last;
}

// A readable file, or an error that names it; OpenSSL's own message for a missing file is
// "system library" noise, and for a directory "PEM lib". Reads one byte, since opening a
// directory succeeds and only reading it fails.
void require_readable(const std::string& what, const std::string& path) {
  if (path.empty()) throw std::runtime_error(what + " file is required with --tls-listen");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (in) in.peek();
  if (in.eof() && !in.bad()) throw std::runtime_error(what + " file " + path + " is empty");
  if (!in) {
    throw std::runtime_error("cannot read " + what + " file " + path + ": " +
                             std::strerror(errno != 0 ? errno : EIO));
  }
}

// RFC 8705 §2.2: a self-signed client certificate does not chain anywhere and is still a
// credential. The handshake accepts any certificate; OpenSSL keeps the verification outcome
// (SSL_get_verify_result), which the session records as "chained" or not.
int accept_any_certificate(int /*preverified*/, X509_STORE_CTX* /*ctx*/) { return 1; }

// An encrypted key would make OpenSSL prompt on the terminal (a server started by a service
// manager would hang there, or read its stdin); failing to decrypt makes it a start-up error.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsOptions& o) {
  require_readable("TLS certificate", o.cert_file);
  require_readable("TLS key", o.key_file);
  if (!o.client_ca_file.empty()) require_readable("TLS client CA", o.client_ca_file);

  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot set the minimum TLS version: " + openssl_error());
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) {
    throw std::runtime_error("cannot set the TLS 1.2 cipher suites: " + openssl_error());
  }
  if (SSL_CTX_use_certificate_chain_file(c, o.cert_file.c_str()) != 1) {
    throw std::runtime_error("cannot load TLS certificate file " + o.cert_file +
                             ": not a PEM certificate chain (" + openssl_error() + ")");
  }
  SSL_CTX_set_default_passwd_cb(c, no_passphrase);
  if (SSL_CTX_use_PrivateKey_file(c, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load TLS key file " + o.key_file +
                             ": not an unencrypted PEM private key (" + openssl_error() + ")");
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    throw std::runtime_error("TLS key file " + o.key_file + " does not match certificate " +
                             o.cert_file);
  }
  if (!o.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, o.client_ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load TLS client CA file " + o.client_ca_file +
                               ": not PEM CA certificates (" + openssl_error() + ")");
    }
    // Named in the CertificateRequest so that clients with several certificates pick one
    // from this CA; clients with a single (self-signed) certificate send it regardless.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(c, names);
    }
  }
  // verify_peer without fail_if_no_peer_cert: ask for a certificate, do not require one.
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, accept_any_certificate);
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1);
  ERR_clear_error();
  return ctx;
}

}  // namespace latchkey::http::detail
