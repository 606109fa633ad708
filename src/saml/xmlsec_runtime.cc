#include "saml/xmlsec_runtime.h"

#include <mutex>

#include "saml/xml_headers.h"

namespace latchkey::saml::detail {
namespace {

// xmlsec reports every failure through one process-wide callback, by default to stderr. On this
// path the failures are caused by untrusted input (bad signatures, odd shapes), so printing
// them would let any client write to the server's log; the caller turns a failure into an
// oauth::Error with its own debug text instead.
void quiet_xmlsec_errors(const char* /*file*/, int /*line*/, const char* /*func*/,
                         const char* /*error_object*/, const char* /*error_subject*/,
                         int /*reason*/, const char* /*msg*/) {}

bool initialize() {
  // libxml2 must be initialised once before it is used from several threads.
  xmlInitParser();
  // Deliberately NOT touched: xmlSubstituteEntitiesDefault, xmlLoadExtDtdDefaultValue and
  // friends, which xmlsec's examples set. Entity substitution and DTD loading stay off.
  if (xmlSecInit() < 0) return false;
  if (xmlSecCheckVersion() != 1) return false;
  // XMLSEC_NO_CRYPTO_DYNAMIC_LOADING (from pkg-config) maps these to the OpenSSL back end.
  if (xmlSecCryptoAppInit(nullptr) < 0) return false;
  if (xmlSecCryptoInit() < 0) return false;
  xmlSecErrorsSetCallback(quiet_xmlsec_errors);
  return true;
}

}  // namespace

bool ensure_xml_security_initialized() {
  static std::once_flag once;
  static bool ok = false;  // written once inside call_once, read-only afterwards
  std::call_once(once, [] { ok = initialize(); });
  return ok;
}

}  // namespace latchkey::saml::detail
