#pragma once

#include <cjose/jwk.h>

#include <memory>

namespace auth_oidc {

struct CjoseJwkDeleter {
    void operator()(cjose_jwk_t *jwk) const noexcept { cjose_jwk_release(jwk); }
};

// Owns one cjose reference (cjose_jwk_release() drops it).
using CjoseJwkPtr = std::unique_ptr<cjose_jwk_t, CjoseJwkDeleter>;

}  // namespace auth_oidc
