#include "saml/xml_safe_parse.h"

#include <climits>
#include <string_view>

#include "saml/saml_assertion.h"
#include "saml/xmlsec_runtime.h"

namespace latchkey::saml::detail {
namespace {

struct ParserCtxtDeleter {
  void operator()(xmlParserCtxt* ctxt) const { xmlFreeParserCtxt(ctxt); }
};
using ParserCtxtPtr = std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter>;

// Set through ctxt->_private by the SAX hooks below.
struct DtdSeen {
  bool seen = false;
};

void stop_on_dtd(xmlParserCtxt* ctxt) {
  if (ctxt->_private != nullptr) static_cast<DtdSeen*>(ctxt->_private)->seen = true;
  // Halts before the internal subset ("[ ... ]") is parsed: no entity declaration is ever read,
  // so neither an internal entity bomb nor an external entity gets a chance to be processed.
  xmlStopParser(ctxt);
}

// SAX hooks; libxml2 passes the parser context as user data for a context it created.
void on_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  stop_on_dtd(static_cast<xmlParserCtxt*>(ctx));
}
void on_external_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  stop_on_dtd(static_cast<xmlParserCtxt*>(ctx));
}
void on_entity_decl(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
  stop_on_dtd(static_cast<xmlParserCtxt*>(ctx));
}
xmlParserInput* on_resolve_entity(void* ctx, const xmlChar*, const xmlChar*) {
  stop_on_dtd(static_cast<xmlParserCtxt*>(ctx));
  return nullptr;
}

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

DocPtr parse_hardened(std::string_view xml, std::string* why) {
  auto refuse = [why](const char* reason) {
    if (why != nullptr) *why = reason;
    return DocPtr();
  };
  if (xml.empty()) return refuse("empty document");
  if (xml.size() > kMaxAssertionBytes) return refuse("document larger than 32 KiB");
  // A cheap first line of defence for the common (UTF-8) case; the SAX hooks below also catch
  // a DOCTYPE in any other encoding libxml2 accepts.
  if (xml.find("<!DOCTYPE") != std::string_view::npos ||
      xml.find("<!ENTITY") != std::string_view::npos) {
    return refuse("DOCTYPE present (found before parsing)");
  }
  if (!ensure_xml_security_initialized()) return refuse("xmlsec unavailable");

  // kMaxAssertionBytes < INT_MAX, so the narrowing below is exact.
  static_assert(kMaxAssertionBytes < static_cast<std::size_t>(INT_MAX));
  ParserCtxtPtr ctxt(xmlCreateMemoryParserCtxt(xml.data(), static_cast<int>(xml.size())));
  if (!ctxt || ctxt->sax == nullptr) return refuse("parser allocation failed");

  DtdSeen dtd;
  ctxt->_private = &dtd;
  // The context owns its own copy of the SAX handler, so these hooks affect only this parse.
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->sax->externalSubset = on_external_subset;
  ctxt->sax->entityDecl = on_entity_decl;
  ctxt->sax->resolveEntity = on_resolve_entity;

  // Not XML_PARSE_NOENT (entity substitution) nor XML_PARSE_DTDLOAD / DTDATTR / DTDVALID (they
  // would fetch and apply DTDs), nor XML_PARSE_HUGE (keeps libxml2's size and depth limits).
  // NOBLANKS is also left out: dropping whitespace would change what c14n signs.
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
#if LIBXML_VERSION >= 21300
  options |= XML_PARSE_NO_XXE;  // libxml2 2.13+: refuse external entities at the source too
#endif
  xmlCtxtUseOptions(ctxt.get(), options);

  const int rc = xmlParseDocument(ctxt.get());
  DocPtr doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  ctxt->_private = nullptr;

  if (dtd.seen) return refuse("DOCTYPE present (parser stopped at it)");
  if (rc != 0 || !ctxt->wellFormed || !ctxt->nsWellFormed || !doc) {
    return refuse("not well-formed XML");
  }
  // Belt and braces: whatever path a DTD might take into the tree, a document that has one is
  // refused (SAML assertions never carry a DOCTYPE).
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return refuse("DOCTYPE present (in the parsed tree)");
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) return refuse("no root element");
  return doc;
}

bool is_element(const xmlNode* node, const char* ns, const char* local) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE || node->ns == nullptr ||
      node->ns->href == nullptr) {
    return false;
  }
  return xmlStrEqual(node->name, BAD_CAST local) && xmlStrEqual(node->ns->href, BAD_CAST ns);
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  xmlAttr* attr = xmlHasNsProp(node, BAD_CAST name, nullptr);
  if (attr == nullptr || attr->type != XML_ATTRIBUTE_NODE) return std::nullopt;
  xmlChar* value = xmlNodeListGetString(node->doc, attr->children, 1);
  std::string out = value != nullptr ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return out;
}

std::optional<std::string> simple_text(const xmlNode* element) {
  std::string text;
  for (const xmlNode* child = element->children; child != nullptr; child = child->next) {
    if (child->type != XML_TEXT_NODE && child->type != XML_CDATA_SECTION_NODE) {
      return std::nullopt;
    }
    if (child->content != nullptr) text += reinterpret_cast<const char*>(child->content);
  }
  std::string_view view = text;
  while (!view.empty() && is_xml_space(view.front())) view.remove_prefix(1);
  while (!view.empty() && is_xml_space(view.back())) view.remove_suffix(1);
  return std::string(view);
}

}  // namespace latchkey::saml::detail
