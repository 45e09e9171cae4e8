// The only translation unit with C linkage. Every entry point is noexcept and
// converts whatever the C++ side throws (in practice std::bad_alloc) into a
// status, because an exception unwinding into nginx's C frames would abort.

#include "api/auth_oidc_core.h"

#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/result.h"
#include "common/status.h"
#include "jwk/jwks.h"
#include "provider/discovery.h"

struct auth_oidc_discovery_s {
    auth_oidc::Discovery impl;
};

struct auth_oidc_jwks_s {
    auth_oidc::Jwks impl;
};

namespace {

using auth_oidc::Discovery;
using auth_oidc::Jwks;
using auth_oidc::Status;

#define AUTH_OIDC_SAME(c, cxx) \
    static_assert(static_cast<int>(c) == static_cast<int>(cxx), #c)

AUTH_OIDC_SAME(AUTH_OIDC_OK, Status::Ok);
AUTH_OIDC_SAME(AUTH_OIDC_ENOMEM, Status::NoMemory);
AUTH_OIDC_SAME(AUTH_OIDC_EINTERNAL, Status::Internal);
AUTH_OIDC_SAME(AUTH_OIDC_EINVAL, Status::InvalidArgument);
AUTH_OIDC_SAME(AUTH_OIDC_ETOOLARGE, Status::TooLarge);
AUTH_OIDC_SAME(AUTH_OIDC_EJSON, Status::Json);
AUTH_OIDC_SAME(AUTH_OIDC_EFIELD, Status::Field);
AUTH_OIDC_SAME(AUTH_OIDC_EISSUER, Status::Issuer);
AUTH_OIDC_SAME(AUTH_OIDC_EURL, Status::Url);
AUTH_OIDC_SAME(AUTH_OIDC_EJWKS, Status::Jwks);
AUTH_OIDC_SAME(AUTH_OIDC_ENOKEYS, Status::NoKeys);

AUTH_OIDC_SAME(AUTH_OIDC_EP_AUTHORIZATION, Discovery::Endpoint::Authorization);
AUTH_OIDC_SAME(AUTH_OIDC_EP_TOKEN, Discovery::Endpoint::Token);
AUTH_OIDC_SAME(AUTH_OIDC_EP_USERINFO, Discovery::Endpoint::Userinfo);
AUTH_OIDC_SAME(AUTH_OIDC_EP_JWKS, Discovery::Endpoint::Jwks);
AUTH_OIDC_SAME(AUTH_OIDC_EP_END_SESSION, Discovery::Endpoint::EndSession);
AUTH_OIDC_SAME(AUTH_OIDC_EP_REVOCATION, Discovery::Endpoint::Revocation);
AUTH_OIDC_SAME(AUTH_OIDC_EP_INTROSPECTION, Discovery::Endpoint::Introspection);
AUTH_OIDC_SAME(AUTH_OIDC_EP_COUNT, Discovery::kEndpointCount);

#undef AUTH_OIDC_SAME

// The integer a C caller stored in an enum parameter. C lets any int through;
// in C++ loading an out-of-range enumerator is undefined, so it is copied out
// as its underlying type before being range-checked.
// Takes the parameter's address because passing it on by value is a load.
template <typename E>
std::size_t rawValue(const E *value) noexcept {
    std::underlying_type_t<E> raw;
    std::memcpy(&raw, value, sizeof(raw));
    // A negative value becomes huge, which the range checks reject too.
    return static_cast<std::size_t>(raw);
}

auth_oidc_status_t toC(Status status) noexcept {
    return static_cast<auth_oidc_status_t>(status);
}

// Truncates at a byte boundary; details are ASCII (values are escaped), so
// no multi-byte sequence can be cut in half.
void setError(auth_oidc_error_t *err, std::string_view detail) noexcept {
    if (err == nullptr) {
        return;
    }
    const std::size_t n = std::min(detail.size(), sizeof(err->msg) - 1);
    std::memcpy(err->msg, detail.data(), n);
    err->msg[n] = '\0';
}

auth_oidc_status_t fail(auth_oidc_error_t *err, Status status) noexcept {
    setError(err, auth_oidc::toString(status));
    return toC(status);
}

auth_oidc_status_t fail(auth_oidc_error_t *err,
                        const auth_oidc::Error &error) noexcept {
    setError(err, error.detail);
    return toC(error.status);
}

auth_oidc_status_t invalidArgument(auth_oidc_error_t *err,
                                   const char *what) noexcept {
    // Built without allocation so that it cannot throw.
    char detail[AUTH_OIDC_ERROR_LEN];
    std::string_view prefix = auth_oidc::toString(Status::InvalidArgument);
    std::string_view text = what;
    std::size_t n = 0;
    for (std::string_view part : {prefix, std::string_view(": "), text}) {
        const std::size_t take = std::min(part.size(), sizeof(detail) - n);
        std::memcpy(detail + n, part.data(), take);
        n += take;
    }
    setError(err, std::string_view(detail, n));
    return AUTH_OIDC_EINVAL;
}

std::string_view view(const unsigned char *data, std::size_t len) noexcept {
    if (data == nullptr) {
        return {};
    }
    return std::string_view(reinterpret_cast<const char *>(data), len);
}

auth_oidc_str_t toC(std::string_view text) noexcept {
    return auth_oidc_str_t{reinterpret_cast<const unsigned char *>(text.data()),
                           text.size()};
}

// The describe() buffer contract shared by both handles.
std::size_t copyOut(const auth_oidc::Result<std::string> &text,
                    unsigned char *buf, std::size_t size) noexcept {
    if (!text) {
        return 0;
    }
    const std::string &value = text.value();
    if (buf != nullptr && value.size() <= size) {
        std::memcpy(buf, value.data(), value.size());
    }
    return value.size();
}

}  // namespace

extern "C" {

const char *auth_oidc_status_string(auth_oidc_status_t status) noexcept {
    const std::size_t raw = rawValue(&status);
    if (raw > static_cast<std::size_t>(Status::NoKeys)) {
        return "unknown status";
    }
    return auth_oidc::toString(static_cast<Status>(raw));
}

auth_oidc_status_t auth_oidc_discovery_parse(const unsigned char *doc,
                                             size_t len,
                                             auth_oidc_str_t expected_issuer,
                                             auth_oidc_discovery_t **out,
                                             auth_oidc_error_t *err) noexcept {
    try {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (doc == nullptr && len != 0) {
            return invalidArgument(err, "doc is NULL");
        }
        if (expected_issuer.data == nullptr || expected_issuer.len == 0) {
            return invalidArgument(err, "expected issuer is empty");
        }
        auto parsed = Discovery::parse(
            view(doc, len), view(expected_issuer.data, expected_issuer.len));
        if (!parsed) {
            return fail(err, parsed.error());
        }
        *out = new auth_oidc_discovery_s{std::move(parsed).value()};
        setError(err, "");
        return AUTH_OIDC_OK;
    } catch (const std::bad_alloc &) {
        return fail(err, Status::NoMemory);
    } catch (...) {
        return fail(err, Status::Internal);
    }
}

void auth_oidc_discovery_free(auth_oidc_discovery_t *d) noexcept {
    delete d;
}

auth_oidc_str_t auth_oidc_discovery_endpoint(
    const auth_oidc_discovery_t *d, auth_oidc_endpoint_t which) noexcept {
    const std::size_t raw = rawValue(&which);
    if (d == nullptr || raw >= Discovery::kEndpointCount) {
        return auth_oidc_str_t{nullptr, 0};
    }
    const auto &url = d->impl.endpoint(static_cast<Discovery::Endpoint>(raw));
    if (!url) {
        return auth_oidc_str_t{nullptr, 0};
    }
    return toC(*url);
}

int auth_oidc_discovery_pkce_s256(const auth_oidc_discovery_t *d) noexcept {
    if (d == nullptr) {
        return -1;
    }
    const auto s256 = d->impl.supportsPkceS256();
    if (!s256) {
        return -1;
    }
    return *s256 ? 1 : 0;
}

size_t auth_oidc_discovery_describe(const auth_oidc_discovery_t *d,
                                    unsigned char *buf, size_t size) noexcept {
    try {
        if (d == nullptr) {
            return 0;
        }
        return copyOut(d->impl.describe(), buf, size);
    } catch (...) {
        return 0;
    }
}

auth_oidc_status_t auth_oidc_jwks_parse(const unsigned char *doc, size_t len,
                                        auth_oidc_jwks_t **out,
                                        auth_oidc_error_t *err) noexcept {
    try {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (doc == nullptr && len != 0) {
            return invalidArgument(err, "doc is NULL");
        }
        auto parsed = Jwks::parse(view(doc, len));
        if (!parsed) {
            return fail(err, parsed.error());
        }
        *out = new auth_oidc_jwks_s{std::move(parsed).value()};
        setError(err, "");
        return AUTH_OIDC_OK;
    } catch (const std::bad_alloc &) {
        return fail(err, Status::NoMemory);
    } catch (...) {
        return fail(err, Status::Internal);
    }
}

void auth_oidc_jwks_free(auth_oidc_jwks_t *jwks) noexcept {
    delete jwks;
}

size_t auth_oidc_jwks_count(const auth_oidc_jwks_t *jwks) noexcept {
    return jwks == nullptr ? 0 : jwks->impl.keys().size();
}

size_t auth_oidc_jwks_skipped(const auth_oidc_jwks_t *jwks) noexcept {
    return jwks == nullptr ? 0 : jwks->impl.skipped().size();
}

int auth_oidc_jwks_has_kid(const auth_oidc_jwks_t *jwks,
                           auth_oidc_str_t kid) noexcept {
    if (jwks == nullptr || (kid.data == nullptr && kid.len != 0)) {
        return 0;
    }
    return jwks->impl.hasKid(view(kid.data, kid.len)) ? 1 : 0;
}

size_t auth_oidc_jwks_describe(const auth_oidc_jwks_t *jwks,
                               unsigned char *buf, size_t size) noexcept {
    try {
        if (jwks == nullptr) {
            return 0;
        }
        return copyOut(jwks->impl.describe(), buf, size);
    } catch (...) {
        return 0;
    }
}

}  // extern "C"
