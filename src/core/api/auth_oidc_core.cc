// The only translation unit with C linkage. Every entry point is noexcept and
// converts whatever the C++ side throws (in practice std::bad_alloc) into a
// status, because an exception unwinding into nginx's C frames would abort.

#include "api/auth_oidc_core.h"

#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/base64url.h"
#include "common/result.h"
#include "common/status.h"
#include "flow/authorize.h"
#include "flow/callback.h"
#include "flow/login.h"
#include "flow/backchannel.h"
#include "flow/bearer.h"
#include "flow/frontchannel.h"
#include "flow/logout.h"
#include "flow/refresh.h"
#include "flow/step.h"
#include "flow/step_up.h"
#include "flow/pkce.h"
#include "flow/token.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"
#include "jwt/id_token.h"
#include "provider/discovery.h"
#include "session/claim_path.h"
#include "session/keyring.h"
#include "session/lifetime.h"
#include "session/record.h"

struct auth_oidc_discovery_s {
    auth_oidc::Discovery impl;
};

struct auth_oidc_jwks_s {
    auth_oidc::Jwks impl;
};

struct auth_oidc_token_response_s {
    auth_oidc::TokenResponse impl;
};

struct auth_oidc_claims_s {
    auth_oidc::Claims impl;
};

// Decoded records own a copy of the encoded bytes; the fields point into it.
struct auth_oidc_pending_s {
    std::vector<char> storage;
    auth_oidc_pending_fields_t fields;
};

struct auth_oidc_session_s {
    std::vector<char> storage;
    // the tokens' views filled on first use (see tokensOf())
    mutable auth_oidc_session_fields_t fields;
    std::vector<auth_oidc::ClaimEntry> claims;  // views into storage
    // Record version 4: the tokens as packed in storage until a reader asks
    // for them (a request that reads no token never unpacks them), then
    // their text, which the fields' views point into.
    mutable auth_oidc::SessionFields packedTokens;
    mutable std::shared_ptr<const std::string> tokenText;
    bool hasRefreshToken = false;
    // auth_oidc_claim_set/has: the claims parsed once per session handle
    // (per request), however many variables read them.
    mutable std::optional<auth_oidc::ClaimSources> claimSources;
    // a bearer token's: its claims as JSON (for paths) and scopes; views
    // into storage, empty for a login session
    std::string_view bearerClaims;
    auth_oidc_str_t scope{nullptr, 0};
    // auth_oidc_session_ref(): a worker keeps a decoded session for several
    // requests; not atomic, a handle stays in one thread
    unsigned refs = 1;
};

struct auth_oidc_keyring_s {
    auth_oidc::Keyring impl;
};

struct auth_oidc_client_key_s {
    std::shared_ptr<const auth_oidc::ClientKey> impl;
};

// One flow of any kind: exactly one member is set.
struct auth_oidc_flow_s {
    std::unique_ptr<auth_oidc::LoginFlow> login;
    std::unique_ptr<auth_oidc::CallbackFlow> callback;
    std::unique_ptr<auth_oidc::LogoutFlow> logout;
    std::unique_ptr<auth_oidc::RefreshFlow> refresh;
    std::unique_ptr<auth_oidc::BackchannelFlow> backchannel;
    std::unique_ptr<auth_oidc::FrontchannelFlow> frontchannel;
    std::unique_ptr<auth_oidc::BearerFlow> bearer;

    bool any() const noexcept {
        return login || callback || logout || refresh || backchannel ||
               frontchannel || bearer;
    }

    const auth_oidc::Step &resume(const auth_oidc::StepResult &result) {
        if (login) {
            return login->resume(result);
        }
        if (refresh) {
            return refresh->resume(result);
        }
        if (backchannel) {
            return backchannel->resume(result);
        }
        if (frontchannel) {
            return frontchannel->resume(result);
        }
        if (bearer) {
            return bearer->resume(result);
        }
        return callback ? callback->resume(result) : logout->resume(result);
    }
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
AUTH_OIDC_SAME(AUTH_OIDC_ETOKEN, Status::Token);
AUTH_OIDC_SAME(AUTH_OIDC_EALG, Status::Alg);
AUTH_OIDC_SAME(AUTH_OIDC_EKID, Status::Kid);
AUTH_OIDC_SAME(AUTH_OIDC_ESIGNATURE, Status::Signature);
AUTH_OIDC_SAME(AUTH_OIDC_EEXPIRED, Status::Expired);
AUTH_OIDC_SAME(AUTH_OIDC_ENOTYET, Status::NotYet);
AUTH_OIDC_SAME(AUTH_OIDC_EAUDIENCE, Status::Audience);
AUTH_OIDC_SAME(AUTH_OIDC_EAZP, Status::Azp);
AUTH_OIDC_SAME(AUTH_OIDC_ENONCE, Status::Nonce);
AUTH_OIDC_SAME(AUTH_OIDC_EPROVIDER, Status::Provider);
AUTH_OIDC_SAME(AUTH_OIDC_EDECODE, Status::Decode);
AUTH_OIDC_SAME(AUTH_OIDC_EAUTH, Status::Auth);

AUTH_OIDC_SAME(AUTH_OIDC_EP_AUTHORIZATION, Discovery::Endpoint::Authorization);
AUTH_OIDC_SAME(AUTH_OIDC_EP_TOKEN, Discovery::Endpoint::Token);
AUTH_OIDC_SAME(AUTH_OIDC_EP_USERINFO, Discovery::Endpoint::Userinfo);
AUTH_OIDC_SAME(AUTH_OIDC_EP_JWKS, Discovery::Endpoint::Jwks);
AUTH_OIDC_SAME(AUTH_OIDC_EP_END_SESSION, Discovery::Endpoint::EndSession);
AUTH_OIDC_SAME(AUTH_OIDC_EP_REVOCATION, Discovery::Endpoint::Revocation);
AUTH_OIDC_SAME(AUTH_OIDC_EP_INTROSPECTION, Discovery::Endpoint::Introspection);
AUTH_OIDC_SAME(AUTH_OIDC_EP_COUNT, Discovery::kEndpointCount);

AUTH_OIDC_SAME(AUTH_OIDC_CLIENT_AUTH_AUTO, auth_oidc::ClientAuth::Auto);
AUTH_OIDC_SAME(AUTH_OIDC_CLIENT_AUTH_BASIC, auth_oidc::ClientAuth::Basic);
AUTH_OIDC_SAME(AUTH_OIDC_CLIENT_AUTH_POST, auth_oidc::ClientAuth::Post);
AUTH_OIDC_SAME(AUTH_OIDC_CLIENT_AUTH_NONE, auth_oidc::ClientAuth::None);
AUTH_OIDC_SAME(AUTH_OIDC_CLIENT_AUTH_SECRET_JWT, auth_oidc::ClientAuth::SecretJwt);
AUTH_OIDC_SAME(AUTH_OIDC_CLIENT_AUTH_PRIVATE_KEY_JWT,
               auth_oidc::ClientAuth::PrivateKeyJwt);


static_assert(AUTH_OIDC_BASE64URL_LEN(32) == 43 &&
                  AUTH_OIDC_BASE64URL_LEN(32) ==
                      auth_oidc::base64UrlLength(32) &&
                  AUTH_OIDC_BASE64URL_LEN(1) == 2 &&
                  AUTH_OIDC_BASE64URL_LEN(3) == 4,
              "AUTH_OIDC_BASE64URL_LEN");
static_assert(AUTH_OIDC_PKCE_CHALLENGE_LEN == auth_oidc::kCodeChallengeLength,
              "AUTH_OIDC_PKCE_CHALLENGE_LEN");
static_assert(AUTH_OIDC_SECRET_MIN_LEN == auth_oidc::Keyring::kMinSecretLength,
              "AUTH_OIDC_SECRET_MIN_LEN");
static_assert(AUTH_OIDC_SEAL_NONCE_LEN == auth_oidc::kGcmNonceLength,
              "AUTH_OIDC_SEAL_NONCE_LEN");
static_assert(AUTH_OIDC_SEAL_OVERHEAD == auth_oidc::Keyring::kSealOverhead,
              "AUTH_OIDC_SEAL_OVERHEAD");
static_assert(AUTH_OIDC_SEAL_MAX == auth_oidc::Keyring::kMaxPlaintext,
              "AUTH_OIDC_SEAL_MAX");
static_assert(AUTH_OIDC_LOOKUP_KEY_LEN == auth_oidc::Keyring::kLookupKeyLength,
              "AUTH_OIDC_LOOKUP_KEY_LEN");

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

// Runs body (which returns a status) with the boundary's exception policy.
template <typename Body>
auth_oidc_status_t guarded(auth_oidc_error_t *err, Body &&body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(err, Status::NoMemory);
    } catch (...) {
        return fail(err, Status::Internal);
    }
}

