
/*
 * oidc_metrics: the counters in the Prometheus text format (0.0.4), for a
 * scraper. They live in shared memory (the metadata zone: a node per
 * provider, and one per session store), so they are summed over the
 * workers and survive "nginx -s reload"; labels are the provider's or
 * store's name and a reason or result from a fixed list. Never a secret,
 * a user or a token. Gauges of a worker's own view (a Redis link being up)
 * say so in their help text.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


/* upper bounds of the histogram buckets, in ms; the last bucket is +Inf */
static ngx_msec_t  ngx_http_auth_oidc_bucket_ms[NGX_HTTP_AUTH_OIDC_BUCKETS - 1]
    = { 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000 };

static const char  *ngx_http_auth_oidc_bucket_le[NGX_HTTP_AUTH_OIDC_BUCKETS]
    = { "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
        "1", "2.5", "10", "+Inf" };

static const char  *ngx_http_auth_oidc_login_failures[] = {
    "provider_refused", "expired", "bad_answer", "refused", "unreachable",
    "unavailable", "internal"
};

static const char  *ngx_http_auth_oidc_bcl_reasons[] = {
    "malformed", "signature", "claims", "replayed", "unavailable"
};


#define NGX_HTTP_AUTH_OIDC_METRICS_PER_ITEM  12288


static ngx_int_t ngx_http_auth_oidc_metrics_handler(ngx_http_request_t *r);
static u_char *ngx_http_auth_oidc_metrics_providers(u_char *p, u_char *last,
    ngx_http_auth_oidc_provider_conf_t **provs, ngx_uint_t n);
static u_char *ngx_http_auth_oidc_metrics_stores(u_char *p, u_char *last,
    ngx_http_auth_oidc_store_t **stores, ngx_uint_t n);
static u_char *ngx_http_auth_oidc_metrics_histogram(u_char *p, u_char *last,
    const char *name, const char *label, ngx_str_t *value,
    ngx_http_auth_oidc_histogram_t *h);
static u_char *ngx_http_auth_oidc_metrics_label(u_char *p, u_char *last,
    ngx_str_t *value);


char *
ngx_http_auth_oidc_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_auth_oidc_metrics_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_auth_oidc_metrics_handler;

    return NGX_CONF_OK;
}


