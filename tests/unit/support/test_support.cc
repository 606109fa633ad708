#include "unit/support/test_support.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <stdexcept>

#include "store/open.h"

namespace latchkey::testsupport {
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
using Bio = std::unique_ptr<BIO, BioFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

}  // namespace

std::string self_signed_cert_pem(const crypto::SigningKey& key) {
  return self_signed_cert_pem(key, {{"CN", "latchkey unit test"}});
}

std::string self_signed_cert_pem(const crypto::SigningKey& key,
                                 const std::vector<std::pair<std::string, std::string>>& subject) {
  const std::string pem = key.private_pem();
  Bio in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  check(in != nullptr, "BIO_new_mem_buf");
  Pkey pkey(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  check(pkey != nullptr, "PEM_read_bio_PrivateKey");

  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7) == 1, "serial");
  // Valid from 2020-09-13 to 2052-05-22: wide enough for the fake clock and the real one.
  check(
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(1'600'000'000)) != nullptr,
      "notBefore");
  check(
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(2'600'000'000)) != nullptr,
      "notAfter");
  check(X509_set_pubkey(cert.get(), pkey.get()) == 1, "pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [type, value] : subject) {
    check(X509_NAME_add_entry_by_txt(name, type.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                     0) == 1,
          "subject");
  }
  check(X509_set_issuer_name(cert.get(), name) == 1, "issuer");
  check(X509_sign(cert.get(), pkey.get(), EVP_sha256()) > 0, "sign");

  Bio out(BIO_new(BIO_s_mem()));
  check(out != nullptr, "BIO_new");
  check(PEM_write_bio_X509(out.get(), cert.get()) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  check(len > 0 && data != nullptr, "BIO_get_mem_data");
  return std::string(data, static_cast<std::size_t>(len));
}

void seed_signing_keys(store::KeyStore& keys, int64_t now_ms) {
  static const crypto::SigningKey es = crypto::SigningKey::generate_es256("unit-es256");
  static const crypto::SigningKey rs = crypto::SigningKey::generate_rs256("unit-rs256");
  const crypto::KeySealer& sealer = test_sealer();
  keys.save_key({es.kid(), es.alg(), sealer.seal(es.kid(), es.alg(), es.private_pem()), now_ms, 0});
  keys.save_key(
      {rs.kid(), rs.alg(), sealer.seal(rs.kid(), rs.alg(), rs.private_pem()), now_ms + 1, 0});
}

const crypto::KeySealer& test_sealer() {
  static crypto::OsRandom random;
  static const crypto::KeySealer sealer(std::string(32, 'K'), "test KEK", random);
  return sealer;
}

http::Params params(std::initializer_list<std::pair<std::string, std::string>> items) {
  http::Params p;
  for (const auto& [k, v] : items) p.add(k, v);
  return p;
}

std::string basic_header(const std::string& id, const std::string& secret) {
  return "Basic " + crypto::base64_encode(id + ":" + secret);
}

http::Request post_request(std::initializer_list<std::pair<std::string, std::string>> headers) {
  http::Request r;
  r.method = "POST";
  r.target = r.path = "/services/oauth2/token";
  r.remote_addr = "127.0.0.1";
  for (const auto& h : headers) r.headers.push_back(h);
  return r;
}

http::Request request_to(std::string method, const std::string& target, std::string body) {
  http::Request r;
  r.method = std::move(method);
  r.target = target;
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = std::move(body);
  r.remote_addr = "127.0.0.1";
  return r;
}

const std::string& TestWorld::secret() {
  static const std::string s = "s3cr3t-for-unit-tests-only-0123456789abcdefghijklmnopqrstuv";
  return s;
}

TestWorld::TestWorld() : db_(store::open_database("sqlite::memory:")) {
  org_.id = "00D000000000001AAA";
  org_.name = "unit";
  org_.created_ms = clock_.now_ms();
  db_->create_org(org_);
  seed_signing_keys(*db_, clock_.now_ms());

  user_.id = "005000000000001AAA";
  user_.org_id = org_.id;
  user_.username = "alice@localhost";
  user_.email = "alice@example.test";
  user_.first_name = "Alice";
  user_.last_name = "Liddell";
  user_.password_hash = "$argon2id$unused";
  user_.profile = "Standard User";
  user_.created_ms = clock_.now_ms();
  if (!db_->create_user(user_)) throw std::runtime_error("test user not created");
}

store::App TestWorld::base_app() {
  ++next_app_;
  store::App app;
  app.id = "0Ha00000000000" + std::to_string(1000 + next_app_);
  app.client_id = "3MVG9unit" + std::to_string(1000 + next_app_);
  app.org_id = org_.id;
  app.name = "unit app " + std::to_string(next_app_);
  app.secret_hash = crypto::sha256_hex(secret());
  app.callbacks = {kCallback};
  app.scopes = {"api", "refresh_token", "openid", "profile"};
  app.created_ms = clock_.now_ms();
  return app;
}

}  // namespace latchkey::testsupport
