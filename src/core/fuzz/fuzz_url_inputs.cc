// libFuzzer entry point: everything the configuration or the browser feeds
// into URLs: return paths, extra_auth_args, scopes, algorithm lists.
#include <cstddef>
#include <cstdint>

#include "auth_oidc_core.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const auth_oidc_str_t input{data, size};
    unsigned char out[4096];
    const std::size_t len = auth_oidc_safe_return_path(input, out, sizeof(out));
    // Whatever comes back is "/" or the input itself, never anything else.
    if (len != 1 && len != size) {
        __builtin_trap();
    }
    (void) auth_oidc_extra_args_check(input, nullptr);
    (void) auth_oidc_scope_check(input, nullptr);
    (void) auth_oidc_algorithms_check(input, nullptr);
    (void) auth_oidc_pkce_s256(input, out, sizeof(out));
    return 0;
}