auth_oidc_status_t succeed(auth_oidc_error_t *err) noexcept {
    setError(err, "");
    return AUTH_OIDC_OK;
}

// A view from C: data may be NULL only when len is 0.
bool valid(auth_oidc_str_t s) noexcept {
    return s.data != nullptr || s.len == 0;
}

std::string_view view(auth_oidc_str_t s) noexcept {
    return view(s.data, s.len);
}

// Absent (empty) values as {NULL, 0}, so C callers can test either member.
auth_oidc_str_t toCOrNull(std::string_view text) noexcept {
    return text.empty() ? auth_oidc_str_t{nullptr, 0} : toC(text);
}

// The (buf, size, needed) contract.
auth_oidc_status_t deliver(const std::string &text, unsigned char *buf,
                           std::size_t size, std::size_t *needed,
                           auth_oidc_error_t *err) noexcept {
    *needed = text.size();
    if (buf != nullptr && text.size() <= size) {
        std::memcpy(buf, text.data(), text.size());
    }
    return succeed(err);
}

// The size_t contract.
std::size_t copyView(std::string_view text, unsigned char *buf,
                    std::size_t size) noexcept {
    if (buf != nullptr && text.size() <= size) {
        std::memcpy(buf, text.data(), text.size());
    }
    return text.size();
}

// A flow's client authentication as the core's: the key shared, so that
// the flow keeps it when nginx lets go of its handle (a rotated key file).
auth_oidc::ClientProof proofOf(const auth_oidc_client_proof_t &c) {
    auth_oidc::ClientProof proof;
    if (c.method >= AUTH_OIDC_CLIENT_AUTH_AUTO &&
        c.method <= AUTH_OIDC_CLIENT_AUTH_PRIVATE_KEY_JWT) {
        proof.method = static_cast<auth_oidc::ClientAuth>(c.method);
    }
    if (c.key != nullptr) {
        proof.key = c.key->impl;
    }
    return proof;
}

// True when every view of a record's fields is valid.
bool allValid(std::initializer_list<auth_oidc_str_t> views) noexcept {
    for (const auth_oidc_str_t v : views) {
        if (!valid(v)) {
            return false;
        }
    }
    return true;
}

auth_oidc::Error invalidView() {
    return auth_oidc::makeError(Status::InvalidArgument,
                                "a view has data NULL");
}

// The *_encode functions' contract: needed always set (0 on failure), buf
// filled only when it is large enough; encode checks the fields' views and
// maps them to the core's record.
template <typename Fields, typename Encode>
auth_oidc_status_t encodeRecord(const Fields *fields, unsigned char *buf,
                                std::size_t size, std::size_t *needed,
                                auth_oidc_error_t *err, Encode &&encode) {
    if (needed == nullptr) {
        return invalidArgument(err, "needed is NULL");
    }
    *needed = 0;
    if (fields == nullptr) {
        return invalidArgument(err, "fields is NULL");
    }
    const auto encoded = encode(*fields);
    if (!encoded) {
        return fail(err, encoded.error());
    }
    return deliver(encoded.value(), buf, size, needed, err);
}

// Copies the record, then decodes the copy so that the views stay valid.
template <typename Handle, typename Decode>
auth_oidc_status_t decodeRecord(const unsigned char *data, std::size_t len,
                                Handle **out, auth_oidc_error_t *err,
                                Decode &&decode) {
    if (out == nullptr) {
        return invalidArgument(err, "out is NULL");
    }
    *out = nullptr;
    if (data == nullptr && len != 0) {
        return invalidArgument(err, "data is NULL");
    }
    auto handle = std::make_unique<Handle>();
    if (len != 0) {
        // As chars, so that the copy is one memcpy, not a byte-by-byte
        // conversion from unsigned char (it runs on every request).
        const char *bytes = reinterpret_cast<const char *>(data);
        handle->storage.assign(bytes, bytes + len);
    }
    const auto ok = decode(
        std::string_view(handle->storage.data(), handle->storage.size()),
        *handle);
    if (!ok) {
        return fail(err, ok.error());
    }
    *out = handle.release();
    return succeed(err);
}

}  // namespace

extern "C" {

const char *auth_oidc_status_string(auth_oidc_status_t status) noexcept {
    const std::size_t raw = rawValue(&status);
    if (raw > static_cast<std::size_t>(auth_oidc::kLastStatus)) {
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

size_t auth_oidc_base64url_encode(const unsigned char *in, size_t len,
                                  unsigned char *out, size_t size) noexcept {
    if ((in == nullptr && len != 0) || len > auth_oidc::kMaxBase64UrlInput) {
        return 0;
    }
    const std::size_t needed = auth_oidc::base64UrlLength(len);
    if (out != nullptr && needed <= size) {
        auth_oidc::encodeBase64UrlTo(in, len, reinterpret_cast<char *>(out));
    }
    return needed;
}

size_t auth_oidc_pkce_s256(auth_oidc_str_t verifier, unsigned char *out,
                           size_t size) noexcept {
    try {
        if (!valid(verifier)) {
            return 0;
        }
        const auto challenge = auth_oidc::pkceS256(view(verifier));
        return challenge ? copyView(*challenge, out, size) : 0;
    } catch (...) {
        return 0;
    }
}

auth_oidc_status_t auth_oidc_scope_check(auth_oidc_str_t scope,
                                         auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!valid(scope)) {
            return invalidArgument(err, "scope is NULL");
        }
        const auto normalized = auth_oidc::normalizeScope(view(scope));
        return normalized ? succeed(err) : fail(err, normalized.error());
    });
}

auth_oidc_status_t auth_oidc_extra_args_check(auth_oidc_str_t args,
                                              auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!valid(args)) {
            return invalidArgument(err, "args is NULL");
        }
        if (const char *problem = auth_oidc::extraArgsProblem(view(args))) {
            return fail(err, auth_oidc::makeError(
                                 Status::InvalidArgument,
                                 std::string("extra_auth_args ") + problem));
        }
        return succeed(err);
    });
}

