
/*
 * The driver: runs a core flow (auth_oidc_flow_t) for one request. The flow
 * decides; the driver only executes the step it asks for (a fetch from the
 * provider, a session store operation, provider metadata, the reply) on
 * nginx's event loop, and tells the flow how it went.
 *
 * Whatever is in flight belongs to the request: its pool cleanup
 * (ngx_http_auth_oidc_cleanup) cancels a fetch, drops a metadata wait and
 * frees the flow; a Redis command has its own cleanup. Every answer goes
 * through ngx_http_auth_oidc_outcome(), which resumes the phases.
 *
 * A new flow: a state machine in src/core/flow, a constructor in the C API
 * (auth_oidc_..._flow()), and a caller that starts it here with
 * ngx_http_auth_oidc_drive(). Nothing else in this file changes.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"
#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_drive_store(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result);
static void ngx_http_auth_oidc_drive_stored(void *data, ngx_int_t rc,
    ngx_str_t *value);
static void ngx_http_auth_oidc_drive_locked(ngx_http_auth_oidc_ctx_t *ctx,
    ngx_int_t rc);
static ngx_int_t ngx_http_auth_oidc_drive_fetch(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result);
static void ngx_http_auth_oidc_drive_fetched(ngx_http_auth_oidc_http_t *h);
static ngx_int_t ngx_http_auth_oidc_drive_metadata(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result);
static void ngx_http_auth_oidc_drive_metadata_in(ngx_http_request_t *r);
static void ngx_http_auth_oidc_drive_keys_in(ngx_http_request_t *r);
static void ngx_http_auth_oidc_drive_reply(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_drive_wait(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static void ngx_http_auth_oidc_drive_waited(ngx_event_t *ev);
static void ngx_http_auth_oidc_drive_resume(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result);
static void ngx_http_auth_oidc_drive_log(ngx_http_request_t *r,
    auth_oidc_step_t *step);


/*
 * Runs ctx->flow from ctx->step (its first step) until a step must wait
 * or the reply is given.
 */

void
ngx_http_auth_oidc_drive(ngx_http_request_t *r, ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_int_t                rc;
    auth_oidc_step_result_t  result;

    for ( ;; ) {
        ngx_http_auth_oidc_drive_log(r, &ctx->step);

        ngx_memzero(&result, sizeof(auth_oidc_step_result_t));

        switch (ctx->step.kind) {

        case AUTH_OIDC_STEP_STORE:
            rc = ngx_http_auth_oidc_drive_store(r, ctx, &result);
            break;

        case AUTH_OIDC_STEP_FETCH:
            rc = ngx_http_auth_oidc_drive_fetch(r, ctx, &result);
            break;

        case AUTH_OIDC_STEP_METADATA:
            rc = ngx_http_auth_oidc_drive_metadata(r, ctx, &result);
            break;

        case AUTH_OIDC_STEP_WAIT:
            rc = ngx_http_auth_oidc_drive_wait(r, ctx);
            break;

        case AUTH_OIDC_STEP_DONE:
            /* the request goes on: the flow's starter says how */
            ctx->finish(r, ctx);
            return;

        default: /* AUTH_OIDC_STEP_REPLY */
            ngx_http_auth_oidc_drive_reply(r, ctx);
            return;
        }

        if (rc == NGX_AGAIN) {
            /* the step's handler resumes the flow; meanwhile a client that
             * goes away is noticed (a first wait: see suspend()) */
            if (ctx->suspended
                && r->read_event_handler == ngx_http_block_reading)
            {
                r->read_event_handler = ngx_http_test_reading;
            }

            return;
        }

        if (rc == NGX_DONE) {
            /* answered by the driver itself */
            return;
        }

        if (auth_oidc_flow_resume(ctx->flow, &result, &ctx->step, NULL)
            != AUTH_OIDC_OK)
        {
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "Login failed", NULL);
            return;
        }
    }
}


static void
ngx_http_auth_oidc_drive_resume(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result)
{
    if (auth_oidc_flow_resume(ctx->flow, result, &ctx->step, NULL)
        != AUTH_OIDC_OK)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed", NULL);
        return;
    }

    ngx_http_auth_oidc_drive(r, ctx);
}


/* ----------------------------------------------------------- store */

