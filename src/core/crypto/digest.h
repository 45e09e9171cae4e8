#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace auth_oidc {

// BASE64URL(SHA-256(data)), 43 characters; std::nullopt when hashing failed.
std::optional<std::string> sha256Base64Url(std::string_view data);

}  // namespace auth_oidc