auth_oidc_status_t auth_oidc_algorithms_check(auth_oidc_str_t list,
                                              auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!valid(list)) {
            return invalidArgument(err, "list is NULL");
        }
        const auto algs = auth_oidc::parseAlgList(view(list));
        return algs ? succeed(err) : fail(err, algs.error());
    });
}

auth_oidc_status_t auth_oidc_token_response_parse(
    const unsigned char *doc, size_t len, int id_token_required,
    auth_oidc_token_response_t **out, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (doc == nullptr && len != 0) {
            return invalidArgument(err, "doc is NULL");
        }
        auto parsed = auth_oidc::TokenResponse::parse(view(doc, len),
                                                      id_token_required != 0);
        if (!parsed) {
            return fail(err, parsed.error());
        }
        *out = new auth_oidc_token_response_s{std::move(parsed).value()};
        return succeed(err);
    });
}

void auth_oidc_token_response_free(auth_oidc_token_response_t *r) noexcept {
    delete r;
}

auth_oidc_str_t auth_oidc_token_response_id_token(
    const auth_oidc_token_response_t *r) noexcept {
    return r == nullptr ? auth_oidc_str_t{nullptr, 0}
                        : toCOrNull(r->impl.idToken());
}

int64_t auth_oidc_token_response_expires_in(
    const auth_oidc_token_response_t *r) noexcept {
    if (r == nullptr || !r->impl.expiresIn()) {
        return -1;
    }
    return *r->impl.expiresIn();
}

auth_oidc_status_t auth_oidc_id_token_validate(
    auth_oidc_str_t token, const auth_oidc_jwks_t *jwks,
    const auth_oidc_id_token_expect_t *expect, auth_oidc_claims_t **out,
    auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (expect == nullptr) {
            return invalidArgument(err, "expect is NULL");
        }
        const auth_oidc_id_token_expect_t &e = *expect;
        if (!allValid({token, e.issuer, e.client_id, e.nonce, e.algorithms,
                       e.client_secret})) {
            return invalidArgument(err, "a view has data NULL");
        }
        auto algs = auth_oidc::parseAlgList(view(e.algorithms));
        if (!algs) {
            return fail(err, algs.error());
        }
        auth_oidc::IdTokenExpectations expectations;
        expectations.issuer = view(e.issuer);
        expectations.clientId = view(e.client_id);
        expectations.nonce = view(e.nonce);
        expectations.clientSecret = view(e.client_secret);
        expectations.now = e.now;
        expectations.leeway = e.leeway;
        expectations.maxIatAge = e.max_iat_age;
        expectations.algs = algs.value();
        auto claims = auth_oidc::validateIdToken(
            view(token), jwks == nullptr ? nullptr : &jwks->impl, expectations);
        if (!claims) {
            return fail(err, claims.error());
        }
        *out = new auth_oidc_claims_s{std::move(claims).value()};
        return succeed(err);
    });
}

auth_oidc_status_t auth_oidc_claims_parse(const unsigned char *doc, size_t len,
                                          auth_oidc_claims_t **out,
                                          auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (doc == nullptr && len != 0) {
            return invalidArgument(err, "doc is NULL");
        }
        auto claims = auth_oidc::Claims::parse(view(doc, len));
        if (!claims) {
            return fail(err, claims.error());
        }
        *out = new auth_oidc_claims_s{std::move(claims).value()};
        return succeed(err);
    });
}

void auth_oidc_claims_free(auth_oidc_claims_t *c) noexcept {
    delete c;
}

int64_t auth_oidc_claims_exp(const auth_oidc_claims_t *c) noexcept {
    return c == nullptr ? 0 : c->impl.numericDate("exp").value_or(0);
}

size_t auth_oidc_claims_get(const auth_oidc_claims_t *c, auth_oidc_str_t name,
                            unsigned char *buf, size_t size) noexcept {
    try {
        if (c == nullptr || !valid(name)) {
            return AUTH_OIDC_CLAIM_ABSENT;
        }
        const auto text = c->impl.render(view(name));
        if (!text || !text.value()) {
            return AUTH_OIDC_CLAIM_ABSENT;
        }
        return copyView(*text.value(), buf, size);
    } catch (...) {
        return AUTH_OIDC_CLAIM_ABSENT;
    }
}

size_t auth_oidc_safe_return_path(auth_oidc_str_t uri, unsigned char *out,
                                  size_t size) noexcept {
    const std::string_view path =
        auth_oidc::safeReturnPath(valid(uri) ? view(uri) : std::string_view());
    return copyView(path, out, size);
}

size_t auth_oidc_return_target(auth_oidc_str_t uri, auth_oidc_str_t origin,
                               int absolute, auth_oidc_str_t return_hosts,
                               unsigned char *out, size_t size) noexcept {
    if (!valid(uri) || !valid(origin) || !valid(return_hosts)) {
        return 0;
    }
    try {
        return copyView(auth_oidc::returnTarget(view(uri), view(origin),
                                                absolute != 0,
                                                view(return_hosts)),
                        out, size);
    } catch (...) {
        return 0;
    }
}

auth_oidc_status_t auth_oidc_pending_encode(
    const auth_oidc_pending_fields_t *fields, unsigned char *buf, size_t size,
    size_t *needed, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        return encodeRecord(
            fields, buf, size, needed, err,
            [](const auth_oidc_pending_fields_t &f)
                -> auth_oidc::Result<std::string> {
                if (!allValid({f.nonce, f.code_verifier, f.return_path,
                               f.provider, f.acr_values})) {
                    return invalidView();
                }
                auth_oidc::PendingLoginFields record;
                record.nonce = view(f.nonce);
                record.codeVerifier = view(f.code_verifier);
                record.returnPath = view(f.return_path);
                record.provider = view(f.provider);
                record.created = f.created;
                record.expires = f.expires;
                record.acrValues = view(f.acr_values);
                record.maxAge = f.max_age;
                return auth_oidc::encodePendingLogin(record);
            });
    });
}

auth_oidc_status_t auth_oidc_pending_decode(const unsigned char *data,
                                            size_t len,
                                            auth_oidc_pending_t **out,
                                            auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        return decodeRecord(
            data, len, out, err,
            [](std::string_view bytes, auth_oidc_pending_t &handle)
                -> auth_oidc::Result<bool> {
                auth_oidc_pending_fields_t &f = handle.fields;
                auto decoded = auth_oidc::decodePendingLogin(bytes);
                if (!decoded) {
                    return std::move(decoded).error();
                }
                const auth_oidc::PendingLoginFields &r = decoded.value();
                f.nonce = toCOrNull(r.nonce);
                f.code_verifier = toCOrNull(r.codeVerifier);
                f.return_path = toCOrNull(r.returnPath);
                f.provider = toCOrNull(r.provider);
                f.created = r.created;
                f.expires = r.expires;
                f.acr_values = toCOrNull(r.acrValues);
                f.max_age = r.maxAge;
                return true;
            });
    });
}

void auth_oidc_pending_free(auth_oidc_pending_t *p) noexcept {
    delete p;
}

const auth_oidc_pending_fields_t *auth_oidc_pending_fields(
    const auth_oidc_pending_t *p) noexcept {
    return p == nullptr ? nullptr : &p->fields;
}

