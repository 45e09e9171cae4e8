
/*
 * Provider metadata: the discovery document and the JWKS, fetched on the
 * event loop and cached in a shared-memory zone so that the workers do not
 * each hammer the provider.
 *
 * Every worker ticks once a second. A tick takes the provider's "lease" in
 * shared memory when a fetch is due and nobody else holds it; the holder
 * fetches discovery then jwks_uri, and publishes both documents (already
 * validated) with a new generation number. The other workers notice the
 * generation change and re-parse their own copies; a failed fetch publishes
 * the error and schedules a retry. A lease expires by itself, so a worker
 * that dies mid-fetch does not stop the refreshes.
 *
 * A request that needs metadata the worker does not have waits for the
 * fetch under way or due (ngx_http_auth_oidc_metadata_wait()): every fetch,
 * published or failed, bumps the node's fetch count and rings the "bell",
 * an eventfd every worker listens to, so that every worker's waiting
 * requests go on at once, not on a tick. A "watch" timer, armed only while
 * requests wait, enforces their bound (and, where no bell can be had,
 * looks at the count every 20 ms).
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"

#if (NGX_HAVE_EVENTFD && NGX_HAVE_SYS_EVENTFD_H)
#include <sys/eventfd.h>
#define NGX_HTTP_AUTH_OIDC_BELL  1
#endif


#define NGX_HTTP_AUTH_OIDC_TICK       1000
/* how often waiting requests are looked at: only their bounds when the bell
 * tells of every fetch's end, else also for a fetch of another worker */
#define NGX_HTTP_AUTH_OIDC_WATCH      20
#define NGX_HTTP_AUTH_OIDC_WATCH_BELL 250

#define ngx_http_auth_oidc_watch_interval()                                   \
    ((ngx_http_auth_oidc_meta_zone && ngx_http_auth_oidc_meta_zone->bell_conn) \
     ? NGX_HTTP_AUTH_OIDC_WATCH_BELL : NGX_HTTP_AUTH_OIDC_WATCH)
#define NGX_HTTP_AUTH_OIDC_ZONE_BASE  (128 * 1024)
#define NGX_HTTP_AUTH_OIDC_NODE_TTL   (24 * 60 * 60)


static ngx_int_t ngx_http_auth_oidc_metadata_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_auth_oidc_meta_node_t *ngx_http_auth_oidc_metadata_node(
    ngx_http_auth_oidc_meta_zone_t *zone,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_log_t *log);
static ngx_http_auth_oidc_meta_node_t *ngx_http_auth_oidc_metadata_keyed(
    ngx_http_auth_oidc_meta_zone_t *zone, ngx_str_t *key, ngx_log_t *log);
static void ngx_http_auth_oidc_metadata_tick(ngx_event_t *ev);
static void ngx_http_auth_oidc_metadata_watch(ngx_event_t *ev);
static void ngx_http_auth_oidc_metadata_bell_close(void *data);
static void ngx_http_auth_oidc_metadata_bell_listen(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_meta_zone_t *zone);
static void ngx_http_auth_oidc_metadata_bell_heard(ngx_event_t *ev);
static void ngx_http_auth_oidc_metadata_bell_ring(void);
static void ngx_http_auth_oidc_metadata_fetch(
    ngx_http_auth_oidc_runtime_t *rt, ngx_http_auth_oidc_target_t *target,
    ngx_http_auth_oidc_http_handler_pt handler);
static void ngx_http_auth_oidc_metadata_discovery_done(
    ngx_http_auth_oidc_http_t *h);
static void ngx_http_auth_oidc_metadata_jwks_done(
    ngx_http_auth_oidc_http_t *h);
static ngx_int_t ngx_http_auth_oidc_metadata_jwks_target(
    ngx_http_auth_oidc_runtime_t *rt, auth_oidc_str_t uri);
static ngx_int_t ngx_http_auth_oidc_metadata_check_answer(
    ngx_http_auth_oidc_runtime_t *rt, ngx_http_auth_oidc_http_t *h,
    const char *what);
static void ngx_http_auth_oidc_metadata_publish(
    ngx_http_auth_oidc_runtime_t *rt, auth_oidc_discovery_t *discovery,
    ngx_str_t *jwks_doc, auth_oidc_jwks_t *jwks);
static void ngx_http_auth_oidc_metadata_fail(ngx_http_auth_oidc_runtime_t *rt,
    const char *fmt, ...);
static void ngx_http_auth_oidc_metadata_end_fetch(
    ngx_http_auth_oidc_runtime_t *rt);
static void ngx_http_auth_oidc_metadata_drop_locked(ngx_slab_pool_t *shpool,
    ngx_http_auth_oidc_meta_node_t *node);
static void ngx_http_auth_oidc_metadata_release_locked(
    ngx_http_auth_oidc_meta_node_t *node);


static ngx_http_auth_oidc_meta_zone_t  *ngx_http_auth_oidc_meta_zone;


