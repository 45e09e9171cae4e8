/*
 * auth_oidc_core.h: the boundary between the C++17 core and the nginx module.
 *
 * Pure C99. No nginx type enters here, no C++ exception leaves here: every
 * function is noexcept on the C++ side and reports failures as a status code,
 * with a human-readable detail written into a caller-owned error buffer.
 *
 * Ownership: every handle returned through an "out" parameter (*_parse(),
 * *_decode(), *_new(), auth_oidc_id_token_validate(),
 * auth_oidc_token_request()) is
 * freed by its matching *_free(), which accepts NULL; the module frees
 * handles through pool cleanups.
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
    AUTH_OIDC_EISSUER,          /* discovery issuer (or ID token "iss")
                                   differs from configured */
    AUTH_OIDC_EURL,             /* an endpoint is not an absolute http(s) URL */
    AUTH_OIDC_EJWKS,            /* JWKS document malformed */
    AUTH_OIDC_ENOKEYS,          /* JWKS holds no usable signature key */
    AUTH_OIDC_ETOKEN,           /* ID token is not a well-formed compact JWS */
    AUTH_OIDC_EALG,             /* "alg" is none, unknown or not allowed */
    AUTH_OIDC_EKID,             /* no key for the token: refetch JWKS once */
    AUTH_OIDC_ESIGNATURE,       /* signature does not verify */
    AUTH_OIDC_EEXPIRED,         /* "exp" passed (or "iat" too old) */
    AUTH_OIDC_ENOTYET,          /* "iat" or "nbf" in the future */
    AUTH_OIDC_EAUDIENCE,        /* "aud" does not list the client */
    AUTH_OIDC_EAZP,             /* "azp" wrong, or missing with several aud */
    AUTH_OIDC_ENONCE,           /* "nonce" missing or different */
    AUTH_OIDC_EPROVIDER,        /* token endpoint answered an OAuth error */
    AUTH_OIDC_EDECODE,          /* stored session or pending record malformed */
    AUTH_OIDC_EAUTH             /* sealed record does not authenticate */
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


/* ---------------------------------------------------------------------
 * Login flow: OpenID Connect Core 1.0 authorization code flow (RFC 6749,
 * RFC 7636 PKCE). Everything here is a pure function: no I/O, no clock, no
 * randomness, no global state; times and random bytes come from the caller.
 *
 * Output buffers follow one of two contracts:
 *  - size_t results (base64url, PKCE, return path, claim values): the
 *    function returns the full length of the output and writes it (no NUL)
 *    only when it fits in size bytes, like auth_oidc_discovery_describe().
 *  - (buf, size, needed) with a status: on AUTH_OIDC_OK *needed receives the
 *    full length and the output is written (no NUL) only when
 *    *needed <= size; call with buf NULL and size 0 to ask for the length.
 *    On failure *needed is 0 and nothing is written.
 * Input strings are views: no NUL needed, embedded NULs are data.
 */

/* Length of the unpadded base64url encoding of n bytes: 32 bytes -> 43. */
#define AUTH_OIDC_BASE64URL_LEN(n)  (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/*
 * Unpadded base64url (RFC 4648, section 5) of in[0..len), for state, nonce,
 * PKCE code_verifier and session ids made of RAND_bytes() output. Returns
 * AUTH_OIDC_BASE64URL_LEN(len); 0 when in is NULL and len is not 0.
 */
AUTH_OIDC_API size_t auth_oidc_base64url_encode(const unsigned char *in,
    size_t len, unsigned char *out, size_t size) AUTH_OIDC_NOEXCEPT;

/* Length of an S256 code_challenge. */
#define AUTH_OIDC_PKCE_CHALLENGE_LEN  43

/*
 * RFC 7636, section 4.2: BASE64URL(SHA256(code_verifier)). Returns
 * AUTH_OIDC_PKCE_CHALLENGE_LEN, or 0 when verifier is not 43 to 128
 * characters of [A-Za-z0-9-._~] (section 4.1).
 */
AUTH_OIDC_API size_t auth_oidc_pkce_s256(auth_oidc_str_t verifier,
    unsigned char *out, size_t size) AUTH_OIDC_NOEXCEPT;


/*
 * Configuration-time checks of what a login would otherwise reject at
 * login time:
 * scope tokens (RFC 6749, section 3.3 characters); extra_args (RFC 3986
 * query characters, "%" followed by two hex digits, non-empty parameter
 * names separated by single "&", and none of response_type, client_id,
 * redirect_uri, scope, state, nonce, code_challenge, code_challenge_method,
 * even percent-encoded); an algorithm list (names from RS256 RS384 RS512
 * PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512 none,
 * separated by commas and/or spaces). AUTH_OIDC_OK or AUTH_OIDC_EINVAL.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_scope_check(auth_oidc_str_t scope,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;
AUTH_OIDC_API auth_oidc_status_t auth_oidc_extra_args_check(
    auth_oidc_str_t args, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;
AUTH_OIDC_API auth_oidc_status_t auth_oidc_algorithms_check(
    auth_oidc_str_t list, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;


typedef struct auth_oidc_token_response_s  auth_oidc_token_response_t;

/*
 * Parses a token endpoint response body (RFC 6749, sections 5.1 and 5.2),
 * whatever the HTTP status: a JSON object with an "error" member is
 * AUTH_OIDC_EPROVIDER, detail "provider error: <error>: <description>"
 * (escaped, cut). Otherwise token_type must be Bearer (any case),
 * access_token a non-empty string, id_token a non-empty string when
 * id_token_required (always for a login); refresh_token, scope and
 * expires_in (a number >= 0, or a string of digits) are optional, null
 * counts as absent. A successful parse of a non-2xx response is still a
 * failure for the caller. At most 1 MiB.
 * Errors: ETOOLARGE, EJSON, EPROVIDER, EFIELD.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_token_response_parse(
    const unsigned char *doc, size_t len, int id_token_required,
    auth_oidc_token_response_t **out, auth_oidc_error_t *err)
    AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_token_response_free(
    auth_oidc_token_response_t *r) AUTH_OIDC_NOEXCEPT;

/* Each {NULL, 0} when absent. */
AUTH_OIDC_API auth_oidc_str_t auth_oidc_token_response_id_token(
    const auth_oidc_token_response_t *r) AUTH_OIDC_NOEXCEPT;

