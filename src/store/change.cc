#include "store/change.h"

#include <array>
#include <utility>

namespace latchkey::store {
namespace {

constexpr std::array<std::pair<Change::Kind, std::string_view>, 7> kNames{{
    {Change::Kind::app, "app"},
    {Change::Kind::user, "user"},
    {Change::Kind::org, "org"},
    {Change::Kind::token, "token"},
    {Change::Kind::tokens, "tokens"},
    {Change::Kind::keys, "keys"},
    {Change::Kind::throttle, "throttle"},
}};

}  // namespace

std::string to_wire(const Change& change) {
  for (const auto& [kind, name] : kNames) {
    if (kind == change.kind) return std::string(name) + ":" + change.key;
  }
  return {};  // unreachable: every kind is named above
}

std::optional<Change> parse_change(std::string_view wire) {
  const std::size_t colon = wire.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view name = wire.substr(0, colon);
  for (const auto& [kind, known] : kNames) {
    if (known == name) return Change{kind, std::string(wire.substr(colon + 1))};
  }
  return std::nullopt;
}

}  // namespace latchkey::store
