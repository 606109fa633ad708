// Templates and CSS compiled into the binary from src/web/templates (cmake/embed_assets.cmake).
#pragma once

#include <string_view>

namespace latchkey::web {

// The file's content, or an empty view if there is no such asset.
std::string_view asset(std::string_view name);

}  // namespace latchkey::web
