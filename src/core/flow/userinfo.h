#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "flow/step.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"

namespace auth_oidc {

class Jwks;

// The UserInfo request (OpenID Connect Core 1.0, section 5.3.1): a GET to
// userinfo_endpoint with the access token in the Authorization header
// (RFC 6750, section 2.1).
Step userinfoFetch(std::string_view accessToken);

// What a UserInfo answer must say.
struct UserinfoExpectations {
    std::string_view sub;           // the ID token's: must be equal (5.3.4)
    std::string_view issuer;        // a signed answer's "iss" (5.3.2)
    std::string_view clientId;      // a signed answer's "aud"
    std::string_view clientSecret;  // HS* for a signed answer
    AlgSet algs = defaultAlgs();
};

struct Userinfo {
    Claims claims;
    std::string json;  // the claims as compact JSON, for $oidc_userinfo
};

// A UserInfo answer: a JSON object, or a signed JWT (a compact JWS, the
// answer of a client registered for signed UserInfo, 5.3.2) verified with
// the provider's keys (or the client secret for HS*) and the algorithm
// allowlist, whose "iss" must be expect.issuer and whose "aud" must list
// expect.clientId. Errors: Provider (not a 2xx, or an "error" member: RFC
// 6750, section 3), Json, TooLarge, Field ("sub" missing, or not the ID
// token's: the login is refused; a signed answer's "iss" or "aud" missing
// or not a string), InvalidArgument (a signed answer but no issuer or
// client id to check it against), and a signed answer's Token, Alg, Kid,
// Signature, Issuer, Audience.
Result<Userinfo> parseUserinfo(unsigned httpStatus, std::string_view body,
                               const Jwks *jwks,
                               const UserinfoExpectations &expect);

// The ID token's claims with the UserInfo claims it lacks: what the ID
// token says (iss, sub, aud, exp, ...) is never overridden. Errors:
// NoMemory.
Result<Claims> mergeClaims(const Claims &idToken, const Claims &userinfo);

}  // namespace auth_oidc