ngx_int_t
ngx_http_auth_oidc_metadata_zone_add(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf)
{
    size_t                                size;
    ngx_str_t                             name;
    ngx_uint_t                            i;
    ngx_shm_zone_t                       *shm_zone;
    ngx_http_auth_oidc_meta_zone_t       *zone;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    if (amcf->providers.nelts == 0) {
        return NGX_OK;
    }

    /*
     * Room for a provider's two documents while a new pair is stored, and
     * for nodes left by reloads that changed a provider's URLs.
     */
    size = NGX_HTTP_AUTH_OIDC_ZONE_BASE;
    provs = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {
        size += 8 * provs[i]->max_response_size + 8192;
    }

    /* a node per session store for its counters (oidc_metrics) */
    size += amcf->stores.nelts * 8192;

    size = ngx_align(size, ngx_pagesize);

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_meta_zone_t));
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->bell = (ngx_fd_t) -1;

#if (NGX_HTTP_AUTH_OIDC_BELL)
    {
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    /* made here, in the master, so that every worker inherits it */
    zone->bell = eventfd(0, EFD_NONBLOCK);

    if (zone->bell == (ngx_fd_t) -1) {
        /* the watch timer alone then sees a fetch end, within 20 ms */
        ngx_log_error(NGX_LOG_WARN, cf->log, ngx_errno,
                      "auth_oidc: eventfd() failed");
    }

    cln->handler = ngx_http_auth_oidc_metadata_bell_close;
    cln->data = zone;
    }
#endif

    ngx_str_set(&name, "auth_oidc_metadata");

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_auth_oidc_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_auth_oidc_metadata_init_zone;
    shm_zone->data = zone;

    amcf->meta_zone = shm_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_metadata_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_auth_oidc_meta_zone_t  *ozone = data;

    ngx_uint_t                       fresh;
    ngx_http_auth_oidc_meta_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        /* reload: keep what the old workers fetched */
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    zone->sh = ngx_http_auth_oidc_shm_ctx(shm_zone,
                                       sizeof(ngx_http_auth_oidc_meta_shctx_t),
                                       "auth_oidc metadata zone", &fresh);
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    if (fresh) {
        ngx_queue_init(&zone->sh->nodes);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_auth_oidc_metadata_init_worker(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_uint_t                            i;
    ngx_http_auth_oidc_runtime_t         *rt;
    ngx_http_auth_oidc_meta_zone_t       *zone;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    if (amcf->meta_zone == NULL) {
        return NGX_OK;
    }

    zone = amcf->meta_zone->data;
    ngx_http_auth_oidc_meta_zone = zone;

    ngx_http_auth_oidc_metadata_bell_listen(cycle, zone);

    provs = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {
        rt = ngx_pcalloc(cycle->pool, sizeof(ngx_http_auth_oidc_runtime_t));
        if (rt == NULL) {
            return NGX_ERROR;
        }

        rt->conf = provs[i];
        rt->generation = (ngx_atomic_uint_t) -1;

        ngx_shmtx_lock(&zone->shpool->mutex);
        rt->node = ngx_http_auth_oidc_metadata_node(zone, provs[i],
                                                    cycle->log);
        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (rt->node == NULL) {
            /* the provider stays unusable (503), the worker serves on */
            ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                          "auth_oidc: no room for provider \"%V\" in the "
                          "metadata zone", &provs[i]->name);
            continue;
        }

        rt->tick.handler = ngx_http_auth_oidc_metadata_tick;
        rt->tick.data = rt;
        rt->tick.log = cycle->log;
        rt->tick.cancelable = 1;

        /*
         * Not cancelable: armed only while requests wait, it must run once
         * the worker is asked to exit, to answer them (a waiting request
         * would otherwise be an "open socket left" when the worker exits).
         */
        ngx_queue_init(&rt->waiters);
        rt->watch.handler = ngx_http_auth_oidc_metadata_watch;
        rt->watch.data = rt;
        rt->watch.log = cycle->log;

        provs[i]->runtime = rt;

        ngx_add_timer(&rt->tick, 1);
    }

    return NGX_OK;
}


void
ngx_http_auth_oidc_metadata_exit_worker(ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_uint_t                            i;
    ngx_http_auth_oidc_runtime_t         *rt;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    provs = amcf->providers.elts;

    if (ngx_http_auth_oidc_meta_zone
        && ngx_http_auth_oidc_meta_zone->bell_conn)
    {
        /* the worker's own copy of the descriptor goes with it */
        ngx_close_connection(ngx_http_auth_oidc_meta_zone->bell_conn);
        ngx_http_auth_oidc_meta_zone->bell_conn = NULL;
        ngx_http_auth_oidc_meta_zone->bell = (ngx_fd_t) -1;
    }

    for (i = 0; i < amcf->providers.nelts; i++) {
        rt = provs[i]->runtime;

        if (rt == NULL) {
            continue;
        }

        ngx_http_auth_oidc_metadata_end_fetch(rt);

        /*
         * The watch answered every waiting request before a graceful exit;
         * after a fast one (SIGTERM) nothing is left to answer them.
         */
        while (!ngx_queue_empty(&rt->waiters)) {
            ngx_http_auth_oidc_metadata_unwait(
                ngx_queue_data(ngx_queue_head(&rt->waiters),
                               ngx_http_auth_oidc_waiter_t, queue));
        }

        if (rt->watch.timer_set) {
            ngx_del_timer(&rt->watch);
        }

        if (rt->watch.posted) {
            ngx_delete_posted_event(&rt->watch);
        }

        /* a fetch cut short by the exit must not hold the others back */
        ngx_shmtx_lock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);
        ngx_http_auth_oidc_metadata_release_locked(rt->node);
        ngx_shmtx_unlock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);

        auth_oidc_discovery_free(rt->discovery);
        auth_oidc_jwks_free(rt->jwks);
        rt->discovery = NULL;
        rt->jwks = NULL;
    }
}