static ngx_int_t
ngx_http_auth_oidc_drive_store(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result)
{
    ngx_int_t                           rc;
    ngx_str_t                           key, value, found;
    ngx_uint_t                          kind, ended;
    auth_oidc_step_t                   *step;
    ngx_http_auth_oidc_store_t         *store;
    ngx_http_auth_oidc_store_caller_t   caller;

    step = &ctx->step;
    kind = (ngx_uint_t) step->record;
    store = (kind == NGX_HTTP_AUTH_OIDC_BEARER_TOKEN)
            ? ctx->provider->bearer_store : ctx->provider->store;

    key.data = (u_char *) step->key.data;
    key.len = step->key.len;
    value.data = (u_char *) step->value.data;
    value.len = step->value.len;
    ngx_str_null(&found);

    ngx_http_auth_oidc_store_request(&caller, r,
                                     ngx_http_auth_oidc_drive_stored);

    if (store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE
        && (kind == NGX_HTTP_AUTH_OIDC_SESSION
            || kind == NGX_HTTP_AUTH_OIDC_SESSION_INDEX))
    {
        /* the browser's cookies hold sessions: the request's, the answer's */
        rc = ngx_http_auth_oidc_cookie_session_step(r, ctx, step, &found);
        goto answered;
    }

    if (kind == NGX_HTTP_AUTH_OIDC_REFRESH_LOCK) {
        /* a lock the request holds is released if it goes away first */
        if (step->op == AUTH_OIDC_STORE_ADD) {
            ctx->lock_key.len = key.len;
            ctx->lock_key.data = ngx_pstrdup(r->pool, &key);
            if (ctx->lock_key.data == NULL) {
                return NGX_ERROR;
            }

            ctx->lock_pool = r->pool;
            ctx->locking = 1;

        } else if (step->op != AUTH_OIDC_STORE_GET) {
            ngx_str_null(&ctx->lock_key);
        }
    }

    switch (step->op) {

    case AUTH_OIDC_STORE_GET:
        rc = ngx_http_auth_oidc_store_get(store, kind, &key, &caller, &found);
        break;

    case AUTH_OIDC_STORE_TAKE:
        rc = ngx_http_auth_oidc_store_take(store, kind, &key, &caller, &found);
        break;

    case AUTH_OIDC_STORE_PUT:
        rc = ngx_http_auth_oidc_store_put(store, kind, &key, &value,
                                          (time_t) step->expires, &caller);
        break;

    case AUTH_OIDC_STORE_ADD:
        rc = ngx_http_auth_oidc_store_add(store, kind, &key, &value,
                                          (time_t) step->expires, &caller);
        break;

    case AUTH_OIDC_STORE_REPLACE:
        rc = ngx_http_auth_oidc_store_replace(store, kind, &key, &value,
                                              (time_t) step->expires, &caller);
        break;

    case AUTH_OIDC_STORE_INDEX_ADD:
        rc = ngx_http_auth_oidc_store_index_add(store, &key, &value,
                                                (time_t) step->expires,
                                                &caller);
        break;

    case AUTH_OIDC_STORE_INDEX_END:
        rc = ngx_http_auth_oidc_store_index_end(store, &key, &caller, &ended);

        if (rc == NGX_OK) {
            found.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
            if (found.data == NULL) {
                rc = NGX_ERROR;
                break;
            }

            found.len = ngx_sprintf(found.data, "%ui", ended) - found.data;
        }

        break;

    default: /* AUTH_OIDC_STORE_DELETE */
        ngx_http_auth_oidc_store_delete(store, kind, &key, &caller);
        rc = NGX_OK;
        break;
    }

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

answered:

    ngx_http_auth_oidc_drive_locked(ctx, rc);

    result->store = (rc == NGX_OK) ? AUTH_OIDC_STORE_DONE
                    : (rc == NGX_DECLINED) ? AUTH_OIDC_STORE_ABSENT
                    : AUTH_OIDC_STORE_FAILED;
    result->value.data = found.data;
    result->value.len = found.len;

    return NGX_OK;
}


/* A refresh lock's add answered: held (its key kept) or not. */

static void
ngx_http_auth_oidc_drive_locked(ngx_http_auth_oidc_ctx_t *ctx, ngx_int_t rc)
{
    if (!ctx->locking) {
        return;
    }

    ctx->locking = 0;

    if (rc != NGX_OK) {
        ngx_str_null(&ctx->lock_key);
    }
}