void
ngx_http_auth_oidc_metrics_observe(ngx_http_auth_oidc_histogram_t *h,
    ngx_msec_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_AUTH_OIDC_BUCKETS - 1; i++) {
        if (ms <= ngx_http_auth_oidc_bucket_ms[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&h->count[i], 1);
    (void) ngx_atomic_fetch_add(&h->sum_ms, ms);
}


/*
 * A login flow's or callback's answer: a login started (its redirect to
 * the provider), completed (a session), or failed, the reason read from
 * the answer's status (the error log line says more).
 */

void
ngx_http_auth_oidc_metrics_login(ngx_http_auth_oidc_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *title, ngx_uint_t session)
{
    ngx_uint_t                      reason;
    ngx_http_auth_oidc_counters_t  *counters;

    if (!ctx->login_flow && !ctx->callback_flow) {
        return;
    }

    counters = ngx_http_auth_oidc_counters(ctx->provider);
    if (counters == NULL) {
        return;
    }

    if (ctx->login_flow) {
        if (status == NGX_HTTP_MOVED_TEMPORARILY) {
            (void) ngx_atomic_fetch_add(&counters->logins_started, 1);
        }

        return;
    }

    if (session) {
        (void) ngx_atomic_fetch_add(&counters->logins_completed, 1);
        return;
    }

    switch (status) {

    case NGX_HTTP_FORBIDDEN:
        reason = NGX_HTTP_AUTH_OIDC_LOGIN_PROVIDER_REFUSED;
        break;

    case NGX_HTTP_BAD_REQUEST:
        reason = (title && title->len == sizeof("Login expired") - 1
                  && ngx_strncmp(title->data, "Login expired",
                                 title->len) == 0)
                 ? NGX_HTTP_AUTH_OIDC_LOGIN_EXPIRED
                 : NGX_HTTP_AUTH_OIDC_LOGIN_BAD_ANSWER;
        break;

    case NGX_HTTP_UNAUTHORIZED:
        reason = NGX_HTTP_AUTH_OIDC_LOGIN_REFUSED;
        break;

    case NGX_HTTP_BAD_GATEWAY:
    case NGX_HTTP_GATEWAY_TIME_OUT:
        reason = NGX_HTTP_AUTH_OIDC_LOGIN_UNREACHABLE;
        break;

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        reason = NGX_HTTP_AUTH_OIDC_LOGIN_UNAVAILABLE;
        break;

    default:
        reason = NGX_HTTP_AUTH_OIDC_LOGIN_INTERNAL;
        break;
    }

    (void) ngx_atomic_fetch_add(&counters->logins_failed[reason], 1);
}


static ngx_int_t
ngx_http_auth_oidc_metrics_handler(ngx_http_request_t *r)
{
    u_char                               *p, *last;
    size_t                                size;
    ngx_int_t                             rc;
    ngx_buf_t                            *b;
    ngx_chain_t                           out;
    ngx_http_auth_oidc_store_t          **stores;
    ngx_http_auth_oidc_main_conf_t       *amcf;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_oidc_module);

    size = (amcf->providers.nelts + amcf->stores.nelts + 1)
           * NGX_HTTP_AUTH_OIDC_METRICS_PER_ITEM;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    last = b->end;

    provs = amcf->providers.elts;
    p = ngx_http_auth_oidc_metrics_providers(p, last, provs,
                                             amcf->providers.nelts);

    stores = amcf->stores.elts;
    p = ngx_http_auth_oidc_metrics_stores(p, last, stores,
                                          amcf->stores.nelts);

    b->last = p;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Each family once ("# HELP", "# TYPE"), then its samples for every
 * provider or store: a family's samples must be contiguous.
 */

#define ngx_http_auth_oidc_family(type, name, help)                          \
    p = ngx_slprintf(p, last, "# HELP " name " " help "\n# TYPE " name " "   \
                     type "\n")

#define ngx_http_auth_oidc_each(items, n, item)                              \
    for (k = 0; k < n && ((item = items[k]), 1); k++)

#define ngx_http_auth_oidc_sample(name, key, label, extra, value)            \
    p = ngx_slprintf(p, last, name "{" key "=\"");                           \
    p = ngx_http_auth_oidc_metrics_label(p, last, label);                    \
    p = ngx_slprintf(p, last, "\"" extra "} %uA\n",                          \
                     (ngx_atomic_uint_t) (value))


static u_char *
ngx_http_auth_oidc_metrics_providers(u_char *p, u_char *last,
    ngx_http_auth_oidc_provider_conf_t **provs, ngx_uint_t n)
{
    ngx_uint_t                           i, k, up;
    ngx_http_auth_oidc_counters_t       *c;
    ngx_http_auth_oidc_provider_conf_t  *prov;

#define ngx_http_auth_oidc_counted(prov)                                     \
    if ((c = ngx_http_auth_oidc_counters(prov)) == NULL) continue

    ngx_http_auth_oidc_family("gauge", "auth_oidc_provider_up",
                "1 when the provider's metadata and keys are usable");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        up = (prov->runtime->node->state == NGX_HTTP_AUTH_OIDC_READY);
        ngx_http_auth_oidc_sample("auth_oidc_provider_up", "provider",
                                  &prov->name, "", up);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_logins_started_total",
                "Logins sent to the provider");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_logins_started_total",
                                  "provider", &prov->name, "",
                                  c->logins_started);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_logins_completed_total",
                "Logins that made a session");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_logins_completed_total",
                                  "provider", &prov->name, "",
                                  c->logins_completed);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_logins_failed_total",
                "Logins that failed at the callback, by reason");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);

        for (i = 0; i < NGX_HTTP_AUTH_OIDC_LOGIN_FAILURES; i++) {
            p = ngx_slprintf(p, last,
                             "auth_oidc_logins_failed_total{provider=\"");
            p = ngx_http_auth_oidc_metrics_label(p, last, &prov->name);
            p = ngx_slprintf(p, last, "\",reason=\"%s\"} %uA\n",
                             ngx_http_auth_oidc_login_failures[i],
                             c->logins_failed[i]);
        }
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_refreshes_total",
                "Token refreshes, by result");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_refreshes_total", "provider",
                                  &prov->name, ",result=\"ok\"",
                                  c->refreshes);
        ngx_http_auth_oidc_sample("auth_oidc_refreshes_total", "provider",
                                  &prov->name, ",result=\"failed\"",
                                  c->refresh_failures);
        ngx_http_auth_oidc_sample("auth_oidc_refreshes_total", "provider",
                                  &prov->name, ",result=\"ended\"",
                                  c->refresh_ended);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_backchannel_logouts_total",
                "Back-channel logouts accepted");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_backchannel_logouts_total",
                                  "provider", &prov->name, "",
                                  c->backchannel_logouts);
    }

    ngx_http_auth_oidc_family("counter",
                "auth_oidc_backchannel_logouts_refused_total",
                "Back-channel logout tokens refused, by reason");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);

        for (i = 0; i < NGX_HTTP_AUTH_OIDC_BCL_REASONS; i++) {
            p = ngx_slprintf(p, last,
                             "auth_oidc_backchannel_logouts_refused_total"
                             "{provider=\"");
            p = ngx_http_auth_oidc_metrics_label(p, last, &prov->name);
            p = ngx_slprintf(p, last, "\",reason=\"%s\"} %uA\n",
                             ngx_http_auth_oidc_bcl_reasons[i],
                             c->backchannel_refused[i]);
        }
    }

    ngx_http_auth_oidc_family("counter",
                "auth_oidc_frontchannel_logouts_total",
                "Front-channel logouts");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_frontchannel_logouts_total",
                                  "provider", &prov->name, "",
                                  c->frontchannel_logouts);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_bearer_tokens_total",
                "Bearer tokens checked, by result");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_bearer_tokens_total",
                                  "provider", &prov->name,
                                  ",result=\"verified\"",
                                  c->bearer_verified);
        ngx_http_auth_oidc_sample("auth_oidc_bearer_tokens_total",
                                  "provider", &prov->name,
                                  ",result=\"refused\"", c->bearer_refused);
        ngx_http_auth_oidc_sample("auth_oidc_bearer_tokens_total",
                                  "provider", &prov->name,
                                  ",result=\"unavailable\"",
                                  c->bearer_unavailable);
    }

    /* read without the zone's lock: a word each, a scrape may lag one */
    ngx_http_auth_oidc_family("counter",
                "auth_oidc_provider_metadata_fetches_total",
                "Fetches of the provider's discovery document and keys, by "
                "result");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_provider_metadata_fetches_total",
                                  "provider", &prov->name, ",result=\"ok\"",
                                  prov->runtime->node->fetches
                                  - prov->runtime->node->failures);
        ngx_http_auth_oidc_sample("auth_oidc_provider_metadata_fetches_total",
                                  "provider", &prov->name,
                                  ",result=\"failed\"",
                                  prov->runtime->node->failures);
    }

    ngx_http_auth_oidc_family("counter",
                "auth_oidc_provider_request_errors_total",
                "Requests to the provider's endpoints without an answer");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        ngx_http_auth_oidc_sample("auth_oidc_provider_request_errors_total",
                                  "provider", &prov->name, "",
                                  c->request_errors);
    }

    ngx_http_auth_oidc_family("histogram",
                "auth_oidc_provider_request_duration_seconds",
                "Requests to the provider's token, userinfo, revocation "
                "and introspection endpoints");
    ngx_http_auth_oidc_each(provs, n, prov) {
        ngx_http_auth_oidc_counted(prov);
        p = ngx_http_auth_oidc_metrics_histogram(p, last,
                    "auth_oidc_provider_request_duration_seconds",
                    "provider", &prov->name, &c->requests);
    }

