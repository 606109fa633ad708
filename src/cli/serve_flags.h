// The command-line half of the serve configuration (config/serve_config.h): a CLI11 option for
// every setting of config::settings(), the global ones (--db, --key-encryption-key-file) on the
// root command and the others on `serve`, and, after parsing, the given ones applied over
// what the file and the environment set (flags win).
//
// Thread safety: none needed; used by main() alone, before anything runs.
#pragma once

#include <CLI/CLI.hpp>

#include <deque>
#include <string>
#include <vector>

#include "config/serve_config.h"
#include "core/result.h"

namespace latchkey::cli {

class ServeFlags {
 public:
  // Adds the global settings' flags to `root` and the others to `serve`. Both must outlive
  // this object's apply().
  ServeFlags(CLI::App& root, CLI::App& serve);
  ServeFlags(const ServeFlags&) = delete;
  ServeFlags& operator=(const ServeFlags&) = delete;

  // Applies every flag given on the command line to `config` (only the global ones when
  // `globals_only`), naming the flag in errors.
  Status apply(config::ServeConfig& config, bool globals_only) const;

 private:
  struct Bound {
    const config::Setting* setting;
    CLI::Option* option;
    std::vector<std::string> values;
    bool flag = false;  // booleans
  };
  std::deque<Bound> bound_;  // stable addresses: CLI11 writes into them
};

}  // namespace latchkey::cli
