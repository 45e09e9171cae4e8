#include "common/status.h"

namespace auth_oidc {

const char *toString(Status status) noexcept {
    switch (status) {
    case Status::Ok:
        return "ok";
    case Status::NoMemory:
        return "out of memory";
    case Status::Internal:
        return "internal error";
    case Status::InvalidArgument:
        return "invalid argument";
    case Status::TooLarge:
        return "too large";
    case Status::Json:
        return "invalid JSON";
    case Status::Field:
        return "missing or invalid member";
    case Status::Issuer:
        return "issuer mismatch";
    case Status::Url:
        return "invalid URL";
    case Status::Jwks:
        return "invalid JWKS";
    case Status::NoKeys:
        return "no usable keys";
    case Status::Token:
        return "malformed token";
    case Status::Alg:
        return "algorithm not allowed";
    case Status::Kid:
        return "unknown key";
    case Status::Signature:
        return "invalid signature";
    case Status::Expired:
        return "token expired";
    case Status::NotYet:
        return "token not yet valid";
    case Status::Audience:
        return "audience mismatch";
    case Status::Azp:
        return "authorized party mismatch";
    case Status::Nonce:
        return "nonce mismatch";
    case Status::Provider:
        return "provider error";
    case Status::Decode:
        return "malformed record";
    case Status::Auth:
        return "authentication failed";
    }
    // Reachable only through a cast from an out-of-range integer (the C side).
    return "unknown status";
}

}  // namespace auth_oidc
