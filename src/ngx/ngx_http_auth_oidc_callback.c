
/*
 * The callback at redirect_uri: what only the request can tell (method,
 * state, the started login opened from its cookie, the query), then the
 * core's callback flow (src/core/flow/callback.cc), run by the driver:
 * used state, answer checks, metadata, code exchange, ID token, session.
 */


#include "ngx_http_auth_oidc_module.h"


static void ngx_http_auth_oidc_redact_request_line(ngx_http_request_t *r);


void
ngx_http_auth_oidc_callback(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_int_t                            rc;
    ngx_str_t                            state, v;
    auth_oidc_error_t                    err;
    auth_oidc_callback_params_t          params;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    ngx_http_auth_oidc_redact_request_line(r);

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed", NULL);
        return;
    }

    if (ngx_http_auth_oidc_arg(r, "state", 5, &state) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: login answer without a state");

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Login failed",
                                   "The login answer has no state.");
        return;
    }

    /* the login must have been started by this browser, for a provider of
     * this path: its sealed cookie says which */
    rc = ngx_http_auth_oidc_pending_find(r, ctx, &state);

    if (rc == NGX_DECLINED) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Login expired",
                                   "This login is unknown, expired or was "
                                   "already used. Please go back and try "
                                   "again.");
        return;
    }

    prov = ctx->provider;

    if (rc != NGX_OK
        || ngx_http_auth_oidc_absolute_uri(r, &prov->redirect_uri,
                                           &ctx->redirect_uri)
           != NGX_OK
        || ngx_http_auth_oidc_random_id(r->pool, &ctx->session_id) != NGX_OK)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed", NULL);
        return;
    }

    ngx_memzero(&params, sizeof(auth_oidc_callback_params_t));

    params.provider = ngx_http_auth_oidc_view(&prov->name);
    params.issuer = ngx_http_auth_oidc_view(&prov->issuer);
    params.client_id = ngx_http_auth_oidc_view(&prov->client_id);
    ngx_http_auth_oidc_client_credentials(r->connection->log, prov,
                                          &params.client_secret,
                                          &params.client);
    params.redirect_uri = ngx_http_auth_oidc_view(&ctx->redirect_uri);
    params.algorithms = ngx_http_auth_oidc_view(&prov->id_token_algorithms);
    params.state = ngx_http_auth_oidc_view(&state);
    params.session_id = ngx_http_auth_oidc_view(&ctx->session_id);

    if (ngx_http_auth_oidc_arg(r, "code", 4, &v) == NGX_OK) {
        params.code = ngx_http_auth_oidc_view(&v);
    }

    if (ngx_http_auth_oidc_arg(r, "error", 5, &v) == NGX_OK) {
        params.error = ngx_http_auth_oidc_view(&v);
    }

    if (ngx_http_auth_oidc_arg(r, "error_description", 17, &v) == NGX_OK) {
        params.error_description = ngx_http_auth_oidc_view(&v);
    }

    if (ngx_http_auth_oidc_arg(r, "iss", 3, &v) == NGX_OK) {
        params.iss = ngx_http_auth_oidc_view(&v);
    }

    params.leeway = prov->clock_skew;
    params.session_timeout = prov->session_timeout;
    params.idle_timeout = prov->session_idle_timeout;
    params.userinfo = prov->userinfo;
    params.index_sessions = ngx_http_auth_oidc_index_sessions(prov);
    params.drop_tokens = (int) prov->drop_tokens;
    params.keep_claims = ngx_http_auth_oidc_view(&prov->keep_claims);
    params.pending = ctx->pending;
    params.now = ngx_time();

    auth_oidc_flow_free(ctx->flow);
    ctx->flow = NULL;

    if (auth_oidc_callback_flow(&params, &ctx->flow, &ctx->step, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login refused: %s",
                      &prov->name, err.msg);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed", NULL);
        return;
    }

    ctx->callback_flow = 1;

    ngx_http_auth_oidc_drive(r, ctx);
}


/*
 * nginx adds the request line to every log line about a request, and the
 * access log writes it too: the callback's code and state are taken out.
 */

static void
ngx_http_auth_oidc_redact_request_line(ngx_http_request_t *r)
{
    u_char     *q, *proto, *end, *d;
    ngx_str_t   line;

    line = r->request_line;
    end = line.data + line.len;

    q = ngx_strlchr(line.data, end, '?');
    if (q == NULL) {
        return;
    }

    /* " HTTP/1.1" after the URI, when the request line has one */
    proto = end;

    if (r->http_protocol.len
        && r->http_protocol.data > q
        && r->http_protocol.data <= end)
    {
        proto = r->http_protocol.data - 1;
    }

    d = ngx_pnalloc(r->pool, (q - line.data) + sizeof("?...") - 1
                             + (end - proto));
    if (d == NULL) {
        return;
    }

    r->request_line.data = d;
    d = ngx_cpymem(d, line.data, q - line.data);
    d = ngx_cpymem(d, "?...", sizeof("?...") - 1);
    d = ngx_cpymem(d, proto, end - proto);
    r->request_line.len = d - r->request_line.data;
}
