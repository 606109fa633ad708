// The embedded templates (web/assets.h) parsed for kainjow mustache, for the page classes
// (web/pages.h, web/console_pages.h).
#pragma once

#include <kainjow/mustache.hpp>
#include <string_view>

namespace latchkey::web {

// The template `name`, parsed. Throws std::logic_error when it is missing or malformed: a build
// defect, found at start-up and by the unit tests. Thread-safe.
kainjow::mustache::mustache parse_template(std::string_view name);

}  // namespace latchkey::web
