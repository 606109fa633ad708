// Hardened parsing: no DOCTYPE, no entities, no network or file access, bounded size.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "saml/saml_assertion.h"
#include "saml/xml_headers.h"
#include "saml_test_support.h"

namespace latchkey::saml {
namespace {

using testing::AssertionSpec;

Expectations expectations() {
  Expectations e;
  e.audience = testing::kIssuerUrl;
  e.recipient = testing::kTokenUrl;
  e.now_s = testing::kNow;
  return e;
}

// Counts every URI libxml2's I/O layer is asked to open. Registered once, process-wide; the
// match function declines, so libxml2's own handlers would still run after it.
std::atomic<int> g_io_attempts{0};
int record_io_attempt(const char* /*uri*/) {
  ++g_io_attempts;
  return 0;
}
void* never_open(const char*) { return nullptr; }
int never_read(void*, char*, int) { return -1; }
int never_close(void*) { return 0; }

void install_io_recorder() {
  static const bool installed = [] {
    xmlRegisterInputCallbacks(record_io_attempt, never_open, never_read, never_close);
    return true;
  }();
  (void)installed;
}

// A TCP listener on 127.0.0.1 that counts connection attempts.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  int port() const { return port_; }
  bool was_contacted() const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 50) > 0;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

void expect_invalid(const Result<Assertion>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), "invalid_grant");
  EXPECT_EQ(r.error().description(), "invalid assertion");
}

// Both entry points, both encodings: UTF-8 (caught before parsing) and UTF-16 (caught by the
// parser's DOCTYPE hook, since a byte search for "<!DOCTYPE" cannot see it).
void expect_all_refused(const std::string& xml) {
  for (const std::string& input : {xml, testing::to_utf16le(xml)}) {
    Result<std::string> issuer = peek_issuer(input);
    ASSERT_FALSE(issuer.ok());
    EXPECT_EQ(issuer.error().description(), "invalid assertion");
    Result<Assertion> verified = verify(input, testing::app_key().cert_pem, expectations());
    expect_invalid(verified);
    // The parser-level defence is the one that matters for inputs a byte search cannot read;
    // make sure it is what refused the UTF-16 variant (and the entity was never reached).
    if (input.size() != xml.size() && !verified.ok()) {
      EXPECT_NE(verified.error().debug().find("parser stopped"), std::string::npos)
          << verified.error().debug();
    }
  }
}

std::string doctype_then_assertion(const std::string& doctype, const std::string& name_id) {
  AssertionSpec spec;
  spec.name_id = name_id;
  spec.signature_at = testing::SignatureAt::kNone;
  return doctype + testing::render(spec);
}

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(SamlAssertion, Utf16DocumentsParseSoTheHardeningTestsMeanSomething) {
  // Control for the UTF-16 variants below: the same encoding without a DOCTYPE is read.
  Result<std::string> issuer = peek_issuer(testing::to_utf16le(testing::render(AssertionSpec{})));
  ASSERT_TRUE(issuer.ok()) << issuer.error().debug();
  EXPECT_EQ(*issuer, testing::kClientId);
}

TEST(SamlAssertion, RefusesBillionLaughsQuicklyWithoutMemoryGrowth) {
  std::string doctype = "<!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  std::string prev = "lol";
  for (int i = 1; i <= 9; ++i) {
    const std::string name = "lol" + std::to_string(i);
    doctype += "<!ENTITY " + name + " \"";
    for (int j = 0; j < 10; ++j) doctype += "&" + prev + ";";
    doctype += "\">";
    prev = name;
  }
  doctype += "]>";
  const std::string xml = doctype_then_assertion(doctype, "&lol9;");

  // Sanitizer builds run several times slower and keep freed memory in quarantine; the bounds
  // stay far below what an expansion would take (about 3 GB and many seconds).
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kSlack = 8;
#else
  constexpr int kSlack = 1;
#endif
  const long rss_before = max_rss_kib();
  const auto start = std::chrono::steady_clock::now();
  expect_all_refused(xml);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Generous for a loaded CI machine; an actual expansion takes far longer.
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000 * kSlack));
  EXPECT_LT(max_rss_kib() - rss_before, 8 * 1024 * kSlack) << "peak memory grew";
}

