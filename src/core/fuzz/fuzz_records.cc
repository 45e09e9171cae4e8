// libFuzzer entry point: session, pending-login and bearer records. A record that
// decodes must re-encode to the same bytes (a decoded session carries its
// claim table in claim_table and no claims JSON, so encode copies the table);
// a record of a previous format version (2, 3) re-encodes in the current
// one, and that must then be a fixed point.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "auth_oidc_core.h"

namespace {

// The current record format version, the first byte of every record.
constexpr std::uint8_t kCurrentVersion = 5;

using Encoder = auth_oidc_status_t (*)(const void *, unsigned char *, size_t, size_t *);

std::vector<unsigned char> encoded(Encoder encode, const void *fields) {
    std::size_t needed = 0;
    if (encode(fields, nullptr, 0, &needed) != AUTH_OIDC_OK) {
        std::abort();
    }
    std::vector<unsigned char> out(needed);
    if (encode(fields, out.data(), out.size(), &needed) != AUTH_OIDC_OK ||
        needed != out.size()) {
        std::abort();
    }
    return out;
}

template <typename Handle, typename Fields>
void roundTrip(const std::uint8_t *data, std::size_t size, Encoder encode,
               const Fields *fields,
               auth_oidc_status_t (*decode)(const unsigned char *, size_t, Handle **,
                                            auth_oidc_error_t *),
               const Fields *(*view)(const Handle *), void (*release)(Handle *)) {
    const std::vector<unsigned char> again = encoded(encode, fields);
    if (size > 0 && data[0] == kCurrentVersion) {
        if (again.size() != size || std::memcmp(again.data(), data, size) != 0) {
            std::abort();
        }
        return;
    }
    // an older version: what it became must decode and stay as it is
    Handle *upgraded = nullptr;
    if (decode(again.data(), again.size(), &upgraded, nullptr) != AUTH_OIDC_OK) {
        std::abort();
    }
    const std::vector<unsigned char> twice = encoded(encode, view(upgraded));
    release(upgraded);
    if (twice != again) {
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
        roundTrip(data, size, encodePending, auth_oidc_pending_fields(pending),
                  auth_oidc_pending_decode, auth_oidc_pending_fields, auth_oidc_pending_free);
    }
    auth_oidc_pending_free(pending);

    auth_oidc_session_t *session = nullptr;
    if (auth_oidc_session_decode(data, size, &session, nullptr) == AUTH_OIDC_OK) {
        roundTrip(data, size, encodeSession, auth_oidc_session_fields(session),
                  auth_oidc_session_decode, auth_oidc_session_fields, auth_oidc_session_free);
    }
    auth_oidc_session_free(session);

    // a bearer token's cached verification: what the variables read of it
    auth_oidc_str_t error, description, value;
    auth_oidc_session_t *bearer = nullptr;
    if (auth_oidc_bearer_decode(data, size, &bearer, &error, &description, nullptr) ==
            AUTH_OIDC_OK &&
        bearer != nullptr) {
        const auth_oidc_str_t names[] = {{reinterpret_cast<const unsigned char *>("groups"), 6},
                                         {reinterpret_cast<const unsigned char *>("0"), 1}};
        unsigned char buf[64];
        size_t needed = 0;
        (void) auth_oidc_session_claim(bearer, names[0], &value);
        (void) auth_oidc_session_claim_path(bearer, names, 2, buf, sizeof buf, &needed);
        (void) auth_oidc_session_scope(bearer);
    } else if (error.len != 0 && (error.data < data || error.data + error.len > data + size)) {
        std::abort();  // a refusal's views point into the record
    }
    auth_oidc_session_free(bearer);
    return 0;
}
