#include "cli/serve_flags.h"

#include <variant>

namespace latchkey::cli {

ServeFlags::ServeFlags(CLI::App& root, CLI::App& serve) {
  for (const config::Setting& s : config::settings()) {
    CLI::App& app = s.global ? root : serve;
    Bound& b = bound_.emplace_back();
    b.setting = &s;
    std::string help(s.help);
    if (!s.default_text.empty()) help += " (default: " + std::string(s.default_text) + ")";
    help += "; env " + std::string(s.env) + ", file key " + std::string(s.key);
    if (std::holds_alternative<bool config::ServeConfig::*>(s.field)) {
      b.option = app.add_flag(std::string(s.flag), b.flag, help);
    } else {
      b.option = app.add_option(std::string(s.flag), b.values, help);
      if (!s.value_name.empty()) b.option->type_name(std::string(s.value_name));
      // A single-valued flag given twice: the last one counts, as with the other options.
      if (!std::holds_alternative<std::vector<std::string> config::ServeConfig::*>(s.field)) {
        b.option->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
      }
    }
  }
}

Status ServeFlags::apply(config::ServeConfig& config, bool globals_only) const {
  for (const Bound& b : bound_) {
    if (globals_only && !b.setting->global) continue;
    if (b.option->count() == 0) continue;
    const std::vector<std::string> values =
        std::holds_alternative<bool config::ServeConfig::*>(b.setting->field)
            ? std::vector<std::string>{b.flag ? "true" : "false"}
            : b.values;
    if (auto r = config::apply_values(config, *b.setting, values, b.setting->flag); !r) return r;
  }
  return Ok{};
}

}  // namespace latchkey::cli