/*
 * Finds or creates the provider's node; the lock is held. A node is keyed
 * by everything that makes its documents valid, so a reload that changes
 * the issuer starts afresh while an unchanged provider keeps its cache.
 */

static ngx_http_auth_oidc_meta_node_t *
ngx_http_auth_oidc_metadata_node(ngx_http_auth_oidc_meta_zone_t *zone,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_log_t *log)
{
    u_char     *p;
    ngx_str_t   key;

    key.len = prov->name.len + 1 + prov->config_url.len + 1 + prov->issuer.len;
    key.data = ngx_alloc(key.len, log);
    if (key.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key.data, prov->name.data, prov->name.len);
    *p++ = '\n';
    p = ngx_cpymem(p, prov->config_url.data, prov->config_url.len);
    *p++ = '\n';
    ngx_memcpy(p, prov->issuer.data, prov->issuer.len);

    return ngx_http_auth_oidc_metadata_keyed(zone, &key, log);
}


/*
 * The node of a key, found or created; the lock is held. Nodes no
 * configuration has used for a day are let go on the way.
 */

static ngx_http_auth_oidc_meta_node_t *
ngx_http_auth_oidc_metadata_keyed(ngx_http_auth_oidc_meta_zone_t *zone,
    ngx_str_t *key, ngx_log_t *log)
{
    u_char                          *p;
    time_t                           now;
    ngx_queue_t                     *q, *next;
    ngx_http_auth_oidc_meta_node_t  *node, *found;

    now = ngx_time();
    found = NULL;

    for (q = ngx_queue_head(&zone->sh->nodes);
         q != ngx_queue_sentinel(&zone->sh->nodes);
         q = next)
    {
        next = ngx_queue_next(q);
        node = ngx_queue_data(q, ngx_http_auth_oidc_meta_node_t, queue);

        if (found == NULL
            && node->key.len == key->len
            && ngx_strncmp(node->key.data, key->data, key->len) == 0)
        {
            found = node;
            continue;
        }

        /* nodes of providers no configuration has used for a day */
        if (now - node->touched > NGX_HTTP_AUTH_OIDC_NODE_TTL) {
            ngx_queue_remove(q);
            ngx_http_auth_oidc_metadata_drop_locked(zone->shpool, node);
            ngx_slab_free_locked(zone->shpool, node->key.data);
            ngx_slab_free_locked(zone->shpool, node);
        }
    }

    if (found) {
        found->touched = now;
        ngx_free(key->data);
        return found;
    }

    node = ngx_slab_calloc_locked(zone->shpool,
                                  sizeof(ngx_http_auth_oidc_meta_node_t));
    if (node == NULL) {
        ngx_free(key->data);
        return NULL;
    }

    p = ngx_slab_alloc_locked(zone->shpool, key->len);
    if (p == NULL) {
        ngx_slab_free_locked(zone->shpool, node);
        ngx_free(key->data);
        return NULL;
    }

    node->key.data = p;
    node->key.len = key->len;
    ngx_memcpy(p, key->data, key->len);
    ngx_free(key->data);

    node->touched = now;
    node->state = NGX_HTTP_AUTH_OIDC_PENDING;

    ngx_queue_insert_tail(&zone->sh->nodes, &node->queue);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                   "auth oidc metadata node created for \"%V\"",
                   &node->key);

    return node;
}


/*
 * A session store's counters for oidc_metrics: a node keyed
 * "\nstore\n<name>" (no provider's key starts with a newline), so that they
 * are summed over the workers and outlive a reload. NULL: no room.
 */

ngx_http_auth_oidc_store_counters_t *
ngx_http_auth_oidc_metadata_store_counters(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_main_conf_t *amcf, ngx_str_t *name)
{
    ngx_str_t                        key;
    ngx_http_auth_oidc_meta_zone_t  *zone;
    ngx_http_auth_oidc_meta_node_t  *node;

    if (amcf->meta_zone == NULL) {
        return NULL;
    }

    zone = amcf->meta_zone->data;

    key.len = sizeof("\nstore\n") - 1 + name->len;
    key.data = ngx_alloc(key.len, cycle->log);
    if (key.data == NULL) {
        return NULL;
    }

    ngx_memcpy(ngx_cpymem(key.data, "\nstore\n", sizeof("\nstore\n") - 1),
               name->data, name->len);

    ngx_shmtx_lock(&zone->shpool->mutex);
    node = ngx_http_auth_oidc_metadata_keyed(zone, &key, cycle->log);
    ngx_shmtx_unlock(&zone->shpool->mutex);

    return node ? &node->counters.store : NULL;
}