/* expires_in in seconds (capped at ten years), -1 when absent. */
AUTH_OIDC_API int64_t auth_oidc_token_response_expires_in(
    const auth_oidc_token_response_t *r) AUTH_OIDC_NOEXCEPT;


/* What an ID token must say (OpenID Connect Core 1.0, section 3.1.3.7). */
typedef struct {
    auth_oidc_str_t  issuer;         /* "iss" must equal it byte for byte */
    auth_oidc_str_t  client_id;      /* must be in "aud"; "azp" if present
                                        (required with several aud) too */
    auth_oidc_str_t  nonce;          /* when not empty: "nonce" must equal */
    auth_oidc_str_t  algorithms;     /* allowed "alg" values, as for
                                        auth_oidc_algorithms_check(); empty:
                                        RS*, PS*, ES*, EdDSA */
    auth_oidc_str_t  client_secret;  /* key for HS256/384/512, which are
                                        allowed only when also listed */
    int64_t          now;            /* unix seconds */
    int64_t          leeway;         /* clock skew in seconds, >= 0 (60) */
    int64_t          max_iat_age;    /* > 0: "iat" older than this (plus
                                        leeway) is EEXPIRED; 0: no limit */
} auth_oidc_id_token_expect_t;

typedef struct auth_oidc_claims_s  auth_oidc_claims_t;

/*
 * Validates an ID token in compact JWS form (at most 64 KiB): exactly three
 * strict base64url parts; a JSON header whose "alg" is allowed (never
 * "none") and which has no "crit"; a signature by a JWKS key chosen by
 * "kid" (keys without a kid are tried when none has it) or, without a kid,
 * by any key that fits "alg" (RSA for RS/PS, EC on the alg's curve for ES,
 * OKP for EdDSA; a key "alg" must match); then the claims: iss, aud, azp,
 * exp (now > exp + leeway: expired), iat (required; > now + leeway: not
 * yet), nbf (optional, same), sub (1 to 255 bytes, no control characters),
 * nonce. jwks may be NULL (no set yet): asymmetric tokens are EKID then.
 * On success *out receives the claims.
 * Errors: EINVAL, ETOOLARGE, ETOKEN, EALG, EKID (no key with the token's
 * kid, or none for its alg: refetch the JWKS once and retry), ESIGNATURE,
 * EFIELD (a claim missing or of the wrong type), EISSUER, EAUDIENCE, EAZP,
 * EEXPIRED, ENOTYET, ENONCE.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_id_token_validate(
    auth_oidc_str_t token, const auth_oidc_jwks_t *jwks,
    const auth_oidc_id_token_expect_t *expect, auth_oidc_claims_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/*
 * A claims handle from a JSON object without any validation. At most
 * 1 MiB.
 * Errors: ETOOLARGE, EJSON.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_claims_parse(
    const unsigned char *doc, size_t len, auth_oidc_claims_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_claims_free(auth_oidc_claims_t *c)
    AUTH_OIDC_NOEXCEPT;

/* "exp" in unix seconds (fractions dropped); 0 when absent. */
AUTH_OIDC_API int64_t auth_oidc_claims_exp(const auth_oidc_claims_t *c)
    AUTH_OIDC_NOEXCEPT;

/* Returned by auth_oidc_claims_get() for a claim that is absent. */
#define AUTH_OIDC_CLAIM_ABSENT  SIZE_MAX

/*
 * The top-level claim name rendered for an nginx variable: strings without
 * quotes, numbers and booleans as JSON text, arrays and objects as compact
 * JSON; control bytes (0x00-0x1f, 0x7f) become spaces, so a value can never
 * split a header line. Returns its length (written when it fits, size_t
 * contract above), or AUTH_OIDC_CLAIM_ABSENT when the claim is absent or
 * null (also for a NULL handle, or when memory ran out).
 */
AUTH_OIDC_API size_t auth_oidc_claims_get(const auth_oidc_claims_t *c,
    auth_oidc_str_t name, unsigned char *buf, size_t size) AUTH_OIDC_NOEXCEPT;


/*
 * A safe local redirect target for after the login: uri itself when it is
 * a path-absolute reference (one "/" then not "/" or "\"), at most 2048
 * bytes of printable ASCII without spaces or backslashes; otherwise "/".
 * Returns the length of the result (uri.len or 1), size_t contract above.
 */
AUTH_OIDC_API size_t auth_oidc_safe_return_path(auth_oidc_str_t uri,
    unsigned char *out, size_t size) AUTH_OIDC_NOEXCEPT;

/*
 * Where a login started at origin ("http(s)://host[:port]") comes back to,
 * as the login flow records it: uri when it is an absolute URL of origin's
 * host or one return_hosts allows, a safe local path (on origin when
 * absolute is set), else origin's "/" (see returnTarget() in
 * flow/authorize.h). size_t contract above; 0 on failure.
 */
AUTH_OIDC_API size_t auth_oidc_return_target(auth_oidc_str_t uri,
    auth_oidc_str_t origin, int absolute, auth_oidc_str_t return_hosts,
    unsigned char *out, size_t size) AUTH_OIDC_NOEXCEPT;


/* ---------------------------------------------------------------------
 * Records kept between requests, as opaque bytes (shared memory; Redis
 * after encryption). A compact binary format with a version byte; decoding
 * accepts nothing but a well-formed record of the right kind
 * (AUTH_OIDC_EDECODE otherwise) and copies it, so the input may be freed
 * or unlocked right after. In the fields, an empty string (len 0, data
 * NULL after decoding) means absent.
 */

