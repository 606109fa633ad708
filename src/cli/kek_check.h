// Whether a key-encryption key file opens the sealed signing keys a database is about to hold
// (crypto/key_sealer.h), checked by the commands that move keys between databases (`migrate`,
// `import`) before they write anything, so that a wrong or missing file is named then rather
// than by servers that refuse to start on the copy.
#pragma once

#include <string>
#include <vector>

#include "store/records.h"

namespace latchkey::cli {

// Why the KEK in `kek_path` cannot open every sealed key of `keys`, or empty when it opens
// every one (or none is sealed: keys stored in plaintext, from before sealing, need no KEK; a
// server seals them when it first starts). The file is read, never created.
std::string sealed_keys_problem(const std::vector<store::SigningKeyRecord>& keys,
                                const std::string& kek_path);

}  // namespace latchkey::cli