auth_oidc_status_t auth_oidc_session_encode(
    const auth_oidc_session_fields_t *fields, unsigned char *buf, size_t size,
    size_t *needed, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        return encodeRecord(
            fields, buf, size, needed, err,
            [](const auth_oidc_session_fields_t &f)
                -> auth_oidc::Result<std::string> {
                if (!allValid({f.sub, f.sid, f.id_token, f.access_token,
                               f.refresh_token, f.claims, f.userinfo,
                               f.claim_table})) {
                    return invalidView();
                }
                auth_oidc::SessionFields record;
                record.sub = view(f.sub);
                record.sid = view(f.sid);
                record.idToken = view(f.id_token);
                record.accessToken = view(f.access_token);
                record.refreshToken = view(f.refresh_token);
                record.claims = view(f.claims);
                record.claimTable = view(f.claim_table);
                record.userinfo = view(f.userinfo);
                record.created = f.created;
                record.expires = f.expires;
                record.accessTokenExpires = f.access_token_expires;
                record.refreshed = f.refreshed;
                record.idTokenExpires = f.id_token_expires;
                return auth_oidc::encodeSession(record);
            });
    });
}

auth_oidc_status_t auth_oidc_session_decode(const unsigned char *data,
                                            size_t len,
                                            auth_oidc_session_t **out,
                                            auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        return decodeRecord(
            data, len, out, err,
            [](std::string_view bytes, auth_oidc_session_t &handle)
                -> auth_oidc::Result<bool> {
                auth_oidc_session_fields_t &f = handle.fields;
                auto decoded = auth_oidc::decodeSession(bytes, false);
                if (!decoded) {
                    return std::move(decoded).error();
                }
                auth_oidc::SessionFields &r = decoded.value();
                f.sub = toCOrNull(r.sub);
                f.sid = toCOrNull(r.sid);
                handle.hasRefreshToken = !r.refreshToken.empty();
                if (r.tokensPacked) {
                    handle.packedTokens.idToken = r.idToken;
                    handle.packedTokens.accessToken = r.accessToken;
                    handle.packedTokens.refreshToken = r.refreshToken;
                    handle.packedTokens.tokensPacked = true;
                } else {
                    f.id_token = toCOrNull(r.idToken);
                    f.access_token = toCOrNull(r.accessToken);
                    f.refresh_token = toCOrNull(r.refreshToken);
                }
                f.claims = auth_oidc_str_t{nullptr, 0};
                f.userinfo = toCOrNull(r.userinfo);
                f.created = r.created;
                f.expires = r.expires;
                f.access_token_expires = r.accessTokenExpires;
                f.refreshed = r.refreshed;
                f.id_token_expires = r.idTokenExpires;
                f.claim_table = toCOrNull(r.claimTable);
                handle.claims = std::move(r.claimIndex);
                return true;
            });
    });
}

auth_oidc_session_t *auth_oidc_session_ref(auth_oidc_session_t *s) noexcept {
    if (s != nullptr) {
        ++s->refs;
    }
    return s;
}

void auth_oidc_session_free(auth_oidc_session_t *s) noexcept {
    if (s != nullptr && --s->refs == 0) {
        delete s;
    }
}

namespace {

// The session's fields with its tokens' text, unpacked on first use. The
// packed forms were checked at decode: unpacking cannot fail but for
// memory, and then the tokens read as absent.
const auth_oidc_session_fields_t *tokensOf(const auth_oidc_session_t &s) {
    if (s.packedTokens.tokensPacked) {
        try {
            auth_oidc::SessionFields &t = s.packedTokens;
            if (auth_oidc::unpackSessionTokens(t)) {
                s.fields.id_token = toCOrNull(t.idToken);
                s.fields.access_token = toCOrNull(t.accessToken);
                s.fields.refresh_token = toCOrNull(t.refreshToken);
                s.tokenText = std::move(t.tokenText);
            }
        } catch (...) {
            // std::bad_alloc: left without tokens
        }
        s.packedTokens.tokensPacked = false;
    }
    return &s.fields;
}

}  // namespace

const auth_oidc_session_fields_t *auth_oidc_session_fields(
    const auth_oidc_session_t *s) noexcept {
    return s == nullptr ? nullptr : tokensOf(*s);
}

auth_oidc_str_t auth_oidc_always_kept_claims(void) noexcept {
    return auth_oidc_str_t{
        reinterpret_cast<const unsigned char *>(
            auth_oidc::kAlwaysKeptClaims.data()),
        auth_oidc::kAlwaysKeptClaims.size()};
}

int64_t auth_oidc_session_expires(const auth_oidc_session_t *s) noexcept {
    return s == nullptr ? 0 : s->fields.expires;
}

void auth_oidc_session_identity(const auth_oidc_session_t *s,
                                auth_oidc_str_t *sub, auth_oidc_str_t *sid,
                                int64_t *created) noexcept {
    const auth_oidc_str_t none{nullptr, 0};
    if (sub != nullptr) {
        *sub = s == nullptr ? none : s->fields.sub;
    }
    if (sid != nullptr) {
        *sid = s == nullptr ? none : s->fields.sid;
    }
    if (created != nullptr) {
        *created = s == nullptr ? 0 : s->fields.created;
    }
}

size_t auth_oidc_session_index_key(auth_oidc_str_t provider,
                                   auth_oidc_str_t kind, auth_oidc_str_t value,
                                   unsigned char *out, size_t size) noexcept {
    if (!valid(provider) || !valid(kind) || !valid(value)) {
        return 0;
    }
    try {
        return copyView(auth_oidc::sessionIndexKey(view(provider), view(kind),
                                                   view(value)),
                        out, size);
    } catch (...) {
        return 0;
    }
}

int auth_oidc_session_claim(const auth_oidc_session_t *s,
                            auth_oidc_str_t name,
                            auth_oidc_str_t *value) noexcept {
    if (value == nullptr) {
        return 0;
    }
    *value = auth_oidc_str_t{nullptr, 0};
    if (s == nullptr || !valid(name)) {
        return 0;
    }
    const auto found = auth_oidc::findClaimForVariable(s->claims, view(name));
    if (!found) {
        return 0;
    }
    *value = toCOrNull(*found);
    return 1;
}

int auth_oidc_session_step_up_met(const auth_oidc_session_t *s,
                                  auth_oidc_str_t acr_values, int64_t max_age,
                                  int64_t now, int64_t leeway) noexcept {
    if (s == nullptr || !valid(acr_values)) {
        return 0;
    }
    try {
        const auto acr = auth_oidc::findClaimForVariable(s->claims, "acr");
        const auto authTime =
            auth_oidc::findClaimForVariable(s->claims, "auth_time");
        const auto unmet = auth_oidc::stepUpUnmet(
            acr ? std::optional<std::string_view>(*acr) : std::nullopt,
            authTime ? auth_oidc::parseAuthTime(*authTime) : std::nullopt,
            auth_oidc::StepUp{view(acr_values), max_age}, now, leeway);
        return unmet ? 0 : 1;
    } catch (...) {
        return 0;
    }
}

