#include "saml_test_support.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <stdexcept>

#include "saml/xml_headers.h"
#include "saml/xml_safe_parse.h"
#include "saml/xmlsec_runtime.h"

namespace latchkey::saml::testing {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

TestKey make_key(EVP_PKEY* raw, const char* cn) {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(raw);
  if (!pkey) throw std::runtime_error("key generation failed");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 365);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) <= 0) {
    throw std::runtime_error("certificate signing failed");
  }

  TestKey key;
  std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(priv.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
  key.private_pem = bio_text(priv.get());
  std::unique_ptr<BIO, BioFree> pem(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(pem.get(), cert.get());
  key.cert_pem = bio_text(pem.get());
  // The base64 body of the PEM is the DER in base64.
  const std::size_t start = key.cert_pem.find('\n') + 1;
  const std::size_t end = key.cert_pem.find("-----END");
  for (std::size_t i = start; i < end; ++i) {
    if (key.cert_pem[i] != '\n') key.cert_b64 += key.cert_pem[i];
  }
  return key;
}

std::string optional_time_attr(const char* name, std::optional<int64_t> t) {
  return t ? std::string(" ") + name + "=\"" + saml_time(*t) + "\"" : std::string();
}

// The XML reads better one element per line than as clang-format would wrap it.
// clang-format off
std::string signature_template(const AssertionSpec& spec) {
  const std::string uri = spec.reference_uri.empty() ? "#" + spec.id : spec.reference_uri;
  return "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
         "<ds:SignedInfo>"
         "<ds:CanonicalizationMethod Algorithm=\"" + spec.c14n_method + "\"/>"
         "<ds:SignatureMethod Algorithm=\"" + spec.signature_method + "\"/>"
         "<ds:Reference URI=\"" + uri + "\">"
         "<ds:Transforms>"
         "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>" +
         spec.extra_transform +
         "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
         "</ds:Transforms>"
         "<ds:DigestMethod Algorithm=\"" + spec.digest_method + "\"/>"
         "<ds:DigestValue></ds:DigestValue>"
         "</ds:Reference>"
         "</ds:SignedInfo>"
         "<ds:SignatureValue></ds:SignatureValue>"
         "</ds:Signature>";
}
// clang-format on

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct DSigCtxFree {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};

xmlNode* find_signature(xmlNode* node) {
  for (; node != nullptr; node = node->next) {
    if (detail::is_element(node, detail::kDsigNs, "Signature")) return node;
    if (xmlNode* found = find_signature(node->children)) return found;
  }
  return nullptr;
}

void register_ids(xmlDoc* doc, xmlNode* node) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    if (xmlAttr* attr = xmlHasNsProp(node, BAD_CAST "ID", nullptr)) {
      xmlChar* value = xmlNodeListGetString(doc, attr->children, 1);
      if (xmlGetID(doc, value) == nullptr) xmlAddID(nullptr, doc, value, attr);
      xmlFree(value);
    }
    register_ids(doc, node->children);
  }
}

}  // namespace

const TestKey& app_key() {
  static const TestKey key = make_key(EVP_RSA_gen(2048), "app");
  return key;
}
const TestKey& attacker_key() {
  static const TestKey key = make_key(EVP_RSA_gen(2048), "attacker");
  return key;
}
const TestKey& small_rsa_key() {
  static const TestKey key = make_key(EVP_RSA_gen(1024), "small");
  return key;
}
const TestKey& ec_key() {
  static const TestKey key = make_key(EVP_EC_gen("P-256"), "ec");
  return key;
}

