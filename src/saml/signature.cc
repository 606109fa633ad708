#include "saml/signature.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "saml/xml_safe_parse.h"
#include "saml/xmlsec_runtime.h"

namespace latchkey::saml::detail {
namespace {

struct DSigCtxDeleter {
  void operator()(xmlSecDSigCtx* ctx) const { xmlSecDSigCtxDestroy(ctx); }
};
using DSigCtxPtr = std::unique_ptr<xmlSecDSigCtx, DSigCtxDeleter>;

struct KeyDeleter {
  void operator()(xmlSecKey* key) const { xmlSecKeyDestroy(key); }
};
using KeyPtr = std::unique_ptr<xmlSecKey, KeyDeleter>;

// The ID becomes part of the XPointer expression xmlsec builds for "#ID" (id('ID')), so it is
// limited to NCName-like characters; SAML IDs are xs:ID, which is an NCName anyway.
bool is_safe_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(id.front())) return false;
  for (char c : id) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
  }
  return true;
}

// Pre-order walk over every element of the document.
template <typename F>
void for_each_element(xmlNode* node, F&& f) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    f(node);
    for_each_element(node->children, f);
  }
}

// The element children of `parent`, whatever their namespace.
std::vector<xmlNode*> element_children(xmlNode* parent) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

// An attribute that may act as an ID: xml:id, or ID/Id/id without a namespace (the spellings
// SAML, XML-DSig and WS-Security use and that ID-resolving code looks for).
bool is_id_like(const xmlAttr* attr) {
  const xmlChar* name = attr->name;
  if (attr->ns != nullptr) {
    return xmlStrEqual(name, BAD_CAST "id") && attr->ns->href != nullptr &&
           xmlStrEqual(attr->ns->href, XML_XML_NAMESPACE);
  }
  return xmlStrEqual(name, BAD_CAST "ID") || xmlStrEqual(name, BAD_CAST "Id") ||
         xmlStrEqual(name, BAD_CAST "id");
}

// Checks the SignedInfo layout and returns the single Reference's URI.
bool check_signature_shape(xmlNode* signature, std::string* uri, std::string* why) {
  // XML-DSig §4.1: SignedInfo, SignatureValue, KeyInfo?, Object*. Objects (and the Manifests
  // they may hold) are refused: nothing in them is ours to trust, and they are the classic
  // place to hide a second copy of a signed element.
  const std::vector<xmlNode*> parts = element_children(signature);
  if (parts.size() < 2 || parts.size() > 3 || !is_element(parts[0], kDsigNs, "SignedInfo") ||
      !is_element(parts[1], kDsigNs, "SignatureValue") ||
      (parts.size() == 3 && !is_element(parts[2], kDsigNs, "KeyInfo"))) {
    *why = "unexpected Signature layout";
    return false;
  }
  xmlNode* reference = nullptr;
  int references = 0;
  for (xmlNode* c : element_children(parts[0])) {
    if (is_element(c, kDsigNs, "Reference")) {
      reference = c;
      ++references;
    }
  }
  if (references != 1) {
    *why = "SignedInfo must hold exactly one Reference";
    return false;
  }
  std::optional<std::string> value = attribute(reference, "URI");
  if (!value) {
    *why = "Reference without URI";
    return false;
  }
  *uri = std::move(*value);
  return true;
}

// Loads only the public key of the app's certificate. The key carries no certificate chain to
// trust: the app registered this exact certificate, so it is pinned, as with JWT bearer.
KeyPtr load_certificate_key(std::string_view cert_pem) {
  if (cert_pem.empty() || cert_pem.size() > 64 * 1024) return nullptr;
  KeyPtr key(xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(cert_pem.data()),
                                          static_cast<xmlSecSize>(cert_pem.size()),
                                          xmlSecKeyDataFormatCertPem, nullptr, nullptr, nullptr));
  if (!key || !xmlSecKeyIsValid(key.get()) || !xmlSecKeyCheckId(key.get(), xmlSecKeyDataRsaId)) {
    return nullptr;
  }
  // Same floor as RS256 for JWT bearer (crypto::PublicKey): no RSA key under 2048 bits.
  if (xmlSecKeyDataGetSize(xmlSecKeyGetValue(key.get())) < 2048) return nullptr;
  return key;
}

// Restricts what a Signature may ask xmlsec to do, so the checks after verification have
// nothing left to second-guess: no external or empty-URI references, only the transforms an
// enveloped SAML signature needs (no XPath, XSLT, base64 or decryption transforms that could
// select or rewrite what is digested), and no algorithm weaker than SHA-256.
bool restrict_context(xmlSecDSigCtx* ctx) {
  ctx->flags = XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES | XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
  ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
  // KeyInfo is never read (there is no keys manager, and the key is set below), but a
  // RetrievalMethod must not fetch anything even if that changes.
  ctx->keyInfoReadCtx.retrievalMethodCtx.enabledUris = xmlSecTransformUriTypeNone;
  ctx->transformCtx.enabledUris = xmlSecTransformUriTypeNone;

  // CanonicalizationMethod and SignatureMethod of SignedInfo.
  if (xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha256Id) < 0) {
    return false;
  }
  // Reference Transforms and DigestMethod.
  if (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha256Id) < 0) {
    return false;
  }
  return true;
}

}  // namespace

