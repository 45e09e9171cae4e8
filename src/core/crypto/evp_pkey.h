#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>
#include <string_view>
#include <vector>

namespace auth_oidc {

struct EvpPkeyDeleter {
    void operator()(EVP_PKEY *key) const noexcept { EVP_PKEY_free(key); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

struct EvpPkeyCtxDeleter {
    void operator()(EVP_PKEY_CTX *ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};

using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX *ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct EcdsaSigDeleter {
    void operator()(ECDSA_SIG *sig) const noexcept { ECDSA_SIG_free(sig); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

// Public keys built from JWK members: the RSA modulus and exponent as
// big-endian magnitudes; EC "crv" ("P-256", "P-384", "P-521") with
// full-length coordinates. nullptr when OpenSSL rejects the parameters (a
// point off the curve, say) or cannot allocate; OpenSSL's error queue is
// cleared either way, so nothing is left for nginx to log against an
// unrelated connection.
EvpPkeyPtr rsaPublicKey(const std::vector<unsigned char> &n,
                        const std::vector<unsigned char> &e);
EvpPkeyPtr ecPublicKey(std::string_view crv,
                       const std::vector<unsigned char> &x,
                       const std::vector<unsigned char> &y);

}  // namespace auth_oidc
