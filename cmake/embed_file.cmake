# Writes OUT, a C++ source defining `std::string_view FUNC()` (in namespace NS) that returns the
# bytes of the file IN, so the binary serves it without reading the file at run time.
file(READ ${IN} content)
string(FIND "${content}" ")lk_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string's delimiter")
endif()
file(WRITE ${OUT} "// Generated from ${IN} by cmake/embed_file.cmake; do not edit.\n"
     "#include <string_view>\nnamespace ${NS} {\nstd::string_view ${FUNC}() {\n"
     "  static constexpr std::string_view text = R\"lk_embed(${content})lk_embed\";\n"
     "  return text;\n}\n}  // namespace ${NS}\n")
