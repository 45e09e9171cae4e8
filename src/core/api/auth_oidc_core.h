/*
 * auth_oidc_core.h: the boundary between the C++17 core and the nginx module.
 *
 * Pure C99. No nginx type enters here, no C++ exception leaves here: every
 * function is noexcept on the C++ side and reports failures as a status code,
 * with a human-readable detail written into a caller-owned error buffer.
 *
 * Ownership: every handle returned by a *_parse() function is freed by its
 * matching *_free(); the module frees handles through pool cleanups.
 * Strings are views (pointer + length, no NUL assumed); views returned by
 * accessors stay valid as long as the handle they came from.
 */

#ifndef AUTH_OIDC_CORE_H
#define AUTH_OIDC_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AUTH_OIDC_API  __attribute__((visibility("default")))
#else
#define AUTH_OIDC_API
#endif

/* C++ callers see the no-throw guarantee in the type; C sees nothing. */
#ifdef __cplusplus
#define AUTH_OIDC_NOEXCEPT  noexcept
#else
#define AUTH_OIDC_NOEXCEPT
#endif


typedef struct {
    const unsigned char  *data;
    size_t                len;
} auth_oidc_str_t;


/* Every failure the core can report. Keep auth_oidc_status_string() in sync. */
typedef enum {
    AUTH_OIDC_OK = 0,
    AUTH_OIDC_ENOMEM,           /* allocation failed */
    AUTH_OIDC_EINTERNAL,        /* unexpected internal error (a bug) */
    AUTH_OIDC_EINVAL,           /* invalid argument from the caller */
    AUTH_OIDC_ETOOLARGE,        /* input exceeds a hard size limit */
    AUTH_OIDC_EJSON,            /* not valid JSON, or not a JSON object */
    AUTH_OIDC_EFIELD,           /* required member missing or of wrong type */
    AUTH_OIDC_EISSUER,          /* discovery issuer differs from configured */
    AUTH_OIDC_EURL,             /* an endpoint is not an absolute http(s) URL */
    AUTH_OIDC_EJWKS,            /* JWKS document malformed */
    AUTH_OIDC_ENOKEYS           /* JWKS holds no usable signature key */
} auth_oidc_status_t;


/* Caller-owned buffer that receives a one-line, NUL-terminated detail. */
#define AUTH_OIDC_ERROR_LEN  256

typedef struct {
    char  msg[AUTH_OIDC_ERROR_LEN];
} auth_oidc_error_t;


/* Short constant name of a status, e.g. "issuer mismatch". Never NULL. */
AUTH_OIDC_API const char *auth_oidc_status_string(auth_oidc_status_t status)
    AUTH_OIDC_NOEXCEPT;


/* ---------------------------------------------------------------------
 * OpenID Provider metadata (OpenID Connect Discovery 1.0, section 3).
 */

typedef struct auth_oidc_discovery_s  auth_oidc_discovery_t;

typedef enum {
    AUTH_OIDC_EP_AUTHORIZATION = 0,   /* authorization_endpoint (required) */
    AUTH_OIDC_EP_TOKEN,               /* token_endpoint (required) */
    AUTH_OIDC_EP_USERINFO,            /* userinfo_endpoint */
    AUTH_OIDC_EP_JWKS,                /* jwks_uri (required) */
    AUTH_OIDC_EP_END_SESSION,         /* end_session_endpoint */
    AUTH_OIDC_EP_REVOCATION,          /* revocation_endpoint */
    AUTH_OIDC_EP_INTROSPECTION,       /* introspection_endpoint */
    AUTH_OIDC_EP_COUNT
} auth_oidc_endpoint_t;

/*
 * Parses a discovery document. The document's "issuer" must equal
 * expected_issuer byte for byte (Discovery 1.0, 4.3). Required members:
 * issuer, authorization_endpoint, token_endpoint, jwks_uri. Every endpoint
 * present must be an absolute http or https URL without a fragment.
 * On success *out receives a handle; on failure *out is NULL and err (if not
 * NULL) receives the detail.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_discovery_parse(
    const unsigned char *doc, size_t len, auth_oidc_str_t expected_issuer,
    auth_oidc_discovery_t **out, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_discovery_free(auth_oidc_discovery_t *d)
    AUTH_OIDC_NOEXCEPT;

/* The endpoint's URL, or {NULL, 0} when the document does not list it. */
AUTH_OIDC_API auth_oidc_str_t auth_oidc_discovery_endpoint(
    const auth_oidc_discovery_t *d, auth_oidc_endpoint_t which)
    AUTH_OIDC_NOEXCEPT;

/* Whether code_challenge_methods_supported lists S256 (or is absent: -1). */
AUTH_OIDC_API int auth_oidc_discovery_pkce_s256(const auth_oidc_discovery_t *d)
    AUTH_OIDC_NOEXCEPT;

/*
 * Writes a JSON object describing the metadata, e.g.
 * {"issuer":"...","authorization_endpoint":"...",...,
 *  "id_token_signing_alg_values_supported":["RS256"]}
 * into buf (at most size bytes, no NUL). Returns the full length needed;
 * when that is > size, nothing useful was written and the caller retries.
 */
AUTH_OIDC_API size_t auth_oidc_discovery_describe(
    const auth_oidc_discovery_t *d, unsigned char *buf, size_t size)
    AUTH_OIDC_NOEXCEPT;


/* ---------------------------------------------------------------------
 * JSON Web Key Sets (RFC 7517), signature keys only.
 */

typedef struct auth_oidc_jwks_s  auth_oidc_jwks_t;

/*
 * Parses a JWKS document. Keys with "use":"enc", unknown "kty" or unusable
 * parameters are skipped (and counted); RSA, EC (P-256, P-384, P-521) and
 * OKP (Ed25519, Ed448) keys are kept. A set with no usable signature key
 * is AUTH_OIDC_ENOKEYS.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_jwks_parse(
    const unsigned char *doc, size_t len, auth_oidc_jwks_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_jwks_free(auth_oidc_jwks_t *jwks)
    AUTH_OIDC_NOEXCEPT;

/* Number of usable keys, and of keys that were skipped. */
AUTH_OIDC_API size_t auth_oidc_jwks_count(const auth_oidc_jwks_t *jwks)
    AUTH_OIDC_NOEXCEPT;
AUTH_OIDC_API size_t auth_oidc_jwks_skipped(const auth_oidc_jwks_t *jwks)
    AUTH_OIDC_NOEXCEPT;

/* Whether a usable key with this kid exists (kid lookup before a refetch). */
AUTH_OIDC_API int auth_oidc_jwks_has_kid(const auth_oidc_jwks_t *jwks,
    auth_oidc_str_t kid) AUTH_OIDC_NOEXCEPT;

/*
 * Writes a JSON array describing the usable keys, e.g.
 * [{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","bits":2048},
 *  {"kid":"k2","kty":"OKP","crv":"Ed25519","alg":"EdDSA"}]
 * Same buffer contract as auth_oidc_discovery_describe().
 */
AUTH_OIDC_API size_t auth_oidc_jwks_describe(const auth_oidc_jwks_t *jwks,
    unsigned char *buf, size_t size) AUTH_OIDC_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* AUTH_OIDC_CORE_H */
