
/*
 * Logout from the provider's side: backchannel_logout_uri (OpenID Connect
 * Back-Channel Logout 1.0: the provider POSTs a logout token, server to
 * server) and frontchannel_logout_uri (Front-Channel Logout 1.0: the
 * provider's page loads it in an iframe). What ends which session is the
 * core's (src/core/flow/backchannel.h, frontchannel.h), run by the driver
 * over the session index the store keeps by "sid" and "sub".
 */


#include "ngx_http_auth_oidc_module.h"


/* a logout token is a few KiB; a body that is not is not one */
#define NGX_HTTP_AUTH_OIDC_LOGOUT_BODY_MAX  (64 * 1024)

/* how long ago a logout token may have been issued, and its jti kept */
#define NGX_HTTP_AUTH_OIDC_LOGOUT_MAX_AGE   600


static void ngx_http_auth_oidc_backchannel_body(ngx_http_request_t *r);
static void ngx_http_auth_oidc_backchannel_start(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_body(ngx_http_request_t *r,
    ngx_str_t *body);


/*
 * The POST's body is read first (the endpoint handler runs again when it
 * is in); a GET or a body that is no form gets a 400 of its own, as the
 * specification's answers are: JSON, never a page, never cached.
 */

void
ngx_http_auth_oidc_backchannel(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t  rc;

    ctx->oauth_answer = 1;

    if (ctx->body_requested) {
        /* the body is in: ngx_http_auth_oidc_backchannel_body() */
        ngx_http_auth_oidc_backchannel_start(r, ctx);
        return;
    }

    if (r->method != NGX_HTTP_POST) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "invalid_request",
                                   "a logout token is POSTed");
        return;
    }

    if (r->headers_in.content_length_n > NGX_HTTP_AUTH_OIDC_LOGOUT_BODY_MAX) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "invalid_request",
                                   "the body is too large for a logout "
                                   "token");
        return;
    }

    ctx->body_requested = 1;

    rc = ngx_http_read_client_request_body(r,
                                       ngx_http_auth_oidc_backchannel_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ngx_http_auth_oidc_outcome(r, ctx, rc, "invalid_request",
                                   "the body could not be read");
        return;
    }

    /* the reference the body reading took; ours is taken by the answer */
    ngx_http_finalize_request(r, NGX_DONE);
}


static void
ngx_http_auth_oidc_backchannel_body(ngx_http_request_t *r)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    /* the answer wakes the request (ngx_http_auth_oidc_outcome()), or the
     * endpoint handler, still running, gives it */
    ngx_http_auth_oidc_backchannel_start(r, ctx);
}


static void
ngx_http_auth_oidc_backchannel_start(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_str_t                            body, token;
    auth_oidc_error_t                    err;
    auth_oidc_backchannel_params_t       params;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    if (ctx->flow || ctx->done) {
        return;
    }

    prov = ctx->provider;

    ngx_str_null(&token);

    if (ngx_http_auth_oidc_body(r, &body) == NGX_OK
        && ngx_http_auth_oidc_form_value(r->pool, &body, "logout_token",
                                         sizeof("logout_token") - 1, &token)
           == NGX_ERROR)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "server_error", NULL);
        return;
    }

    ngx_memzero(&params, sizeof(auth_oidc_backchannel_params_t));

    params.provider = ngx_http_auth_oidc_view(&prov->name);
    params.issuer = ngx_http_auth_oidc_view(&prov->issuer);
    params.client_id = ngx_http_auth_oidc_view(&prov->client_id);
    params.client_secret = ngx_http_auth_oidc_view(&prov->client_secret);
    params.algorithms = ngx_http_auth_oidc_view(&prov->id_token_algorithms);
    params.leeway = prov->clock_skew;
    params.max_age = NGX_HTTP_AUTH_OIDC_LOGOUT_MAX_AGE;
    params.token = ngx_http_auth_oidc_view(&token);
    params.now = (int64_t) ngx_time();

    if (auth_oidc_backchannel_flow(&params, &ctx->flow, &ctx->step, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: back-channel logout not started: %s",
                      err.msg);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "server_error", NULL);
        return;
    }

    ngx_http_auth_oidc_drive(r, ctx);
}