std::string saml_time(int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// clang-format off
std::string render(const AssertionSpec& s) {
  const std::string sig = signature_template(s);
  std::string xml =
      "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + s.id +
      "\" Version=\"2.0\"" +
      (s.issue_instant ? " IssueInstant=\"" + saml_time(*s.issue_instant) + "\"" : "") + ">"
      "<saml:Issuer>" + s.issuer + "</saml:Issuer>" +
      (s.signature_at == SignatureAt::kRoot ? sig : "") +
      "<saml:Subject" + (s.subject_id.empty() ? "" : " ID=\"" + s.subject_id + "\"") + ">"
      "<saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\">" +
      s.name_id + "</saml:NameID>" + (s.signature_at == SignatureAt::kSubject ? sig : "") +
      "<saml:SubjectConfirmation Method=\"" + s.method + "\">"
      "<saml:SubjectConfirmationData" + optional_time_attr("NotOnOrAfter", s.scd_not_on_or_after) +
      " Recipient=\"" + s.recipient + "\"/>"
      "</saml:SubjectConfirmation>"
      "</saml:Subject>"
      "<saml:Conditions" + optional_time_attr("NotBefore", s.not_before) +
      optional_time_attr("NotOnOrAfter", s.not_on_or_after) + ">"
      "<saml:AudienceRestriction><saml:Audience>" + s.audience + "</saml:Audience>"
      "</saml:AudienceRestriction>"
      "</saml:Conditions>" +
      (s.advice.empty() ? "" : "<saml:Advice>" + s.advice + "</saml:Advice>") +
      "<saml:AuthnStatement AuthnInstant=\"" + saml_time(kNow - 5) + "\">"
      "<saml:AuthnContext><saml:AuthnContextClassRef>"
      "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
      "</saml:AuthnContextClassRef></saml:AuthnContext>"
      "</saml:AuthnStatement>"
      "</saml:Assertion>";
  return xml;
}
// clang-format on

std::string sign(const std::string& xml, const TestKey& key) {
  if (!detail::ensure_xml_security_initialized()) throw std::runtime_error("xmlsec init");
  std::unique_ptr<xmlDoc, DocFree> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, XML_PARSE_NONET));
  if (!doc) throw std::runtime_error("test XML does not parse: " + xml);
  register_ids(doc.get(), xmlDocGetRootElement(doc.get()));
  xmlNode* signature = find_signature(xmlDocGetRootElement(doc.get()));
  if (signature == nullptr) throw std::runtime_error("no Signature template");

  std::unique_ptr<xmlSecDSigCtx, DSigCtxFree> ctx(xmlSecDSigCtxCreate(nullptr));
  ctx->signKey =
      xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(key.private_pem.data()),
                                   static_cast<xmlSecSize>(key.private_pem.size()),
                                   xmlSecKeyDataFormatPem, nullptr, nullptr, nullptr);
  if (ctx->signKey == nullptr) throw std::runtime_error("private key does not load");
  if (xmlSecDSigCtxSign(ctx.get(), signature) < 0) throw std::runtime_error("signing failed");

  xmlChar* out = nullptr;
  int size = 0;
  xmlDocDumpMemory(doc.get(), &out, &size);
  std::string text(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
  xmlFree(out);
  if (text.rfind("<?xml", 0) == 0) text.erase(0, text.find("?>") + 2);
  while (!text.empty() && (text.front() == '\n')) text.erase(0, 1);
  while (!text.empty() && (text.back() == '\n')) text.pop_back();
  return text;
}

std::string signed_assertion(const AssertionSpec& spec, const TestKey& key) {
  return sign(render(spec), key);
}

std::string signature_of(const std::string& signed_xml) {
  const std::size_t start = signed_xml.find("<ds:Signature");
  const std::size_t end = signed_xml.find("</ds:Signature>");
  if (start == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no signature in " << signed_xml;
    return {};
  }
  return signed_xml.substr(start, end + 15 - start);
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "'" << from << "' not found in " << s;
    return s;
  }
  s.replace(at, from.size(), to);
  return s;
}

std::string to_utf16le(const std::string& ascii) {
  std::string out = "\xFF\xFE";
  for (char c : ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

}  // namespace latchkey::saml::testing
