// Result<T>: a value or an oauth::Error. Errors are values on the request path; exceptions
// never cross module boundaries there.
#pragma once

#include <optional>
#include <utility>
#include <variant>

#include "core/error.h"

namespace latchkey {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT(google-explicit-constructor)
  Result(oauth::Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const oauth::Error& error() const& { return std::get<1>(v_); }
  oauth::Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, oauth::Error> v_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

}  // namespace latchkey
