#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"
#include "jwt/jws.h"

// What ID tokens and logout tokens share: the signature step and the claim
// checks both kinds make. Internal to jwt/; callers use validateIdToken()
// and validateLogoutToken().

namespace auth_oidc {

// A compact JWS whose signature verified, with its payload as claims. The
// header is trusted now too; jws.signingInput still points into the token.
struct VerifiedJws {
    CompactJws jws;
    Claims claims;
};

// Parses token, checks its "alg" against algs (never "none"; HS* only with
// a clientSecret), verifies the signature and parses the payload as a JSON
// object. Keys: by "kid" when the token names one (keys without a kid are
// tried when none has that kid), otherwise every key that fits the
// algorithm. jwks may be nullptr (no set loaded yet): only HS* tokens can
// pass then.
//
// Errors: TooLarge, Token (structure, empty signature, payload not a JSON
// object), Alg ("none", not allowed, HS* without secret), Kid (no key with
// the token's kid, or no key for its algorithm: a fresh JWKS may have it),
// Signature, NoMemory.
Result<VerifiedJws> verifyJws(std::string_view token, const Jwks *jwks,
                              std::string_view clientSecret,
                              const AlgSet &algs);

// The header's "typ" without an "application/" prefix (RFC 7515, section
// 4.1.9: media types are case-insensitive and the prefix may be left out);
// std::nullopt when absent. Errors: Field (not a string).
Result<std::optional<std::string_view>> headerType(const json_t *header);

// a + b and a - b, saturating instead of overflowing: the claims are
// bounded, but now, leeway and max_iat_age come from the caller.
std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) noexcept;
std::int64_t saturatingSub(std::int64_t a, std::int64_t b) noexcept;

// "<value> s", for details.
std::string secondsText(std::int64_t value);

// Field "claim \"<name>\" must be <expected>".
Error claimMustBe(std::string_view name, std::string_view expected);

// "nbf", when present, a number at most leeway seconds in the future.
// Errors: Field, NotYet.
Result<bool> checkNotBefore(const Claims &claims, std::int64_t now,
                            std::int64_t leeway);

// checkIssuer(): jwt/issuer.h.

// "aud": a string or an array of strings (RFC 7519, section 4.1.3) that
// lists clientId. The number of audiences on success. Errors: Field,
// Audience.
Result<std::size_t> checkAudience(const Claims &claims,
                                  std::string_view clientId);

// "iat" required, at most leeway seconds in the future (NotYet) and, when
// maxIatAge > 0, at most maxIatAge + leeway seconds old (Expired). The
// value on success. Errors: Field, NotYet, Expired.
Result<std::int64_t> checkIssuedAt(const Claims &claims, std::int64_t now,
                                   std::int64_t leeway,
                                   std::int64_t maxIatAge);

// "exp" (a number) not more than leeway seconds in the past. The value on
// success. Errors: Field, Expired.
Result<std::int64_t> checkExpiry(const Claims &claims, std::int64_t now,
                                 std::int64_t leeway);

// "sub" a string of 1 to kMaxSubjectBytes bytes without control bytes.
// Errors: Field.
Result<std::string_view> checkSubject(const Claims &claims);

}  // namespace auth_oidc
