
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
 * The POST's body is read first, as ngx_http_mirror_module does: the
 * reading holds the request, and when the body is in the phases run again
 * and the endpoint handler starts the flow (ngx_http_auth_oidc_backchannel
 * _start()). A body that fails to arrive is nginx's to answer; nothing of
 * ours holds the request meanwhile. Answers are the specification's: JSON,
 * never a page, never cached. NGX_DONE: the request is the body reading's.
 */

ngx_int_t
ngx_http_auth_oidc_backchannel(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t  rc;

    ctx->oauth_answer = 1;

    if (ctx->body_requested) {
        ngx_http_auth_oidc_backchannel_start(r, ctx);
        return NGX_OK;
    }

    if (r->method != NGX_HTTP_POST
        || r->headers_in.content_length_n > NGX_HTTP_AUTH_OIDC_LOGOUT_BODY_MAX)
    {
        /* what the client sent after the headers is not the next request */
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

        if (r->method != NGX_HTTP_POST) {
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                       "invalid_request",
                                       "a logout token is POSTed");
        } else {
            r->keepalive = 0;
            ngx_http_auth_oidc_outcome(r, ctx,
                                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "invalid_request",
                                       "the body is too large for a logout "
                                       "token");
        }

        return NGX_OK;
    }

    ctx->body_requested = 1;

    rc = ngx_http_read_client_request_body(r,
                                       ngx_http_auth_oidc_backchannel_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* nginx's own answer (400, 413): the request is done */
        return rc;
    }

    /* the reference the body reading took is the request's hold now */
    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_auth_oidc_backchannel_body(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
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
    ngx_http_auth_oidc_client_credentials(r->connection->log, prov,
                                          &params.client_secret, NULL);
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
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

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
     * only a request the browser says comes from this site (the provider
     * on the same site framing us) ends the cookie's session; a link
     * elsewhere, or a browser that does not say, must not (logout CSRF).
     */
    site = ngx_http_auth_oidc_header_in(r, "Sec-Fetch-Site",
                                        sizeof("Sec-Fetch-Site") - 1);

    if (site
        && ((site->value.len == sizeof("same-origin") - 1
             && ngx_strncasecmp(site->value.data, (u_char *) "same-origin",
                                site->value.len)
                == 0)
            || (site->value.len == sizeof("same-site") - 1
                && ngx_strncasecmp(site->value.data, (u_char *) "same-site",
                                   site->value.len)
                   == 0))
        && ngx_http_auth_oidc_session_cookie(r, ctx, prov, &id) == NGX_OK
        && ngx_http_auth_oidc_session_key(r, prov, &id, &ctx->session_key)
           == NGX_OK)
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