/* An asynchronous store's answer (NGX_OK, NGX_DECLINED or NGX_ERROR). */

static void
ngx_http_auth_oidc_drive_stored(void *data, ngx_int_t rc, ngx_str_t *value)
{
    ngx_http_request_t *r = data;

    auth_oidc_step_result_t    result;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_http_auth_oidc_drive_locked(ctx, rc);

    ngx_memzero(&result, sizeof(auth_oidc_step_result_t));

    result.store = (rc == NGX_OK) ? AUTH_OIDC_STORE_DONE
                   : (rc == NGX_DECLINED) ? AUTH_OIDC_STORE_ABSENT
                   : AUTH_OIDC_STORE_FAILED;

    if (value) {
        result.value.data = value->data;
        result.value.len = value->len;
    }

    ngx_http_auth_oidc_drive_resume(r, ctx, &result);
}


/* ----------------------------------------------------------- fetch */

static ngx_int_t
ngx_http_auth_oidc_drive_fetch(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result)
{
    u_char                              *p;
    auth_oidc_step_t                    *step;
    ngx_http_auth_oidc_target_t         *target;
    ngx_http_auth_oidc_http_request_t    req;
    ngx_http_auth_oidc_counters_t       *counters;
    ngx_http_auth_oidc_provider_conf_t  *prov;
    u_char                               msg[NGX_HTTP_AUTH_OIDC_ERRLEN];

    static ngx_str_t  no_endpoint = ngx_string("the endpoint is unusable");

    step = &ctx->step;
    prov = ctx->provider;

    target = ngx_palloc(r->pool, sizeof(ngx_http_auth_oidc_target_t));
    if (target == NULL) {
        goto failed;
    }

    if (ngx_http_auth_oidc_endpoint_target(r->pool, prov,
            auth_oidc_discovery_endpoint(prov->runtime->discovery,
                                         step->endpoint),
            "endpoint", target, msg, sizeof(msg))
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": %s", &prov->name, msg);
        result->fetch = AUTH_OIDC_FETCH_FAILED;
        result->transport_error.data = no_endpoint.data;
        result->transport_error.len = no_endpoint.len;
        return NGX_OK;
    }

    ngx_http_auth_oidc_provider_http_request(prov, &req);

    /* the step's views live in the flow: the request gets its own copies */
    p = ngx_pnalloc(r->pool, step->method.len + step->headers.len
                             + step->body.len + 1);
    if (p == NULL) {
        goto failed;
    }

    req.method.data = p;
    req.method.len = step->method.len;
    p = ngx_cpymem(p, step->method.data, step->method.len);

    req.headers.data = p;
    req.headers.len = step->headers.len;
    p = ngx_cpymem(p, step->headers.data, step->headers.len);

    req.body.data = p;
    req.body.len = step->body.len;
    ngx_memcpy(p, step->body.data, step->body.len);

    if (step->timeout_ms > 0
        && (req.total_timeout == 0
            || (ngx_msec_t) step->timeout_ms < req.total_timeout))
    {
        req.total_timeout = (ngx_msec_t) step->timeout_ms;
    }

    if (step->endpoint == AUTH_OIDC_EP_REVOCATION) {
        counters = ngx_http_auth_oidc_counters(prov);
        if (counters) {
            (void) ngx_atomic_fetch_add(&counters->revocations, 1);
        }
    }

    req.target = target;
    req.handler = ngx_http_auth_oidc_drive_fetched;
    req.data = r;

    ctx->fetch_started = ngx_current_msec;

    ctx->http = ngx_http_auth_oidc_http_start(&req, r->connection->log);

    if (ctx->http) {
        return NGX_AGAIN;
    }

failed:

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                               "Login failed", NULL);
    return NGX_DONE;
}


