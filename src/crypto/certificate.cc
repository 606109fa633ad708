#include "crypto/certificate.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>

#include <ctime>

#include "crypto/crypto.h"
#include "crypto/openssl_ptr.h"

namespace latchkey::crypto {
namespace {

std::optional<int64_t> epoch_seconds(const ASN1_TIME* t) {
  if (t == nullptr) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::string x5t_s256(std::string_view der) { return base64url_encode(sha256(der)); }

bool within_validity(const CertificateValidity& validity, int64_t now_s) {
  return validity.not_before_s <= now_s && now_s <= validity.not_after_s;
}

std::optional<CertificateValidity> certificate_validity(std::string_view der) {
  if (der.empty() || der.size() > 64 * 1024) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  detail::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return std::nullopt;
  auto nb = epoch_seconds(X509_get0_notBefore(cert.get()));
  auto na = epoch_seconds(X509_get0_notAfter(cert.get()));
  if (!nb || !na) return std::nullopt;
  return CertificateValidity{*nb, *na};
}

std::optional<std::string> certificate_der_from_pem(std::string_view pem) {
  auto bio = detail::memory_bio(pem);
  if (!bio) return std::nullopt;
  detail::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return std::nullopt;
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0 || der == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace latchkey::crypto
