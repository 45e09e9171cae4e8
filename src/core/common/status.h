#pragma once

namespace auth_oidc {

// Mirrors auth_oidc_status_t value for value; the C boundary static_asserts
// the correspondence so the two cannot drift apart silently.
enum class Status {
    Ok = 0,
    NoMemory,
    Internal,
    InvalidArgument,
    TooLarge,
    Json,
    Field,
    Issuer,
    Url,
    Jwks,
    NoKeys,
    Token,
    Alg,
    Kid,
    Signature,
    Expired,
    NotYet,
    Audience,
    Azp,
    Nonce,
    Provider,
    Decode,
    Auth,
};

// The last enumerator, for range checks on values that come from C.
inline constexpr Status kLastStatus = Status::Auth;

// The constant short name, also used as the first words of every detail.
const char *toString(Status status) noexcept;

}  // namespace auth_oidc
