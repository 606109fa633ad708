// Internal to src/saml/: one-time, process-wide initialisation of libxml2 and xmlsec (with its
// OpenSSL back end).
//
// Thread safety: ensure_xml_security_initialized() may be called from any thread, any number of
// times; the first call does the work under std::call_once and every later call only reads the
// outcome. After it succeeds, libxml2 and xmlsec are safe to use from several threads as long
// as each thread works on its own documents and contexts, which is how this module uses them.
// The libraries are never shut down: their state lives until the process exits.
#pragma once

namespace latchkey::saml::detail {

// True when libxml2, xmlsec and xmlsec-openssl are ready. A false return is permanent (a
// broken installation); callers refuse every assertion rather than crash.
[[nodiscard]] bool ensure_xml_security_initialized();

}  // namespace latchkey::saml::detail