/* The form body, in one buffer in memory; NGX_DECLINED when it is not. */

static ngx_int_t
ngx_http_auth_oidc_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char           *p;
    size_t            len;
    ngx_chain_t      *cl;
    ngx_table_elt_t  *type;

    type = r->headers_in.content_type;

    if (type == NULL
        || type->value.len < sizeof("application/x-www-form-urlencoded") - 1
        || ngx_strncasecmp(type->value.data,
                           (u_char *) "application/x-www-form-urlencoded",
                           sizeof("application/x-www-form-urlencoded") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    if (r->request_body == NULL || r->request_body->temp_file) {
        return NGX_DECLINED;
    }

    /* the part read with the headers and the rest: one string */
    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            return NGX_DECLINED;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if (len == 0 || len > NGX_HTTP_AUTH_OIDC_LOGOUT_BODY_MAX) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->last != cl->buf->pos) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    return NGX_OK;
}


/*
 * The iframe's GET: iss and sid from the query, or the session cookie
 * (only sent when it is not SameSite-restricted); a page the provider may
 * frame.
 */

void
ngx_http_auth_oidc_frontchannel(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t                         rc;
    ngx_str_t                         iss, sid, id;
    ngx_table_elt_t                  *site;
    auth_oidc_error_t                 err;
    auth_oidc_frontchannel_params_t   params;

    ctx->framed = 1;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed", NULL);
        return;
    }

    ngx_memzero(&params, sizeof(auth_oidc_frontchannel_params_t));

    params.provider = ngx_http_auth_oidc_view(&prov->name);
    params.issuer = ngx_http_auth_oidc_view(&prov->issuer);

    rc = ngx_http_auth_oidc_arg(r, "iss", 3, &iss);
    if (rc == NGX_OK) {
        params.iss = ngx_http_auth_oidc_view(&iss);
    }

    if (rc != NGX_ERROR) {
        rc = ngx_http_auth_oidc_arg(r, "sid", 3, &sid);
        if (rc == NGX_OK) {
            params.sid = ngx_http_auth_oidc_view(&sid);
        }
    }

    if (rc == NGX_ERROR) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    /*
     * The cookie is sent along a top-level GET from anywhere (SameSite=Lax):
     * a link on another site must not log the user out (logout CSRF).
     */
    site = ngx_http_auth_oidc_header_in(r, "Sec-Fetch-Site",
                                        sizeof("Sec-Fetch-Site") - 1);

    if ((site == NULL
         || site->value.len != sizeof("cross-site") - 1
         || ngx_strncasecmp(site->value.data, (u_char *) "cross-site",
                            site->value.len)
            != 0)
        && ngx_http_auth_oidc_cookie_get(r, &prov->cookie_name, &id) == NGX_OK)
    {
        params.session_id = ngx_http_auth_oidc_view(&id);
    }

    if (auth_oidc_frontchannel_flow(&params, &ctx->flow, &ctx->step, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: front-channel logout not started: %s",
                      err.msg);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    ngx_http_auth_oidc_drive(r, ctx);
}


/* oidc_status: logouts from the provider, accepted and refused by reason. */

void
ngx_http_auth_oidc_provider_logout_count(ngx_http_auth_oidc_ctx_t *ctx,
    auth_oidc_step_t *step)
{
    ngx_http_auth_oidc_counters_t  *counters;

    counters = ngx_http_auth_oidc_counters(ctx->provider);

    if (counters == NULL) {
        return;
    }

    if (ctx->framed && step->status == NGX_HTTP_OK) {
        (void) ngx_atomic_fetch_add(&counters->frontchannel_logouts, 1);
        return;
    }

    if (!ctx->oauth_answer) {
        return;
    }

    if (step->reason >= 0 && step->reason < NGX_HTTP_AUTH_OIDC_BCL_REASONS) {
        (void) ngx_atomic_fetch_add(
                              &counters->backchannel_refused[step->reason], 1);

    } else if (step->status == NGX_HTTP_OK) {
        (void) ngx_atomic_fetch_add(&counters->backchannel_logouts, 1);
    }
}