static void
ngx_http_auth_oidc_metadata_tick(ngx_event_t *ev)
{
    ngx_http_auth_oidc_runtime_t *rt = ev->data;

    time_t                               now, lease;
    ngx_uint_t                           start;
    ngx_http_auth_oidc_meta_node_t      *node;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    prov = rt->conf;
    node = rt->node;
    now = ngx_time();
    start = 0;

    /* both requests, each cut at its total timeout, end within the lease */
    lease = 2 * ngx_http_auth_oidc_provider_total_timeout(prov) / 1000 + 5;

    ngx_shmtx_lock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);

    node->touched = now;

    if (rt->fetch_pool == NULL
        && now >= node->next_fetch
        && (node->lease_until < now || node->lease_pid == ngx_pid))
    {
        node->lease_pid = ngx_pid;
        node->lease_until = now + lease;
        start = 1;
    }

    ngx_shmtx_unlock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);

    (void) ngx_http_auth_oidc_metadata_sync(prov, ev->log);

    if (start) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "auth oidc metadata fetch for \"%V\"", &prov->name);

        rt->fetch_pool = ngx_create_pool(1024, ev->log);

        if (rt->fetch_pool == NULL) {
            ngx_http_auth_oidc_metadata_fail(rt, "out of memory");

        } else {
            ngx_http_auth_oidc_metadata_fetch(rt, &prov->discovery_target,
                                   ngx_http_auth_oidc_metadata_discovery_done);
        }
    }

    ngx_add_timer(ev, NGX_HTTP_AUTH_OIDC_TICK);
}


static void
ngx_http_auth_oidc_metadata_fetch(ngx_http_auth_oidc_runtime_t *rt,
    ngx_http_auth_oidc_target_t *target,
    ngx_http_auth_oidc_http_handler_pt handler)
{
    ngx_http_auth_oidc_http_request_t    req;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = rt->conf;

    ngx_http_auth_oidc_provider_http_request(prov, &req);

    req.target = target;
    req.cancelable = 1;
    req.handler = handler;
    req.data = rt;

    rt->fetch = ngx_http_auth_oidc_http_start(&req, rt->tick.log);

    if (rt->fetch == NULL) {
        ngx_http_auth_oidc_metadata_fail(rt, "could not start a request to "
                                         "\"%V\"", &target->url);
    }
}


static void
ngx_http_auth_oidc_metadata_discovery_done(ngx_http_auth_oidc_http_t *h)
{
    ngx_http_auth_oidc_runtime_t *rt = h->data;

    auth_oidc_str_t                      issuer;
    auth_oidc_error_t                    err;
    auth_oidc_status_t                   rc;
    auth_oidc_discovery_t               *discovery;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = rt->conf;

    if (ngx_http_auth_oidc_metadata_check_answer(rt, h, "discovery")
        != NGX_OK)
    {
        return;
    }

    issuer.data = prov->issuer.data;
    issuer.len = prov->issuer.len;

    rc = auth_oidc_discovery_parse(h->body.data, h->body.len, issuer,
                                   &discovery, &err);

    if (rc == AUTH_OIDC_OK) {
        /* kept until the keys arrive: both are published together */
        rt->discovery_doc.data = ngx_pnalloc(rt->fetch_pool, h->body.len);

        if (rt->discovery_doc.data == NULL) {
            auth_oidc_discovery_free(discovery);
            rc = AUTH_OIDC_ENOMEM;
            ngx_cpystrn((u_char *) err.msg, (u_char *) "out of memory",
                        sizeof(err.msg));

        } else {
            ngx_memcpy(rt->discovery_doc.data, h->body.data, h->body.len);
            rt->discovery_doc.len = h->body.len;
        }
    }

    rt->fetch = NULL;
    ngx_http_auth_oidc_http_free(h);

    if (rc != AUTH_OIDC_OK) {
        ngx_http_auth_oidc_metadata_fail(rt, "discovery document from "
                                         "\"%V\" refused: %s",
                                         &prov->config_url, err.msg);
        return;
    }

    rt->pending_discovery = discovery;

    if (ngx_http_auth_oidc_metadata_jwks_target(rt,
            auth_oidc_discovery_endpoint(discovery, AUTH_OIDC_EP_JWKS))
        != NGX_OK)
    {
        return;
    }

    ngx_http_auth_oidc_metadata_fetch(rt, &rt->jwks_target,
                                      ngx_http_auth_oidc_metadata_jwks_done);
}


static void
ngx_http_auth_oidc_metadata_jwks_done(ngx_http_auth_oidc_http_t *h)
{
    ngx_http_auth_oidc_runtime_t *rt = h->data;

    ngx_str_t               doc;
    auth_oidc_jwks_t       *jwks;
    auth_oidc_error_t       err;
    auth_oidc_status_t      rc;
    auth_oidc_discovery_t  *discovery;

    if (ngx_http_auth_oidc_metadata_check_answer(rt, h, "jwks_uri")
        != NGX_OK)
    {
        return;
    }

    rc = auth_oidc_jwks_parse(h->body.data, h->body.len, &jwks, &err);

    if (rc != AUTH_OIDC_OK) {
        rt->fetch = NULL;
        ngx_http_auth_oidc_http_free(h);
        ngx_http_auth_oidc_metadata_fail(rt, "JWKS from \"%V\" refused: %s",
                                         &rt->jwks_target.url, err.msg);
        return;
    }

    /* publish() owns both documents now, and ends the fetch on failure */
    discovery = rt->pending_discovery;
    rt->pending_discovery = NULL;
    rt->fetch = NULL;
    doc = h->body;

    ngx_http_auth_oidc_metadata_publish(rt, discovery, &doc, jwks);

    /* the body lived in the request's pool: free it only now */
    ngx_http_auth_oidc_http_free(h);

    ngx_http_auth_oidc_metadata_end_fetch(rt);
}


