#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace auth_oidc {

// RFC 7636, section 4.1: 43 to 128 characters of [A-Za-z0-9-._~].
inline constexpr std::size_t kMinCodeVerifier = 43;
inline constexpr std::size_t kMaxCodeVerifier = 128;
// BASE64URL of a SHA-256 digest.
inline constexpr std::size_t kCodeChallengeLength = 43;

bool isValidCodeVerifier(std::string_view verifier) noexcept;

// RFC 7636, section 4.2: BASE64URL(SHA256(ASCII(code_verifier))).
// std::nullopt when the verifier is invalid or hashing failed.
std::optional<std::string> pkceS256(std::string_view verifier);

}  // namespace auth_oidc
