
/*
 * Refresh: a request whose session's tokens are near or past expiry
 * refreshes them at the provider's token endpoint before it goes on
 * (the refresh flow, src/core/flow/refresh.h, run by the driver).
 *
 * The hot path only asks auth_oidc_session_tokens(): no flow machinery
 * for a session whose tokens are valid.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"


/* how often a request whose tokens expired looks for another's refresh */
#define NGX_HTTP_AUTH_OIDC_REFRESH_POLL  50


static void ngx_http_auth_oidc_refresh_done(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static void ngx_http_auth_oidc_refresh_incident(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_step_t *step);


/*
 * NGX_OK: the session (maybe refreshed, maybe gone: ctx->session) is what
 * the request goes on with; NGX_AGAIN: a refresh is under way, the phases
 * run again when it ends; NGX_ERROR.
 */

ngx_int_t
ngx_http_auth_oidc_refresh(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_msec_t                   total;
    auth_oidc_error_t            err;
    auth_oidc_refresh_params_t   params;

    ctx->refresh_checked = 1;

    if (auth_oidc_session_tokens(ctx->session, (int64_t) ngx_time(),
                                 (int64_t) prov->refresh_margin)
        == AUTH_OIDC_TOKENS_VALID)
    {
        return NGX_OK;
    }

    total = ngx_http_auth_oidc_provider_total_timeout(prov);

    ngx_memzero(&params, sizeof(auth_oidc_refresh_params_t));

    params.provider = ngx_http_auth_oidc_view(&prov->name);
    params.issuer = ngx_http_auth_oidc_view(&prov->issuer);
    params.client_id = ngx_http_auth_oidc_view(&prov->client_id);
    ngx_http_auth_oidc_client_credentials(r->connection->log, prov,
                                          &params.client_secret,
                                          &params.client);
    params.algorithms = ngx_http_auth_oidc_view(&prov->id_token_algorithms);
    params.leeway = prov->clock_skew;
    params.session_timeout = prov->session_timeout;
    params.idle_timeout = prov->session_idle_timeout;
    params.margin = prov->refresh_margin;
    params.userinfo = prov->userinfo;
    params.index_sessions = ngx_http_auth_oidc_index_sessions(prov);
    params.drop_tokens = (int) prov->drop_tokens;
    params.keep_claims = ngx_http_auth_oidc_view(&prov->keep_claims);

    /* metadata waited for, a token request, keys refetched once and a
     * userinfo request, each at its bound: the lock outlives the longest
     * refresh, so that no second one starts with the same refresh token */
    params.lock_seconds = (int64_t) (4 * total / 1000 + 5);
    params.wait_ms = (int64_t) total;
    params.poll_ms = NGX_HTTP_AUTH_OIDC_REFRESH_POLL;
    params.retry_seconds = prov->metadata_retry;

    params.session_id = ngx_http_auth_oidc_view(&ctx->session_id);
    params.session = ctx->session;
    params.now = (int64_t) ngx_time();

    auth_oidc_flow_free(ctx->flow);
    ctx->flow = NULL;

    if (auth_oidc_refresh_flow(&params, &ctx->flow, &ctx->step, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: refresh not started: %s", err.msg);
        return NGX_ERROR;
    }

    ctx->refreshing = 1;
    ctx->finish = ngx_http_auth_oidc_refresh_done;

    ngx_http_auth_oidc_drive(r, ctx);

    if (ctx->done) {
        /* the driver failed before any wait (logged): nothing wakes us */
        return NGX_ERROR;
    }

    return ctx->refreshing ? NGX_AGAIN : NGX_OK;
}


/* The driver's DONE: the session the request goes on with. */

static void
ngx_http_auth_oidc_refresh_done(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_str_t                            record;
    auth_oidc_step_t                    *step;
    auth_oidc_error_t                    err;
    auth_oidc_session_t                 *session;
    ngx_http_auth_oidc_counters_t       *counters;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    step = &ctx->step;
    prov = ctx->provider;
    counters = ngx_http_auth_oidc_counters(prov);

    ctx->refreshing = 0;

    ngx_http_auth_oidc_refresh_incident(r, prov, step);

    switch (step->outcome) {

    case AUTH_OIDC_DONE_SESSION:

        if (auth_oidc_session_decode(step->value.data, step->value.len,
                                     &session, &err)
            != AUTH_OIDC_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_oidc: refreshed session refused: %s",
                          err.msg);
            break;
        }

        auth_oidc_session_free(ctx->session);
        ctx->session = session;

        /* a cookie store's browser gets the session it goes on with */
        record.data = (u_char *) step->value.data;
        record.len = step->value.len;

        if (ngx_http_auth_oidc_cookie_session_keep(r, ctx, &record)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_oidc: provider \"%V\": the refreshed "
                          "session is not in the answer's cookies",
                          &prov->name);
        }

        if (counters) {
            (void) ngx_atomic_fetch_add(&counters->refreshes, 1);
        }

        break;

    case AUTH_OIDC_DONE_ENDED:
        auth_oidc_session_free(ctx->session);
        ctx->session = NULL;
        ctx->session_ended = 1;

        if (counters) {
            (void) ngx_atomic_fetch_add(&counters->refresh_ended, 1);
        }

        break;

    case AUTH_OIDC_DONE_UNAVAILABLE:
        auth_oidc_session_free(ctx->session);
        ctx->session = NULL;
        break;

    default: /* AUTH_OIDC_DONE_KEEP */
        break;
    }

    if (counters && ctx->paused) {
        (void) ngx_atomic_fetch_add(&counters->refresh_waits, 1);
    }

    auth_oidc_flow_free(ctx->flow);
    ctx->flow = NULL;

    ngx_http_auth_oidc_wake(r, ctx);
}


/*
 * A provider that is down or slow is said once per incident, by whichever
 * worker sees it first, and once more when refreshes work again.
 */

static void
ngx_http_auth_oidc_refresh_incident(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_step_t *step)
{
    ngx_http_auth_oidc_counters_t  *counters;

    counters = ngx_http_auth_oidc_counters(prov);

    if (step->detail.len) {
        if (counters) {
            (void) ngx_atomic_fetch_add(&counters->refresh_failures, 1);
        }

        if (counters == NULL
            || ngx_atomic_cmp_set(&counters->refresh_incident, 0, 1))
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_oidc: %*s; sessions go on until their "
                          "tokens expire",
                          step->detail.len, step->detail.data);
        }

        return;
    }

    if (step->outcome == AUTH_OIDC_DONE_SESSION && counters
        && ngx_atomic_cmp_set(&counters->refresh_incident, 1, 0))
    {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": refreshes work again",
                      &prov->name);
    }
}