static ngx_int_t
ngx_http_auth_oidc_metadata_check_answer(ngx_http_auth_oidc_runtime_t *rt,
    ngx_http_auth_oidc_http_t *h, const char *what)
{
    ngx_uint_t  status;
    ngx_str_t   error;

    if (h->rc == NGX_OK && h->status == NGX_HTTP_OK) {
        return NGX_OK;
    }

    status = h->status;
    error = h->error;

    if (h->rc == NGX_OK) {
        ngx_http_auth_oidc_metadata_fail(rt, "%s request failed: unexpected "
                                         "HTTP status %ui", what, status);

    } else {
        ngx_http_auth_oidc_metadata_fail(rt, "%s request failed: %V",
                                         what, &error);
    }

    /* fail() ended the fetch, and freed h with it */

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_auth_oidc_metadata_jwks_target(ngx_http_auth_oidc_runtime_t *rt,
    auth_oidc_str_t uri)
{
    u_char  err[NGX_HTTP_AUTH_OIDC_ERRLEN];

    if (ngx_http_auth_oidc_endpoint_target(rt->fetch_pool, rt->conf, uri,
                                           "jwks_uri", &rt->jwks_target,
                                           err, sizeof(err))
        != NGX_OK)
    {
        ngx_http_auth_oidc_metadata_fail(rt, "%s", err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_auth_oidc_metadata_publish(ngx_http_auth_oidc_runtime_t *rt,
    auth_oidc_discovery_t *discovery, ngx_str_t *jwks_doc,
    auth_oidc_jwks_t *jwks)
{
    u_char                          *d, *j;
    time_t                           now;
    ngx_str_t                        discovery_doc;
    ngx_slab_pool_t                 *shpool;
    ngx_http_auth_oidc_meta_node_t  *node;

    node = rt->node;
    shpool = ngx_http_auth_oidc_meta_zone->shpool;
    now = ngx_time();
    discovery_doc = rt->discovery_doc;

    ngx_shmtx_lock(&shpool->mutex);

    d = ngx_slab_alloc_locked(shpool, ngx_max(discovery_doc.len, 1));
    j = ngx_slab_alloc_locked(shpool, ngx_max(jwks_doc->len, 1));

    if ((d == NULL || j == NULL) && node->discovery) {
        /*
         * The zone is short of room: let the old pair go first. The node
         * has no documents for a moment, which every reader checks for.
         */
        ngx_http_auth_oidc_metadata_drop_locked(shpool, node);

        if (d == NULL) {
            d = ngx_slab_alloc_locked(shpool, ngx_max(discovery_doc.len, 1));
        }

        if (j == NULL) {
            j = ngx_slab_alloc_locked(shpool, ngx_max(jwks_doc->len, 1));
        }
    }

    if (d == NULL || j == NULL) {
        if (d) {
            ngx_slab_free_locked(shpool, d);
        }

        if (j) {
            ngx_slab_free_locked(shpool, j);
        }

        ngx_shmtx_unlock(&shpool->mutex);
        auth_oidc_discovery_free(discovery);
        auth_oidc_jwks_free(jwks);
        ngx_http_auth_oidc_metadata_fail(rt, "no room in the metadata zone");
        return;
    }

    ngx_http_auth_oidc_metadata_drop_locked(shpool, node);

    ngx_memcpy(d, discovery_doc.data, discovery_doc.len);
    ngx_memcpy(j, jwks_doc->data, jwks_doc->len);

    node->discovery = d;
    node->discovery_len = discovery_doc.len;
    node->jwks = j;
    node->jwks_len = jwks_doc->len;
    node->discovery_fetched = now;
    node->jwks_fetched = now;
    node->state = NGX_HTTP_AUTH_OIDC_READY;
    node->next_fetch = now + rt->conf->metadata_refresh;
    node->fetches++;
    node->generation++;
    ngx_http_auth_oidc_metadata_release_locked(node);

    rt->generation = node->generation;

    ngx_shmtx_unlock(&shpool->mutex);

    auth_oidc_discovery_free(rt->discovery);
    auth_oidc_jwks_free(rt->jwks);
    rt->discovery = discovery;
    rt->jwks = jwks;

    ngx_log_error(NGX_LOG_INFO, rt->tick.log, 0,
                  "auth_oidc: provider \"%V\": metadata and %uz keys fetched",
                  &rt->conf->name, auth_oidc_jwks_count(jwks));

    /* this worker's waiting requests go on at once, once the fetch ended,
     * and so do the other workers' */
    ngx_post_event(&rt->watch, &ngx_posted_events);
    ngx_http_auth_oidc_metadata_bell_ring();
}


/* Frees the node's documents; the lock is held. */

static void
ngx_http_auth_oidc_metadata_drop_locked(ngx_slab_pool_t *shpool,
    ngx_http_auth_oidc_meta_node_t *node)
{
    if (node->discovery) {
        ngx_slab_free_locked(shpool, node->discovery);
        node->discovery = NULL;
        node->discovery_len = 0;
    }

    if (node->jwks) {
        ngx_slab_free_locked(shpool, node->jwks);
        node->jwks = NULL;
        node->jwks_len = 0;
    }
}


/*
 * Gives the lease back, if it is still ours: after an expiry another worker
 * may hold it, and its fetch must not be doubled by a third. The lock is
 * held.
 */

static void
ngx_http_auth_oidc_metadata_release_locked(
    ngx_http_auth_oidc_meta_node_t *node)
{
    if (node->lease_pid == ngx_pid) {
        node->lease_until = 0;
        node->lease_pid = 0;
    }
}


static void
ngx_http_auth_oidc_metadata_fail(ngx_http_auth_oidc_runtime_t *rt,
    const char *fmt, ...)
{
    u_char                          *p;
    time_t                           now;
    va_list                          args;
    ngx_uint_t                       level, repeated;
    ngx_slab_pool_t                 *shpool;
    ngx_http_auth_oidc_meta_node_t  *node;
    u_char                           msg[NGX_HTTP_AUTH_OIDC_ERRLEN];

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    node = rt->node;
    shpool = ngx_http_auth_oidc_meta_zone->shpool;
    now = ngx_time();

    ngx_shmtx_lock(&shpool->mutex);

    repeated = (node->last_error_len == (size_t) (p - msg)
                && ngx_memcmp(node->last_error, msg, p - msg) == 0
                && node->last_error_time >= node->discovery_fetched);

    node->last_error_len = p - msg;
    ngx_memcpy(node->last_error, msg, p - msg);
    node->last_error_time = now;
    node->state = node->discovery ? NGX_HTTP_AUTH_OIDC_READY
                                  : NGX_HTTP_AUTH_OIDC_ERROR;
    node->next_fetch = now + rt->conf->metadata_retry;
    node->fetches++;
    node->failures++;
    ngx_http_auth_oidc_metadata_release_locked(node);

    /* the documents did not change: the generation stays, so the workers
     * do not parse them again */

    ngx_shmtx_unlock(&shpool->mutex);

    /* the same failure again and again is said once at "error" level */
    level = repeated ? NGX_LOG_WARN : NGX_LOG_ERR;

    ngx_log_error(level, rt->tick.log, 0,
                  "auth_oidc: provider \"%V\": %*s, retrying in %T s",
                  &rt->conf->name, p - msg, msg, rt->conf->metadata_retry);

    ngx_http_auth_oidc_metadata_end_fetch(rt);

    ngx_post_event(&rt->watch, &ngx_posted_events);
    ngx_http_auth_oidc_metadata_bell_ring();
}


static void
ngx_http_auth_oidc_metadata_end_fetch(ngx_http_auth_oidc_runtime_t *rt)
{
    if (rt->fetch) {
        ngx_http_auth_oidc_http_cancel(rt->fetch);
        rt->fetch = NULL;
    }

    if (rt->pending_discovery) {
        auth_oidc_discovery_free(rt->pending_discovery);
        rt->pending_discovery = NULL;
    }

    if (rt->fetch_pool) {
        ngx_destroy_pool(rt->fetch_pool);
        rt->fetch_pool = NULL;
    }

    ngx_str_null(&rt->discovery_doc);
}


/*
 * Brings this worker's parsed copies up to date with the zone. Parsing is
 * done outside the lock, on private copies of the documents.
 */

ngx_int_t
ngx_http_auth_oidc_metadata_sync(ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_log_t *log)
{
    u_char                          *d, *j;
    size_t                           dlen, jlen;
    auth_oidc_str_t                  issuer;
    auth_oidc_jwks_t                *jwks;
    auth_oidc_error_t                err;
    ngx_atomic_uint_t                generation;
    ngx_slab_pool_t                 *shpool;
    auth_oidc_discovery_t           *discovery;
    ngx_http_auth_oidc_runtime_t    *rt;
    ngx_http_auth_oidc_meta_node_t  *node;

    rt = prov->runtime;

    if (rt == NULL) {
        return NGX_DECLINED;
    }

    node = rt->node;

    if (rt->generation == node->generation) {
        return rt->discovery ? NGX_OK : NGX_DECLINED;
    }

    shpool = ngx_http_auth_oidc_meta_zone->shpool;
    d = NULL;
    j = NULL;

    ngx_shmtx_lock(&shpool->mutex);

    generation = node->generation;
    dlen = node->discovery_len;
    jlen = node->jwks_len;

    if (node->discovery && node->jwks) {
        d = ngx_alloc(dlen + 1, log);
        j = ngx_alloc(jlen + 1, log);

        if (d && j) {
            ngx_memcpy(d, node->discovery, dlen);
            ngx_memcpy(j, node->jwks, jlen);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (d == NULL || j == NULL) {
        if (d) {
            ngx_free(d);
        }

        if (j) {
            ngx_free(j);
        }

        /* nothing published yet, or out of memory: try on the next tick */
        if (node->discovery == NULL) {
            rt->generation = generation;
        }

        return rt->discovery ? NGX_OK : NGX_DECLINED;
    }

    issuer.data = prov->issuer.data;
    issuer.len = prov->issuer.len;

    discovery = NULL;
    jwks = NULL;

    if (auth_oidc_discovery_parse(d, dlen, issuer, &discovery, &err)
        != AUTH_OIDC_OK
        || auth_oidc_jwks_parse(j, jlen, &jwks, &err) != AUTH_OIDC_OK)
    {
        /* the documents were validated before they were stored */
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "auth_oidc: provider \"%V\": cached metadata "
                      "refused: %s", &prov->name, err.msg);
        auth_oidc_discovery_free(discovery);

    } else {
        auth_oidc_discovery_free(rt->discovery);
        auth_oidc_jwks_free(rt->jwks);
        rt->discovery = discovery;
        rt->jwks = jwks;
    }

    rt->generation = generation;

    ngx_free(d);
    ngx_free(j);

    return rt->discovery ? NGX_OK : NGX_DECLINED;
}


/*
 * A token names a key we do not have: the provider may have rotated its
 * keys. Ask for a refetch now, at most once per keys_refetch_interval
 * across all workers.
 */

void
ngx_http_auth_oidc_metadata_refetch_keys(
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_log_t *log)
{
    time_t                           now;
    ngx_uint_t                       due;
    ngx_slab_pool_t                 *shpool;
    ngx_http_auth_oidc_runtime_t    *rt;
    ngx_http_auth_oidc_meta_node_t  *node;

    rt = prov->runtime;

    if (rt == NULL) {
        return;
    }

    node = rt->node;
    shpool = ngx_http_auth_oidc_meta_zone->shpool;
    now = ngx_time();

    ngx_shmtx_lock(&shpool->mutex);

    due = (now - node->keys_refetch_requested >= prov->keys_refetch_interval);

    if (due) {
        node->keys_refetch_requested = now;
        node->next_fetch = now;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (due) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "auth_oidc: provider \"%V\": unknown key id, "
                      "refetching keys", &prov->name);

        ngx_add_timer(&rt->tick, 1);
    }
}


/*
 * Makes the request wait for the end of the provider's fetch under way or
 * due, in whichever worker: "handler" runs when the node's fetch count
 * moves (published or failed), when the wait's bound has passed, or when
 * the worker exits. NGX_AGAIN: the request waits; NGX_OK: metadata was
 * published since this worker last looked, there is something to look at
 * now; NGX_DECLINED: no fetch is under way nor due, waiting would be for
 * nothing (the node is in error until metadata_retry has passed).
 *
 * The bound is what connecting and one answer may take, connect_timeout +
 * read_timeout: a provider that hangs is cut by the fetch's own timeouts
 * first, which wakes the request with the failure. resolver_timeout (30s
 * by default) and send_timeout are left out: a request that waits long
 * after a browser gave up helps nobody.
 */

ngx_int_t
ngx_http_auth_oidc_metadata_wait(ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_waiter_t *w, ngx_http_request_t *r,
    ngx_http_auth_oidc_waiter_pt handler)
{
    time_t                           now;
    ngx_uint_t                       fetches, fetching, due;
    ngx_atomic_uint_t                generation;
    ngx_http_auth_oidc_runtime_t    *rt;
    ngx_http_auth_oidc_meta_node_t  *node;

    rt = prov->runtime;

    if (rt == NULL || ngx_exiting || ngx_terminate || ngx_quit) {
        return NGX_DECLINED;
    }

    node = rt->node;
    now = ngx_time();

    ngx_shmtx_lock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);

    fetches = node->fetches;
    generation = node->generation;
    fetching = (node->lease_until >= now || rt->fetch_pool != NULL);
    due = (now >= node->next_fetch);

    ngx_shmtx_unlock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);

    if (generation != rt->generation) {
        return NGX_OK;
    }

    if (!fetching && !due) {
        return NGX_DECLINED;
    }

    ngx_http_auth_oidc_metadata_unwait(w);

    w->rt = rt;
    w->request = r;
    w->handler = handler;
    w->fetches = fetches;
    w->deadline = ngx_current_msec + prov->connect_timeout
                  + prov->read_timeout;

    ngx_queue_insert_tail(&rt->waiters, &w->queue);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth oidc: waiting for \"%V\"'s fetch, %ui so far",
                   &prov->name, fetches);

    /*
     * A client that goes away is noticed, and its waiter dropped; a request
     * body being discarded (a logout's POST) keeps its own handler.
     */
    if (r->read_event_handler == ngx_http_block_reading) {
        r->read_event_handler = ngx_http_test_reading;
    }

    if (due && !fetching) {
        /* the tick starts the fetch now, not within a second */
        ngx_add_timer(&rt->tick, 1);
    }

    if (!rt->watch.timer_set) {
        ngx_add_timer(&rt->watch, ngx_http_auth_oidc_watch_interval());
    }

    return NGX_AGAIN;
}


/* The request no longer waits: answered, or ended (its pool's cleanup). */

void
ngx_http_auth_oidc_metadata_unwait(ngx_http_auth_oidc_waiter_t *w)
{
    ngx_http_auth_oidc_runtime_t  *rt;

    rt = w->rt;

    if (rt == NULL) {
        return;
    }

    ngx_queue_remove(&w->queue);
    w->rt = NULL;

    if (ngx_queue_empty(&rt->waiters) && rt->watch.timer_set) {
        ngx_del_timer(&rt->watch);
    }
}


/*
 * Wakes the requests whose fetch ended or whose bound passed; all of them
 * when the worker exits. They are taken off the queue first: a woken
 * request may end, or wait again, while the others are woken.
 */

static void
ngx_http_auth_oidc_metadata_watch(ngx_event_t *ev)
{
    ngx_http_auth_oidc_runtime_t *rt = ev->data;

    ngx_uint_t                    fetches, exiting;
    ngx_msec_t                    now;
    ngx_queue_t                   woken, *q, *next;
    ngx_http_request_t           *r;
    ngx_http_auth_oidc_waiter_t  *w;

    /* a word read without the lock: a change is all that matters */
    fetches = rt->node->fetches;
    now = ngx_current_msec;
    exiting = (ngx_exiting || ngx_terminate || ngx_quit);

    ngx_queue_init(&woken);

    for (q = ngx_queue_head(&rt->waiters);
         q != ngx_queue_sentinel(&rt->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_auth_oidc_waiter_t, queue);

        if (exiting
            || w->fetches != fetches
            || (ngx_msec_int_t) (now - w->deadline) >= 0)
        {
            ngx_queue_remove(q);
            ngx_queue_insert_tail(&woken, q);
        }
    }

    if (ngx_queue_empty(&rt->waiters)) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }

    } else if (!ev->timer_set) {
        ngx_add_timer(ev, ngx_http_auth_oidc_watch_interval());
    }

    while (!ngx_queue_empty(&woken)) {
        q = ngx_queue_head(&woken);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_auth_oidc_waiter_t, queue);
        w->rt = NULL;
        r = w->request;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth oidc: fetch wait over, %ui fetches", fetches);

        if (r->read_event_handler == ngx_http_test_reading) {
            r->read_event_handler = ngx_http_block_reading;
        }

        w->handler(r);
    }
}


