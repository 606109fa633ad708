#include "app/key_encryption.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "crypto/aead.h"
#include "crypto/crypto.h"

namespace latchkey::app {
namespace {

using oauth::Error;

Error file_error(const std::string& path, const std::string& what) {
  return Error::invalid_request("key-encryption key file " + path + ": " + what);
}

// Writes all of `data` to `fd`; false on any error.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Creates `path` with a fresh KEK. O_EXCL: two commands starting at once never overwrite each
// other's KEK (the loser reads the winner's file). nullopt when the file exists already.
std::optional<Result<std::string>> create_kek_file(const std::string& path, Random& random) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return std::nullopt;
  if (fd < 0) return Result<std::string>(file_error(path, std::strerror(errno)));
  std::string kek = random.bytes(crypto::kAes256GcmKeyBytes);
  std::string text = crypto::KeySealer::kek_file_text(kek);
  bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  crypto::wipe(text);
  if (!ok) {
    ::unlink(path.c_str());  // a half-written KEK file would be refused on every later start
    return Result<std::string>(
        file_error(path, std::string("cannot write: ") + std::strerror(saved)));
  }
  return Result<std::string>(std::move(kek));
}

}  // namespace

Result<std::string> kek_file_for(std::string_view db_url, const std::string& named) {
  if (!named.empty()) return named;
  if (db_url == "sqlite::memory:") return std::string();
  if (db_url.starts_with("sqlite:") && db_url.size() > 7) {
    return std::string(db_url.substr(7)) + ".kek";
  }
  return Error::invalid_request(
      "this database needs --key-encryption-key-file PATH (or LATCHKEY_KEK_FILE): the "
      "key-encryption key of the signing keys is kept beside the database only for sqlite:PATH");
}

Result<std::string> read_or_create_kek_file(const std::string& path, Random& random,
                                            bool may_create) {
  if (may_create) {
    if (auto created = create_kek_file(path, random)) return std::move(*created);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file_error(path, std::strerror(errno));
  // Read a little more than a well-formed file holds, to tell "too long" from "just right".
  std::string text(2 * crypto::kAes256GcmKeyBytes + 2, '\0');
  std::size_t got = 0;
  for (;;) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    if (got == text.size()) break;
  }
  ::close(fd);
  text.resize(got);
  auto kek = crypto::KeySealer::parse_kek_file(text);
  crypto::wipe(text);
  if (!kek) {
    return file_error(path,
                      "not a key-encryption key (expected 64 hex characters, 32 bytes, "
                      "and at most a newline)");
  }
  return std::move(*kek);
}

Result<const crypto::KeySealer*> KekSource::sealer(store::KeyStore* keys) {
  if (sealer_) return &*sealer_;
  if (path_.empty()) {
    sealer_.emplace(random_->bytes(crypto::kAes256GcmKeyBytes), "(in memory)", *random_);
    return &*sealer_;
  }
  std::optional<std::string> sealed_under;
  for (const auto& r : keys ? keys->list_keys() : std::vector<store::SigningKeyRecord>{}) {
    if ((sealed_under = crypto::KeySealer::kek_id_of(r.private_pem))) break;
  }
  struct stat st {};
  if (sealed_under && ::stat(path_.c_str(), &st) != 0 && errno == ENOENT) {
    return file_error(path_,
                      "does not exist, but the signing keys in the database are "
                      "encrypted under key-encryption key " +
                          *sealed_under +
                          "; name the file they were encrypted with "
                          "(--key-encryption-key-file or LATCHKEY_KEK_FILE)");
  }
  auto kek = read_or_create_kek_file(path_, *random_, !sealed_under);
  if (!kek) return std::move(kek).error();
  sealer_.emplace(std::move(*kek), path_, *random_);
  return &*sealer_;
}

}  // namespace latchkey::app
