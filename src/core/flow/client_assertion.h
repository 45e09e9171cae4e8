#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/evp_pkey.h"

namespace auth_oidc {

// The private key a client authenticates with (private_key_jwt, OpenID
// Connect Core 1.0, section 9; RFC 7523): RSA (RS256, at least 2048 bits),
// EC P-256/384/521 (ES256/384/512) or Ed25519 (EdDSA), from an unencrypted
// PEM file's text. Immutable once made: flows share it (a rotated key file
// makes a new one; flows under way keep theirs).
class ClientKey {
public:
    // Errors: InvalidArgument (not a PEM private key, an encrypted one, a
    // key type or size above refused, a key id with bytes outside printable
    // ASCII). OpenSSL's error queue is left empty.
    static Result<std::shared_ptr<const ClientKey>> fromPem(
        std::string_view pem, std::string_view keyId);

    // The JWS "alg" it signs with.
    std::string_view alg() const noexcept { return alg_; }
    std::string_view keyId() const noexcept { return keyId_; }

    // The JWS signature over signingInput (ES*: raw R || S). Errors:
    // Internal.
    Result<std::string> sign(std::string_view signingInput) const;

private:
    ClientKey() = default;

    EvpPkeyPtr key_;
    std::string alg_, keyId_;
    std::size_t ecBytes_ = 0;  // an EC coordinate's size
};

// What a client assertion is made of (RFC 7523, section 3): "iss" and "sub"
// the client_id, "aud" the token endpoint's URL, a fresh "jti", "iat" now
// and "exp" a minute later.
struct ClientAssertionInputs {
    std::string_view clientId;
    std::string_view audience;
    std::int64_t now = 0;
    // private_key_jwt; nullptr: client_secret_jwt, HS256 with secret.
    const ClientKey *key = nullptr;
    std::string_view secret;
};

// How long a client assertion is valid: long enough for a slow network,
// short enough that a copy is of little use.
inline constexpr std::int64_t kClientAssertionLifetime = 60;

// The signed JWT. Errors: InvalidArgument (no client_id, audience, or
// neither key nor secret), Internal (randomness or signing failed).
Result<std::string> makeClientAssertion(const ClientAssertionInputs &in);

}  // namespace auth_oidc
