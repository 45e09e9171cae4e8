#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"

namespace auth_oidc {

// What an ID token must say (OpenID Connect Core 1.0, section 3.1.3.7).
struct IdTokenExpectations {
    // "iss" must equal issuer byte for byte.
    std::string_view issuer;
    // Must be (one of) "aud"; "azp", when present or required, must equal it.
    std::string_view clientId;
    // When not empty, "nonce" must be present and equal.
    std::string_view nonce;
    // Enables HS256/384/512, but only those also listed in algs.
    std::string_view clientSecret;
    // Unix seconds.
    std::int64_t now = 0;
    // Clock skew tolerated on exp, iat and nbf, in seconds (>= 0).
    std::int64_t leeway = 0;
    // When > 0, an "iat" more than this (plus leeway) before now is
    // Expired.
    std::int64_t maxIatAge = 0;
    AlgSet algs = defaultAlgs();
};

// Verifies the signature first, then the claims. Keys: by "kid" when the
// token names one (keys without a kid are tried when none has that kid),
// otherwise every key that fits the algorithm. jwks may be nullptr (no set
// loaded yet): only HS* tokens can pass then.
//
// Errors: TooLarge, Token (structure), Alg ("none", not allowed, HS*
// without secret), Kid (no key with the token's kid, or no key for its
// algorithm: a fresh JWKS may have it), Signature, Field (a claim missing
// or of the wrong type), Issuer, Audience, Azp, Expired, NotYet, Nonce,
// InvalidArgument (bad expectations), NoMemory.
Result<Claims> validateIdToken(std::string_view token, const Jwks *jwks,
                               const IdTokenExpectations &expect);

}  // namespace auth_oidc