static void
ngx_http_auth_oidc_drive_fetched(ngx_http_auth_oidc_http_t *h)
{
    ngx_http_request_t *r = h->data;

    auth_oidc_step_result_t         result;
    ngx_http_auth_oidc_ctx_t       *ctx;
    ngx_http_auth_oidc_counters_t  *counters;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);
    ctx->http = NULL;

    counters = ngx_http_auth_oidc_counters(ctx->provider);

    if (counters) {
        ngx_http_auth_oidc_metrics_observe(&counters->requests,
                                      ngx_current_msec - ctx->fetch_started);

        if (h->rc != NGX_OK) {
            (void) ngx_atomic_fetch_add(&counters->request_errors, 1);
        }
    }

    ngx_memzero(&result, sizeof(auth_oidc_step_result_t));

    if (h->rc != NGX_OK) {
        result.fetch = h->timedout ? AUTH_OIDC_FETCH_TIMEDOUT
                                   : AUTH_OIDC_FETCH_FAILED;
        result.transport_error.data = h->error.data;
        result.transport_error.len = h->error.len;

    } else {
        result.fetch = AUTH_OIDC_FETCH_OK;
        result.http_status = (unsigned) h->status;
        result.body.data = h->body.data;
        result.body.len = h->body.len;
    }

    /* what the flow validates next is done with the worker's latest keys */
    (void) ngx_http_auth_oidc_metadata_sync(ctx->provider, r->connection->log);
    result.discovery = ctx->provider->runtime->discovery;
    result.jwks = ctx->provider->runtime->jwks;

    /* the flow copies what it keeps of the answer: h can go after this */
    if (auth_oidc_flow_resume(ctx->flow, &result, &ctx->step, NULL)
        != AUTH_OIDC_OK)
    {
        ngx_http_auth_oidc_http_free(h);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed", NULL);
        return;
    }

    ngx_http_auth_oidc_http_free(h);

    ngx_http_auth_oidc_drive(r, ctx);
}


/* -------------------------------------------------------- metadata */

static ngx_int_t
ngx_http_auth_oidc_drive_metadata(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_result_t *result)
{
    ngx_int_t                            rc;
    ngx_uint_t                           status;
    ngx_http_auth_oidc_runtime_t        *rt;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = ctx->provider;

    if (ctx->step.refetch_keys) {
        /* the provider may have rotated its keys: wait for one fetch */
        ngx_http_auth_oidc_metadata_refetch_keys(prov, r->connection->log);

        rc = ngx_http_auth_oidc_metadata_wait(prov, &ctx->waiter, r,
                                          ngx_http_auth_oidc_drive_keys_in);
        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        /*
         * NGX_OK: keys published meanwhile by another worker; otherwise no
         * refetch was asked for (one was, within keys_refetch_interval)
         * nor is under way: the keys are what they are
         */
        (void) ngx_http_auth_oidc_metadata_sync(prov, r->connection->log);

    } else {
        rc = ngx_http_auth_oidc_metadata_ready(r, ctx, prov,
                                        ngx_http_auth_oidc_drive_metadata_in);
        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK && ctx->step.metadata_optional) {
            /* the flow goes on without: e.g. a local logout */
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            status = ngx_http_auth_oidc_not_ready(r, prov);
            ngx_http_auth_oidc_outcome(r, ctx, status, "Login unavailable",
                                       "The identity provider's metadata is "
                                       "not available yet.");
            return NGX_DONE;
        }
    }

    rt = prov->runtime;
    result->discovery = rt->discovery;
    result->jwks = rt->jwks;

    return NGX_OK;
}


/* The wait for metadata is over: the step is taken again. */

static void
ngx_http_auth_oidc_drive_metadata_in(ngx_http_request_t *r)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_http_auth_oidc_drive(r, ctx);
}


/* A keys refetch ended (published or failed, or the wait's bound). */

static void
ngx_http_auth_oidc_drive_keys_in(ngx_http_request_t *r)
{
    auth_oidc_step_result_t        result;
    ngx_http_auth_oidc_ctx_t      *ctx;
    ngx_http_auth_oidc_runtime_t  *rt;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);
    rt = ctx->provider->runtime;

    (void) ngx_http_auth_oidc_metadata_sync(ctx->provider, r->connection->log);

    ngx_memzero(&result, sizeof(auth_oidc_step_result_t));
    result.discovery = rt->discovery;
    result.jwks = rt->jwks;

    ngx_http_auth_oidc_drive_resume(r, ctx, &result);
}


/* ------------------------------------------------------------ wait */

/*
 * A pause on a timer of the request's own: e.g. a request polling for
 * another's refresh of its session. The request's cleanup removes it.
 */

static ngx_int_t
ngx_http_auth_oidc_drive_wait(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_msec_t  ms;

    ms = ctx->step.wait_ms > 0 ? (ngx_msec_t) ctx->step.wait_ms : 1;

    ctx->pause.handler = ngx_http_auth_oidc_drive_waited;
    ctx->pause.data = r;
    ctx->pause.log = r->connection->log;
    ctx->paused = 1;

    ngx_add_timer(&ctx->pause, ms);

    return NGX_AGAIN;
}