#undef ngx_http_auth_oidc_counted

    return p;
}


static u_char *
ngx_http_auth_oidc_metrics_stores(u_char *p, u_char *last,
    ngx_http_auth_oidc_store_t **stores, ngx_uint_t n)
{
    ngx_str_t                             error;
    ngx_msec_t                            latency;
    ngx_uint_t                            k, connected, commands, errors;
    ngx_uint_t                            counts[4];
    ngx_http_auth_oidc_store_t           *store;
    ngx_http_auth_oidc_store_counters_t  *c;

    ngx_http_auth_oidc_family("gauge", "auth_oidc_store_entries",
                "Records in a shared-memory store (sessions, used states)");
    ngx_http_auth_oidc_each(stores, n, store) {
        if (store->type == NGX_HTTP_AUTH_OIDC_STORE_SHM) {
            ngx_http_auth_oidc_store_shm_counts(store, counts);
            ngx_http_auth_oidc_sample("auth_oidc_store_entries", "store",
                                      &store->name, "", counts[0]);
        }
    }

    ngx_http_auth_oidc_family("gauge", "auth_oidc_store_sessions",
                "Sessions in a shared-memory store");
    ngx_http_auth_oidc_each(stores, n, store) {
        if (store->type == NGX_HTTP_AUTH_OIDC_STORE_SHM) {
            ngx_http_auth_oidc_store_shm_counts(store, counts);
            ngx_http_auth_oidc_sample("auth_oidc_store_sessions", "store",
                                      &store->name, "", counts[1]);
        }
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_store_evictions_total",
                "Records evicted from a full shared-memory store");
    ngx_http_auth_oidc_each(stores, n, store) {
        if (store->type == NGX_HTTP_AUTH_OIDC_STORE_SHM) {
            ngx_http_auth_oidc_store_shm_counts(store, counts);
            ngx_http_auth_oidc_sample("auth_oidc_store_evictions_total",
                                      "store", &store->name, "", counts[2]);
        }
    }

    ngx_http_auth_oidc_family("counter",
                "auth_oidc_store_session_evictions_total",
                "Live sessions evicted from a full shared-memory store "
                "(their users log in again)");
    ngx_http_auth_oidc_each(stores, n, store) {
        if (store->type == NGX_HTTP_AUTH_OIDC_STORE_SHM) {
            ngx_http_auth_oidc_store_shm_counts(store, counts);
            ngx_http_auth_oidc_sample(
                                  "auth_oidc_store_session_evictions_total",
                                  "store", &store->name, "", counts[3]);
        }
    }

    ngx_http_auth_oidc_family("gauge", "auth_oidc_redis_up",
                "1 when the answering worker's connection to Redis is "
                "ready (every master's, for a Cluster)");
    ngx_http_auth_oidc_each(stores, n, store) {
        if (store->type != NGX_HTTP_AUTH_OIDC_STORE_REDIS) {
            continue;
        }

        connected = 0;

        if (store->redis) {
            ngx_http_auth_oidc_redis_stats(store->redis, &connected,
                                           &commands, &errors, &latency,
                                           &error);

        } else if (store->cluster) {
            ngx_http_auth_oidc_redis_cluster_stats(store->cluster, &connected,
                                                   &commands, &errors,
                                                   &latency, &error);
        }

        ngx_http_auth_oidc_sample("auth_oidc_redis_up", "store",
                                  &store->name, "", connected);
    }

#define ngx_http_auth_oidc_counted(store)                                    \
    if (store->type != NGX_HTTP_AUTH_OIDC_STORE_REDIS                        \
        || (c = store->redis_conf.counters) == NULL) continue

    ngx_http_auth_oidc_family("counter", "auth_oidc_redis_commands_total",
                "Commands sent to Redis");
    ngx_http_auth_oidc_each(stores, n, store) {
        ngx_http_auth_oidc_counted(store);
        ngx_http_auth_oidc_sample("auth_oidc_redis_commands_total", "store",
                                  &store->name, "", c->commands);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_redis_errors_total",
                "Commands without an answer (timed out, connection lost)");
    ngx_http_auth_oidc_each(stores, n, store) {
        ngx_http_auth_oidc_counted(store);
        ngx_http_auth_oidc_sample("auth_oidc_redis_errors_total", "store",
                                  &store->name, "", c->errors);
    }

    ngx_http_auth_oidc_family("histogram",
                "auth_oidc_redis_command_duration_seconds",
                "Time from a command to its answer");
    ngx_http_auth_oidc_each(stores, n, store) {
        ngx_http_auth_oidc_counted(store);
        p = ngx_http_auth_oidc_metrics_histogram(p, last,
                    "auth_oidc_redis_command_duration_seconds", "store",
                    &store->name, &c->latency);
    }

    ngx_http_auth_oidc_family("counter", "auth_oidc_session_cache_hits_total",
                "Sessions answered from a worker's cache");
    ngx_http_auth_oidc_each(stores, n, store) {
        ngx_http_auth_oidc_counted(store);
        ngx_http_auth_oidc_sample("auth_oidc_session_cache_hits_total",
                                  "store", &store->name, "", c->cache_hits);
    }

    ngx_http_auth_oidc_family("counter",
                "auth_oidc_session_cache_misses_total",
                "Sessions looked for in a worker's cache and not found");
    ngx_http_auth_oidc_each(stores, n, store) {
        ngx_http_auth_oidc_counted(store);
        ngx_http_auth_oidc_sample("auth_oidc_session_cache_misses_total",
                                  "store", &store->name, "",
                                  c->cache_misses);
    }

#undef ngx_http_auth_oidc_counted

    return p;
}


