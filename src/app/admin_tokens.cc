#include "app/admin_tokens.h"

#include "core/ascii.h"
#include "core/error.h"
#include "core/ids.h"
#include "crypto/crypto.h"

namespace latchkey::app {
namespace {

using oauth::Error;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

Result<boost::json::object> AdminTokens::create(const std::string& name) {
  if (!valid_name(name)) {
    return Error::invalid_request("an admin token's name is 1 to 64 visible ASCII characters");
  }
  // 43 base62 characters carry 256 bits (43 × log2 62 ≈ 256.03).
  std::string token = std::string(kAdminTokenPrefix) + random_base62(random_, 43);
  store::AdminToken record{name, crypto::sha256_hex(token), clock_.now_ms()};
  if (!store_.create_admin_token(record)) {
    return Error::conflict("an admin token named " + name + " exists");
  }
  return boost::json::object{{"name", name}, {"token", token}, {"created_ms", record.created_ms}};
}

boost::json::object AdminTokens::list() {
  boost::json::array list;
  for (const auto& t : store_.list_admin_tokens()) {
    list.push_back(boost::json::object{{"name", t.name}, {"created_ms", t.created_ms}});
  }
  return {{"admin_tokens", std::move(list)}};
}

Result<boost::json::object> AdminTokens::revoke(const std::string& name) {
  if (!store_.delete_admin_token(name)) {
    return Error::not_found("no admin token named " + name);
  }
  return boost::json::object{{"name", name}, {"revoked", true}};
}

std::optional<std::string> AdminTokens::authenticate(std::string_view authorization) {
  // RFC 6750 §2.1: "Bearer" SP token; the scheme is case-insensitive (RFC 9110 §11.1).
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  if (!token.starts_with(kAdminTokenPrefix)) return std::nullopt;
  return name_of_hash(crypto::sha256_hex(token));
}

std::optional<std::string> AdminTokens::name_of_hash(std::string_view token_hash) {
  std::optional<std::string> found;
  for (const auto& t : store_.list_admin_tokens()) {
    if (crypto::constant_time_equal(token_hash, t.token_hash) && !found) found = t.name;
  }
  return found;
}

}  // namespace latchkey::app