static void
ngx_http_auth_oidc_drive_waited(ngx_event_t *ev)
{
    ngx_http_request_t *r = ev->data;

    auth_oidc_step_result_t    result;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_memzero(&result, sizeof(auth_oidc_step_result_t));

    ngx_http_auth_oidc_drive_resume(r, ctx, &result);
}


/* ----------------------------------------------------------- reply */

static void
ngx_http_auth_oidc_drive_reply(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    u_char            *title;
    ngx_str_t          location, id, state, value, title_str;
    auth_oidc_step_t  *step;

    step = &ctx->step;

    ngx_http_auth_oidc_provider_logout_count(ctx, step);

    title_str.data = (u_char *) step->title.data;
    title_str.len = step->title.len;
    ngx_http_auth_oidc_metrics_login(ctx, step->status, &title_str,
                                     step->session_id.len != 0);

    if (step->clear_session
        && ngx_http_auth_oidc_cookie_set(r, ctx->provider, NULL, 1) != NGX_OK)
    {
        goto failed;
    }

    if (step->login_cookie.len) {
        state.len = step->login_state.len;
        value.len = step->login_cookie.len;
        state.data = ngx_pnalloc(r->pool, state.len + value.len);
        if (state.data == NULL) {
            goto failed;
        }

        value.data = ngx_cpymem(state.data, step->login_state.data,
                                state.len);
        ngx_memcpy(value.data, step->login_cookie.data, value.len);

        if (ngx_http_auth_oidc_login_cookie_set(r, ctx->provider, &state,
                                                &value)
            != NGX_OK)
        {
            goto failed;
        }
    }

    if (step->session_id.len) {
        id.len = step->session_id.len;
        id.data = ngx_pnalloc(r->pool, id.len);
        if (id.data == NULL) {
            goto failed;
        }

        ngx_memcpy(id.data, step->session_id.data, id.len);
        ctx->session_id = id;

        if (ngx_http_auth_oidc_cookie_set(r, ctx->provider, &id, 0)
            != NGX_OK)
        {
            goto failed;
        }

        /* a login done: counted until a request brings its session */
        if (ctx->pending
            && ngx_http_auth_oidc_login_loop_count(r, ctx->provider)
               != NGX_OK)
        {
            goto failed;
        }
    }

    if (step->location.len) {
        location.len = step->location.len;
        location.data = ngx_pnalloc(r->pool, location.len);
        if (location.data == NULL) {
            goto failed;
        }

        ngx_memcpy(location.data, step->location.data, location.len);

        (void) ngx_http_auth_oidc_redirect(r, &location);
        ngx_http_auth_oidc_outcome(r, ctx, step->status, NULL, NULL);
        return;
    }

    /* the page outlives the flow's step: copies, the title NUL-ended */
    title = ngx_pnalloc(r->pool, step->title.len + 1);
    if (title == NULL) {
        goto failed;
    }

    ngx_memcpy(title, step->title.data, step->title.len);
    title[step->title.len] = '\0';

    if (step->detail.len) {
        ngx_http_auth_oidc_outcome(r, ctx, step->status, (char *) title,
                                   "%*s", step->detail.len,
                                   step->detail.data);
    } else {
        ngx_http_auth_oidc_outcome(r, ctx, step->status, (char *) title,
                                   NULL);
    }

    return;

failed:

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                               "Login failed", NULL);
}


static void
ngx_http_auth_oidc_drive_log(ngx_http_request_t *r, auth_oidc_step_t *step)
{
    ngx_uint_t  level;

    switch (step->log_level) {

    case AUTH_OIDC_LOG_ERR:
        level = NGX_LOG_ERR;
        break;

    case AUTH_OIDC_LOG_WARN:
        level = NGX_LOG_WARN;
        break;

    case AUTH_OIDC_LOG_INFO:
        level = NGX_LOG_INFO;
        break;

    default:
        return;
    }

    ngx_log_error(level, r->connection->log, 0, "auth_oidc: %*s",
                  step->log.len, step->log.data);

    /* said once, also when the step is taken again after a wait */
    step->log_level = AUTH_OIDC_LOG_NONE;
}
