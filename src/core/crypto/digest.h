#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace auth_oidc {

inline constexpr std::size_t kSha256Bytes = 32;

// SHA-256(data) into out; false when hashing failed.
bool sha256(std::string_view data, unsigned char (&out)[kSha256Bytes]) noexcept;

// BASE64URL(SHA-256(data)), 43 characters; std::nullopt when hashing failed.
std::optional<std::string> sha256Base64Url(std::string_view data);

}  // namespace auth_oidc
