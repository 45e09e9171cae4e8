
/*
 * The start of a login: fresh random values, then the core's login flow
 * (src/core/flow/login.cc), run by the driver: the started login sealed
 * into the browser's own cookie and a redirect to the provider's
 * authorization endpoint (OpenID Connect Core 1.0, 3.1.2.1; RFC 7636).
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


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
    ngx_str_t                  state, nonce, verifier, redirect_uri;
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
