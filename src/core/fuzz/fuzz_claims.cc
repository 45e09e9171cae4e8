// libFuzzer entry point: stored claims JSON and the per-variable rendering.
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "auth_oidc_core.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    auth_oidc_claims_t *claims = nullptr;
    if (auth_oidc_claims_parse(data, size, &claims, nullptr) == AUTH_OIDC_OK) {
        unsigned char buf[64];
        for (const char *name : {"sub", "groups", "address", "exp", ""}) {
            auth_oidc_str_t n{reinterpret_cast<const unsigned char *>(name), 0};
            while (name[n.len] != '\0') {
                ++n.len;
            }
            (void) auth_oidc_claims_get(claims, n, buf, sizeof(buf));
        }
        (void) auth_oidc_claims_exp(claims);
    }
    auth_oidc_claims_free(claims);
    return 0;
}
