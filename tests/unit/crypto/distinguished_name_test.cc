// RFC 8705 §2.1 tls_client_auth: the registered subject DN and the certificate's subject are
// compared in one normal form (RFC 2253 printing of an X509_NAME).
#include "crypto/distinguished_name.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace latchkey::crypto {
namespace {

struct Entry {
  const char* type;
  std::string value;
  int string_type;  // V_ASN1_PRINTABLESTRING, V_ASN1_UTF8STRING, V_ASN1_BMPSTRING, ...
  int set = 0;      // -1 joins the previous RDN (multi-valued RDN)
};

// DER of a self-signed certificate whose subject is `subject`, root first, each value
// stored with exactly the ASN.1 string type given.
std::string certificate_der(const std::vector<Entry>& subject) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  EXPECT_TRUE(key && cert);
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const Entry& e : subject) {
    std::string bytes = e.value;
    if (e.string_type == V_ASN1_BMPSTRING) {
      // UCS-2 big endian; the test values are ASCII or two-byte UTF-8 (Latin-1).
      bytes.clear();
      for (std::size_t i = 0; i < e.value.size(); ++i) {
        unsigned cp = static_cast<unsigned char>(e.value[i]);
        if (cp >= 0xc0 && i + 1 < e.value.size()) {
          cp = ((cp & 0x1fu) << 6) | (static_cast<unsigned char>(e.value[++i]) & 0x3fu);
        }
        bytes += static_cast<char>(cp >> 8);
        bytes += static_cast<char>(cp & 0xff);
      }
    }
    // A plain ASN.1 type (not MBSTRING_*) is stored as given, without OpenSSL choosing one.
    X509_NAME_ENTRY* entry = X509_NAME_ENTRY_create_by_txt(
        nullptr, e.type, e.string_type, reinterpret_cast<const unsigned char*>(bytes.data()),
        static_cast<int>(bytes.size()));
    EXPECT_NE(entry, nullptr) << e.type;
    EXPECT_EQ(X509_NAME_add_entry(name, entry, -1, e.set), 1);
    X509_NAME_ENTRY_free(entry);
  }
  X509_set_issuer_name(cert.get(), name);
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  EXPECT_GT(len, 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

TEST(DistinguishedName, NormalFormIsRfc2253MostSpecificFirst) {
  EXPECT_EQ(normalize_dn("CN=client,O=Example"), "CN=client,O=Example");
  EXPECT_EQ(normalize_dn("CN=client, OU=Ops ,O=Example Corp,C=DE"),
            "CN=client,OU=Ops,O=Example Corp,C=DE");
}

TEST(DistinguishedName, AttributeTypesInAnySpellingBecomeShortNames) {
  EXPECT_EQ(normalize_dn("cn=client,o=Example"), "CN=client,O=Example");
  EXPECT_EQ(normalize_dn("commonName=client,organizationName=Example"), "CN=client,O=Example");
  EXPECT_EQ(normalize_dn("2.5.4.3=client,2.5.4.10=Example"), "CN=client,O=Example");
}

TEST(DistinguishedName, EscapesAreUnderstoodAndReprinted) {
  // RFC 4514 §2.4: ',' '+' '"' '\' '<' '>' ';' escaped; leading '#' or space, trailing space.
  EXPECT_EQ(normalize_dn(R"(CN=Smith\, John,O=A\+B)"), R"(CN=Smith\, John,O=A\+B)");
  EXPECT_EQ(normalize_dn(R"(CN=\2C comma)"), R"(CN=\, comma)");
  EXPECT_EQ(normalize_dn(R"(CN=\ padded\ )"), R"(CN=\ padded\ )");
  // Bytes above 0x7f are printed as hex escapes of their UTF-8.
  EXPECT_EQ(normalize_dn("CN=Jos\xc3\xa9"), R"(CN=Jos\C3\A9)");
  EXPECT_EQ(normalize_dn(R"(CN=Jos\C3\A9)"), R"(CN=Jos\C3\A9)");
}

TEST(DistinguishedName, MultiValuedRdnKeepsItsOrder) {
  EXPECT_EQ(normalize_dn("CN=a+UID=b,O=Example"), "CN=a+UID=b,O=Example");
  EXPECT_EQ(normalize_dn("UID=b+CN=a,O=Example"), "UID=b+CN=a,O=Example");
  // A certificate's multi-valued RDN prints as `openssl x509 -nameopt RFC2253` shows it, and
  // that string, registered, matches it.
  auto der = certificate_der({{"O", "Example", V_ASN1_UTF8STRING},
                              {"CN", "a", V_ASN1_UTF8STRING},
                              {"UID", "b", V_ASN1_UTF8STRING, -1}});
  auto subject = certificate_subject_dn(der);
  ASSERT_TRUE(subject.has_value());
  EXPECT_EQ(normalize_dn(*subject), subject);
}

TEST(DistinguishedName, MalformedStringsAreRefused) {
  for (const char* bad :
       {"", "client", "CN=", "CN=a,", ",CN=a", "=a", "CN=a;O=b", "CN=\"a\"", "CN=#0403616263",
        "CN=a\\", "CN=a\\q", "CN=a<b", "XX=a", "C=Germany", "CN=\xff\xfe"}) {
    EXPECT_FALSE(normalize_dn(bad).has_value()) << bad;
  }
  EXPECT_FALSE(normalize_dn(std::string(4097, 'a')).has_value());
}

TEST(DistinguishedName, NormalFormIsIdempotent) {
  for (const char* dn : {"CN=client,O=Example", R"(CN=Smith\, John)", "cn=Jos\xc3\xa9, o=X"}) {
    auto once = normalize_dn(dn);
    ASSERT_TRUE(once.has_value()) << dn;
    EXPECT_EQ(normalize_dn(*once), once) << dn;
  }
}

// The string types a CA picks do not change the normal form.
TEST(DistinguishedName, CertificateSubjectMatchesRegisteredStringAcrossStringTypes) {
  const std::string registered = *normalize_dn("CN=Jos\xc3\xa9 client, O=Example, C=DE");
  for (int t : {V_ASN1_UTF8STRING, V_ASN1_BMPSTRING}) {
    auto der = certificate_der({{"C", "DE", V_ASN1_PRINTABLESTRING},
                                {"O", "Example", V_ASN1_PRINTABLESTRING},
                                {"CN", "Jos\xc3\xa9 client", t}});
    EXPECT_EQ(certificate_subject_dn(der), registered) << "string type " << t;
  }
  auto printable = certificate_der(
      {{"O", "Example", V_ASN1_UTF8STRING}, {"CN", "client", V_ASN1_PRINTABLESTRING}});
  EXPECT_EQ(certificate_subject_dn(printable), normalize_dn("CN=client,O=Example"));
}

// Not a match: another value, case, order, or an extra RDN.
TEST(DistinguishedName, DifferentSubjectsDoNotMatch) {
  auto der =
      certificate_der({{"O", "Example", V_ASN1_UTF8STRING}, {"CN", "client", V_ASN1_UTF8STRING}});
  auto subject = certificate_subject_dn(der);
  ASSERT_TRUE(subject.has_value());
  EXPECT_EQ(subject, normalize_dn("CN=client,O=Example"));
  for (const char* other : {"CN=Client,O=Example", "CN=client", "O=Example,CN=client",
                            "CN=client,O=Example,C=DE", "CN=client2,O=Example"}) {
    EXPECT_NE(subject, normalize_dn(other)) << other;
  }
}

TEST(DistinguishedName, GarbageCertificateHasNoSubject) {
  EXPECT_FALSE(certificate_subject_dn("").has_value());
  EXPECT_FALSE(certificate_subject_dn("not DER").has_value());
}

}  // namespace
}  // namespace latchkey::crypto
