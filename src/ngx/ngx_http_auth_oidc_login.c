
/*
 * The start of a login: a one-time started login sealed into the browser's
 * cookie under a fresh state (ngx_http_auth_oidc_pending.c), and a redirect
 * to the provider's authorization endpoint with state, nonce and PKCE S256
 * (OpenID Connect Core 1.0, 3.1.2.1; RFC 7636).
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


static void ngx_http_auth_oidc_login_checked(ngx_http_request_t *r,
    ngx_int_t rc, ngx_str_t *value);


static ngx_int_t ngx_http_auth_oidc_login_fail(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *what,
    auth_oidc_error_t *err);


ngx_int_t
ngx_http_auth_oidc_login(ngx_http_request_t *r, ngx_http_auth_oidc_ctx_t *ctx,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char                        *p;
    size_t                         len;
    time_t                         now;
    ngx_int_t                      rc;
    ngx_str_t                      state, nonce, verifier, record, url;
    ngx_str_t                      redirect_uri, return_path;
    ngx_uint_t                     pkce;
    auth_oidc_str_t                uri;
    auth_oidc_error_t              err;
    auth_oidc_discovery_t         *d;
    auth_oidc_pending_fields_t     pending;
    auth_oidc_authorize_params_t   params;
    u_char                         challenge[AUTH_OIDC_PKCE_CHALLENGE_LEN];

    if (!ctx->store_checked) {
        /* no trip to the provider for a login its callback cannot keep */
        rc = ngx_http_auth_oidc_store_check(prov->store, r,
                                            ngx_http_auth_oidc_login_checked);
        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        ctx->store_checked = 1;
    }

    d = prov->runtime->discovery;
    now = ngx_time();

    if (ngx_http_auth_oidc_random_id(r->pool, &state) != NGX_OK
        || ngx_http_auth_oidc_random_id(r->pool, &nonce) != NGX_OK
        || ngx_http_auth_oidc_random_id(r->pool, &verifier) != NGX_OK
        || ngx_http_auth_oidc_absolute_uri(r, &prov->redirect_uri,
                                           &redirect_uri)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* on unless turned off, or the provider lists methods without S256 */
    pkce = (prov->pkce == NGX_CONF_UNSET)
           ? auth_oidc_discovery_pkce_s256(d) != 0
           : (ngx_uint_t) prov->pkce;

    if (pkce) {
        uri.data = verifier.data;
        uri.len = verifier.len;

        if (auth_oidc_pkce_s256(uri, challenge, sizeof(challenge))
            != sizeof(challenge))
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* only a local path comes back after the login: no open redirect */
    uri.data = r->unparsed_uri.data;
    uri.len = r->unparsed_uri.len;

    len = auth_oidc_safe_return_path(uri, NULL, 0);
    return_path.data = ngx_pnalloc(r->pool, len);
    if (return_path.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return_path.len = auth_oidc_safe_return_path(uri, return_path.data, len);

    ngx_memzero(&pending, sizeof(auth_oidc_pending_fields_t));
    pending.nonce.data = nonce.data;
    pending.nonce.len = nonce.len;
    pending.return_path.data = return_path.data;
    pending.return_path.len = return_path.len;
    pending.provider.data = prov->name.data;
    pending.provider.len = prov->name.len;
    pending.created = now;
    pending.expires = now + prov->login_timeout;

    if (pkce) {
        pending.code_verifier.data = verifier.data;
        pending.code_verifier.len = verifier.len;
    }

    if (auth_oidc_pending_encode(&pending, NULL, 0, &len, &err)
        != AUTH_OIDC_OK)
    {
        return ngx_http_auth_oidc_login_fail(r, prov, "pending login", &err);
    }

    record.data = ngx_pnalloc(r->pool, len);
    if (record.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (auth_oidc_pending_encode(&pending, record.data, len, &record.len,
                                 &err)
        != AUTH_OIDC_OK)
    {
        return ngx_http_auth_oidc_login_fail(r, prov, "pending login", &err);
    }

    ngx_memzero(&params, sizeof(auth_oidc_authorize_params_t));
    params.client_id.data = prov->client_id.data;
    params.client_id.len = prov->client_id.len;
    params.redirect_uri.data = redirect_uri.data;
    params.redirect_uri.len = redirect_uri.len;
    params.scope.data = prov->scope.data;
    params.scope.len = prov->scope.len;
    params.state.data = state.data;
    params.state.len = state.len;
    params.nonce.data = nonce.data;
    params.nonce.len = nonce.len;
    params.extra_args.data = prov->extra_auth_args.data;
    params.extra_args.len = prov->extra_auth_args.len;

    if (pkce) {
        params.code_challenge.data = challenge;
        params.code_challenge.len = sizeof(challenge);
    }

    if (auth_oidc_authorize_url(d, &params, NULL, 0, &len, &err)
        != AUTH_OIDC_OK)
    {
        return ngx_http_auth_oidc_login_fail(r, prov, "authorization URL",
                                             &err);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (auth_oidc_authorize_url(d, &params, p, len, &url.len, &err)
        != AUTH_OIDC_OK)
    {
        return ngx_http_auth_oidc_login_fail(r, prov, "authorization URL",
                                             &err);
    }

    url.data = p;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth oidc: login for \"%V\"", &return_path);

    if (ngx_http_auth_oidc_pending_save(r, prov, &state, &record) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_auth_oidc_redirect(r, &url);
}


static void
ngx_http_auth_oidc_login_checked(ngx_http_request_t *r, ngx_int_t rc,
    ngx_str_t *value)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ctx->store_checked = 1;

    if (rc == NGX_ERROR) {
        ctx->store_failed = 1;
    }

    ngx_http_auth_oidc_wake(r, ctx);
}


static ngx_int_t
ngx_http_auth_oidc_login_fail(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *what,
    auth_oidc_error_t *err)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "auth_oidc: provider \"%V\": cannot build the %s: %s",
                  &prov->name, what, err->msg);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}
