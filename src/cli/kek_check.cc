#include "cli/kek_check.h"

#include "app/key_encryption.h"
#include "crypto/crypto.h"
#include "crypto/key_sealer.h"

namespace latchkey::cli {

std::string sealed_keys_problem(const std::vector<store::SigningKeyRecord>& keys,
                                const std::string& kek_path) {
  std::vector<const store::SigningKeyRecord*> sealed;
  for (const auto& k : keys) {
    if (crypto::KeySealer::is_sealed(k.private_pem)) sealed.push_back(&k);
  }
  if (sealed.empty()) return {};
  crypto::OsRandom random;
  auto kek = app::read_or_create_kek_file(kek_path, random, /*may_create=*/false);
  if (!kek) return kek.error().description();
  const crypto::KeySealer sealer(*kek, kek_path, random);
  for (const auto* k : sealed) {
    if (auto opened = sealer.open(k->kid, k->alg, k->private_pem); !opened) {
      return "the key-encryption key " + kek_path + " does not open the signing key " + k->kid +
             " (" + opened.error().description() +
             "); name the right one with --key-encryption-key-file";
    }
  }
  return {};
}

}  // namespace latchkey::cli
