#include "saml/saml_assertion.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "crypto/crypto.h"
#include "saml/saml_time.h"
#include "saml/signature.h"
#include "saml/xml_safe_parse.h"

namespace latchkey::saml {
namespace {

using detail::attribute;
using detail::DocPtr;
using detail::is_element;
using detail::kSamlAssertionNs;
using detail::simple_text;

constexpr char kBearerMethod[] = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

// Descriptions a client sees; the debug text only reaches the log.
oauth::Error invalid(std::string debug) {
  return oauth::Error::invalid_grant("invalid assertion").with_debug("saml: " + std::move(debug));
}
oauth::Error bad_audience(std::string debug) {
  return oauth::Error::invalid_grant("audience is invalid").with_debug("saml: " + std::move(debug));
}
oauth::Error expired(std::string debug) {
  // Salesforce answers an expired assertion with the same text as an expired code.
  return oauth::Error::invalid_grant("expired authorization code")
      .with_debug("saml: " + std::move(debug));
}

// Element children of `parent` in the SAML assertion namespace with local name `local`.
std::vector<xmlNode*> saml_children(xmlNode* parent, const char* local) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (is_element(c, kSamlAssertionNs, local)) out.push_back(c);
  }
  return out;
}

// The one child `local` of `parent`; zero or several is a malformed assertion.
Result<xmlNode*> single_child(xmlNode* parent, const char* local) {
  std::vector<xmlNode*> found = saml_children(parent, local);
  if (found.size() != 1) return invalid(std::string("expected exactly one ") + local);
  return found.front();
}

// Non-empty text content of `element` (see simple_text for why mixed content is refused).
Result<std::string> text_of(xmlNode* element, const char* what) {
  std::optional<std::string> text = simple_text(element);
  if (!text || text->empty()) return invalid(std::string("empty or mixed-content ") + what);
  return std::move(*text);
}

// An optional time attribute: nullopt when absent, an error when present but malformed.
Result<std::optional<int64_t>> time_attribute(xmlNode* node, const char* name) {
  std::optional<std::string> text = attribute(node, name);
  if (!text) return std::optional<int64_t>();
  std::optional<int64_t> t = detail::parse_saml_time(*text);
  if (!t) return invalid(std::string("malformed ") + name);
  return t;
}

// Parses and checks the envelope every step shares: the root is a SAML 2.0 Assertion.
Result<xmlNode*> parse_root(std::string_view xml, DocPtr* doc) {
  std::string why;
  *doc = detail::parse_hardened(xml, &why);
  if (!*doc) return invalid(why);
  xmlNode* root = xmlDocGetRootElement(doc->get());
  // RFC 7522 §2.1: the assertion parameter is a single SAML 2.0 Assertion, not a Response.
  if (!is_element(root, kSamlAssertionNs, "Assertion")) return invalid("root is not an Assertion");
  if (attribute(root, "Version") != std::optional<std::string>("2.0")) {
    return invalid("Version is not 2.0");
  }
  return root;
}

Result<std::string> read_issuer(xmlNode* root) {
  Result<xmlNode*> issuer = single_child(root, "Issuer");
  if (!issuer) return std::move(issuer).error();
  return text_of(*issuer, "Issuer");
}

// SAML core §2.5.1: every AudienceRestriction must name us (RFC 7522 §3 item 2), and a
// condition we do not understand makes the assertion's validity indeterminate, so it is refused.
// Returns the Conditions' NotOnOrAfter, if any.
Result<std::optional<int64_t>> check_conditions(xmlNode* root, const Expectations& e) {
  std::vector<xmlNode*> conditions = saml_children(root, "Conditions");
  if (conditions.size() > 1) return invalid("more than one Conditions");
  if (conditions.empty()) return bad_audience("no Conditions, so no AudienceRestriction");
  xmlNode* cond = conditions.front();

  int restrictions = 0;
  for (xmlNode* c = cond->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is_element(c, kSamlAssertionNs, "AudienceRestriction")) {
      ++restrictions;
      bool named = false;
      for (xmlNode* audience : saml_children(c, "Audience")) {
        Result<std::string> text = text_of(audience, "Audience");
        if (!text) return std::move(text).error();
        if (!e.audience.empty() && *text == e.audience) named = true;
      }
      if (!named) return bad_audience("an AudienceRestriction does not name this server");
    } else if (!is_element(c, kSamlAssertionNs, "OneTimeUse") &&
               !is_element(c, kSamlAssertionNs, "ProxyRestriction")) {
      // OneTimeUse is honoured by the caller's replay cache (every assertion is single-use);
      // ProxyRestriction limits re-issuing assertions, which this server never does.
      return invalid("unsupported condition");
    }
  }
  if (restrictions == 0) return bad_audience("no AudienceRestriction");

  Result<std::optional<int64_t>> not_before = time_attribute(cond, "NotBefore");
  if (!not_before) return std::move(not_before).error();
  Result<std::optional<int64_t>> not_on_or_after = time_attribute(cond, "NotOnOrAfter");
  if (!not_on_or_after) return std::move(not_on_or_after).error();
  if (*not_before && **not_before > e.now_s + e.skew_s) return invalid("NotBefore in the future");
  if (*not_on_or_after && **not_on_or_after <= e.now_s - e.skew_s) {
    return expired("Conditions NotOnOrAfter passed");
  }
  return *not_on_or_after;
}