/* A login in progress; stored under its state value, which it omits. */
typedef struct {
    auth_oidc_str_t  nonce;          /* required */
    auth_oidc_str_t  code_verifier;  /* empty without PKCE */
    auth_oidc_str_t  return_path;    /* required */
    auth_oidc_str_t  provider;       /* oidc_provider name */
    int64_t          created;        /* unix seconds */
    int64_t          expires;        /* unix seconds */
    auth_oidc_str_t  acr_values;     /* step-up asked for; empty: none */
    int64_t          max_age;        /* seconds; -1: not asked */
} auth_oidc_pending_fields_t;

typedef struct auth_oidc_pending_s  auth_oidc_pending_t;

/* Errors: EINVAL (NULL arguments, nonce or return_path empty). */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_pending_encode(
    const auth_oidc_pending_fields_t *fields, unsigned char *buf, size_t size,
    size_t *needed, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* Errors: EDECODE. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_pending_decode(
    const unsigned char *data, size_t len, auth_oidc_pending_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_pending_free(auth_oidc_pending_t *p)
    AUTH_OIDC_NOEXCEPT;

/* The decoded fields, valid until auth_oidc_pending_free(); NULL for a NULL
 * handle. */
AUTH_OIDC_API const auth_oidc_pending_fields_t *auth_oidc_pending_fields(
    const auth_oidc_pending_t *p) AUTH_OIDC_NOEXCEPT;


typedef struct {
    auth_oidc_str_t  sub;            /* required */
    auth_oidc_str_t  sid;
    auth_oidc_str_t  id_token;       /* empty when not kept (drop_tokens) */
    auth_oidc_str_t  access_token;
    auth_oidc_str_t  refresh_token;
    auth_oidc_str_t  claims;         /* encode: a JSON object;
                                        decode: always {NULL, 0}, see
                                        auth_oidc_session_claim() */
    auth_oidc_str_t  userinfo;       /* JSON */
    int64_t          created;        /* unix seconds */
    int64_t          expires;        /* unix seconds */
    int64_t          access_token_expires;  /* unix seconds, 0: unknown */
    auth_oidc_str_t  claim_table;    /* opaque: decode fills it; encode
                                        with claims empty copies it, so a
                                        decoded session re-encodes as it
                                        was; leave empty otherwise */
    int64_t          refreshed;      /* when the tokens were obtained */
    int64_t          id_token_expires;  /* the ID token's exp, 0: unknown */
} auth_oidc_session_fields_t;

typedef struct auth_oidc_session_s  auth_oidc_session_t;

/*
 * The record keeps no claims JSON: encode renders every non-null top-level
 * claim of claims once, exactly as auth_oidc_claims_get() would, into a
 * table sorted by name (record format version 2; version 1 records are
 * EDECODE), and decode reads that table without parsing any JSON.
 * Exactly one of claims (a JSON object) and claim_table (from a decoded
 * session) must be given.
 * Errors: EINVAL (NULL arguments, sub empty, neither or both of
 * claims and claim_table, a malformed claim_table), EJSON (claims not a
 * JSON object), ETOOLARGE (claims over 1 MiB).
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_session_encode(
    const auth_oidc_session_fields_t *fields, unsigned char *buf, size_t size,
    size_t *needed, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* Errors: EDECODE. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_session_decode(
    const unsigned char *data, size_t len, auth_oidc_session_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/*
 * A decoded session is read-only: several holders may share one handle.
 * ref adds a holder (and returns s); free drops one, the last one frees.
 * Not thread-safe: a handle and its holders stay in one thread.
 */
AUTH_OIDC_API auth_oidc_session_t *auth_oidc_session_ref(
    auth_oidc_session_t *s) AUTH_OIDC_NOEXCEPT;
AUTH_OIDC_API void auth_oidc_session_free(auth_oidc_session_t *s)
    AUTH_OIDC_NOEXCEPT;

/* The fields, the tokens' text included (unpacked on the first call: a
 * request that reads no token need not ask). */
AUTH_OIDC_API const auth_oidc_session_fields_t *auth_oidc_session_fields(
    const auth_oidc_session_t *s) AUTH_OIDC_NOEXCEPT;

/* fields->expires without the tokens: the hot path's check; 0 for NULL. */
AUTH_OIDC_API int64_t auth_oidc_session_expires(const auth_oidc_session_t *s)
    AUTH_OIDC_NOEXCEPT;

/* Who the session is, without unpacking its tokens: its "sub", "sid"
 * (empty: none; views valid while s is) and when it was made. */
AUTH_OIDC_API void auth_oidc_session_identity(const auth_oidc_session_t *s,
    auth_oidc_str_t *sub, auth_oidc_str_t *sid, int64_t *created)
    AUTH_OIDC_NOEXCEPT;

/* The store key of the sessions of a provider's "sid" or "sub" (kind), as
 * the flows' index steps name it; (out, size) as auth_oidc_safe_return_path:
 * returns the length, writes it when it fits. */
AUTH_OIDC_API size_t auth_oidc_session_index_key(auth_oidc_str_t provider,
    auth_oidc_str_t kind, auth_oidc_str_t value, unsigned char *out,
    size_t size) AUTH_OIDC_NOEXCEPT;

/*
 * A claim of a decoded session for an nginx variable: 1 and *value the
 * claim rendered as auth_oidc_claims_get() renders it (a view into the
 * session, valid until auth_oidc_session_free(); {NULL, 0} for an empty
 * string), or 0 and *value {NULL, 0} when the claim is absent or null
 * (also for a NULL handle, name or value). name is matched as nginx
 * spells variable names: exactly first (binary search), else with ASCII
 * case folded and any byte other than a letter or digit read as "_"
 * ("isadmin" finds "isAdmin", "cognito_groups" "cognito:groups"). No JSON,
 * no allocation.
 */
AUTH_OIDC_API int auth_oidc_session_claim(const auth_oidc_session_t *s,
    auth_oidc_str_t name, auth_oidc_str_t *value) AUTH_OIDC_NOEXCEPT;

/* Step-up: 1 when the session's "acr" is one of acr_values (space-
 * separated; empty: any) and, max_age >= 0, its "auth_time" at most max_age
 * (+ leeway) seconds before now; else 0 (a login that asks is due). */
AUTH_OIDC_API int auth_oidc_session_step_up_met(const auth_oidc_session_t *s,
    auth_oidc_str_t acr_values, int64_t max_age, int64_t now,
    int64_t leeway) AUTH_OIDC_NOEXCEPT;


/*
 * Claims of any shape (auth_oidc_claim_set): the claim at a path of n
 * member names (an array's element by its index), from the session's ID
 * token, then its userinfo answer; rendered as $oidc_claim_* renders, an
 * array as its elements joined by ",". Returns 1 and writes the value when
 * it fits in size bytes (*needed: its length; call again with a larger
 * buffer otherwise), 0 when absent or null, -1 when the session's claims
 * cannot be read or memory ran out.
 */
AUTH_OIDC_API int auth_oidc_session_claim_path(const auth_oidc_session_t *s,
    const auth_oidc_str_t *path, size_t n, unsigned char *buf, size_t size,
    size_t *needed) AUTH_OIDC_NOEXCEPT;

/*
 * auth_oidc_claim_has: 1 when the claim at path is an array with a string
 * element equal to value, byte for byte, or is that string; 0 otherwise.
 */
AUTH_OIDC_API int auth_oidc_session_claim_has(const auth_oidc_session_t *s,
    const auth_oidc_str_t *path, size_t n, auth_oidc_str_t value)
    AUTH_OIDC_NOEXCEPT;


/* ---------------------------------------------------------------------
 * Encryption at rest for records kept outside nginx (the Redis session
 * store): whoever reads Redis learns no token, claim or session id, and can
 * neither forge a record nor move one to another key. Pure functions: no
 * I/O, no clock, no global state; nonces come from the caller.
 *
 * Secrets are the operator's: arbitrary bytes, at least
 * AUTH_OIDC_SECRET_MIN_LEN each, identical on every nginx host. The module
 * reads each from a file (raw bytes; the module strips trailing white
 * space such as the final newline first) and passes them as they are: the
 * core strips nothing, so every host must pass exactly the same bytes.
 * From each secret, HKDF-SHA256 (RFC 5869, no salt) derives independent
 * 32-byte subkeys: a record key (info
 * "auth_oidc record key v1", AES-256-GCM), a lookup key (info
 * "auth_oidc lookup key v1", HMAC-SHA256 for key names) and an id key (info
 * "auth_oidc key id v1"); the key id, the first 4 bytes of
 * HMAC-SHA256(id key, "key id"), tells which secret sealed a record.
 *
 * Rotation without logging everyone out: configure the new secret as
 * current and the old one as previous. New records are sealed with, and
 * stored under key names of, the current secret; a lookup that misses under
 * the current key name is retried under the previous one
 * (auth_oidc_keyring_rotated()), and such a record opens with the previous
 * secret. Drop the previous secret once the longest record lifetime has
 * passed.
 *
 * What sealing cannot prevent: whoever can write to Redis can delete a
 * record, or put back an older record that was sealed under the same key
 * name (an earlier version of the same session, one deleted at logout).
 * Check the decoded record's own "expires" rather than trusting the TTL.
 *
 * Output buffers follow the two contracts of the login flow section.
 */

typedef struct auth_oidc_keyring_s  auth_oidc_keyring_t;

/* Shortest accepted secret. */
#define AUTH_OIDC_SECRET_MIN_LEN     32
/* Length of the nonce auth_oidc_seal() takes. */
#define AUTH_OIDC_SEAL_NONCE_LEN     12
/* Sealed length = plaintext length + AUTH_OIDC_SEAL_OVERHEAD. */
#define AUTH_OIDC_SEAL_OVERHEAD      33
/* Longest plaintext (and aad) auth_oidc_seal() accepts: 1 MiB. */
#define AUTH_OIDC_SEAL_MAX           (1024 * 1024)
/* Length of a lookup key (base64url of a 32-byte HMAC). */
#define AUTH_OIDC_LOOKUP_KEY_LEN     43

/*
 * Derives the keys of current_secret and, when previous_secret is not empty
 * (len 0: no rotation in progress), of previous_secret. The keyring copies
 * nothing but derived keys (the caller may wipe the secrets right after),
 * is immutable, and may be shared by any number of requests; its keys are
 * wiped by auth_oidc_keyring_free(), which accepts NULL.
 * Errors: EINVAL ("the secret must be at least 32 bytes (the current one
 * has N)", the same for the previous one, or "the previous secret is the
 * same as the current one"), EINTERNAL.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_keyring_new(
    auth_oidc_str_t current_secret, auth_oidc_str_t previous_secret,
    auth_oidc_keyring_t **out, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_keyring_free(auth_oidc_keyring_t *kr)
    AUTH_OIDC_NOEXCEPT;

/* 1 when the keyring has a previous secret (try previous lookup keys on a
 * miss), else 0 (also for NULL). */
AUTH_OIDC_API int auth_oidc_keyring_rotated(const auth_oidc_keyring_t *kr)
    AUTH_OIDC_NOEXCEPT;

/*
 * The key name part for a record: base64url(HMAC-SHA256(lookup key,
 * kind || 0x00 || id)), AUTH_OIDC_LOOKUP_KEY_LEN characters of
 * [A-Za-z0-9_-] that reveal nothing of id. kind tells records apart ("s"
 * session, "p" pending login): not empty, no NUL byte. id (a session id, a
 * state value) may be any bytes. previous: 0 the current secret's lookup
 * key, 1 the previous secret's. The module's key name is
 * "<prefix><kind>:<this>". Returns AUTH_OIDC_LOOKUP_KEY_LEN (size_t
 * contract: written only when it fits), or 0 for a NULL keyring, a bad
 * kind or view, previous not 0 or 1, previous 1 without a previous secret,
 * or an OpenSSL failure.
 */
AUTH_OIDC_API size_t auth_oidc_keyring_lookup_key(
    const auth_oidc_keyring_t *kr, auth_oidc_str_t kind, auth_oidc_str_t id,
    int previous, unsigned char *out, size_t size) AUTH_OIDC_NOEXCEPT;

/*
 * Seals plaintext (at most AUTH_OIDC_SEAL_MAX bytes, may be empty) with the
 * current secret:
 *   0x01 || key id (4) || nonce (12) || AES-256-GCM ciphertext || tag (16)
 * The GCM additional data is those first 17 bytes followed by aad, which
 * must be the record's full key name (what auth_oidc_open() will be given):
 * a record opens under no other name. nonce: AUTH_OIDC_SEAL_NONCE_LEN bytes
 * fresh from RAND_bytes() for every call, never reused with the same
 * secret (pass the same nonce to both calls of one (buf, size, needed)
 * sequence). (buf, size, needed) contract; the length query (buf NULL or
 * too small) does not encrypt, *needed is plaintext.len +
 * AUTH_OIDC_SEAL_OVERHEAD.
 * Errors: EINVAL (NULL arguments), ETOOLARGE (plaintext or aad over 1 MiB),
 * EINTERNAL.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_seal(const auth_oidc_keyring_t *kr,
    auth_oidc_str_t aad, auth_oidc_str_t plaintext,
    const unsigned char nonce[AUTH_OIDC_SEAL_NONCE_LEN], unsigned char *buf,
    size_t size, size_t *needed, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/*
 * The plaintext of a record sealed by auth_oidc_seal() with the current or
 * the previous secret (chosen by the key id) under the same aad. Every call
 * authenticates the whole record, the length query too, and nothing is
 * written unless it does; (buf, size, needed) contract, *needed is
 * sealed.len - AUTH_OIDC_SEAL_OVERHEAD.
 * Errors: EINVAL (NULL arguments), ETOOLARGE (over 1 MiB of plaintext, or
 * aad over 1 MiB), EDECODE (shorter than AUTH_OIDC_SEAL_OVERHEAD, unknown
 * version, or a key id of neither secret: sealed with another secret, e.g.
 * one rotated out), EAUTH (the tag does not verify: altered, moved to
 * another key name, or sealed with another secret), EINTERNAL. A failed
 * open is a missing record for the caller, logged, never trusted.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_open(const auth_oidc_keyring_t *kr,
    auth_oidc_str_t aad, auth_oidc_str_t sealed, unsigned char *buf,
    size_t size, size_t *needed, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* ---------------------------------------------------------------------
 * Flows: each protocol flow is a state machine in the core. It asks for
 * one step at a time (a fetch from the provider, a store operation,
 * provider metadata, or the reply that ends it) and is told how the step
 * went; it does no I/O itself. The module's driver executes the steps.
 * A step's views stay valid until the next auth_oidc_flow_resume() or
 * auth_oidc_flow_free().
 */

typedef struct auth_oidc_flow_s  auth_oidc_flow_t;

typedef enum {
    AUTH_OIDC_STEP_FETCH = 1,     /* HTTP request to endpoint */
    AUTH_OIDC_STEP_STORE,         /* session store operation */
    AUTH_OIDC_STEP_METADATA,      /* usable metadata; refetch_keys: newer */
    AUTH_OIDC_STEP_REPLY,         /* the answer: the flow is over */
    AUTH_OIDC_STEP_WAIT,          /* wait_ms, then resume (empty result) */
    AUTH_OIDC_STEP_DONE           /* over, no answer: the request goes on */
} auth_oidc_step_kind_t;

typedef enum {
    AUTH_OIDC_STORE_GET = 1,
    AUTH_OIDC_STORE_TAKE,         /* get, and the record is gone */
    AUTH_OIDC_STORE_PUT,
    AUTH_OIDC_STORE_ADD,          /* put only when absent */
    AUTH_OIDC_STORE_DELETE,       /* no answer awaited */
    AUTH_OIDC_STORE_INDEX_ADD,    /* session key value joins index key */
    AUTH_OIDC_STORE_INDEX_END,    /* every session of index key ends;
                                     the answer's value: how many */
    AUTH_OIDC_STORE_REPLACE       /* put only while present: ABSENT when
                                     it is gone */
} auth_oidc_store_op_t;

/* Record kinds, as the module's store names them. */
#define AUTH_OIDC_RECORD_USED_STATE     1
#define AUTH_OIDC_RECORD_SESSION        2
#define AUTH_OIDC_RECORD_REFRESH_LOCK   3
#define AUTH_OIDC_RECORD_SESSION_INDEX  4
#define AUTH_OIDC_RECORD_USED_JTI       5
#define AUTH_OIDC_RECORD_BEARER_TOKEN   6

/* How a flow that ends without an answer (DONE) leaves the request. */
typedef enum {
    AUTH_OIDC_DONE_KEEP = 1,      /* the session as it was */
    AUTH_OIDC_DONE_SESSION,       /* value: the refreshed session record */
    AUTH_OIDC_DONE_ENDED,         /* the session ended */
    AUTH_OIDC_DONE_UNAVAILABLE    /* tokens expired, no refresh now: no
                                     session for this request, kept */
} auth_oidc_outcome_t;

typedef enum {
    AUTH_OIDC_LOG_NONE = 0,
    AUTH_OIDC_LOG_ERR,
    AUTH_OIDC_LOG_WARN,
    AUTH_OIDC_LOG_INFO
} auth_oidc_log_level_t;

typedef struct {
    auth_oidc_step_kind_t   kind;

    /* FETCH: the URL is the endpoint's in the driver's metadata */
    auth_oidc_endpoint_t    endpoint;
    auth_oidc_str_t         method;
    auth_oidc_str_t         headers;      /* "Name: value" CRLF lines */
    auth_oidc_str_t         body;
    int64_t                 timeout_ms;   /* 0: the provider's bound */

    /* STORE */
    auth_oidc_store_op_t    op;
    int                     record;       /* AUTH_OIDC_RECORD_* */
    auth_oidc_str_t         key;
    auth_oidc_str_t         value;
    int64_t                 expires;      /* unix seconds */

    /* METADATA; optional: none is no failure, the flow goes on */
    int                     refetch_keys;
    int                     metadata_optional;

    /* REPLY: status; location for a 3xx; a new session id for the session
     * cookie (len 0: none); a page's title and sentence otherwise */
    int                     status;
    auth_oidc_str_t         location;
    auth_oidc_str_t         session_id;
    int                     clear_session;   /* clear the session cookie */
    auth_oidc_str_t         login_state;     /* set the login's cookie */
    auth_oidc_str_t         login_cookie;
    auth_oidc_str_t         title;
    auth_oidc_str_t         detail;

    /* any step: a line for the error log, after "auth_oidc: " */
    auth_oidc_log_level_t   log_level;
    auth_oidc_str_t         log;

    /* WAIT */
    int64_t                 wait_ms;

    /* REPLY of a back-channel logout: the error body is JSON, title the
     * error code, detail its description; reason: why it was refused
     * (the module's counters), -1 when it was not */
    int                     reason;

    /* DONE: the outcome (value and expires: the refreshed session); detail
     * not empty: why the provider could not refresh (log it once per
     * incident) */
    auth_oidc_outcome_t     outcome;
} auth_oidc_step_t;

typedef enum {
    AUTH_OIDC_FETCH_OK = 0,
    AUTH_OIDC_FETCH_FAILED,
    AUTH_OIDC_FETCH_TIMEDOUT
} auth_oidc_fetch_outcome_t;

typedef enum {
    AUTH_OIDC_STORE_DONE = 0,     /* found, stored, added, deleted */
    AUTH_OIDC_STORE_ABSENT,       /* not found; ADD: the key was taken */
    AUTH_OIDC_STORE_FAILED        /* the store did not answer */
} auth_oidc_store_outcome_t;

/* How the last step went; only the members of its kind are read. */
typedef struct {
    auth_oidc_fetch_outcome_t     fetch;
    unsigned                      http_status;
    auth_oidc_str_t               body;
    auth_oidc_str_t               transport_error;

    auth_oidc_store_outcome_t     store;
    auth_oidc_str_t               value;

    /* METADATA, and the keys any later validation uses: NULL when none */
    const auth_oidc_discovery_t  *discovery;
    const auth_oidc_jwks_t       *jwks;
} auth_oidc_step_result_t;

/*
 * Tokens a session need not keep (drop_tokens of the callback and refresh
 * flows; 0 keeps them all): the configuration uses none of their uses.
 * The ID token serves id_token_hint, $oidc_id_token, claim paths and the
 * claims of a refresh that brings userinfo without a new ID token; the
 * access token $oidc_access_token and revocation at logout, which takes
 * the refresh token when there is one: with AUTH_OIDC_REVOKE_ACCESS_TOKEN
 * a dropped access token is still kept by a session without a refresh
 * token. The refresh token is always kept.
 */
#define AUTH_OIDC_DROP_ID_TOKEN        0x01
#define AUTH_OIDC_DROP_ACCESS_TOKEN    0x02
#define AUTH_OIDC_REVOKE_ACCESS_TOKEN  0x04
/* The session's claim table keeps only the claims keep_claims names (as
 * nginx spells variable names, space-separated) and nonce, auth_time and
 * acr; without it, every claim. */
#define AUTH_OIDC_DROP_CLAIMS          0x08

/* The claims a session keeps with AUTH_OIDC_DROP_CLAIMS whatever
 * keep_claims says, space-separated (for oidc_status). */
AUTH_OIDC_API auth_oidc_str_t auth_oidc_always_kept_claims(void)
    AUTH_OIDC_NOEXCEPT;

/*
 * How the client authenticates at the provider's token, revocation and
 * introspection endpoints (OpenID Connect Core 1.0, section 9; RFC 7523).
 * AUTO: private_key_jwt with a key; without, client_secret_basic (or what
 * the provider lists) with a secret, none without.
 */
typedef enum {
    AUTH_OIDC_CLIENT_AUTH_AUTO = 0,
    AUTH_OIDC_CLIENT_AUTH_BASIC,
    AUTH_OIDC_CLIENT_AUTH_POST,
    AUTH_OIDC_CLIENT_AUTH_NONE,
    AUTH_OIDC_CLIENT_AUTH_SECRET_JWT,
    AUTH_OIDC_CLIENT_AUTH_PRIVATE_KEY_JWT
} auth_oidc_client_auth_t;

/* A client's private key for private_key_jwt; immutable, shared by the
 * flows that use it, which keep it past auth_oidc_client_key_free(). */
typedef struct auth_oidc_client_key_s  auth_oidc_client_key_t;

/* From an unencrypted PEM private key's text: RSA (2048 bits or more,
 * RS256), EC P-256/384/521 (ES256/384/512), Ed25519 (EdDSA); key_id the
 * JWS "kid" (empty: none). Errors: EINVAL (what is wrong), ENOMEM. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_client_key_new(auth_oidc_str_t pem,
    auth_oidc_str_t key_id, auth_oidc_client_key_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* The JWS "alg" it signs with, e.g. "RS256"; valid while the key is. */
AUTH_OIDC_API auth_oidc_str_t auth_oidc_client_key_alg(
    const auth_oidc_client_key_t *key) AUTH_OIDC_NOEXCEPT;

AUTH_OIDC_API void auth_oidc_client_key_free(auth_oidc_client_key_t *key)
    AUTH_OIDC_NOEXCEPT;

/* The method (auth_oidc_client_auth_t) and key (NULL: none) of a flow that
 * authenticates the client; zeroed: AUTO without a key. */
typedef struct {
    int                             method;
    const auth_oidc_client_key_t   *key;
} auth_oidc_client_proof_t;

/* The callback at redirect_uri. Query values percent-decoded, {NULL, 0}
 * when absent; pending: the started login opened from its cookie. */
typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               issuer;
    auth_oidc_str_t               client_id;
    auth_oidc_str_t               client_secret;
    auth_oidc_client_proof_t      client;
    auth_oidc_str_t               redirect_uri;   /* absolute, as sent */
    auth_oidc_str_t               algorithms;
    int64_t                       leeway;
    int64_t                       session_timeout;
    int64_t                       idle_timeout;     /* 0: none */
    int                           userinfo;
    int                           index_sessions;   /* by sid and sub */
    int                           drop_tokens;      /* AUTH_OIDC_DROP_* */
    auth_oidc_str_t               keep_claims;      /* AUTH_OIDC_DROP_CLAIMS */

    auth_oidc_str_t               state;
    auth_oidc_str_t               code;
    auth_oidc_str_t               error;
    auth_oidc_str_t               error_description;
    auth_oidc_str_t               iss;
    const auth_oidc_pending_t    *pending;
    auth_oidc_str_t               session_id;     /* fresh, random */
    int64_t                       now;
} auth_oidc_callback_params_t;

/* A new callback flow and its first step. Errors: EINVAL, ENOMEM. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_callback_flow(
    const auth_oidc_callback_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* The start of a login; random values fresh from RAND_bytes(): state,
 * nonce, verifier base64url of 32 bytes, seal_nonce AUTH_OIDC_SEAL_NONCE_LEN
 * bytes; pkce 1 on, 0 off, -1 as the provider advertises; probe_store: ask
 * the store first whether it answers (Redis). */
typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               client_id;
    auth_oidc_str_t               redirect_uri;   /* absolute */
    auth_oidc_str_t               scope;
    auth_oidc_str_t               extra_args;
    int                           pkce;
    int64_t                       login_timeout;
    int                           probe_store;
    const auth_oidc_keyring_t    *keyring;
    const auth_oidc_discovery_t  *discovery;

    auth_oidc_str_t               return_hosts;   /* space-separated */

    auth_oidc_str_t               uri;            /* the request's, raw,
                                                     or an absolute URL */
    auth_oidc_str_t               origin;         /* http(s)://host[:port] */
    int                           absolute_return;  /* callback elsewhere */
    auth_oidc_str_t               location_args;  /* "a=b&c=d" */
    auth_oidc_str_t               acr_values;     /* step-up; empty: none */
    int64_t                       max_age;        /* step-up; -1: none */
    auth_oidc_str_t               state;
    auth_oidc_str_t               nonce;
    auth_oidc_str_t               verifier;
    auth_oidc_str_t               seal_nonce;
    int64_t                       now;
} auth_oidc_login_params_t;

