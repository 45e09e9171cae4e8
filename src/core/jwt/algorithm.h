#pragma once

#include <bitset>
#include <cstddef>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "jwk/jwks.h"

namespace auth_oidc {

// JWS signature algorithms (RFC 7518, section 3.1; RFC 8037 for EdDSA).
// "none" is deliberately not one of them.
enum class Alg {
    RS256 = 0,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
    HS256,
    HS384,
    HS512,
};
inline constexpr std::size_t kAlgCount = 13;

using AlgSet = std::bitset<kAlgCount>;

// The "alg" value, e.g. "RS256".
const char *toString(Alg alg) noexcept;

// Exact, case-sensitive match (RFC 7515, section 4.1.1).
std::optional<Alg> algFromName(std::string_view name) noexcept;

bool isHmac(Alg alg) noexcept;

// Every asymmetric algorithm: RS*, PS*, ES*, EdDSA.
AlgSet defaultAlgs() noexcept;

// Parses a list of algorithm names separated by commas and/or spaces.
// Empty (or only separators): defaultAlgs(). "none" may be listed and is
// ignored, as tokens with "alg":"none" are always rejected. Unknown names
// are InvalidArgument.
Result<AlgSet> parseAlgList(std::string_view list);

// Whether key may verify alg: RSA for RS* and PS*, EC on the matching curve
// for ES*, OKP for EdDSA, never for HS*; a key "alg" must equal alg.
bool keyFitsAlg(const Jwk &key, Alg alg) noexcept;

// Verifies an asymmetric JWS signature (RFC 7518, sections 3.3 to 3.5;
// RFC 8037, section 3.1) over signingInput. ES* signatures are the raw
// R || S octets of exactly twice the coordinate size. Precondition:
// keyFitsAlg(key, alg). OpenSSL's error queue is left empty.
bool verifySignature(Alg alg, const Jwk &key, std::string_view signingInput,
                     const std::vector<unsigned char> &signature) noexcept;

// HS256/384/512 with secret as the key (OpenID Connect Core 1.0, section
// 10.1: the octets of the client secret); constant-time comparison.
bool verifyHmac(Alg alg, std::string_view secret, std::string_view signingInput,
                const std::vector<unsigned char> &signature) noexcept;

}  // namespace auth_oidc
