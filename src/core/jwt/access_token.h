#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"

namespace auth_oidc {

// What a JWT access token presented to an API must say (RFC 9068, section
// 4, and the shapes providers issue without following it).
struct AccessTokenExpectations {
    // "iss" must equal it byte for byte.
    std::string_view issuer;
    // "aud" must list at least one of them (never empty: an API that took
    // any audience would take tokens meant for every other API).
    std::vector<std::string_view> audiences;
    // Header "typ" must be "at+jwt" (RFC 9068, section 2.1); when false,
    // also "JWT" or none, as Keycloak, Entra ID and Okta issue them.
    bool strictType = true;
    std::int64_t now = 0;
    std::int64_t leeway = 0;
    // Never HS*: a resource server holds no secret shared with the
    // provider, and the public key must not become an HMAC key.
    AlgSet algs = defaultAlgs();
};

// Verifies the signature with the provider's keys, then the claims: typ,
// iss, exp (required), nbf and iat (when present, not in the future), aud.
// Errors: as verifyJws(), then Field (typ, a claim of the wrong type, exp
// missing), Issuer, Expired, NotYet, Audience, InvalidArgument.
Result<Claims> validateAccessToken(std::string_view token, const Jwks *jwks,
                                   const AccessTokenExpectations &expect);

// The scopes a token grants, space-separated: "scope" (a string, RFC 9068
// and RFC 7662), else "scp" (a string or an array of strings, as Entra ID
// and Okta send it). Empty when neither is there.
std::string grantedScopes(const Claims &claims);

// "aud" (a string or an array of strings) lists one of audiences.
// Errors: Field, Audience.
Result<bool> checkAnyAudience(const Claims &claims,
                              const std::vector<std::string_view> &audiences);

}  // namespace auth_oidc
