#pragma once

#include <openssl/evp.h>

#include <memory>

namespace auth_oidc {

struct EvpPkeyDeleter {
    void operator()(EVP_PKEY *key) const noexcept { EVP_PKEY_free(key); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

}  // namespace auth_oidc