auth_oidc_status_t auth_oidc_client_key_new(auth_oidc_str_t pem,
                                            auth_oidc_str_t key_id,
                                            auth_oidc_client_key_t **out,
                                            auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (!valid(pem) || !valid(key_id)) {
            return invalidArgument(err, "a view has data NULL");
        }
        auto key = auth_oidc::ClientKey::fromPem(view(pem), view(key_id));
        if (!key) {
            return fail(err, key.error());
        }
        *out = new auth_oidc_client_key_s{std::move(key).value()};
        return AUTH_OIDC_OK;
    });
}

auth_oidc_str_t auth_oidc_client_key_alg(
    const auth_oidc_client_key_t *key) noexcept {
    if (key == nullptr) {
        return auth_oidc_str_t{nullptr, 0};
    }
    const std::string_view alg = key->impl->alg();
    return auth_oidc_str_t{reinterpret_cast<const unsigned char *>(alg.data()),
                           alg.size()};
}

void auth_oidc_client_key_free(auth_oidc_client_key_t *key) noexcept {
    delete key;
}

auth_oidc_status_t auth_oidc_keyring_new(auth_oidc_str_t current_secret,
                                         auth_oidc_str_t previous_secret,
                                         auth_oidc_keyring_t **out,
                                         auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (!valid(current_secret) || !valid(previous_secret)) {
            return invalidArgument(err, "a view has data NULL");
        }
        auto keyring = auth_oidc::Keyring::create(view(current_secret),
                                                  view(previous_secret));
        if (!keyring) {
            return fail(err, keyring.error());
        }
        *out = new auth_oidc_keyring_s{std::move(keyring).value()};
        return succeed(err);
    });
}

void auth_oidc_keyring_free(auth_oidc_keyring_t *kr) noexcept {
    delete kr;
}

int auth_oidc_keyring_rotated(const auth_oidc_keyring_t *kr) noexcept {
    return kr != nullptr && kr->impl.rotated() ? 1 : 0;
}

size_t auth_oidc_keyring_lookup_key(const auth_oidc_keyring_t *kr,
                                    auth_oidc_str_t kind, auth_oidc_str_t id,
                                    int previous, unsigned char *out,
                                    size_t size) noexcept {
    if (kr == nullptr || !valid(kind) || !valid(id) ||
        (previous != 0 && previous != 1)) {
        return 0;
    }
    char key[auth_oidc::Keyring::kLookupKeyLength];
    if (!kr->impl.lookupKey(view(kind), view(id), previous == 1, key)) {
        return 0;
    }
    return copyView(std::string_view(key, sizeof(key)), out, size);
}

auth_oidc_status_t auth_oidc_seal(const auth_oidc_keyring_t *kr,
                                  auth_oidc_str_t aad,
                                  auth_oidc_str_t plaintext,
                                  const unsigned char *nonce,
                                  unsigned char *buf, size_t size,
                                  size_t *needed,
                                  auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (needed == nullptr) {
            return invalidArgument(err, "needed is NULL");
        }
        *needed = 0;
        if (kr == nullptr) {
            return invalidArgument(err, "keyring is NULL");
        }
        if (nonce == nullptr) {
            return invalidArgument(err, "nonce is NULL");
        }
        if (!valid(aad) || !valid(plaintext)) {
            return invalidArgument(err, "a view has data NULL");
        }
        const auto length =
            auth_oidc::Keyring::sealedLength(view(aad), view(plaintext));
        if (!length) {
            return fail(err, length.error());
        }
        // Nothing would be written: no need to encrypt.
        if (buf == nullptr || length.value() > size) {
            *needed = length.value();
            return succeed(err);
        }
        const auto sealed = kr->impl.seal(view(aad), view(plaintext), nonce);
        if (!sealed) {
            return fail(err, sealed.error());
        }
        return deliver(sealed.value(), buf, size, needed, err);
    });
}

auth_oidc_status_t auth_oidc_open(const auth_oidc_keyring_t *kr,
                                  auth_oidc_str_t aad, auth_oidc_str_t sealed,
                                  unsigned char *buf, size_t size,
                                  size_t *needed,
                                  auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (needed == nullptr) {
            return invalidArgument(err, "needed is NULL");
        }
        *needed = 0;
        if (kr == nullptr) {
            return invalidArgument(err, "keyring is NULL");
        }
        if (!valid(aad) || !valid(sealed)) {
            return invalidArgument(err, "a view has data NULL");
        }
        // Authenticates on every call; the plaintext is wiped on return.
        const auto opened = kr->impl.open(view(aad), view(sealed));
        if (!opened) {
            return fail(err, opened.error());
        }
        const auth_oidc::SecretBytes &plaintext = opened.value();
        *needed = plaintext.size();
        if (buf != nullptr && plaintext.size() <= size &&
            !plaintext.empty()) {
            std::memcpy(buf, plaintext.data(), plaintext.size());
        }
        return succeed(err);
    });
}

}  // extern "C"


// ---------------------------------------------------------------- flows

