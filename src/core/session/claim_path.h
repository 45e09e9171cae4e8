#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace auth_oidc {

// Claims of any shape (auth_oidc_claim_set, auth_oidc_claim_has): a claim
// reached by a path of member names from the top of the ID token's claims
// (then the userinfo answer's, for a top-level name the ID token lacks);
// an array's element by its index, a name of digits. The ID token is the
// session's own, validated at login: its payload is read, not verified.

// The value at path: strings as they are, numbers and booleans as JSON
// text, arrays as their elements so rendered and joined by "," (as NGINX
// Plus's auth_jwt_claim_set), objects as compact JSON; std::nullopt when
// absent or null. Errors: Decode (no readable claims), NoMemory.
Result<std::optional<std::string>> claimAtPath(
    std::string_view idToken, std::string_view userinfo,
    const std::vector<std::string_view> &path);

// Whether the claim at path is an array with a string element equal to
// value, byte for byte, or is that string itself: membership without a
// pattern that a crafted element (one holding a ",") could fool.
bool claimHas(std::string_view idToken, std::string_view userinfo,
              const std::vector<std::string_view> &path,
              std::string_view value) noexcept;

}  // namespace auth_oidc
