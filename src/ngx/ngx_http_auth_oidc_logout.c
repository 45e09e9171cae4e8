
/*
 * logout_uri: the request's part (method, origin, cookie); the session's
 * end, its cookie and where the browser goes (end_session_endpoint,
 * post_logout_uri, a small page) are the core's logout flow, run by the
 * driver.
 *
 * Another site must not log a user out (logout CSRF): a GET or HEAD only
 * shows a page with a "Log out" button, and the session ends only with a
 * POST from our own origin (Origin; without it Sec-Fetch-Site; without
 * both Referer). A POST that shows none of them (a browser hiding its
 * Referer) gets a 403 that says so, never a logout anyone could forge.
 */


#include "ngx_http_auth_oidc_module.h"


/* the longest a logout waits for the provider's revocation endpoint */
#define NGX_HTTP_AUTH_OIDC_REVOKE_TIMEOUT  2000


static ngx_int_t ngx_http_auth_oidc_confirm_form(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);


void
ngx_http_auth_oidc_logout(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t                  id, post;
    auth_oidc_error_t          err;
    auth_oidc_logout_params_t  params;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD
        && r->method != NGX_HTTP_POST)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed", NULL);
        return;
    }

    if (r->method == NGX_HTTP_POST
        && ngx_http_discard_request_body(r) != NGX_OK)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    if (r->method != NGX_HTTP_POST || !ngx_http_auth_oidc_same_origin(r, prov))
    {
        if (r->method == NGX_HTTP_POST) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "auth_oidc: logout POST not from this origin "
                          "refused");
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_FORBIDDEN,
                                       "Logout refused",
                                       "The logout did not come from this "
                                       "site. Please use its \"Log out\" "
                                       "button.");
            return;
        }

        if (ngx_http_auth_oidc_confirm_form(r, ctx) != NGX_OK) {
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "Logout failed", NULL);
            return;
        }

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_OK, "Log out?",
                                   "Do you want to log out of this site?");
        return;
    }

    ngx_memzero(&params, sizeof(auth_oidc_logout_params_t));

    if (ngx_http_auth_oidc_session_cookie(r, ctx, prov, &id) == NGX_OK
        && ngx_http_auth_oidc_session_key(r, prov, &id, &ctx->session_key)
           == NGX_OK)
    {
        params.session_id = ngx_http_auth_oidc_view(&id);
    }

    ngx_str_null(&post);

    if (prov->post_logout_uri.len
        && ngx_http_auth_oidc_absolute_uri(r, &prov->post_logout_uri, &post)
           != NGX_OK)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    params.provider = ngx_http_auth_oidc_view(&prov->name);
    params.client_id = ngx_http_auth_oidc_view(&prov->client_id);
    params.post_logout_uri = ngx_http_auth_oidc_view(&post);
    params.id_token_hint = (prov->logout_token_hint == 1);
    params.revoke_tokens = (prov->revoke_tokens == 1);
    ngx_http_auth_oidc_client_credentials(r->connection->log, prov,
                                          &params.client_secret,
                                          &params.client);
    params.now = (int64_t) ngx_time();
    params.revoke_timeout_ms = NGX_HTTP_AUTH_OIDC_REVOKE_TIMEOUT;

    /* the session ends, the cookie goes, the browser goes on (the core's
     * logout flow, src/core/flow/logout.cc) */
    auth_oidc_flow_free(ctx->flow);
    ctx->flow = NULL;

    if (auth_oidc_logout_flow(&params, &ctx->flow, &ctx->step, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": logout: %s",
                      &prov->name, err.msg);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    ngx_http_auth_oidc_drive(r, ctx);
}


static ngx_int_t
ngx_http_auth_oidc_confirm_form(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    size_t   len;
    u_char  *p;

    len = sizeof("<form method=\"post\" action=\"\">"
                 "<button type=\"submit\">Log out</button></form>") - 1
          + r->uri.len + ngx_escape_html(NULL, r->uri.data, r->uri.len);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->html.data = p;
    p = ngx_cpymem(p, "<form method=\"post\" action=\"",
                   sizeof("<form method=\"post\" action=\"") - 1);
    p = (u_char *) ngx_escape_html(p, r->uri.data, r->uri.len);
    p = ngx_cpymem(p, "\"><button type=\"submit\">Log out</button></form>",
                   sizeof("\"><button type=\"submit\">Log out</button>"
                          "</form>") - 1);
    ctx->html.len = p - ctx->html.data;

    return NGX_OK;
}