/* A new login flow and its first step. Errors: EINVAL, ENOMEM. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_login_flow(
    const auth_oidc_login_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/*
 * The started login held by the cookie named after state, opened under
 * kr for provider: EDECODE (not base64url, unknown key id) or EAUTH
 * (altered, another state or provider, another secret), then as
 * auth_oidc_pending_decode().
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_started_login_open(
    const auth_oidc_keyring_t *kr, auth_oidc_str_t provider,
    auth_oidc_str_t state, auth_oidc_str_t cookie, auth_oidc_pending_t **out,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* logout_uri, for a same-origin POST; session_id: the session cookie's
 * value ({NULL, 0}: none); post_logout_uri absolute or empty. */
typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               client_id;
    auth_oidc_str_t               post_logout_uri;
    int                           id_token_hint;
    auth_oidc_str_t               session_id;
    int                           revoke_tokens;
    auth_oidc_str_t               client_secret;
    auth_oidc_client_proof_t      client;
    int64_t                       now;            /* client assertions */
    int64_t                       revoke_timeout_ms;
} auth_oidc_logout_params_t;

/* A new logout flow and its first step. Errors: EINVAL, ENOMEM. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_logout_flow(
    const auth_oidc_logout_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* What a session's tokens need now (see auth_oidc_session_tokens()). */
