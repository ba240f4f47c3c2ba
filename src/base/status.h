#pragma once
// Errors are values: Status and StatusOr<T> with canonical codes (STYLE.md 7). No exceptions cross
// a module boundary. Detail goes in the message ("pool.toml:12: providers[2].name: duplicate
// 'acme'"), never in new codes. One table (api/, later) maps codes to HTTP statuses.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace suanpan {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kFailedPrecondition,
  kResourceExhausted,
  kUnavailable,
  kInternal,
  kUnauthenticated,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: pool.toml:3: tenants[0].weight: must be > 0, got -1"
  std::string ToString() const;

  // Returns a copy whose message is `prefix + ": " + message`. Used to add file:line context.
  Status WithPrefix(std::string_view prefix) const;

  // The input field the error is about ("workers", "spec.env"), as data: the API reports it in
  // {"error": {"field": ...}} without reading it back out of the message. Empty: none.
  const std::string& field() const { return field_; }
  Status WithField(std::string field) const {
    Status s = *this;
    s.field_ = std::move(field);
    return s;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status InternalError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnavailableError(std::string message);
Status UnauthenticatedError(std::string message);
// InvalidArgument "field: problem", with the field as data.
Status FieldError(std::string_view field, std::string_view problem);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    SP_CHECK(!status_.ok()) << "StatusOr constructed from an OK status without a value";
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& {
    SP_CHECK(ok()) << status_.ToString();
    return *value_;
  }
  T& value() & {
    SP_CHECK(ok()) << status_.ToString();
    return *value_;
  }
  T&& value() && {
    SP_CHECK(ok()) << status_.ToString();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace suanpan

#define SP_STATUS_CONCAT_INNER(a, b) a##b
#define SP_STATUS_CONCAT(a, b) SP_STATUS_CONCAT_INNER(a, b)

#define SP_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::suanpan::Status sp_status_ = (expr);   \
    if (!sp_status_.ok()) return sp_status_; \
  } while (false)

#define SP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define SP_ASSIGN_OR_RETURN(lhs, expr) \
  SP_ASSIGN_OR_RETURN_IMPL(SP_STATUS_CONCAT(sp_statusor_, __LINE__), lhs, expr)