/* When the next fetch may bring metadata: Retry-After, at least 1 s. */

time_t
ngx_http_auth_oidc_metadata_retry_after(
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    time_t  next, now;

    if (prov->runtime == NULL) {
        return prov->metadata_retry;
    }

    ngx_shmtx_lock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);
    next = prov->runtime->node->next_fetch;
    ngx_shmtx_unlock(&ngx_http_auth_oidc_meta_zone->shpool->mutex);

    now = ngx_time();

    /* a fetch under way or due: its result is a moment away */
    return (next > now) ? next - now : 1;
}


void
ngx_http_auth_oidc_metadata_snapshot(ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_meta_node_t *out)
{
    ngx_slab_pool_t  *shpool;

    ngx_memzero(out, sizeof(ngx_http_auth_oidc_meta_node_t));

    if (prov->runtime == NULL) {
        return;
    }

    shpool = ngx_http_auth_oidc_meta_zone->shpool;

    ngx_shmtx_lock(&shpool->mutex);
    *out = *prov->runtime->node;
    ngx_shmtx_unlock(&shpool->mutex);

    /* the copy must not be used to reach shared memory */
    ngx_str_null(&out->key);
    out->discovery = NULL;
    out->jwks = NULL;
}


/*
 * The bell: one eventfd shared by every worker of a configuration. Each
 * worker listens edge-triggered and never reads it, so every ring (a write)
 * reaches every worker's event loop once; its handler looks at its waiting
 * requests at once instead of on the next watch. Event methods that are
 * level-triggered only (poll, select) would wake forever: there the watch
 * timer alone does the work.
 */

