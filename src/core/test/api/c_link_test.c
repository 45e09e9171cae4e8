/*
 * Uses the boundary from strict C99 and is linked with a C linker, as the
 * nginx module will be: proves the header is C-clean and that the archive
 * plus -ljansson -lcjose -lcrypto -lstdc++ resolves.
 */

#include <stdio.h>
#include <string.h>

#include "auth_oidc_core.h"

static const char discovery[] =
    "{\"issuer\":\"https://op.example\","
    "\"authorization_endpoint\":\"https://op.example/authorize\","
    "\"token_endpoint\":\"https://op.example/token\","
    "\"jwks_uri\":\"https://op.example/jwks\"}";

static const char jwks[] =
    "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k\","
    "\"x\":\"3oMBmhm-Yn8KCyob6mIR33dZJfLK6TNodwrSj_LdQkI\"}]}";

int main(void) {
    auth_oidc_discovery_t *d = NULL;
    auth_oidc_jwks_t *k = NULL;
    auth_oidc_error_t err;
    auth_oidc_str_t issuer;
    auth_oidc_str_t jwks_uri;
    int failed = 0;

    issuer.data = (const unsigned char *) "https://op.example";
    issuer.len = strlen("https://op.example");

    if (auth_oidc_discovery_parse((const unsigned char *) discovery,
                                  sizeof(discovery) - 1, issuer, &d, &err)
        != AUTH_OIDC_OK)
    {
        fprintf(stderr, "discovery: %s\n", err.msg);
        return 1;
    }

    jwks_uri = auth_oidc_discovery_endpoint(d, AUTH_OIDC_EP_JWKS);
    if (jwks_uri.len != strlen("https://op.example/jwks")
        || memcmp(jwks_uri.data, "https://op.example/jwks", jwks_uri.len) != 0)
    {
        fprintf(stderr, "unexpected jwks_uri\n");
        failed = 1;
    }

    if (auth_oidc_jwks_parse((const unsigned char *) jwks, sizeof(jwks) - 1,
                             &k, &err)
        != AUTH_OIDC_OK)
    {
        fprintf(stderr, "jwks: %s\n", err.msg);
        failed = 1;

    } else if (auth_oidc_jwks_count(k) != 1) {
        fprintf(stderr, "unexpected key count\n");
        failed = 1;
    }

    /*
     * C may pass any int in an enum parameter (C++ may not, which is why
     * these checks live here).
     */
    if (strcmp(auth_oidc_status_string((auth_oidc_status_t) 999),
               "unknown status") != 0
        || strcmp(auth_oidc_status_string((auth_oidc_status_t) -1),
                  "unknown status") != 0)
    {
        fprintf(stderr, "out-of-range status not handled\n");
        failed = 1;
    }

    if (auth_oidc_discovery_endpoint(d, (auth_oidc_endpoint_t) -1).data != NULL
        || auth_oidc_discovery_endpoint(d, (auth_oidc_endpoint_t) 1000).data
           != NULL)
    {
        fprintf(stderr, "out-of-range endpoint not handled\n");
        failed = 1;
    }

    /* The login-flow half of the boundary, from C. */
    {
        static const unsigned char random[32] = { 1, 2, 3 };
        unsigned char                state[AUTH_OIDC_BASE64URL_LEN(32)];
        unsigned char                challenge[AUTH_OIDC_PKCE_CHALLENGE_LEN];
        unsigned char                record[256];
        size_t                       needed;
        auth_oidc_str_t              verifier;
        auth_oidc_pending_fields_t   in;
        auth_oidc_pending_t         *pending;
        auth_oidc_flow_t            *flow;
        auth_oidc_step_t             step;
        auth_oidc_step_result_t      result;
        auth_oidc_logout_params_t    logout;

        if (auth_oidc_base64url_encode(random, sizeof(random), state,
                                       sizeof(state))
            != sizeof(state))
        {
            fprintf(stderr, "base64url_encode\n");
            failed = 1;
        }

        verifier.data = state;
        verifier.len = sizeof(state);
        if (auth_oidc_pkce_s256(verifier, challenge, sizeof(challenge))
            != AUTH_OIDC_PKCE_CHALLENGE_LEN)
        {
            fprintf(stderr, "pkce_s256\n");
            failed = 1;
        }

        memset(&in, 0, sizeof(in));
        in.nonce = verifier;
        in.return_path.data = (const unsigned char *) "/";
        in.return_path.len = 1;
        in.expires = 600;
        pending = NULL;
        if (auth_oidc_pending_encode(&in, record, sizeof(record), &needed,
                                     &err)
            != AUTH_OIDC_OK
            || needed > sizeof(record)
            || auth_oidc_pending_decode(record, needed, &pending, &err)
               != AUTH_OIDC_OK
            || auth_oidc_pending_fields(pending)->expires != 600)
        {
            fprintf(stderr, "pending record: %s\n", err.msg);
            failed = 1;
        }
        auth_oidc_pending_free(pending);

        /* A flow through the C boundary; an out-of-range outcome is
         * C-only territory too. */
        memset(&logout, 0, sizeof(logout));
        logout.provider = issuer;
        logout.client_id = issuer;
        flow = NULL;
        memset(&result, 0, sizeof(result));
        if (auth_oidc_logout_flow(&logout, &flow, &step, &err) != AUTH_OIDC_OK
            || step.kind != AUTH_OIDC_STEP_METADATA
            || !step.metadata_optional)
        {
            fprintf(stderr, "logout flow: %s\n", err.msg);
            failed = 1;
        }
        result.fetch = (auth_oidc_fetch_outcome_t) 77;
        if (flow == NULL
            || auth_oidc_flow_resume(flow, &result, &step, &err)
               != AUTH_OIDC_EINVAL)
        {
            fprintf(stderr, "out-of-range outcome not handled\n");
            failed = 1;
        }
        result.fetch = AUTH_OIDC_FETCH_OK;
        if (flow == NULL
            || auth_oidc_flow_resume(flow, &result, &step, &err)
               != AUTH_OIDC_OK
            || step.kind != AUTH_OIDC_STEP_REPLY || step.status != 200
            || !step.clear_session)
        {
            fprintf(stderr, "logout flow reply\n");
            failed = 1;
        }
        auth_oidc_flow_free(flow);

        if (strcmp(auth_oidc_status_string(AUTH_OIDC_EDECODE),
                   "malformed record") != 0
            || strcmp(auth_oidc_status_string(AUTH_OIDC_EAUTH),
                      "authentication failed") != 0
            || strcmp(auth_oidc_status_string(
                          (auth_oidc_status_t) (AUTH_OIDC_EAUTH + 1)),
                      "unknown status") != 0)
        {
            fprintf(stderr, "new status strings\n");
            failed = 1;
        }
    }

    /* Encryption at rest, the way the Redis store uses it. */
    {
        static const unsigned char  nonce[AUTH_OIDC_SEAL_NONCE_LEN] = { 7 };
        unsigned char               name[AUTH_OIDC_LOOKUP_KEY_LEN];
        unsigned char               sealed[64];
        unsigned char               plain[32];
        size_t                      len, plain_len;
        auth_oidc_str_t             secret, none, kind, id, aad, text, rec;
        auth_oidc_keyring_t        *kr;

        secret.data = (const unsigned char *)
                      "0123456789abcdef0123456789abcdef";
        secret.len = 32;
        none.data = NULL;
        none.len = 0;
        kind.data = (const unsigned char *) "s";
        kind.len = 1;
        id.data = (const unsigned char *) "session-id";
        id.len = 10;
        text.data = (const unsigned char *) "record";
        text.len = 6;

        kr = NULL;
        if (auth_oidc_keyring_new(secret, none, &kr, &err) != AUTH_OIDC_OK
            || auth_oidc_keyring_rotated(kr) != 0
            || auth_oidc_keyring_lookup_key(kr, kind, id, 1, name,
                                            sizeof(name)) != 0
            || auth_oidc_keyring_lookup_key(kr, kind, id, 0, name,
                                            sizeof(name))
               != AUTH_OIDC_LOOKUP_KEY_LEN)
        {
            fprintf(stderr, "keyring: %s\n", err.msg);
            failed = 1;

        } else {
            aad.data = name;
            aad.len = sizeof(name);
            rec.data = sealed;
            if (auth_oidc_seal(kr, aad, text, nonce, sealed, sizeof(sealed),
                               &rec.len, &err)
                != AUTH_OIDC_OK
                || rec.len != text.len + AUTH_OIDC_SEAL_OVERHEAD
                || auth_oidc_open(kr, aad, rec, plain, sizeof(plain),
                                  &plain_len, &err)
                   != AUTH_OIDC_OK
                || plain_len != text.len
                || memcmp(plain, text.data, text.len) != 0)
            {
                fprintf(stderr, "seal/open: %s\n", err.msg);
                failed = 1;
            }

            sealed[rec.len - 1] ^= 1;
            len = 1;
            if (auth_oidc_open(kr, aad, rec, plain, sizeof(plain), &len, &err)
                != AUTH_OIDC_EAUTH
                || len != 0)
            {
                fprintf(stderr, "altered record opened\n");
                failed = 1;
            }
        }

        auth_oidc_keyring_free(kr);
    }

    auth_oidc_jwks_free(k);
    auth_oidc_discovery_free(d);

    return failed;
}