TEST(SamlAssertion, RefusesExternalFileEntityWithoutReadingIt) {
  install_io_recorder();
  g_io_attempts = 0;
  const std::string xml =
      doctype_then_assertion("<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>", "&xxe;");
  expect_all_refused(xml);
  EXPECT_EQ(g_io_attempts.load(), 0);
}

TEST(SamlAssertion, RefusesExternalHttpEntityWithoutConnecting) {
  install_io_recorder();
  g_io_attempts = 0;
  Listener listener;
  const std::string url = "http://127.0.0.1:" + std::to_string(listener.port()) + "/x";
  expect_all_refused(
      doctype_then_assertion("<!DOCTYPE a [<!ENTITY xxe SYSTEM \"" + url + "\">]>", "&xxe;"));
  // The same through a parameter entity and through an external DTD subset.
  expect_all_refused(doctype_then_assertion(
      "<!DOCTYPE a [<!ENTITY % p SYSTEM \"" + url + "\"> %p;]>", "alice@localhost"));
  expect_all_refused(
      doctype_then_assertion("<!DOCTYPE a SYSTEM \"" + url + "\">", "alice@localhost"));
  expect_all_refused(
      doctype_then_assertion("<!DOCTYPE a PUBLIC \"-//x//y\" \"" + url + "\">", "alice@localhost"));
  EXPECT_FALSE(listener.was_contacted());
  EXPECT_EQ(g_io_attempts.load(), 0);
}

TEST(SamlAssertion, RefusesDoctypeEvenOnAValidlySignedAssertion) {
  const std::string xml = "<!DOCTYPE a>" + testing::signed_assertion(AssertionSpec{});
  expect_all_refused(xml);
}

TEST(SamlAssertion, RefusesUndeclaredEntityReference) {
  AssertionSpec spec;
  spec.name_id = "&xxe;";
  expect_invalid(verify(testing::render(spec), testing::app_key().cert_pem, expectations()));
  EXPECT_FALSE(peek_issuer(testing::render(spec)).ok());
}

TEST(SamlAssertion, RefusesMalformedXml) {
  const std::string signed_xml = testing::signed_assertion(AssertionSpec{});
  for (const std::string& xml :
       {std::string(), std::string("not xml"), std::string("<saml:Assertion"),
        signed_xml.substr(0, signed_xml.size() / 2), signed_xml + "<trailing/>",
        std::string("<Assertion xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_1\" "
                    "Version=\"2.0\"><undeclared:x/></Assertion>"),
        std::string("\0\0\0\0", 4)}) {
    EXPECT_FALSE(peek_issuer(xml).ok()) << xml;
    expect_invalid(verify(xml, testing::app_key().cert_pem, expectations()));
  }
}

TEST(SamlAssertion, RefusesRootThatIsNotASaml2Assertion) {
  for (const std::string& xml :
       {std::string("<Assertion ID=\"_1\" Version=\"2.0\"/>"),
        std::string("<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\" "
                    "ID=\"_1\" Version=\"2.0\"/>"),
        std::string("<x:Other xmlns:x=\"urn:oasis:names:tc:SAML:2.0:assertion\"/>")}) {
    EXPECT_FALSE(peek_issuer(xml).ok()) << xml;
    expect_invalid(verify(xml, testing::app_key().cert_pem, expectations()));
  }
}

TEST(SamlAssertion, RefusesOversizeInput) {
  std::string xml = testing::signed_assertion(AssertionSpec{});
  ASSERT_TRUE(verify(xml, testing::app_key().cert_pem, expectations()).ok());
  // Padding after the root element is legal XML whitespace; only the size is wrong.
  xml += std::string(kMaxAssertionBytes + 1 - xml.size(), ' ');
  EXPECT_FALSE(peek_issuer(xml).ok());
  expect_invalid(verify(xml, testing::app_key().cert_pem, expectations()));
}

}  // namespace
}  // namespace latchkey::saml
