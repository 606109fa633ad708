#include "crypto/distinguished_name.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>
#include <vector>

#include "crypto/openssl_ptr.h"

namespace latchkey::crypto {
namespace {

using NamePtr = std::unique_ptr<X509_NAME, detail::Deleter<X509_NAME, X509_NAME_free>>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, detail::Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;

constexpr std::size_t kMaxDnLength = 4096;

// Failed parses and lookups leave entries on OpenSSL's per-thread error queue, where a TLS
// session served by the same thread would later take them for its own failure.
struct ClearErrorsOnExit {
  ClearErrorsOnExit() = default;
  ClearErrorsOnExit(const ClearErrorsOnExit&) = delete;
  ClearErrorsOnExit& operator=(const ClearErrorsOnExit&) = delete;
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};

struct Ava {
  std::string type;
  std::string value;
};
using Rdn = std::vector<Ava>;

std::optional<int> hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// RFC 4514 §3: the characters a backslash may precede (besides two hex digits).
bool escapable(char c) {
  return std::string_view("\"+,;<>\\ #=").find(c) != std::string_view::npos;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// RFC 4514 §3 into RDNs as written (most specific first); values unescaped to their bytes.
std::optional<std::vector<Rdn>> parse(std::string_view s) {
  std::vector<Rdn> rdns;
  Rdn current;
  std::size_t i = 0;
  const std::size_t n = s.size();
  for (;;) {
    const std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view type = trim_spaces(s.substr(i, eq - i));
    if (type.empty() || type.find_first_of(",+\\\"#") != std::string_view::npos) {
      return std::nullopt;
    }
    i = eq + 1;
    while (i < n && s[i] == ' ') ++i;  // leading spaces are insignificant unless escaped
    if (i < n && (s[i] == '#' || s[i] == '"')) return std::nullopt;
    std::string value;
    std::size_t significant = 0;  // trailing unescaped spaces are insignificant too
    char separator = 0;
    while (i < n) {
      const char c = s[i];
      if (c == ',' || c == '+') {
        separator = c;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= n) return std::nullopt;
        auto hi = hex_value(s[i + 1]);
        auto lo = i + 2 < n ? hex_value(s[i + 2]) : std::nullopt;
        if (hi && lo) {
          value += static_cast<char>(*hi * 16 + *lo);
          i += 3;
        } else if (escapable(s[i + 1])) {
          value += s[i + 1];
          i += 2;
        } else {
          return std::nullopt;
        }
        significant = value.size();
        continue;
      }
      if (c == '"' || c == ';' || c == '<' || c == '>' || c == '\0') return std::nullopt;
      value += c;
      ++i;
      if (c != ' ') significant = value.size();
    }
    value.resize(significant);
    if (value.empty() || value.find('\0') != std::string::npos) return std::nullopt;
    current.push_back({std::string(type), std::move(value)});
    if (separator != '+') {
      rdns.push_back(std::move(current));
      current.clear();
    }
    if (separator == 0) return rdns;
  }
}

// Short names in any case ("cn"), long names ("commonName"), dotted OIDs.
ObjectPtr attribute_type(const std::string& type) {
  ObjectPtr obj(OBJ_txt2obj(type.c_str(), 0));
  if (obj) return obj;
  std::string upper = type;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return ObjectPtr(OBJ_txt2obj(upper.c_str(), 0));
}

std::optional<std::string> print_rfc2253(const X509_NAME* name) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return std::nullopt;
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return std::nullopt;
  return detail::bio_contents(bio.get());
}

}  // namespace

std::optional<std::string> normalize_dn(std::string_view rfc4514) {
  if (rfc4514.empty() || rfc4514.size() > kMaxDnLength) return std::nullopt;
  ClearErrorsOnExit clear_errors;
  auto rdns = parse(rfc4514);
  if (!rdns) return std::nullopt;
  NamePtr name(X509_NAME_new());
  if (!name) return std::nullopt;
  // The string lists the most specific RDN first; the X509_NAME sequence starts at the root.
  // RFC 2253 printing reverses the whole entry sequence, AVAs inside a multi-valued RDN
  // included, so they are added in reverse too: the normal form keeps the written order,
  // which is what `openssl x509 -nameopt RFC2253` shows for a certificate.
  for (auto rdn = rdns->rbegin(); rdn != rdns->rend(); ++rdn) {
    int set = 0;  // the first AVA added opens a new RDN, the others join it
    for (auto it = rdn->rbegin(); it != rdn->rend(); ++it) {
      const Ava& ava = *it;
      ObjectPtr obj = attribute_type(ava.type);
      if (!obj || ava.value.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
      // MBSTRING_UTF8: OpenSSL picks the string type the attribute allows and refuses values
      // it cannot hold (invalid UTF-8, a country name that is not two letters, ...).
      if (X509_NAME_add_entry_by_OBJ(name.get(), obj.get(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(ava.value.data()),
                                     static_cast<int>(ava.value.size()), -1, set) != 1) {
        return std::nullopt;
      }
      set = -1;
    }
  }
  auto printed = print_rfc2253(name.get());
  if (!printed || printed->empty()) return std::nullopt;
  return printed;
}

std::optional<std::string> certificate_subject_dn(std::string_view der) {
  if (der.empty() || der.size() > 64 * 1024) return std::nullopt;
  ClearErrorsOnExit clear_errors;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  detail::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return std::nullopt;
  return print_rfc2253(X509_get_subject_name(cert.get()));
}

}  // namespace latchkey::crypto
