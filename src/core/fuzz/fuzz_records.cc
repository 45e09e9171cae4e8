// libFuzzer entry point: session and pending-login records. A record that
// decodes must re-encode to the same bytes (a decoded session carries its
// claim table in claim_table and no claims JSON, so encode copies the table).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "auth_oidc_core.h"

namespace {

void roundTrip(const std::uint8_t *data, std::size_t size,
               auth_oidc_status_t (*encode)(const void *, unsigned char *, size_t, size_t *),
               const void *fields) {
    std::size_t needed = 0;
    if (encode(fields, nullptr, 0, &needed) != AUTH_OIDC_OK || needed != size) {
        std::abort();
    }
    std::vector<unsigned char> again(needed);
    if (encode(fields, again.data(), again.size(), &needed) != AUTH_OIDC_OK ||
        std::memcmp(again.data(), data, size) != 0) {
        std::abort();
    }
}

auth_oidc_status_t encodePending(const void *f, unsigned char *buf, size_t size,
                                 size_t *needed) {
    return auth_oidc_pending_encode(static_cast<const auth_oidc_pending_fields_t *>(f), buf,
                                    size, needed, nullptr);
}

auth_oidc_status_t encodeSession(const void *f, unsigned char *buf, size_t size,
                                 size_t *needed) {
    return auth_oidc_session_encode(static_cast<const auth_oidc_session_fields_t *>(f), buf,
                                    size, needed, nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    auth_oidc_pending_t *pending = nullptr;
    if (auth_oidc_pending_decode(data, size, &pending, nullptr) == AUTH_OIDC_OK) {
        roundTrip(data, size, encodePending, auth_oidc_pending_fields(pending));
    }
    auth_oidc_pending_free(pending);

    auth_oidc_session_t *session = nullptr;
    if (auth_oidc_session_decode(data, size, &session, nullptr) == AUTH_OIDC_OK) {
        roundTrip(data, size, encodeSession, auth_oidc_session_fields(session));
    }
    auth_oidc_session_free(session);
    return 0;
}
