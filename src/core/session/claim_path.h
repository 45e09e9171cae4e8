#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "json/json.h"

namespace auth_oidc {

// Claims of any shape (auth_oidc_claim_set, auth_oidc_claim_has): a claim
// reached by a path of member names from the top of the ID token's claims
// (then the userinfo answer's, for a top-level name the ID token lacks);
// an array's element by its index, a name of digits. The ID token is the
// session's own, validated at login: its payload is read, not verified.

// The claims of the session's ID token (validated at login; its payload is
// read, not verified again). Errors: Decode (not a compact JWS), Json,
// NoMemory.
Result<JsonPtr> storedIdTokenPayload(std::string_view idToken);

// The parsed claims a path is looked up in: the ID token's payload and
// the userinfo answer (nullptr when there is none or it does not parse).
// A session parses them once, however many variables read them.
struct ClaimSources {
    JsonPtr idToken;
    JsonPtr userinfo;
};

// Errors: Decode (the ID token's payload is not a JSON object), NoMemory.
Result<ClaimSources> parseClaimSources(std::string_view idToken,
                                       std::string_view userinfo);

// A bearer token's claims (a JSON object, verified when cached) as the
// first source; no second. Errors: Decode, NoMemory.
Result<ClaimSources> parseBearerClaimSources(std::string_view claims);

// The value at path: strings as they are, numbers and booleans as JSON
// text, arrays as their elements so rendered and joined by "," (as NGINX
// Plus's auth_jwt_claim_set), objects as compact JSON; std::nullopt when
// absent or null. Errors: Decode (no readable claims), NoMemory.
Result<std::optional<std::string>> claimAtPath(
    const ClaimSources &sources, const std::vector<std::string_view> &path);

// Whether the claim at path is an array with a string element equal to
// value, byte for byte, or is that string itself: membership without a
// pattern that a crafted element (one holding a ",") could fool.
bool claimHas(const ClaimSources &sources,
              const std::vector<std::string_view> &path,
              std::string_view value) noexcept;

}  // namespace auth_oidc
