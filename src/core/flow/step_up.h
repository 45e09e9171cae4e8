#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auth_oidc {

// What a location asks of a login beyond a session (OpenID Connect Core
// 1.0, 3.1.2.1 and 3.1.3.7): an authentication context class among
// acrValues (space-separated; empty: any), and an authentication at most
// maxAge seconds old (-1: any age).
struct StepUp {
    std::string_view acrValues;
    std::int64_t maxAge = -1;
};

// Why a login's "acr" and "auth_time" (as the ID token or the session has
// them; std::nullopt when absent) do not meet want at now, or std::nullopt
// when they do. An acr must be one of the values asked for; with maxAge,
// auth_time must be present (Core 3.1.2.1: the provider must then send it)
// and at most maxAge + leeway seconds before now, and not in the future
// beyond leeway.
std::optional<std::string> stepUpUnmet(std::optional<std::string_view> acr,
                                       std::optional<std::int64_t> authTime,
                                       const StepUp &want, std::int64_t now,
                                       std::int64_t leeway);

// "auth_time" as a session's claim table renders it (decimal digits, a
// fraction dropped), or std::nullopt.
std::optional<std::int64_t> parseAuthTime(std::string_view text) noexcept;

}  // namespace auth_oidc
