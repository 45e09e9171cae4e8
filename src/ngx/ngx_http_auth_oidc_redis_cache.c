
/*
 * A worker's Redis session cache, kept exact by Redis's invalidation
 * messages: see ngx_http_auth_oidc_redis_cache.h. A link is one tracked
 * connection and its subscriber on the same server: one for a Redis (or
 * Sentinel's master), one per master of a Cluster.
 */


#include "ngx_http_auth_oidc_redis_cache.h"


/* how often the subscriber must prove it still hears Redis */
#define NGX_HTTP_AUTH_OIDC_REDIS_CACHE_KEEPALIVE  5000

#define NGX_HTTP_AUTH_OIDC_REDIS_INVALIDATE  "__redis__:invalidate"

/* INFO server's run_id: which server a connection is on */
#define NGX_HTTP_AUTH_OIDC_REDIS_RUN_ID      40


typedef struct {
    ngx_str_node_t                     sn;        /* key: Redis key name */
    ngx_str_node_t                     by_key;    /* key: the store's key */
    ngx_queue_t                        lru;
    uint64_t                           version;   /* new at every fill */
    time_t                             filled;
    ngx_msec_t                         touched;   /* expiry last checked */
    size_t                             size;      /* counted in cache->size */
    ngx_str_t                          value;
} ngx_http_auth_oidc_redis_cache_entry_t;


struct ngx_http_auth_oidc_redis_cache_link_s {
    ngx_http_auth_oidc_redis_cache_t  *cache;
    ngx_http_auth_oidc_redis_conf_t   *conf;      /* the server's */
    ngx_http_auth_oidc_redis_t        *redis;     /* the store's, tracked */
    ngx_http_auth_oidc_redis_t        *sub;       /* hears invalidations */
    ngx_http_auth_oidc_redis_watch_t   redis_watch;
    ngx_http_auth_oidc_redis_watch_t   sub_watch;
    long long                          sub_id;    /* its CLIENT ID */

    u_char                             sub_run_id[
                                           NGX_HTTP_AUTH_OIDC_REDIS_RUN_ID + 1];

    unsigned                           subscribed:1;
    unsigned                           checking:1;     /* INFO in flight */
    unsigned                           tracking_sent:1;
    unsigned                           tracking:1;     /* Redis said OK */
};


/* a Cluster's masters, at most: see ngx_http_auth_oidc_redis_cluster.c */
#define NGX_HTTP_AUTH_OIDC_REDIS_CACHE_LINKS  255


struct ngx_http_auth_oidc_redis_cache_s {
    ngx_str_t                          name;
    ngx_log_t                         *log;
    ngx_cycle_t                       *cycle;
    ngx_http_auth_oidc_redis_conf_t   *conf;

    ngx_http_auth_oidc_redis_cache_link_t  *links[
                                           NGX_HTTP_AUTH_OIDC_REDIS_CACHE_LINKS];
    ngx_uint_t                         nlinks;

    ngx_rbtree_t                       tree;      /* by Redis key name */
    ngx_rbtree_node_t                  sentinel;
    ngx_rbtree_t                       keys;      /* by the store's key */
    ngx_rbtree_node_t                  keys_sentinel;
    ngx_queue_t                        lru;       /* most recent first */
    size_t                             size;
    ngx_uint_t                         entries;

    /* moves on at every invalidation, flush and own write: a read whose
     * ticket is older may have missed one and is not cached */
    uint64_t                           generation;
    uint64_t                           versions;  /* the last one given */

    unsigned                           unsupported:1;  /* said once */

    ngx_uint_t                         hits;
    ngx_uint_t                         misses;
    ngx_uint_t                         invalidations;
    ngx_uint_t                         flushes;
    ngx_uint_t                         evictions;
};


static void ngx_http_auth_oidc_redis_cache_ready(void *data);
static void ngx_http_auth_oidc_redis_cache_lost(void *data);
static void ngx_http_auth_oidc_redis_cache_sub_ready(void *data);
static void ngx_http_auth_oidc_redis_cache_sub_lost(void *data);
static void ngx_http_auth_oidc_redis_cache_message(void *data,
    redisReply *reply);
