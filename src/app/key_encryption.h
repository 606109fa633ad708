// Where the key-encryption key (KEK) of the signing keys lives and how it is read
// (docs/operations.md, "Signing keys at rest"). The KEK is kept out of the database so that a copy
// of the database (a backup, a stolen disk image) yields no signing key; crypto/key_sealer.h does
// the sealing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/random.h"
#include "core/result.h"
#include "crypto/key_sealer.h"
#include "store/stores.h"

namespace latchkey::app {

// The KEK file of the database `db_url`: `named` (--key-encryption-key-file, LATCHKEY_KEK_FILE)
// when not empty; otherwise PATH.kek beside a sqlite:PATH database. A shared database
// (postgresql://…) has no "beside" every node agrees on, so it needs the file named. For
// sqlite::memory: the result is empty: the keys die with the process, and so does their KEK
// (a random one, see KekSource).
Result<std::string> kek_file_for(std::string_view db_url, const std::string& named);

// The KEK in the file at `path`. A file that does not exist is created first (O_EXCL, mode 0600)
// holding 32 fresh random bytes if `may_create`, and is an error otherwise; one that does is
// read and must be in the KEK file format (crypto/key_sealer.h), or the error says what is
// wrong with it.
Result<std::string> read_or_create_kek_file(const std::string& path, Random& random,
                                            bool may_create = true);

// The KEK a command uses, read (or created) on first use only, so commands that touch no
// signing key never create a KEK file. Not thread-safe: the CLI's, loaded before serving.
class KekSource {
 public:
  // The KEK in `path` (kek_file_for); empty path: a random KEK held in memory only.
  KekSource(std::string path, Random& random) : path_(std::move(path)), random_(&random) {}
  // A KEK already at hand (tests).
  explicit KekSource(crypto::KeySealer sealer) : sealer_(std::move(sealer)) {}

  // The sealer over the KEK for the keys in `keys`, or why the KEK file cannot be used. A
  // missing file is created only while no key in `keys` is sealed yet: a database whose keys
  // are sealed was moved without its KEK file (or the file was lost), and a new KEK would only
  // hide that. `keys` null: the KEK is new by intent (keys rewrap); a missing file is created.
  Result<const crypto::KeySealer*> sealer(store::KeyStore* keys);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Random* random_ = nullptr;
  std::optional<crypto::KeySealer> sealer_;
};

}  // namespace latchkey::app
