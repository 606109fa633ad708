// Stable text names for the record enums, as stored in the database and shown by the CLI.
// Changing a name is a schema change: it needs a migration.
#pragma once

#include <optional>
#include <string_view>

#include "store/records.h"

namespace latchkey::store {

// As stored: "until_revoked" | "immediately" | "expire_after" | "rotate"; nullopt for anything
// else.
[[nodiscard]] std::string_view to_string(RefreshPolicy policy);
[[nodiscard]] std::optional<RefreshPolicy> parse_refresh_policy(std::string_view text);
// As the command line takes and shows it (`app create --refresh-policy`, docs/behaviour.md §3,
// §5.4): "until-revoked" | "immediately" | "expire-after" | "rotate" (expire-after then takes
// ":SECONDS" on the command line); nullopt for anything else.
[[nodiscard]] std::string_view option_name(RefreshPolicy policy);
[[nodiscard]] std::optional<RefreshPolicy> parse_refresh_policy_option(std::string_view text);

// "opaque" | "jwt", stored and on the command line; nullopt for anything else.
[[nodiscard]] std::string_view to_string(TokenFormat format);
[[nodiscard]] std::optional<TokenFormat> parse_token_format(std::string_view text);

// "profile" | "permission_set", stored and shown; nullopt for anything else.
[[nodiscard]] std::string_view to_string(Preauthorization::Kind kind);
[[nodiscard]] std::optional<Preauthorization::Kind> parse_preauthorization_kind(
    std::string_view text);

[[nodiscard]] std::string_view to_string(TokenKind kind);
// "access" | "refresh"; nullopt for anything else.
[[nodiscard]] std::optional<TokenKind> parse_token_kind(std::string_view text);

// The RFC 7591 §2 names: "none" | "client_secret_basic" | "client_secret_post" |
// "private_key_jwt" | "self_signed_tls_client_auth" | "tls_client_auth"; nullopt otherwise.
[[nodiscard]] std::string_view to_string(ClientAuthMethod method);
[[nodiscard]] std::optional<ClientAuthMethod> parse_client_auth_method(std::string_view text);

}  // namespace latchkey::store
