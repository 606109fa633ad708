// `latchkey serve`: opens the database, wires the application and runs the HTTP server
// until SIGTERM/SIGINT (or stdin EOF with --stop-on-stdin-eof, for test harnesses).
#pragma once

#include "app/key_encryption.h"
#include "config/serve_config.h"
#include "store/stores.h"

namespace latchkey::cli {

// `settings` have been validated (config::validate); `kek` opens the signing keys: the server
// refuses to start when they do not open. Returns the exit status: 0 after a stop on
// SIGTERM/SIGINT (once drained, docs/operations.md) or stdin EOF.
int serve(store::Database& db, const config::ServeConfig& settings, app::KekSource& kek);

}  // namespace latchkey::cli
