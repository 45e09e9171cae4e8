// libFuzzer entry point: token endpoint responses (RFC 6749, section 5).
#include <cstddef>
#include <cstdint>

#include "auth_oidc_core.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    auth_oidc_token_response_t *response = nullptr;
    auth_oidc_error_t err;
    if (auth_oidc_token_response_parse(data, size, 1, &response, &err) == AUTH_OIDC_OK) {
        (void) auth_oidc_token_response_id_token(response);
        (void) auth_oidc_token_response_expires_in(response);
    }
    auth_oidc_token_response_free(response);
    return 0;
}
