#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"

namespace auth_oidc {

// What a logout token must say (OpenID Connect Back-Channel Logout 1.0,
// sections 2.4 and 2.6).
struct LogoutTokenExpectations {
    // "iss" must equal issuer byte for byte.
    std::string_view issuer;
    // Must be (one of) "aud".
    std::string_view clientId;
    // Enables HS256/384/512, but only those also listed in algs.
    std::string_view clientSecret;
    // Unix seconds.
    std::int64_t now = 0;
    // Clock skew tolerated on iat and exp, in seconds (>= 0).
    std::int64_t leeway = 0;
    // When > 0, an "iat" more than this (plus leeway) before now is
    // Expired.
    std::int64_t maxIatAge = 0;
    AlgSet algs = defaultAlgs();
};

// The claims a relying party acts on.
struct LogoutTokenClaims {
    // Empty when absent (at least one of the two is present).
    std::string sub;
    std::string sid;
    std::string jti;
    std::int64_t iat = 0;
    std::int64_t exp = 0;
};

// The member of "events" that makes a JWT a logout token.
inline constexpr const char *kBackchannelLogoutEvent =
    "http://schemas.openid.net/event/backchannel-logout";

// Verifies the signature first (keys as validateIdToken() picks them; jwks
// may be nullptr, only HS* tokens can pass then), then the header "typ"
// (when present "logout+jwt" or "JWT", case-insensitive, an "application/"
// prefix allowed), then the claims: iss, aud, iat, exp (required since the
// final specification), events,
// no nonce, sub and/or sid, jti. Replay of a jti is the caller's to check.
//
// Errors: TooLarge, Token (structure), Alg ("none", not allowed, HS*
// without secret), Kid (no key with the token's kid, or no key for its
// algorithm: a fresh JWKS may have it), Signature, Field (typ, events,
// nonce, sub, sid, jti, or a claim missing or of the wrong type), Issuer,
// Audience, Expired, NotYet, InvalidArgument (bad expectations), NoMemory.
Result<LogoutTokenClaims> validateLogoutToken(
    std::string_view token, const Jwks *jwks,
    const LogoutTokenExpectations &expect);

}  // namespace auth_oidc
