// The commented configuration file that `latchkey config example` prints and the Debian package
// installs as /etc/latchkey/latchkey.toml (README "Running in production"). It is generated from
// settings() (config/serve_config.h), the table docs/configuration.md is generated from too, so it
// names every setting of serve and no other: each one with its help as a comment and its default
// commented out (a placeholder of its form where the default is "unset"). The settings a packaged
// install must fill, `listen` (required) and `db` (the default `sqlite:latchkey.db` is relative
// to the working directory, which a service does not choose), are given the values of
// packaged_values(), so the file is valid as it is: `config check` accepts it.
//
// Pure; thread safety: none needed (no state).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace latchkey::config {

// A setting the example sets rather than comments out, as TOML text for its value.
struct PackagedValue {
  std::string_view key;
  std::string_view toml;
};

// listen = "127.0.0.1:8080" (loopback: a reverse proxy or the operator opens it up) and
// db = "sqlite:/var/lib/latchkey/latchkey.db" (the service's StateDirectory, with the
// key-encryption key beside it).
std::span<const PackagedValue> packaged_values();

// The whole file: a header saying what it is and how it is read, then one commented block per
// setting in the table's order.
std::string example_toml();

}  // namespace latchkey::config