namespace {

#define AUTH_OIDC_SAME(c, cxx) \
    static_assert(static_cast<int>(c) == static_cast<int>(cxx), #c)

AUTH_OIDC_SAME(AUTH_OIDC_STEP_FETCH, auth_oidc::StepKind::Fetch);
AUTH_OIDC_SAME(AUTH_OIDC_STEP_STORE, auth_oidc::StepKind::Store);
AUTH_OIDC_SAME(AUTH_OIDC_STEP_METADATA, auth_oidc::StepKind::Metadata);
AUTH_OIDC_SAME(AUTH_OIDC_STEP_REPLY, auth_oidc::StepKind::Reply);
AUTH_OIDC_SAME(AUTH_OIDC_STORE_GET, auth_oidc::StoreOp::Get);
AUTH_OIDC_SAME(AUTH_OIDC_STORE_TAKE, auth_oidc::StoreOp::Take);
AUTH_OIDC_SAME(AUTH_OIDC_STORE_PUT, auth_oidc::StoreOp::Put);
AUTH_OIDC_SAME(AUTH_OIDC_STORE_ADD, auth_oidc::StoreOp::Add);
AUTH_OIDC_SAME(AUTH_OIDC_STORE_DELETE, auth_oidc::StoreOp::Delete);
AUTH_OIDC_SAME(AUTH_OIDC_RECORD_USED_STATE, auth_oidc::RecordKind::UsedState);
AUTH_OIDC_SAME(AUTH_OIDC_RECORD_SESSION, auth_oidc::RecordKind::Session);
AUTH_OIDC_SAME(AUTH_OIDC_RECORD_BEARER_TOKEN,
               auth_oidc::RecordKind::BearerToken);
AUTH_OIDC_SAME(AUTH_OIDC_BEARER_INTROSPECTION,
               auth_oidc::BearerValidation::Introspection);
AUTH_OIDC_SAME(AUTH_OIDC_LOG_NONE, auth_oidc::LogLevel::None);
AUTH_OIDC_SAME(AUTH_OIDC_LOG_ERR, auth_oidc::LogLevel::Error);
AUTH_OIDC_SAME(AUTH_OIDC_LOG_WARN, auth_oidc::LogLevel::Warn);
AUTH_OIDC_SAME(AUTH_OIDC_LOG_INFO, auth_oidc::LogLevel::Info);
AUTH_OIDC_SAME(AUTH_OIDC_FETCH_TIMEDOUT, auth_oidc::StepResult::Transport::TimedOut);
AUTH_OIDC_SAME(AUTH_OIDC_STORE_FAILED, auth_oidc::StepResult::Store::Failed);

#undef AUTH_OIDC_SAME

std::optional<std::string_view> optionalView(auth_oidc_str_t s) noexcept {
    if (s.len == 0) {
        return std::nullopt;
    }
    return view(s);
}

// Views into the flow's current step, for C.
void exportStep(const auth_oidc::Step &in, auth_oidc_step_t *out) noexcept {
    *out = auth_oidc_step_t{};
    out->kind = static_cast<auth_oidc_step_kind_t>(in.kind);
    out->endpoint = static_cast<auth_oidc_endpoint_t>(in.endpoint);
    out->method = toC(in.method);
    out->headers = toC(in.headers);
    out->body = toC(in.body);
    out->timeout_ms = in.timeoutMs;
    out->op = static_cast<auth_oidc_store_op_t>(in.op);
    out->record = static_cast<int>(in.record);
    out->key = toC(in.key);
    out->value = toC(in.value);
    out->expires = in.expires;
    out->refetch_keys = in.refetchKeys ? 1 : 0;
    out->metadata_optional = in.metadataOptional ? 1 : 0;
    out->status = in.status;
    out->location = toC(in.location);
    out->session_id = toC(in.sessionId);
    out->clear_session = in.clearSession ? 1 : 0;
    out->login_state = toC(in.loginState);
    out->login_cookie = toC(in.loginCookie);
    out->title = toC(in.title);
    out->detail = toC(in.detail);
    out->log_level = static_cast<auth_oidc_log_level_t>(in.logLevel);
    out->log = toC(in.log);
    out->reason = in.reason;
    out->wait_ms = in.waitMs;
    out->outcome = static_cast<auth_oidc_outcome_t>(in.outcome);
}

// The shared ending of every flow's constructor: the handle owns the flow
// (in the member that says its kind) and the caller gets its first step.
template <typename Flow>
auth_oidc_status_t startFlow(std::unique_ptr<Flow> made,
                             std::unique_ptr<Flow> auth_oidc_flow_s::*kind,
                             auth_oidc_flow_t **out, auth_oidc_step_t *first,
                             auth_oidc_error_t *err) {
    auto flow = std::make_unique<auth_oidc_flow_s>();
    Flow &started = *made;
    (*flow).*kind = std::move(made);
    exportStep(started.start(), first);
    *out = flow.release();
    return succeed(err);
}

// The same for a flow whose creation may fail.
template <typename Flow>
auth_oidc_status_t startFlow(auth_oidc::Result<std::unique_ptr<Flow>> made,
                             std::unique_ptr<Flow> auth_oidc_flow_s::*kind,
                             auth_oidc_flow_t **out, auth_oidc_step_t *first,
                             auth_oidc_error_t *err) {
    if (!made) {
        return fail(err, made.error());
    }
    return startFlow(std::move(made).value(), kind, out, first, err);
}

// out and first are where every constructor answers.
bool flowOutputs(auth_oidc_flow_t **out, auth_oidc_step_t *first) noexcept {
    if (out == nullptr || first == nullptr) {
        return false;
    }
    *out = nullptr;
    return true;
}

}  // namespace

auth_oidc_status_t auth_oidc_callback_flow(
    const auth_oidc_callback_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr || params->pending == nullptr) {
            return invalidArgument(err, "params or pending is NULL");
        }
        const auth_oidc_callback_params_t &p = *params;
        if (!allValid({p.provider, p.issuer, p.client_id, p.client_secret,
                       p.redirect_uri, p.algorithms, p.state, p.code, p.error,
                       p.error_description, p.iss, p.session_id,
                       p.keep_claims})) {
            return invalidArgument(err, "a view has data NULL");
        }
        const auth_oidc_pending_fields_t &f = p.pending->fields;
        auth_oidc::CallbackConfig config;
        config.provider = view(p.provider);
        config.issuer = view(p.issuer);
        config.clientId = view(p.client_id);
        config.clientSecret = view(p.client_secret);
        config.client = proofOf(p.client);
        config.redirectUri = view(p.redirect_uri);
        config.algorithms = view(p.algorithms);
        config.leeway = p.leeway;
        config.sessionTimeout = p.session_timeout;
        config.idleTimeout = p.idle_timeout;
        config.userinfo = p.userinfo != 0;
        config.indexSessions = p.index_sessions != 0;
        config.keepIdToken = !(p.drop_tokens & AUTH_OIDC_DROP_ID_TOKEN);
        config.keepAccessToken =
            !(p.drop_tokens & AUTH_OIDC_DROP_ACCESS_TOKEN);
        config.revokeAccessToken =
            (p.drop_tokens & AUTH_OIDC_REVOKE_ACCESS_TOKEN) != 0;
        config.claims.all = !(p.drop_tokens & AUTH_OIDC_DROP_CLAIMS);
        config.claims.names = view(p.keep_claims);
        auth_oidc::CallbackRequest request;
        request.state = view(p.state);
        request.code = optionalView(p.code);
        request.error = optionalView(p.error);
        request.errorDescription = optionalView(p.error_description);
        request.iss = optionalView(p.iss);
        request.pending.nonce = view(f.nonce);
        request.pending.codeVerifier = view(f.code_verifier);
        request.pending.returnPath = view(f.return_path);
        request.pending.provider = view(f.provider);
        request.pending.created = f.created;
        request.pending.expires = f.expires;
        request.pending.acrValues = view(f.acr_values);
        request.pending.maxAge = f.max_age;
        request.sessionId = view(p.session_id);
        request.now = p.now;
        return startFlow(auth_oidc::CallbackFlow::create(config, request),
                         &auth_oidc_flow_s::callback, out, first, err);
    });
}

auth_oidc_status_t auth_oidc_login_flow(const auth_oidc_login_params_t *params,
                                        auth_oidc_flow_t **out,
                                        auth_oidc_step_t *first,
                                        auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr) {
            return invalidArgument(err, "params is NULL");
        }
        const auth_oidc_login_params_t &p = *params;
        if (!allValid({p.provider, p.client_id, p.redirect_uri, p.scope,
                       p.extra_args, p.uri, p.state, p.nonce, p.verifier,
                       p.seal_nonce, p.return_hosts, p.origin,
                       p.location_args, p.acr_values})) {
            return invalidArgument(err, "a view has data NULL");
        }
        auth_oidc::LoginConfig config;
        config.provider = view(p.provider);
        config.clientId = view(p.client_id);
        config.redirectUri = view(p.redirect_uri);
        config.scope = view(p.scope);
        config.extraArgs = view(p.extra_args);
        config.pkce = p.pkce;
        config.loginTimeout = p.login_timeout;
        config.probeStore = p.probe_store != 0;
        config.keyring = p.keyring == nullptr ? nullptr : &p.keyring->impl;
        config.returnHosts = view(p.return_hosts);
        auth_oidc::LoginRequest request;
        request.origin = view(p.origin);
        request.absoluteReturn = p.absolute_return != 0;
        request.extraArgs = view(p.location_args);
        request.acrValues = view(p.acr_values);
        request.maxAge = p.max_age;
        request.discovery = p.discovery == nullptr ? nullptr : &p.discovery->impl;
        request.uri = view(p.uri);
        request.state = view(p.state);
        request.nonce = view(p.nonce);
        request.verifier = view(p.verifier);
        request.sealNonce = view(p.seal_nonce);
        request.now = p.now;
        return startFlow(auth_oidc::LoginFlow::create(config, request),
                         &auth_oidc_flow_s::login, out, first, err);
    });
}