// RFC 7522 §3 item 4 / SAML profiles §4.1.4.2: a bearer SubjectConfirmationData with our token
// URL as Recipient and a NotOnOrAfter still in the future. Returns that NotOnOrAfter.
Result<int64_t> check_bearer_confirmation(xmlNode* confirmation, const Expectations& e) {
  Result<xmlNode*> data = single_child(confirmation, "SubjectConfirmationData");
  if (!data) return std::move(data).error();
  std::optional<std::string> recipient = attribute(*data, "Recipient");
  if (!recipient || e.recipient.empty() || *recipient != e.recipient) {
    return invalid("bearer Recipient is not this token endpoint");
  }
  Result<std::optional<int64_t>> not_on_or_after = time_attribute(*data, "NotOnOrAfter");
  if (!not_on_or_after) return std::move(not_on_or_after).error();
  if (!*not_on_or_after) return invalid("bearer confirmation without NotOnOrAfter");
  Result<std::optional<int64_t>> not_before = time_attribute(*data, "NotBefore");
  if (!not_before) return std::move(not_before).error();
  if (*not_before && **not_before > e.now_s + e.skew_s) {
    return invalid("bearer NotBefore in the future");
  }
  if (**not_on_or_after <= e.now_s - e.skew_s) {
    return expired("SubjectConfirmationData NotOnOrAfter passed");
  }
  return **not_on_or_after;
}

bool is_base64_noise(char c) { return c == '\r' || c == '\n' || c == '\t'; }

}  // namespace

Result<std::string> peek_issuer(std::string_view xml) {
  DocPtr doc;
  Result<xmlNode*> root = parse_root(xml, &doc);
  if (!root) return std::move(root).error();
  return read_issuer(*root);
}

Result<Assertion> verify(std::string_view xml, std::string_view cert_pem, const Expectations& e) {
  DocPtr doc;
  Result<xmlNode*> parsed = parse_root(xml, &doc);
  if (!parsed) return std::move(parsed).error();
  xmlNode* root = *parsed;

  // RFC 7522 §3 item 9: the assertion must be signed by its issuer. Only after this succeeds
  // is anything read, and only from `root`, the element the verified reference resolved to.
  std::string why;
  if (!detail::verify_root_signature(doc.get(), root, cert_pem, &why)) return invalid(why);

  Assertion out;
  out.id = attribute(root, "ID").value_or("");

  // RFC 7522 §3 item 1: Issuer is the client id.
  Result<std::string> issuer = read_issuer(root);
  if (!issuer) return std::move(issuer).error();
  out.issuer = std::move(*issuer);
  if (!e.issuer_client_id.empty() && out.issuer != e.issuer_client_id) {
    return invalid("Issuer is not the expected client");
  }

  // SAML core §2.3.3: IssueInstant is required. The lifetime cap counts from it (with the same
  // skew as the other times), so an assertion is refused once issued max_lifetime_s ago.
  Result<std::optional<int64_t>> issued = time_attribute(root, "IssueInstant");
  if (!issued) return std::move(issued).error();
  if (!*issued) return invalid("no IssueInstant");
  if (**issued > e.now_s + e.skew_s) return invalid("IssueInstant in the future");
  out.issue_instant_s = **issued;
  const int64_t lifetime_end = **issued + e.max_lifetime_s;
  if (lifetime_end <= e.now_s - e.skew_s) return expired("issued too long ago");

  // RFC 7522 §3 item 3: the Subject's NameID is the user. EncryptedID and BaseID are refused.
  Result<xmlNode*> subject = single_child(root, "Subject");
  if (!subject) return std::move(subject).error();
  Result<xmlNode*> name_id = single_child(*subject, "NameID");
  if (!name_id) return std::move(name_id).error();
  Result<std::string> name = text_of(*name_id, "NameID");
  if (!name) return std::move(name).error();
  out.name_id = std::move(*name);

  Result<std::optional<int64_t>> conditions_expiry = check_conditions(root, e);
  if (!conditions_expiry) return std::move(conditions_expiry).error();

  // At least one bearer confirmation must pass; when none does, report the first one's error.
  std::optional<oauth::Error> first_error;
  std::optional<int64_t> confirmation_expiry;
  for (xmlNode* confirmation : saml_children(*subject, "SubjectConfirmation")) {
    if (attribute(confirmation, "Method") != std::optional<std::string>(kBearerMethod)) continue;
    Result<int64_t> checked = check_bearer_confirmation(confirmation, e);
    if (checked) {
      confirmation_expiry = *checked;
      break;
    }
    if (!first_error) first_error = std::move(checked).error();
  }
  if (!confirmation_expiry) {
    if (first_error) return std::move(*first_error);
    return invalid("no bearer SubjectConfirmation");
  }

  out.not_on_or_after_s = *confirmation_expiry;
  if (*conditions_expiry) {
    out.not_on_or_after_s = std::min(out.not_on_or_after_s, **conditions_expiry);
  }
  out.not_on_or_after_s = std::min(out.not_on_or_after_s, lifetime_end);
  return out;
}

std::optional<std::string> decode_assertion_param(std::string_view param) {
  // 32 KiB of data is 43,692 base64 characters; leave room for line breaks and padding.
  constexpr std::size_t kMaxEncoded = (kMaxAssertionBytes + 2) / 3 * 4 * 80 / 76 + 16;
  if (param.empty() || param.size() > kMaxEncoded) return std::nullopt;
  std::string cleaned;
  cleaned.reserve(param.size());
  for (char c : param) {
    if (is_base64_noise(c)) continue;
    cleaned += c == ' ' ? '+' : c;
  }
  // The two alphabets differ only in '-'/'_' versus '+'/'/', so at most one decoder succeeds on
  // text that uses any of those characters, and both agree on text that uses none.
  std::optional<std::string> out = crypto::base64url_decode(cleaned);
  if (!out) out = crypto::base64_decode(cleaned);
  if (!out || out->empty() || out->size() > kMaxAssertionBytes) return std::nullopt;
  return out;
}

}  // namespace latchkey::saml