typedef enum {
    AUTH_OIDC_TOKENS_VALID = 0,   /* nothing */
    AUTH_OIDC_TOKENS_DUE,         /* a refresh, usable meanwhile */
    AUTH_OIDC_TOKENS_EXPIRED      /* a refresh before use */
} auth_oidc_tokens_t;

/*
 * The hot path's check: only a session with a refresh token is ever DUE
 * or EXPIRED; its tokens expire at the earlier of the access token's and
 * the ID token's expiry, and are DUE margin seconds before (at most half
 * their lifetime as issued). VALID for NULL.
 */
AUTH_OIDC_API auth_oidc_tokens_t auth_oidc_session_tokens(
    const auth_oidc_session_t *s, int64_t now, int64_t margin)
    AUTH_OIDC_NOEXCEPT;

/* A refresh of a session's tokens inside a request: see RefreshFlow in
 * src/core/flow/refresh.h. session: as found in the store. */
typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               issuer;
    auth_oidc_str_t               client_id;
    auth_oidc_str_t               client_secret;
    auth_oidc_client_proof_t      client;
    auth_oidc_str_t               algorithms;
    int64_t                       leeway;
    int64_t                       session_timeout;
    int64_t                       idle_timeout;     /* 0: none */
    int64_t                       margin;
    int                           userinfo;
    int                           index_sessions;
    int                           drop_tokens;      /* AUTH_OIDC_DROP_* */
    auth_oidc_str_t               keep_claims;      /* AUTH_OIDC_DROP_CLAIMS */
    int64_t                       lock_seconds;
    int64_t                       wait_ms;
    int64_t                       poll_ms;
    int64_t                       retry_seconds;

    auth_oidc_str_t               session_id;
    const auth_oidc_session_t    *session;
    int64_t                       now;
} auth_oidc_refresh_params_t;