static void ngx_http_auth_oidc_redis_cache_id_done(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_cache_subscribed(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_cache_sub_server(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_cache_track(
    ngx_http_auth_oidc_redis_cache_link_t *link);
static void ngx_http_auth_oidc_redis_cache_checked(void *data,
    redisReply *reply, ngx_str_t *error);
static ngx_int_t ngx_http_auth_oidc_redis_cache_run_id(redisReply *reply,
    u_char *run_id);
static void ngx_http_auth_oidc_redis_cache_tracked(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_cache_unsupported(
    ngx_http_auth_oidc_redis_cache_link_t *link, redisReply *reply);
static void ngx_http_auth_oidc_redis_cache_stop(
    ngx_http_auth_oidc_redis_cache_link_t *link, const char *why);
static ngx_http_auth_oidc_redis_cache_entry_t *
    ngx_http_auth_oidc_redis_cache_lookup(
    ngx_http_auth_oidc_redis_cache_t *cache, u_char *key, size_t len);
static void ngx_http_auth_oidc_redis_cache_remove(
    ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_http_auth_oidc_redis_cache_entry_t *e);
static void ngx_http_auth_oidc_redis_cache_flush(
    ngx_http_auth_oidc_redis_cache_t *cache);


ngx_http_auth_oidc_redis_cache_t *
ngx_http_auth_oidc_redis_cache_create(ngx_http_auth_oidc_redis_conf_t *conf,
    ngx_str_t *name, ngx_http_auth_oidc_redis_t *redis, ngx_cycle_t *cycle)
{
    ngx_http_auth_oidc_redis_cache_t       *cache;
    ngx_http_auth_oidc_redis_cache_link_t  *link;

    if (conf->cache_size == 0) {
        return NULL;
    }

    cache = ngx_pcalloc(cycle->pool, sizeof(ngx_http_auth_oidc_redis_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    cache->name = *name;
    cache->log = cycle->log;
    cache->cycle = cycle;
    cache->conf = conf;
    cache->generation = 1;

    ngx_rbtree_init(&cache->tree, &cache->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&cache->keys, &cache->keys_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&cache->lru);

    if (redis == NULL) {
        /* a Cluster's nodes attach as the map names them */
        return cache;
    }

    link = ngx_http_auth_oidc_redis_cache_attach(cache, redis, conf);
    if (link == NULL) {
        return NULL;
    }

    /* the store's connection says when it is ready or lost */
    link->redis_watch.ready = ngx_http_auth_oidc_redis_cache_ready;
    link->redis_watch.lost = ngx_http_auth_oidc_redis_cache_lost;
    link->redis_watch.data = link;
    ngx_http_auth_oidc_redis_watch(redis, &link->redis_watch, NGX_LOG_ERR);

    return cache;
}


/*
 * A connection to track (the one Redis's, or a Cluster node's, whose
 * watch then calls _ready() and _lost()), and its subscriber.
 */

ngx_http_auth_oidc_redis_cache_link_t *
ngx_http_auth_oidc_redis_cache_attach(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_http_auth_oidc_redis_t *redis, ngx_http_auth_oidc_redis_conf_t *conf)
{
    ngx_http_auth_oidc_redis_cache_link_t  *link;

    if (cache->nlinks == NGX_HTTP_AUTH_OIDC_REDIS_CACHE_LINKS) {
        return NULL;
    }

    link = ngx_pcalloc(cache->cycle->pool,
                       sizeof(ngx_http_auth_oidc_redis_cache_link_t));
    if (link == NULL) {
        return NULL;
    }

    link->cache = cache;
    link->conf = conf;
    link->redis = redis;

    /* the store's connection says an outage; the subscriber only notes
     * its own, and that caching stops */
    link->sub = ngx_http_auth_oidc_redis_create(conf, &cache->name,
                                                cache->cycle);
    if (link->sub == NULL) {
        return NULL;
    }

    link->sub_watch.ready = ngx_http_auth_oidc_redis_cache_sub_ready;
    link->sub_watch.lost = ngx_http_auth_oidc_redis_cache_sub_lost;
    link->sub_watch.message = ngx_http_auth_oidc_redis_cache_message;
    link->sub_watch.data = link;
    link->sub_watch.keepalive = NGX_HTTP_AUTH_OIDC_REDIS_CACHE_KEEPALIVE;
    ngx_http_auth_oidc_redis_watch(link->sub, &link->sub_watch,
                                   NGX_LOG_INFO);

    cache->links[cache->nlinks++] = link;

    return link;
}


void
ngx_http_auth_oidc_redis_cache_destroy(ngx_http_auth_oidc_redis_cache_t *cache)
{
    ngx_uint_t                              i;
    ngx_http_auth_oidc_redis_cache_link_t  *link;

    for (i = 0; i < cache->nlinks; i++) {
        link = cache->links[i];

        if (link->redis_watch.data) {
            ngx_http_auth_oidc_redis_watch(link->redis, NULL, NGX_LOG_ERR);
        }

        ngx_http_auth_oidc_redis_watch(link->sub, NULL, NGX_LOG_INFO);
        ngx_http_auth_oidc_redis_destroy(link->sub);
    }

    cache->nlinks = 0;

    ngx_http_auth_oidc_redis_cache_flush(cache);
}


ngx_int_t
ngx_http_auth_oidc_redis_cache_get(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_str_t *key, ngx_str_t *value, uint64_t *version,
    ngx_msec_t **touched)
{
    ngx_str_node_t                          *sn;
    ngx_http_auth_oidc_redis_cache_entry_t  *e;

    e = NULL;

    if (cache->entries) {
        sn = ngx_str_rbtree_lookup(&cache->keys, key,
                                   ngx_crc32_short(key->data, key->len));
        if (sn) {
            e = (ngx_http_auth_oidc_redis_cache_entry_t *)
                    ((u_char *) sn
                     - offsetof(ngx_http_auth_oidc_redis_cache_entry_t,
                                by_key));
        }
    }

    if (e && ngx_time() - e->filled >= cache->conf->cache_max_age) {
        /* the last resort against an invalidation never heard */
        ngx_http_auth_oidc_redis_cache_remove(cache, e);
        e = NULL;
    }

    if (e == NULL) {
        cache->misses++;

        if (cache->conf->counters) {
            (void) ngx_atomic_fetch_add(&cache->conf->counters->cache_misses,
                                        1);
        }

        return NGX_DECLINED;
    }

    cache->hits++;

    if (cache->conf->counters) {
        (void) ngx_atomic_fetch_add(&cache->conf->counters->cache_hits, 1);
    }

    ngx_queue_remove(&e->lru);
    ngx_queue_insert_head(&cache->lru, &e->lru);

    *value = e->value;
    *version = e->version;
    *touched = &e->touched;

    return NGX_OK;
}


uint64_t
ngx_http_auth_oidc_redis_cache_ticket(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_http_auth_oidc_redis_cache_link_t *link)
{
    if (link == NULL) {
        link = cache->nlinks ? cache->links[0] : NULL;
    }

    /*
     * Sent after CLIENT TRACKING on the same connection: tracked. If that
     * fails, or either connection is lost, before the reply, the
     * generation moves on.
     */
    return (link && link->tracking_sent) ? cache->generation : 0;
}


/*
 * A reply comes from another connection than the one its ticket was taken
 * for (a Cluster's MOVED or ASK): no read in flight is cached.
 */

void
ngx_http_auth_oidc_redis_cache_redirected(
    ngx_http_auth_oidc_redis_cache_t *cache)
{
    cache->generation++;
}


uint64_t
ngx_http_auth_oidc_redis_cache_fill(ngx_http_auth_oidc_redis_cache_t *cache,
    uint64_t ticket, ngx_str_t *key, ngx_str_t *rkey, ngx_str_t *value)
{
    u_char                                  *p;
    size_t                                   size;
    ngx_queue_t                             *q;
    ngx_http_auth_oidc_redis_cache_entry_t  *e;

    if (ticket == 0 || ticket != cache->generation) {
        return 0;
    }

    size = sizeof(ngx_http_auth_oidc_redis_cache_entry_t) + key->len
           + rkey->len + value->len;

    if (size > cache->conf->cache_size / 8) {
        /* a handful of huge records would empty the cache for nothing */
        return 0;
    }

    e = ngx_http_auth_oidc_redis_cache_lookup(cache, rkey->data, rkey->len);
    if (e) {
        ngx_http_auth_oidc_redis_cache_remove(cache, e);
    }

    while (cache->size + size > cache->conf->cache_size
           && !ngx_queue_empty(&cache->lru))
    {
        q = ngx_queue_last(&cache->lru);
        e = ngx_queue_data(q, ngx_http_auth_oidc_redis_cache_entry_t, lru);
        ngx_http_auth_oidc_redis_cache_remove(cache, e);
        cache->evictions++;
    }

    e = ngx_alloc(size, cache->log);
    if (e == NULL) {
        return 0;
    }

    p = (u_char *) (e + 1);

    e->sn.str.data = p;
    e->sn.str.len = rkey->len;
    e->sn.node.key = ngx_crc32_short(rkey->data, rkey->len);
    p = ngx_cpymem(p, rkey->data, rkey->len);

    e->by_key.str.data = p;
    e->by_key.str.len = key->len;
    e->by_key.node.key = ngx_crc32_short(key->data, key->len);
    p = ngx_cpymem(p, key->data, key->len);

    e->value.data = p;
    e->value.len = value->len;
    ngx_memcpy(p, value->data, value->len);

    e->version = ++cache->versions;
    e->filled = ngx_time();
    e->touched = ngx_current_msec;
    e->size = size;

    ngx_rbtree_insert(&cache->tree, &e->sn.node);
    ngx_rbtree_insert(&cache->keys, &e->by_key.node);
    ngx_queue_insert_head(&cache->lru, &e->lru);

    cache->size += size;
    cache->entries++;

    return e->version;
}


/*
 * This worker's own writes: NOLOOP spares it their invalidations, so it
 * forgets the key, and a read of it already in flight is not cached.
 */

void
ngx_http_auth_oidc_redis_cache_forget(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_str_t *rkey)
{
    ngx_http_auth_oidc_redis_cache_entry_t  *e;

    cache->generation++;

    if (rkey == NULL) {
        ngx_http_auth_oidc_redis_cache_flush(cache);
        return;
    }

    e = ngx_http_auth_oidc_redis_cache_lookup(cache, rkey->data, rkey->len);
    if (e) {
        ngx_http_auth_oidc_redis_cache_remove(cache, e);
    }
}


u_char *
ngx_http_auth_oidc_redis_cache_describe(
    ngx_http_auth_oidc_redis_cache_t *cache, u_char *buf, u_char *last)
{
    ngx_uint_t  i, tracking;

    tracking = 0;

    for (i = 0; i < cache->nlinks; i++) {
        tracking += cache->links[i]->tracking;
    }

    /* tracking: on every connection (every master of a Cluster) */
    return ngx_slprintf(buf, last, "{\"tracking\":%s,\"entries\":%ui,"
                        "\"bytes\":%uz,\"max_bytes\":%uz,\"hits\":%ui,"
                        "\"misses\":%ui,\"invalidations\":%ui,"
                        "\"flushes\":%ui,\"evictions\":%ui}",
                        (tracking && tracking == cache->nlinks)
                        ? "true" : "false", cache->entries,
                        cache->size, cache->conf->cache_size, cache->hits,
                        cache->misses, cache->invalidations, cache->flushes,
                        cache->evictions);
}


/* The store's connection is (again) ready: tracking must be asked for. */

static void
ngx_http_auth_oidc_redis_cache_ready(void *data)
{
    ngx_http_auth_oidc_redis_cache_link_ready(data);
}


void
ngx_http_auth_oidc_redis_cache_link_ready(
    ngx_http_auth_oidc_redis_cache_link_t *link)
{
    ngx_http_auth_oidc_redis_cache_track(link);
}


/*
 * Tracking ends with the connection it was asked on; the subscriber goes
 * too, so that both find the same server again (a Redis restarted behind
 * the same address gives client ids anew: an old id may name someone else).
 */

static void
ngx_http_auth_oidc_redis_cache_lost(void *data)
{
    ngx_http_auth_oidc_redis_cache_link_lost(data);
}


void
ngx_http_auth_oidc_redis_cache_link_lost(
    ngx_http_auth_oidc_redis_cache_link_t *link)
{
    ngx_http_auth_oidc_redis_cache_stop(link, NULL);
    ngx_http_auth_oidc_redis_close(link->sub, "the store's connection is "
                                   "lost");
}


/* CLIENT ID for REDIRECT, INFO server for the server's run_id, SUBSCRIBE. */

static void
ngx_http_auth_oidc_redis_cache_sub_ready(void *data)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    size_t        argvlen[2];
    const char   *argv[2];

    link->sub_id = 0;
    link->sub_run_id[0] = '\0';

    argv[0] = "CLIENT";
    argvlen[0] = 6;
    argv[1] = "ID";
    argvlen[1] = 2;

    if (ngx_http_auth_oidc_redis_command(link->sub,
                                         ngx_http_auth_oidc_redis_cache_id_done,
                                         link, 2, argv, argvlen)
        == NULL)
    {
        return;
    }

    argv[0] = "INFO";
    argvlen[0] = 4;
    argv[1] = "server";
    argvlen[1] = 6;

    if (ngx_http_auth_oidc_redis_command(link->sub,
                                     ngx_http_auth_oidc_redis_cache_sub_server,
                                     link, 2, argv, argvlen)
        == NULL)
    {
        return;
    }

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;
    argv[1] = NGX_HTTP_AUTH_OIDC_REDIS_INVALIDATE;
    argvlen[1] = sizeof(NGX_HTTP_AUTH_OIDC_REDIS_INVALIDATE) - 1;

    (void) ngx_http_auth_oidc_redis_command(link->sub,
                                      ngx_http_auth_oidc_redis_cache_subscribed,
                                      link, 2, argv, argvlen);
}


static void
ngx_http_auth_oidc_redis_cache_sub_lost(void *data)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    link->subscribed = 0;

    ngx_http_auth_oidc_redis_cache_stop(link, "the connection that hears "
                                        "invalidations is lost");
}


static void
ngx_http_auth_oidc_redis_cache_id_done(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
        link->sub_id = reply->integer;
        return;
    }

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        /* an ACL user without CLIENT, or no such command */
        ngx_http_auth_oidc_redis_cache_unsupported(link, reply);
    }
}


static void
ngx_http_auth_oidc_redis_cache_sub_server(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    (void) ngx_http_auth_oidc_redis_cache_run_id(reply, link->sub_run_id);
}


/*
 * SUBSCRIBE's answer. Refused (an ACL user's channels: Redis 7's
 * acl-pubsub-default is resetchannels), the connection stays idle: asking
 * again would be refused again. Not answered, it is closed and retried.
 */

static void
ngx_http_auth_oidc_redis_cache_subscribed(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    if (reply == NULL) {
        ngx_http_auth_oidc_redis_close(link->sub, "SUBSCRIBE not answered");
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_auth_oidc_redis_cache_unsupported(link, reply);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len != 9
        || ngx_strncmp(reply->element[0]->str, "subscribe", 9) != 0)
    {
        ngx_http_auth_oidc_redis_close(link->sub, "SUBSCRIBE answered "
                                       "something else");
        return;
    }

    if (link->sub_id == 0 || link->sub_run_id[0] == '\0') {
        /* CLIENT ID or INFO refused: said once already */
        return;
    }

    link->subscribed = 1;

    ngx_http_auth_oidc_redis_cache_track(link);
}


/*
 * Once both connections are ready, and on the same server (INFO server's
 * run_id: two sentinels may name two servers during a failover, and a
 * client id means nothing on another server): reads on the store's
 * connection are tracked from CLIENT TRACKING on, and their invalidations
 * go to the subscriber; NOLOOP: not for what this connection writes.
 */

static void
ngx_http_auth_oidc_redis_cache_track(ngx_http_auth_oidc_redis_cache_link_t *link)
{
    size_t        argvlen[2];
    const char   *argv[2];

    if (!link->subscribed || link->checking || link->tracking_sent
        || link->cache->unsupported
        || !ngx_http_auth_oidc_redis_ready(link->redis))
    {
        return;
    }

    argv[0] = "INFO";
    argvlen[0] = 4;
    argv[1] = "server";
    argvlen[1] = 6;

    if (ngx_http_auth_oidc_redis_command(link->redis,
                                       ngx_http_auth_oidc_redis_cache_checked,
                                       link, 2, argv, argvlen)
        != NULL)
    {
        link->checking = 1;
    }
}


static void
ngx_http_auth_oidc_redis_cache_checked(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    u_char        id[NGX_INT64_LEN];
    u_char        run_id[NGX_HTTP_AUTH_OIDC_REDIS_RUN_ID + 1];
    size_t        argvlen[6];
    const char   *argv[6];

    if (!link->checking) {
        /* a connection was lost since it was sent */
        return;
    }

    link->checking = 0;

    if (reply == NULL) {
        /* not answered: asked again once the subscriber is back */
        ngx_http_auth_oidc_redis_close(link->sub, "INFO not answered");
        return;
    }

    if (ngx_http_auth_oidc_redis_cache_run_id(reply, run_id) != NGX_OK
        || !link->subscribed)
    {
        return;
    }

    if (ngx_strcmp(run_id, link->sub_run_id) != 0) {
        /* the subscriber finds the master again, then asks again */
        ngx_http_auth_oidc_redis_close(link->sub, "not on the server the "
                                       "store's connection is on");
        return;
    }

    argv[0] = "CLIENT";
    argvlen[0] = 6;
    argv[1] = "TRACKING";
    argvlen[1] = 8;
    argv[2] = "on";
    argvlen[2] = 2;
    argv[3] = "REDIRECT";
    argvlen[3] = 8;
    argv[4] = (char *) id;
    argvlen[4] = ngx_sprintf(id, "%L", (int64_t) link->sub_id) - id;
    argv[5] = "NOLOOP";
    argvlen[5] = 6;

    if (ngx_http_auth_oidc_redis_command(link->redis,
                                       ngx_http_auth_oidc_redis_cache_tracked,
                                       link, 6, argv, argvlen)
        != NULL)
    {
        link->tracking_sent = 1;
    }
}


static void
ngx_http_auth_oidc_redis_cache_tracked(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    if (!link->tracking_sent) {
        /* a connection was lost since it was sent */
        return;
    }

    if (reply && reply->type == REDIS_REPLY_STATUS) {
        link->tracking = 1;

        ngx_log_error(NGX_LOG_INFO, link->cache->log, 0,
                      "auth_oidc: oidc_session_store \"%V\": sessions are "
                      "cached in this worker, invalidated by Redis",
                      &link->cache->name);
        return;
    }

    ngx_http_auth_oidc_redis_cache_stop(link, NULL);

    if (reply == NULL) {
        /* not answered: asked again once the subscriber is back */
        ngx_http_auth_oidc_redis_close(link->sub, "CLIENT TRACKING not "
                                       "answered");
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* Redis before 6, a proxy in front of it, an ACL without CLIENT */
        ngx_http_auth_oidc_redis_cache_unsupported(link, reply);
    }
}


/* "run_id:<40 hex digits>" of an INFO server reply, NUL-terminated. */

static ngx_int_t
ngx_http_auth_oidc_redis_cache_run_id(redisReply *reply, u_char *run_id)
{
    u_char  *p, *last;

    run_id[0] = '\0';

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    last = (u_char *) reply->str + reply->len;
    p = ngx_strlcasestrn((u_char *) reply->str, last, (u_char *) "run_id:",
                         sizeof("run_id:") - 2);

    if (p == NULL
        || (size_t) (last - p) < sizeof("run_id:") - 1
                                 + NGX_HTTP_AUTH_OIDC_REDIS_RUN_ID)
    {
        return NGX_ERROR;
    }

    p += sizeof("run_id:") - 1;
    ngx_memcpy(run_id, p, NGX_HTTP_AUTH_OIDC_REDIS_RUN_ID);
    run_id[NGX_HTTP_AUTH_OIDC_REDIS_RUN_ID] = '\0';

    return NGX_OK;
}


/* The master moved (Sentinel): the subscriber must follow it. */

void
ngx_http_auth_oidc_redis_cache_moved(ngx_http_auth_oidc_redis_cache_t *cache)
{
    if (cache->nlinks) {
        ngx_http_auth_oidc_redis_close(cache->links[0]->sub, "the sentinels "
                                       "switched the master");
    }
}


/* Said once per worker: the store works, only without the cache. */

static void
ngx_http_auth_oidc_redis_cache_unsupported(
    ngx_http_auth_oidc_redis_cache_link_t *link, redisReply *reply)
{
    ngx_http_auth_oidc_redis_cache_t  *cache;

    cache = link->cache;

    if (cache->unsupported) {
        return;
    }

    cache->unsupported = 1;

    ngx_log_error(NGX_LOG_WARN, cache->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": Redis %V does not "
                  "track keys for this worker (%*s): every request reads its "
                  "session from Redis; \"cache=off\" says so in the "
                  "configuration", &cache->name, &link->conf->addr,
                  (size_t) reply->len, reply->str);
}


/* ["message", "__redis__:invalidate", [key, ...] or nil for a flush] */

static void
ngx_http_auth_oidc_redis_cache_message(void *data, redisReply *reply)
{
    ngx_http_auth_oidc_redis_cache_link_t *link = data;

    size_t                                   i;
    redisReply                              *channel, *keys, *key;
    ngx_http_auth_oidc_redis_cache_t        *cache;
    ngx_http_auth_oidc_redis_cache_entry_t  *e;

    cache = link->cache;

    channel = reply->element[1];
    keys = reply->element[2];

    if (channel->type != REDIS_REPLY_STRING
        || channel->len != sizeof(NGX_HTTP_AUTH_OIDC_REDIS_INVALIDATE) - 1
        || ngx_strncmp(channel->str, NGX_HTTP_AUTH_OIDC_REDIS_INVALIDATE,
                       channel->len) != 0)
    {
        return;
    }

    cache->generation++;

    if (keys->type != REDIS_REPLY_ARRAY) {
        /* FLUSHALL, FLUSHDB, or what we cannot read: forget everything */
        ngx_http_auth_oidc_redis_cache_flush(cache);
        return;
    }

    for (i = 0; i < keys->elements; i++) {
        key = keys->element[i];

        if (key->type != REDIS_REPLY_STRING) {
            ngx_http_auth_oidc_redis_cache_flush(cache);
            return;
        }

        cache->invalidations++;

        e = ngx_http_auth_oidc_redis_cache_lookup(cache, (u_char *) key->str,
                                                  key->len);
        if (e) {
            ngx_http_auth_oidc_redis_cache_remove(cache, e);
        }
    }
}


/*
 * Tracking is off on this link until both its connections are ready again:
 * nothing cached is trusted (whichever server it came from: simpler than
 * knowing), and no read in flight is cached.
 */

static void
ngx_http_auth_oidc_redis_cache_stop(ngx_http_auth_oidc_redis_cache_link_t *link,
    const char *why)
{
    ngx_http_auth_oidc_redis_cache_t  *cache;

    cache = link->cache;

    if (why && link->tracking) {
        ngx_log_error(NGX_LOG_NOTICE, cache->log, 0,
                      "auth_oidc: oidc_session_store \"%V\": %s: sessions "
                      "are read from Redis until it is back",
                      &cache->name, why);
    }

    link->tracking = 0;
    link->checking = 0;
    link->tracking_sent = 0;
    cache->generation++;

    /* after a lost subscriber the store's connection still redirects to
     * it: cache_track asks again with the next subscriber's id */
    ngx_http_auth_oidc_redis_cache_flush(cache);
}


static ngx_http_auth_oidc_redis_cache_entry_t *
ngx_http_auth_oidc_redis_cache_lookup(ngx_http_auth_oidc_redis_cache_t *cache,
    u_char *key, size_t len)
{
    ngx_str_t        name;
    ngx_str_node_t  *sn;

    if (cache->entries == 0) {
        return NULL;
    }

    name.data = key;
    name.len = len;

    sn = ngx_str_rbtree_lookup(&cache->tree, &name, ngx_crc32_short(key, len));

    return (ngx_http_auth_oidc_redis_cache_entry_t *) sn;
}


static void
ngx_http_auth_oidc_redis_cache_remove(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_http_auth_oidc_redis_cache_entry_t *e)
{
    ngx_rbtree_delete(&cache->tree, &e->sn.node);
    ngx_rbtree_delete(&cache->keys, &e->by_key.node);
    ngx_queue_remove(&e->lru);

    cache->size -= e->size;
    cache->entries--;

    ngx_free(e);
}


static void
ngx_http_auth_oidc_redis_cache_flush(ngx_http_auth_oidc_redis_cache_t *cache)
{
    ngx_queue_t                             *q;
    ngx_http_auth_oidc_redis_cache_entry_t  *e;

    if (cache->entries) {
        cache->flushes++;
    }

    while (!ngx_queue_empty(&cache->lru)) {
        q = ngx_queue_head(&cache->lru);
        e = ngx_queue_data(q, ngx_http_auth_oidc_redis_cache_entry_t, lru);
        ngx_http_auth_oidc_redis_cache_remove(cache, e);
    }
}
