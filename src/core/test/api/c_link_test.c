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

    auth_oidc_jwks_free(k);
    auth_oidc_discovery_free(d);

    return failed;
}