/* _bucket{le=...} cumulative, _sum in seconds, _count. */

static u_char *
ngx_http_auth_oidc_metrics_histogram(u_char *p, u_char *last,
    const char *name, const char *label, ngx_str_t *value,
    ngx_http_auth_oidc_histogram_t *h)
{
    ngx_uint_t          i;
    ngx_atomic_uint_t   total;

    total = 0;

    for (i = 0; i < NGX_HTTP_AUTH_OIDC_BUCKETS; i++) {
        total += h->count[i];

        p = ngx_slprintf(p, last, "%s_bucket{%s=\"", name, label);
        p = ngx_http_auth_oidc_metrics_label(p, last, value);
        p = ngx_slprintf(p, last, "\",le=\"%s\"} %uA\n",
                         ngx_http_auth_oidc_bucket_le[i], total);
    }

    p = ngx_slprintf(p, last, "%s_sum{%s=\"", name, label);
    p = ngx_http_auth_oidc_metrics_label(p, last, value);
    p = ngx_slprintf(p, last, "\"} %uA.%03uA\n", h->sum_ms / 1000,
                     h->sum_ms % 1000);

    p = ngx_slprintf(p, last, "%s_count{%s=\"", name, label);
    p = ngx_http_auth_oidc_metrics_label(p, last, value);
    p = ngx_slprintf(p, last, "\"} %uA\n", total);

    return p;
}


/* A label value: "\", "\"" and a newline escaped, as the format wants. */

static u_char *
ngx_http_auth_oidc_metrics_label(u_char *p, u_char *last, ngx_str_t *value)
{
    size_t   i;
    u_char   c;

    for (i = 0; i < value->len && p + 2 <= last; i++) {
        c = value->data[i];

        if (c == '\\' || c == '"') {
            *p++ = '\\';
            *p++ = c;

        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = c;
        }
    }

    return p;
}
