// libFuzzer entry point: discovery documents and JWKS (the existing parsers).
#include <cstddef>
#include <cstdint>

#include "auth_oidc_core.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    static const char issuer[] = "https://op.example";
    auth_oidc_discovery_t *d = nullptr;
    if (auth_oidc_discovery_parse(
            data, size,
            auth_oidc_str_t{reinterpret_cast<const unsigned char *>(issuer), sizeof(issuer) - 1},
            &d, nullptr) == AUTH_OIDC_OK) {
        (void) auth_oidc_discovery_describe(d, nullptr, 0);
    }
    auth_oidc_discovery_free(d);
    auth_oidc_jwks_t *jwks = nullptr;
    if (auth_oidc_jwks_parse(data, size, &jwks, nullptr) == AUTH_OIDC_OK) {
        (void) auth_oidc_jwks_describe(jwks, nullptr, 0);
    }
    auth_oidc_jwks_free(jwks);
    return 0;
}
