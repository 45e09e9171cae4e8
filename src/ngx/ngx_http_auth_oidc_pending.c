
/*
 * A started login (nonce, PKCE verifier, where to return) is kept in the
 * browser that started it rather than on the server: sealed (AES-256-GCM
 * with the store's keyring, by the core's login flow) into a cookie of its
 * own, named after part of the state and bound to the whole state and the
 * provider by the sealing's associated data. This file finds and opens it
 * at the callback.
 *
 * So an unauthenticated page load stores nothing server-side: a flood of
 * them cannot evict other users' started logins nor grow Redis. A login is
 * used once: the callback flow adds the state to the store (put-if-absent,
 * for the login's remaining lifetime) before it exchanges the code.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_pending_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *cookie, auth_oidc_pending_t **pending);


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
    auth_oidc_error_t  err;

    if (auth_oidc_started_login_open(prov->store->keyring,
                                     ngx_http_auth_oidc_view(&prov->name),
                                     ngx_http_auth_oidc_view(state),
                                     ngx_http_auth_oidc_view(cookie),
                                     pending, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login cookie refused: %s",
                      &prov->name, err.msg);
        return NGX_DECLINED;
    }

    return NGX_OK;
}