auth_oidc_status_t auth_oidc_started_login_open(const auth_oidc_keyring_t *kr,
                                                auth_oidc_str_t provider,
                                                auth_oidc_str_t state,
                                                auth_oidc_str_t cookie,
                                                auth_oidc_pending_t **out,
                                                auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (out == nullptr) {
            return invalidArgument(err, "out is NULL");
        }
        *out = nullptr;
        if (kr == nullptr || !allValid({provider, state, cookie})) {
            return invalidArgument(err, "keyring NULL or a view has data NULL");
        }
        auto record = auth_oidc::openStartedLogin(kr->impl, view(provider),
                                                  view(state), view(cookie));
        if (!record) {
            return fail(err, record.error());
        }
        const std::string &bytes = record.value();
        return auth_oidc_pending_decode(
            reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(),
            out, err);
    });
}

auth_oidc_status_t auth_oidc_logout_flow(const auth_oidc_logout_params_t *params,
                                         auth_oidc_flow_t **out,
                                         auth_oidc_step_t *first,
                                         auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr) {
            return invalidArgument(err, "params is NULL");
        }
        const auth_oidc_logout_params_t &p = *params;
        if (!allValid({p.provider, p.client_id, p.post_logout_uri, p.session_id,
                       p.client_secret})) {
            return invalidArgument(err, "a view has data NULL");
        }
        auth_oidc::LogoutConfig config;
        config.provider = view(p.provider);
        config.clientId = view(p.client_id);
        config.postLogoutUri = view(p.post_logout_uri);
        config.idTokenHint = p.id_token_hint != 0;
        config.revokeTokens = p.revoke_tokens != 0;
        config.clientSecret = view(p.client_secret);
        config.client = proofOf(p.client);
        config.client.now = p.now;
        config.revokeTimeoutMs = p.revoke_timeout_ms;
        return startFlow(
            auth_oidc::LogoutFlow::create(config, optionalView(p.session_id)),
            &auth_oidc_flow_s::logout, out, first, err);
    });
}

namespace {

// The session's claims for paths, parsed on first use; nullptr when they
// cannot be read.
const auth_oidc::ClaimSources *claimSourcesOf(const auth_oidc_session_t &s) {
    if (!s.claimSources) {
        auto parsed =
            s.bearerClaims.empty()
                ? auth_oidc::parseClaimSources(view(tokensOf(s)->id_token),
                                               view(s.fields.userinfo))
                : auth_oidc::parseBearerClaimSources(s.bearerClaims);
        if (!parsed) {
            return nullptr;
        }
        s.claimSources.emplace(std::move(parsed).value());
    }
    return &*s.claimSources;
}

// The views of a path from C; false when one has data NULL.
bool pathOf(const auth_oidc_str_t *path, size_t n,
            std::vector<std::string_view> &out) {
    if (path == nullptr || n == 0) {
        return false;
    }
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (!valid(path[i])) {
            return false;
        }
        out.push_back(view(path[i]));
    }
    return true;
}

}  // namespace

int auth_oidc_session_claim_path(const auth_oidc_session_t *s,
                                 const auth_oidc_str_t *path, size_t n,
                                 unsigned char *buf, size_t size,
                                 size_t *needed) noexcept {
    try {
        std::vector<std::string_view> names;
        if (s == nullptr || needed == nullptr || !pathOf(path, n, names)) {
            return -1;
        }
        *needed = 0;
        const auth_oidc::ClaimSources *sources = claimSourcesOf(*s);
        if (sources == nullptr) {
            return -1;
        }
        auto value = auth_oidc::claimAtPath(*sources, names);
        if (!value) {
            return -1;
        }
        if (!value.value()) {
            return 0;
        }
        const std::string &text = *value.value();
        *needed = text.size();
        if (buf != nullptr && text.size() <= size) {
            std::memcpy(buf, text.data(), text.size());
        }
        return 1;
    } catch (...) {
        return -1;
    }
}

int auth_oidc_session_claim_has(const auth_oidc_session_t *s,
                                const auth_oidc_str_t *path, size_t n,
                                auth_oidc_str_t value) noexcept {
    try {
        std::vector<std::string_view> names;
        if (s == nullptr || !pathOf(path, n, names) || !valid(value)) {
            return 0;
        }
        const auth_oidc::ClaimSources *sources = claimSourcesOf(*s);
        return sources != nullptr &&
                       auth_oidc::claimHas(*sources, names, view(value))
                   ? 1
                   : 0;
    } catch (...) {
        return 0;
    }
}

auth_oidc_tokens_t auth_oidc_session_tokens(const auth_oidc_session_t *s,
                                            int64_t now,
                                            int64_t margin) noexcept {
    if (s == nullptr) {
        return AUTH_OIDC_TOKENS_VALID;
    }
    const auth_oidc_session_fields_t &f = s->fields;
    return static_cast<auth_oidc_tokens_t>(auth_oidc::tokenState(
        s->hasRefreshToken, f.access_token_expires, f.id_token_expires,
        f.refreshed, now, margin));
}

auth_oidc_status_t auth_oidc_refresh_flow(
    const auth_oidc_refresh_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr || params->session == nullptr) {
            return invalidArgument(err, "params or session is NULL");
        }
        const auth_oidc_refresh_params_t &p = *params;
        if (!allValid({p.provider, p.issuer, p.client_id, p.client_secret,
                       p.algorithms, p.session_id, p.keep_claims})) {
            return invalidArgument(err, "a view has data NULL");
        }
        auth_oidc::RefreshConfig config;
        config.provider = view(p.provider);
        config.issuer = view(p.issuer);
        config.clientId = view(p.client_id);
        config.clientSecret = view(p.client_secret);
        config.client = proofOf(p.client);
        config.algorithms = view(p.algorithms);
        config.leeway = p.leeway;
        config.sessionTimeout = p.session_timeout;
        config.idleTimeout = p.idle_timeout;
        config.margin = p.margin;
        config.userinfo = p.userinfo != 0;
        config.indexSessions = p.index_sessions != 0;
        config.keepIdToken = !(p.drop_tokens & AUTH_OIDC_DROP_ID_TOKEN);
        config.keepAccessToken =
            !(p.drop_tokens & AUTH_OIDC_DROP_ACCESS_TOKEN);
        config.revokeAccessToken =
            (p.drop_tokens & AUTH_OIDC_REVOKE_ACCESS_TOKEN) != 0;
        config.claims.all = !(p.drop_tokens & AUTH_OIDC_DROP_CLAIMS);
        config.claims.names = view(p.keep_claims);
        config.lockSeconds = p.lock_seconds;
        config.waitMs = p.wait_ms;
        config.pollMs = p.poll_ms;
        config.retrySeconds = p.retry_seconds;
        const std::vector<char> &stored = p.session->storage;
        return startFlow(
            auth_oidc::RefreshFlow::create(
                config, view(p.session_id),
                std::string_view(stored.data(), stored.size()), p.now),
            &auth_oidc_flow_s::refresh, out, first, err);
    });
}

