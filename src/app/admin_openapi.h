// The admin API's OpenAPI 3.1 document, docs/admin-api.openapi.json, compiled into the binary
// (cmake/embed_file.cmake) and served at GET /admin/v1/openapi.json.
#pragma once

#include <string_view>

namespace latchkey::app {

std::string_view admin_openapi_document();

}  // namespace latchkey::app
