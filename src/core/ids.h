// Salesforce-shaped identifiers: key prefix (00D org, 005 user, 0Ha app) + 15 base62
// characters, 18 in all. Client ids look like Salesforce consumer keys (3MVG...).
#pragma once

#include <string>

#include "core/random.h"

namespace latchkey {

std::string make_id(Random& random, const char* prefix3);  // 18 chars
std::string make_client_id(Random& random);                // "3MVG9" + 80 base62 chars
// base62 string of n chars, unbiased.
std::string random_base62(Random& random, std::size_t n);

}  // namespace latchkey
