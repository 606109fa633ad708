// The open-file budget behind ServerOptions::max_connections. Every connection holds a
// descriptor, so with the usual soft RLIMIT_NOFILE of 1024 accept() would fail with EMFILE
// long before a cap of 10,000 connections is reached and anyone is told 503. `serve` raises
// the soft limit to the hard one at start-up and caps connections below it, keeping a reserve
// for the rest of the process. Process-wide; call once, before the server starts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace latchkey::http {

struct FdLimits {
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (no privilege needed) and returns the
// limits in force afterwards; if raising fails, the limits as they were.
FdLimits raise_open_file_limit();

// Descriptors kept for everything but served connections: standard streams, the listeners,
// the event loop, log files, the SQLite writer and its reader pool (a database and a WAL file
// per connection, two connections per core), files read at start-up, and connections beyond
// the cap, which each hold a descriptor while they are answered 503.
std::size_t fd_reserve(unsigned cores);

// How many connections to serve: `configured`, lowered to fit under the soft limit with
// `reserve` to spare (half the limit when the reserve does not fit); at least 1.
std::size_t connection_cap(std::size_t configured, uint64_t soft_limit, std::size_t reserve);

}  // namespace latchkey::http
