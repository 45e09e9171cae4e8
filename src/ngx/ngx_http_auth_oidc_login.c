
/*
 * The start of a login: fresh random values, then the core's login flow
 * (src/core/flow/login.cc), run by the driver: the started login sealed
 * into the browser's own cookie and a redirect to the provider's
 * authorization endpoint (OpenID Connect Core 1.0, 3.1.2.1; RFC 7636).
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_login_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *origin,
    ngx_uint_t *elsewhere);


/*
 * NGX_AGAIN while the flow waits (the access phase runs again when it
 * answers), else the answer: 302 with Location and the login's cookie set,
 * or an error status.
 */

ngx_int_t
ngx_http_auth_oidc_login(ngx_http_request_t *r, ngx_http_auth_oidc_ctx_t *ctx,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t                  rc;
    ngx_uint_t                 elsewhere;
    ngx_str_t                  state, nonce, verifier, redirect_uri, origin;
    auth_oidc_error_t          err;
    auth_oidc_login_params_t   params;
    u_char                     seal_nonce[AUTH_OIDC_SEAL_NONCE_LEN];

    if (ctx->done) {
        /* decided while the request waited (the store's answer) */
        return ctx->status;
    }

    if (ctx->flow && !ctx->suspended) {
        /* a flow of another path of this request, over: start afresh */
        auth_oidc_flow_free(ctx->flow);
        ctx->flow = NULL;
    }

    if (ctx->flow == NULL) {
        if (ngx_http_auth_oidc_random_id(r->pool, &state) != NGX_OK
            || ngx_http_auth_oidc_random_id(r->pool, &nonce) != NGX_OK
            || ngx_http_auth_oidc_random_id(r->pool, &verifier) != NGX_OK
            || RAND_bytes(seal_nonce, sizeof(seal_nonce)) != 1
            || ngx_http_auth_oidc_absolute_uri(r, &prov->redirect_uri,
                                               &redirect_uri)
               != NGX_OK
            || ngx_http_auth_oidc_login_origin(r, prov, &origin, &elsewhere)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* a kept form: the login comes back to the page that sends it */
        if (ctx->post_kept
            && ngx_http_auth_oidc_post_seal(r, ctx, prov, &state) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* a browser sent here again and again: stopped, and told why */
        rc = ngx_http_auth_oidc_login_loop(r, ctx, prov);
        if (rc != NGX_DECLINED) {
            return rc == NGX_ERROR ? NGX_HTTP_INTERNAL_SERVER_ERROR : rc;
        }

        ngx_memzero(&params, sizeof(auth_oidc_login_params_t));


        params.provider = ngx_http_auth_oidc_view(&prov->name);
        params.client_id = ngx_http_auth_oidc_view(&prov->client_id);
        params.redirect_uri = ngx_http_auth_oidc_view(&redirect_uri);
        params.scope = ngx_http_auth_oidc_view(&prov->scope);
        params.extra_args = ngx_http_auth_oidc_view(&prov->extra_auth_args);
        /* where the login comes back to: this page, or a script's page */
        params.uri = ngx_http_auth_oidc_view(ctx->return_to.len
                                             ? &ctx->return_to
                                             : &r->unparsed_uri);
        params.origin = ngx_http_auth_oidc_view(&origin);
        params.absolute_return = (int) elsewhere;
        params.return_hosts = ngx_http_auth_oidc_view(&prov->redirect_hosts);

        if (ngx_http_auth_oidc_step_up_params(r,
                   ngx_http_get_module_loc_conf(r, ngx_http_auth_oidc_module),
                   &params)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        params.state = ngx_http_auth_oidc_view(&state);
        params.nonce = ngx_http_auth_oidc_view(&nonce);
        params.verifier = ngx_http_auth_oidc_view(&verifier);


        params.seal_nonce.data = seal_nonce;
        params.seal_nonce.len = sizeof(seal_nonce);
        params.pkce = (prov->pkce == NGX_CONF_UNSET) ? -1 : (int) prov->pkce;
        params.login_timeout = prov->login_timeout;
        params.probe_store =
            (prov->store->type == NGX_HTTP_AUTH_OIDC_STORE_REDIS);
        params.keyring = prov->store->keyring;
        params.discovery = prov->runtime->discovery;
        params.now = ngx_time();

        if (ngx_http_auth_oidc_login_cookies_prune(r, prov, ctx->logins,
                                               NGX_HTTP_AUTH_OIDC_LOGINS_MAX)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (auth_oidc_login_flow(&params, &ctx->flow, &ctx->step, &err)
            != AUTH_OIDC_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_oidc: provider \"%V\": cannot start a "
                          "login: %s", &prov->name, err.msg);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_explicit_memzero(seal_nonce, sizeof(seal_nonce));

        ctx->login_flow = 1;

        ngx_http_auth_oidc_drive(r, ctx);
    }

    return ctx->done ? ctx->status : NGX_AGAIN;
}


/*
 * The origin this request's page is on, as a login comes back to it:
 * the request's host, with redirect_uri's scheme when that is absolute (a
 * TLS terminator in front); elsewhere when redirect_uri names another host
 * (one callback for the hosts under a cookie_domain), so that the login
 * comes back to this host, not the callback's.
 */

static ngx_int_t
ngx_http_auth_oidc_login_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *origin,
    ngx_uint_t *elsewhere)
{
    u_char     *p;
    size_t      scheme;
    ngx_str_t   own, callback, host, callback_host;

    static ngx_str_t  slash = ngx_string("/");

    *elsewhere = 0;

    if (ngx_http_auth_oidc_absolute_uri(r, &slash, &own) != NGX_OK) {
        return NGX_ERROR;
    }

    /* "http(s)://host[:port]/": without its "/" */
    own.len--;
    *origin = own;

    callback = prov->redirect_uri;

    if (callback.len == 0 || callback.data[0] == '/') {
        return NGX_OK;
    }

    p = ngx_strlchr(own.data, own.data + own.len, ':');
    host.data = p + 3;
    host.len = own.data + own.len - host.data;

    p = ngx_strlchr(callback.data, callback.data + callback.len, ':');
    if (p == NULL || callback.data + callback.len - p < 3) {
        return NGX_OK;
    }

    scheme = p - callback.data;
    callback_host.data = p + 3;
    p = ngx_strlchr(callback_host.data, callback.data + callback.len, '/');
    callback_host.len = (p ? p : callback.data + callback.len)
                        - callback_host.data;

    *elsewhere = !(host.len == callback_host.len
                   && ngx_strncasecmp(host.data, callback_host.data, host.len)
                      == 0);

    /* the callback's scheme: what the browser speaks to this site */
    origin->len = scheme + sizeof("://") - 1 + host.len;
    origin->data = ngx_pnalloc(r->pool, origin->len);
    if (origin->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(origin->data, callback.data, scheme);
    p = ngx_cpymem(p, "://", sizeof("://") - 1);
    ngx_memcpy(p, host.data, host.len);

    return NGX_OK;
}
