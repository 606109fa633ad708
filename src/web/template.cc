#include "web/template.h"

#include <stdexcept>
#include <string>

#include "web/assets.h"

namespace latchkey::web {

kainjow::mustache::mustache parse_template(std::string_view name) {
  const std::string_view text = asset(name);
  if (text.empty()) throw std::logic_error("web template missing: " + std::string(name));
  kainjow::mustache::mustache parsed{std::string(text)};
  if (!parsed.is_valid()) {
    throw std::logic_error("web template " + std::string(name) + ": " + parsed.error_message());
  }
  return parsed;
}

}  // namespace latchkey::web