static void
ngx_http_auth_oidc_metadata_bell_close(void *data)
{
    ngx_http_auth_oidc_meta_zone_t *zone = data;

    if (zone->bell != (ngx_fd_t) -1 && zone->bell_conn == NULL) {
        (void) close(zone->bell);
        zone->bell = (ngx_fd_t) -1;
    }
}


static void
ngx_http_auth_oidc_metadata_bell_listen(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_meta_zone_t *zone)
{
    ngx_connection_t  *c;

    if (zone->bell == (ngx_fd_t) -1
        || !(ngx_event_flags & NGX_USE_CLEAR_EVENT))
    {
        return;
    }

    c = ngx_get_connection(zone->bell, cycle->log);
    if (c == NULL) {
        return;
    }

    c->read->handler = ngx_http_auth_oidc_metadata_bell_heard;
    c->read->log = cycle->log;
    c->data = zone;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_CLEAR_EVENT) != NGX_OK) {
        ngx_free_connection(c);
        return;
    }

    zone->bell_conn = c;
}


static void
ngx_http_auth_oidc_metadata_bell_heard(ngx_event_t *ev)
{
    ngx_uint_t                            i;
    ngx_http_auth_oidc_runtime_t         *rt;
    ngx_http_auth_oidc_main_conf_t       *amcf;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    amcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_auth_oidc_module);
    if (amcf == NULL) {
        return;
    }

    provs = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {
        rt = provs[i]->runtime;

        if (rt && !ngx_queue_empty(&rt->waiters) && !rt->watch.posted) {
            ngx_post_event(&rt->watch, &ngx_posted_events);
        }
    }
}


static void
ngx_http_auth_oidc_metadata_bell_ring(void)
{
    uint64_t  one = 1;

    if (ngx_http_auth_oidc_meta_zone == NULL
        || ngx_http_auth_oidc_meta_zone->bell == (ngx_fd_t) -1)
    {
        return;
    }

    /* EAGAIN only when the count is near 2^64: nobody would hear more */
    (void) write(ngx_http_auth_oidc_meta_zone->bell, &one, sizeof(one));
}
