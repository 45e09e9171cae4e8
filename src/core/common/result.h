#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/status.h"

namespace auth_oidc {

struct Error {
    Status status;
    // One line, starting with toString(status), e.g. "invalid URL: ...".
    std::string detail;
};

// Builds the detail as "<status string>: <what>" so every message reads the
// same way in the nginx error log.
Error makeError(Status status, std::string_view what);

// Value or error. The data path reports failures through this instead of
// exceptions; only std::bad_alloc may still escape (caught at the C boundary).
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Precondition for the accessors below: ok() (resp. !ok()).
    T &value() & noexcept { return *std::get_if<0>(&state_); }
    const T &value() const & noexcept { return *std::get_if<0>(&state_); }
    T &&value() && noexcept { return std::move(*std::get_if<0>(&state_)); }

    Error &error() & noexcept { return *std::get_if<1>(&state_); }
    const Error &error() const & noexcept { return *std::get_if<1>(&state_); }
    Error &&error() && noexcept { return std::move(*std::get_if<1>(&state_)); }

    Status status() const noexcept {
        return ok() ? Status::Ok : error().status;
    }
    std::string_view detail() const noexcept {
        return ok() ? std::string_view() : std::string_view(error().detail);
    }

private:
    std::variant<T, Error> state_;
};

}  // namespace auth_oidc
