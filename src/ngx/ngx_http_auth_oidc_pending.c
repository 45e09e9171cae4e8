
/*
 * A started login (nonce, PKCE verifier, where to return), kept in the
 * browser that started it rather than on the server: sealed (AES-256-GCM
 * with the store's keyring) into a cookie of its own, named after part of
 * the state and bound to the whole state and the provider by the sealing's
 * associated data.
 *
 * So an unauthenticated page load stores nothing server-side: a flood of
 * them cannot evict other users' started logins nor grow Redis. A login is
 * used once: the callback adds the state to the store (put-if-absent, for
 * the login's remaining lifetime) before it exchanges the code.
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_pending_aad(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    auth_oidc_str_t *aad);
static ngx_int_t ngx_http_auth_oidc_pending_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *cookie, auth_oidc_pending_t **pending);


ngx_int_t
ngx_http_auth_oidc_pending_save(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *record)
{
    size_t              len;
    ngx_str_t           value;
    u_char             *sealed;
    auth_oidc_str_t     aad, plain;
    auth_oidc_error_t   err;
    u_char              nonce[AUTH_OIDC_SEAL_NONCE_LEN];

    if (ngx_http_auth_oidc_pending_aad(r, prov, state, &aad) != NGX_OK
        || RAND_bytes(nonce, sizeof(nonce)) != 1)
    {
        return NGX_ERROR;
    }

    len = record->len + AUTH_OIDC_SEAL_OVERHEAD;

    sealed = ngx_pnalloc(r->pool, len);
    value.len = AUTH_OIDC_BASE64URL_LEN(len);
    value.data = ngx_pnalloc(r->pool, value.len);

    if (sealed == NULL || value.data == NULL) {
        return NGX_ERROR;
    }

    plain.data = record->data;
    plain.len = record->len;

    if (auth_oidc_seal(prov->store->keyring, aad, plain, nonce, sealed, len,
                       &len, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": cannot seal the started "
                      "login: %s", &prov->name, err.msg);
        return NGX_ERROR;
    }

    if (auth_oidc_base64url_encode(sealed, len, value.data, value.len)
        != value.len)
    {
        return NGX_ERROR;
    }

    return ngx_http_auth_oidc_login_cookie_set(r, prov, state, &value);
}


/*
 * The started login the callback's state belongs to: among the providers
 * sharing the callback path, the one whose login cookie for this state
 * opens under its keyring and names it. Its cookie is cleared at once.
 */

ngx_int_t
ngx_http_auth_oidc_pending_find(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_str_t *state)
{
    ngx_int_t                            rc;
    ngx_str_t                            name, cookie;
    ngx_uint_t                           i, found;
    auth_oidc_pending_t                 *pending;
    const auth_oidc_pending_fields_t    *f;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    found = 0;

    for (i = 0; i < ctx->ncandidates; i++) {
        prov = ctx->candidates[i];

        if (prov->redirect_path.len != ctx->provider->redirect_path.len
            || ngx_strncmp(prov->redirect_path.data,
                           ctx->provider->redirect_path.data,
                           prov->redirect_path.len)
               != 0)
        {
            continue;
        }

        rc = ngx_http_auth_oidc_login_cookie_name(r, prov, state, &name);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK
            || ngx_http_auth_oidc_cookie_get(r, &name, &cookie) != NGX_OK)
        {
            continue;
        }

        found = 1;

        if (ngx_http_auth_oidc_pending_open(r, prov, state, &cookie, &pending)
            != NGX_OK)
        {
            continue;
        }

        f = auth_oidc_pending_fields(pending);

        if (f->provider.len != prov->name.len
            || ngx_strncmp(f->provider.data, prov->name.data,
                           prov->name.len) != 0
            || f->expires <= (int64_t) ngx_time())
        {
            auth_oidc_pending_free(pending);
            continue;
        }

        if (ngx_http_auth_oidc_login_cookie_set(r, prov, state, NULL)
            != NGX_OK)
        {
            auth_oidc_pending_free(pending);
            return NGX_ERROR;
        }

        auth_oidc_pending_free(ctx->pending);
        ctx->pending = pending;
        ctx->provider = prov;

        return NGX_OK;
    }

    if (found) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: login answer with an expired, altered or "
                      "foreign login cookie");

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: login answer for a login this browser did "
                      "not start, or started too long ago");
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_auth_oidc_pending_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *cookie, auth_oidc_pending_t **pending)
{
    size_t              len;
    u_char             *sealed, *plain;
    auth_oidc_str_t     aad, in;
    auth_oidc_error_t   err;

    if (ngx_http_auth_oidc_pending_aad(r, prov, state, &aad) != NGX_OK) {
        return NGX_ERROR;
    }

    sealed = ngx_pnalloc(r->pool, cookie->len);
    if (sealed == NULL) {
        return NGX_ERROR;
    }

    len = auth_oidc_base64url_decode(cookie->data, cookie->len, sealed,
                                     cookie->len);

    if (len == 0 || len > cookie->len || len < AUTH_OIDC_SEAL_OVERHEAD) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login cookie is not "
                      "base64url", &prov->name);
        return NGX_DECLINED;
    }

    plain = ngx_pnalloc(r->pool, len);
    if (plain == NULL) {
        return NGX_ERROR;
    }

    in.data = sealed;
    in.len = len;

    if (auth_oidc_open(prov->store->keyring, aad, in, plain, len, &len, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login cookie refused: %s",
                      &prov->name, err.msg);
        return NGX_DECLINED;
    }

    if (auth_oidc_pending_decode(plain, len, pending, &err) != AUTH_OIDC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": started login refused: %s",
                      &prov->name, err.msg);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* "login" LF provider LF state: a sealed login opens for nothing else. */

static ngx_int_t
ngx_http_auth_oidc_pending_aad(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    auth_oidc_str_t *aad)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, sizeof("login\n\n") - 1 + prov->name.len
                             + state->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    aad->data = p;
    p = ngx_cpymem(p, "login\n", sizeof("login\n") - 1);
    p = ngx_cpymem(p, prov->name.data, prov->name.len);
    *p++ = '\n';
    p = ngx_cpymem(p, state->data, state->len);
    aad->len = p - (u_char *) aad->data;

    return NGX_OK;
}