/* A new refresh flow and its first step. Errors: EINVAL (also a session
 * without a refresh token), ENOMEM. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_refresh_flow(
    const auth_oidc_refresh_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* A logout token POSTed to backchannel_logout_uri (OpenID Connect
 * Back-Channel Logout 1.0); token: the logout_token form parameter,
 * decoded ({NULL, 0}: none). */
typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               issuer;
    auth_oidc_str_t               client_id;
    auth_oidc_str_t               client_secret;
    auth_oidc_str_t               algorithms;
    int64_t                       leeway;
    int64_t                       max_age;

    auth_oidc_str_t               token;
    int64_t                       now;
} auth_oidc_backchannel_params_t;

AUTH_OIDC_API auth_oidc_status_t auth_oidc_backchannel_flow(
    const auth_oidc_backchannel_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* A request to frontchannel_logout_uri (OpenID Connect Front-Channel
 * Logout 1.0): its iss and sid query parameters, the session cookie's
 * value ({NULL, 0}: absent). */
typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               issuer;

    auth_oidc_str_t               iss;
    auth_oidc_str_t               sid;
    auth_oidc_str_t               session_id;
} auth_oidc_frontchannel_params_t;

AUTH_OIDC_API auth_oidc_status_t auth_oidc_frontchannel_flow(
    const auth_oidc_frontchannel_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* ---------------------------------------------------------------------
 * Bearer tokens on APIs (RFC 6750): see BearerFlow in
 * src/core/flow/bearer.h. A verification is cached (record kind
 * AUTH_OIDC_RECORD_BEARER_TOKEN) under auth_oidc_bearer_key(); the module
 * looks there first and runs the flow on a miss.
 */

typedef enum {
    AUTH_OIDC_BEARER_AUTO = 0,       /* a JWT locally, else introspected */
    AUTH_OIDC_BEARER_JWT,
    AUTH_OIDC_BEARER_INTROSPECTION
} auth_oidc_bearer_validation_t;

typedef struct {
    auth_oidc_str_t               provider;
    auth_oidc_str_t               issuer;
    auth_oidc_str_t               client_id;
    auth_oidc_str_t               client_secret;
    auth_oidc_client_proof_t      client;
    auth_oidc_str_t               algorithms;
    auth_oidc_str_t               audiences;      /* space-separated */
    auth_oidc_bearer_validation_t validation;
    int                           strict_type;    /* typ "at+jwt" only */
    int64_t                       leeway;
    int64_t                       cache_valid;    /* seconds */
    int64_t                       cache_invalid;  /* seconds, 0: none */
    int64_t                       timeout_ms;     /* introspection, 0 */

    auth_oidc_str_t               token;
    int64_t                       now;
} auth_oidc_bearer_params_t;

/* Errors: EINVAL (no audience, a bad algorithm list), ENOMEM. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_bearer_flow(
    const auth_oidc_bearer_params_t *params, auth_oidc_flow_t **out,
    auth_oidc_step_t *first, auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/*
 * The cache key of a token for provider, written into buf; its length,
 * at most AUTH_OIDC_BEARER_KEY_MAX(provider.len) (a buffer of that size
 * always fits). 0 when token is no RFC 6750 b64token of at most 16 KiB
 * (nothing to look up: refuse it), or the key does not fit in size.
 */
#define AUTH_OIDC_BEARER_KEY_MAX(provider_len)                                \
    ((provider_len) + sizeof("\nbearer\n") - 1 + AUTH_OIDC_LOOKUP_KEY_LEN)

AUTH_OIDC_API size_t auth_oidc_bearer_key(auth_oidc_str_t provider,
    auth_oidc_str_t token, unsigned char *buf, size_t size)
    AUTH_OIDC_NOEXCEPT;

/*
 * A cached verification. Accepted: *out a session handle with the token's
 * claims (sub may be empty; no tokens; expires: the token's exp, 0 when
 * unknown), error and description {NULL, 0}. Refused: *out NULL, error
 * and description the RFC 6750 error and its description (views into
 * data). Errors: EDECODE.
 */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_bearer_decode(
    const unsigned char *data, size_t len, auth_oidc_session_t **out,
    auth_oidc_str_t *error, auth_oidc_str_t *description,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* The scopes a bearer token grants, space-separated ({NULL, 0}: none, or
 * a login session). */
AUTH_OIDC_API auth_oidc_str_t auth_oidc_session_scope(
    const auth_oidc_session_t *s) AUTH_OIDC_NOEXCEPT;


/* The next step, after the last went as result says. */
AUTH_OIDC_API auth_oidc_status_t auth_oidc_flow_resume(auth_oidc_flow_t *flow,
    const auth_oidc_step_result_t *result, auth_oidc_step_t *next,
    auth_oidc_error_t *err) AUTH_OIDC_NOEXCEPT;

/* Accepts NULL. */
AUTH_OIDC_API void auth_oidc_flow_free(auth_oidc_flow_t *flow)
    AUTH_OIDC_NOEXCEPT;


#ifdef __cplusplus
}
#endif

#endif /* AUTH_OIDC_CORE_H */
