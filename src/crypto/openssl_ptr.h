// Internal to src/crypto/: owning smart pointers for OpenSSL objects, so every early return
// frees what was allocated. Not part of the module's API; other modules must not include it.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <climits>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace latchkey::crypto::detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

// BIO_free returns int, so it cannot be used as a void(*)(BIO*) directly.
inline void free_bio(BIO* b) { BIO_free(b); }

using BioPtr = std::unique_ptr<BIO, Deleter<BIO, free_bio>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

// A read-only memory BIO over `data`; the view must outlive the BIO. Null when `data` is too
// large for OpenSSL's int length, which callers treat like unreadable input.
inline BioPtr memory_bio(std::string_view data) {
  if (data.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Everything written into a memory BIO so far.
inline std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace latchkey::crypto::detail