auth_oidc_status_t auth_oidc_backchannel_flow(
    const auth_oidc_backchannel_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr) {
            return invalidArgument(err, "params is NULL");
        }
        const auth_oidc_backchannel_params_t &p = *params;
        if (!allValid({p.provider, p.issuer, p.client_id, p.client_secret,
                       p.algorithms, p.token})) {
            return invalidArgument(err, "a view has data NULL");
        }
        auth_oidc::BackchannelConfig config;
        config.provider = view(p.provider);
        config.issuer = view(p.issuer);
        config.clientId = view(p.client_id);
        config.clientSecret = view(p.client_secret);
        config.algorithms = view(p.algorithms);
        config.leeway = p.leeway;
        config.maxAge = p.max_age;
        return startFlow(auth_oidc::BackchannelFlow::create(
                             config, view(p.token), p.now),
                         &auth_oidc_flow_s::backchannel, out, first, err);
    });
}

auth_oidc_status_t auth_oidc_frontchannel_flow(
    const auth_oidc_frontchannel_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr) {
            return invalidArgument(err, "params is NULL");
        }
        const auth_oidc_frontchannel_params_t &p = *params;
        if (!allValid({p.provider, p.issuer, p.iss, p.sid, p.session_id})) {
            return invalidArgument(err, "a view has data NULL");
        }
        auth_oidc::FrontchannelConfig config;
        config.provider = view(p.provider);
        config.issuer = view(p.issuer);
        return startFlow(auth_oidc::FrontchannelFlow::create(
                             config, optionalView(p.iss), optionalView(p.sid),
                             optionalView(p.session_id)),
                         &auth_oidc_flow_s::frontchannel, out, first, err);
    });
}

auth_oidc_status_t auth_oidc_bearer_flow(
    const auth_oidc_bearer_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (!flowOutputs(out, first)) {
            return invalidArgument(err, "out or first is NULL");
        }
        if (params == nullptr) {
            return invalidArgument(err, "params is NULL");
        }
        const auth_oidc_bearer_params_t &p = *params;
        if (!allValid({p.provider, p.issuer, p.client_id, p.client_secret,
                       p.algorithms, p.audiences, p.token})) {
            return invalidArgument(err, "a view has data NULL");
        }
        const std::size_t validation = rawValue(&p.validation);
        if (validation > AUTH_OIDC_BEARER_INTROSPECTION) {
            return invalidArgument(err, "unknown validation");
        }
        auth_oidc::BearerConfig config;
        config.provider = view(p.provider);
        config.issuer = view(p.issuer);
        config.clientId = view(p.client_id);
        config.clientSecret = view(p.client_secret);
        config.client = proofOf(p.client);
        config.algorithms = view(p.algorithms);
        config.audiences = view(p.audiences);
        config.validation =
            static_cast<auth_oidc::BearerValidation>(validation);
        config.strictType = p.strict_type != 0;
        config.leeway = p.leeway;
        config.cacheValid = p.cache_valid;
        config.cacheInvalid = p.cache_invalid;
        config.introspectionTimeoutMs = p.timeout_ms;
        return startFlow(
            auth_oidc::BearerFlow::create(config, view(p.token), p.now),
            &auth_oidc_flow_s::bearer, out, first, err);
    });
}

size_t auth_oidc_bearer_key(auth_oidc_str_t provider, auth_oidc_str_t token,
                            unsigned char *buf, size_t size) noexcept {
    if (!valid(provider) || !valid(token) ||
        !auth_oidc::isBearerToken(view(token))) {
        return 0;
    }
    return auth_oidc::bearerTokenKeyTo(view(provider), view(token),
                                       reinterpret_cast<char *>(buf),
                                       buf == nullptr ? 0 : size);
}

auth_oidc_status_t auth_oidc_bearer_decode(const unsigned char *data,
                                           size_t len,
                                           auth_oidc_session_t **out,
                                           auth_oidc_str_t *error,
                                           auth_oidc_str_t *description,
                                           auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (error == nullptr || description == nullptr) {
            return invalidArgument(err, "error or description is NULL");
        }
        *error = auth_oidc_str_t{nullptr, 0};
        *description = auth_oidc_str_t{nullptr, 0};
        if (out == nullptr || (data == nullptr && len != 0)) {
            return invalidArgument(err, "out or data is NULL");
        }
        *out = nullptr;
        const std::string_view bytes(reinterpret_cast<const char *>(data),
                                     len);
        if (auth_oidc::isRefusedBearer(bytes)) {
            // views into the caller's data: no handle to keep them
            auto refused = auth_oidc::decodeBearer(bytes);
            if (!refused) {
                return fail(err, refused.error());
            }
            *error = toCOrNull(refused.value().refusedError);
            *description = toCOrNull(refused.value().refusedDescription);
            return succeed(err);
        }
        return decodeRecord(
            data, len, out, err,
            [](std::string_view record, auth_oidc_session_t &handle)
                -> auth_oidc::Result<bool> {
                auto fields = auth_oidc::decodeBearer(record);
                if (!fields) {
                    return std::move(fields).error();
                }
                auth_oidc::BearerFields &r = fields.value();
                auth_oidc_session_fields_t &f = handle.fields;
                f = auth_oidc_session_fields_t{};
                f.sub = toCOrNull(r.sub);
                f.created = r.verified;
                f.refreshed = r.verified;
                f.expires = r.expires;
                f.claim_table = toCOrNull(r.claimTable);
                handle.claims = std::move(r.claimIndex);
                handle.bearerClaims = r.claims;
                handle.scope = toCOrNull(r.scope);
                return true;
            });
    });
}

auth_oidc_str_t auth_oidc_session_scope(const auth_oidc_session_t *s)
    noexcept {
    return s == nullptr ? auth_oidc_str_t{nullptr, 0} : s->scope;
}

auth_oidc_status_t auth_oidc_flow_resume(auth_oidc_flow_t *flow,
                                         const auth_oidc_step_result_t *result,
                                         auth_oidc_step_t *next,
                                         auth_oidc_error_t *err) noexcept {
    return guarded(err, [&]() -> auth_oidc_status_t {
        if (flow == nullptr || result == nullptr || next == nullptr ||
            !flow->any()) {
            return invalidArgument(err, "flow, result or next is NULL");
        }
        const auth_oidc_step_result_t &r = *result;
        if (!allValid({r.body, r.transport_error, r.value})) {
            return invalidArgument(err, "a view has data NULL");
        }
        const std::size_t fetch = rawValue(&r.fetch);
        const std::size_t store = rawValue(&r.store);
        if (fetch > AUTH_OIDC_FETCH_TIMEDOUT || store > AUTH_OIDC_STORE_FAILED) {
            return invalidArgument(err, "unknown outcome");
        }
        auth_oidc::StepResult in;
        in.transport = static_cast<auth_oidc::StepResult::Transport>(fetch);
        in.httpStatus = r.http_status;
        in.body = view(r.body);
        in.transportError = view(r.transport_error);
        in.store = static_cast<auth_oidc::StepResult::Store>(store);
        in.value = view(r.value);
        in.discovery = r.discovery == nullptr ? nullptr : &r.discovery->impl;
        in.jwks = r.jwks == nullptr ? nullptr : &r.jwks->impl;
        exportStep(flow->resume(in), next);
        return succeed(err);
    });
}

void auth_oidc_flow_free(auth_oidc_flow_t *flow) noexcept {
    delete flow;
}
