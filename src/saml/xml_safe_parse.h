// Internal to src/saml/: hardened parsing of untrusted XML, and small read-only DOM helpers.
// Thread safety: all functions are reentrant; each document belongs to its caller.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "saml/xml_headers.h"

namespace latchkey::saml::detail {

inline constexpr char kSamlAssertionNs[] = "urn:oasis:names:tc:SAML:2.0:assertion";
inline constexpr char kDsigNs[] = "http://www.w3.org/2000/09/xmldsig#";

struct DocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

// Parses `xml` with every libxml2 feature that can reach outside the document or amplify it
// turned off: no network (XML_PARSE_NONET), no DTD loading, no entity substitution, and any
// DOCTYPE refused outright (the parser is stopped as soon as it sees one, before the internal
// subset is read, so entity bombs are never expanded). Also refuses input over 32 KiB,
// documents that are not namespace-well-formed, and empty input. Returns nullptr when refused;
// `why` (if not null) receives a short reason for logs.
DocPtr parse_hardened(std::string_view xml, std::string* why);

// True when `node` is an element in namespace `ns` with local name `local`.
bool is_element(const xmlNode* node, const char* ns, const char* local);

// The value of the attribute `name` that has no namespace, or nullopt when absent.
std::optional<std::string> attribute(const xmlNode* node, const char* name);

// The text of an element whose children are only text (or CDATA), with surrounding XML
// whitespace trimmed. nullopt when it has any other child: a comment or processing instruction
// inside a value is refused, since exclusive c14n ignores comments and a reader that stopped
// at one would see a different value than the one signed ("comment truncation").
std::optional<std::string> simple_text(const xmlNode* element);

}  // namespace latchkey::saml::detail