bool verify_root_signature(xmlDoc* doc, xmlNode* root, std::string_view cert_pem,
                           std::string* why) {
  if (!ensure_xml_security_initialized()) {
    *why = "xmlsec unavailable";
    return false;
  }
  xmlAttr* id_attr = xmlHasNsProp(root, BAD_CAST "ID", nullptr);
  const std::optional<std::string> id = attribute(root, "ID");
  if (id_attr == nullptr || !id || !is_safe_id(*id)) {
    *why = "root without a usable ID";
    return false;
  }

  // Exactly one Signature in the whole document, directly under the root (SAML core §5.4.1:
  // the signature is enveloped in the element it signs). A signature elsewhere signs
  // something else, and signed content elsewhere is what wrapping attacks smuggle in.
  xmlNode* signature = nullptr;
  int signatures = 0;
  bool duplicate_id = false;
  for_each_element(root, [&](xmlNode* el) {
    if (is_element(el, kDsigNs, "Signature")) {
      signature = el;
      ++signatures;
    }
    for (xmlAttr* a = el->properties; a != nullptr; a = a->next) {
      if (a == id_attr || !is_id_like(a)) continue;
      xmlChar* v = xmlNodeListGetString(doc, a->children, 1);
      if (v != nullptr && xmlStrEqual(v, BAD_CAST id->c_str())) duplicate_id = true;
      xmlFree(v);
    }
  });
  if (signatures == 0) {
    *why = "unsigned";
    return false;
  }
  if (signatures != 1 || signature->parent != root) {
    *why = "Signature is not the single direct child signature of the root";
    return false;
  }
  if (duplicate_id) {
    *why = "another element carries the root's ID";
    return false;
  }

  std::string uri;
  if (!check_signature_shape(signature, &uri, why)) return false;
  if (uri != "#" + *id) {
    *why = "Reference does not point at the root";
    return false;
  }

  // Register root@ID so xmlsec's "#ID" lookup (xmlGetID) can resolve it and resolves it to the
  // root only. The parser registered xml:id values already; one equal to ours was refused above.
  const xmlChar* id_value = BAD_CAST id->c_str();
  xmlAttr* registered = xmlGetID(doc, id_value);
  if (registered == nullptr) {
    if (xmlAddID(nullptr, doc, id_value, id_attr) == nullptr) {
      *why = "ID registration failed";
      return false;
    }
    registered = xmlGetID(doc, id_value);
  }
  if (registered != id_attr || registered->parent != root) {
    *why = "ID does not resolve to the root";
    return false;
  }

  KeyPtr key = load_certificate_key(cert_pem);
  if (!key) {
    *why = "certificate unreadable or not RSA";
    return false;
  }
  DSigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr));  // no keys manager: KeyInfo cannot pick a key
  if (!ctx || !restrict_context(ctx.get())) {
    *why = "xmlsec context setup failed";
    return false;
  }
  ctx->signKey = key.release();  // owned by the context from here on

  if (xmlSecDSigCtxVerify(ctx.get(), signature) < 0) {
    *why = "signature processing failed";
    return false;
  }
  if (ctx->status != xmlSecDSigStatusSucceeded) {
    *why = "signature does not verify";
    return false;
  }

  // Re-check what xmlsec actually did, so a change in its defaults cannot silently widen what
  // is accepted: the algorithms, and that the one verified reference is the root's.
  if (ctx->signMethod == nullptr || ctx->signMethod->id != xmlSecTransformRsaSha256Id ||
      ctx->c14nMethod == nullptr || ctx->c14nMethod->id != xmlSecTransformExclC14NId) {
    *why = "unexpected signature algorithms";
    return false;
  }
  if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
    *why = "unexpected number of verified references";
    return false;
  }
  auto* ref =
      static_cast<xmlSecDSigReferenceCtx*>(xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0));
  if (ref == nullptr || ref->status != xmlSecDSigStatusSucceeded || ref->uri == nullptr ||
      !xmlStrEqual(ref->uri, BAD_CAST uri.c_str()) || ref->digestMethod == nullptr ||
      ref->digestMethod->id != xmlSecTransformSha256Id) {
    *why = "verified reference is not the root's";
    return false;
  }
  if (xmlGetID(doc, id_value) != id_attr) {
    *why = "ID does not resolve to the root";
    return false;
  }
  return true;
}

}  // namespace latchkey::saml::detail
