
/*
 * A worker's cache of the session records it read from Redis, kept exact
 * by Redis itself (server-assisted client-side caching, Redis 6+ over
 * RESP2): the store's connection reads with "CLIENT TRACKING on REDIRECT
 * <id> NOLOOP", and a second connection, subscribed to
 * "__redis__:invalidate", hears every key another client writes, deletes
 * or lets expire. What this worker writes itself it forgets itself
 * (NOLOOP spares it its own touches).
 *
 * A record is cached only when its read was tracked and no invalidation
 * came between the read and its reply (a generation counter); losing
 * either connection, or a subscriber that stops answering its PING,
 * empties the cache until tracking is on again. On a Cluster each master
 * has its tracked connection and its subscriber. An entry is dropped after
 * cache_max_age anyway, the least recently used first when the worker's
 * cache_size is reached.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_REDIS_CACHE_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_REDIS_CACHE_H_INCLUDED_


#include "ngx_http_auth_oidc_redis.h"


/* per worker and store (cache=), and an entry's age at most */
#define NGX_HTTP_AUTH_OIDC_REDIS_CACHE_SIZE     (8 * 1024 * 1024)
#define NGX_HTTP_AUTH_OIDC_REDIS_CACHE_MAX_AGE  30


typedef struct ngx_http_auth_oidc_redis_cache_s
    ngx_http_auth_oidc_redis_cache_t;
typedef struct ngx_http_auth_oidc_redis_cache_link_s
    ngx_http_auth_oidc_redis_cache_link_t;


/*
 * NULL with nothing logged when cache_size is 0 ("cache=off"). redis: the
 * store's connection, or NULL for a Cluster, whose masters attach theirs.
 */
ngx_http_auth_oidc_redis_cache_t *ngx_http_auth_oidc_redis_cache_create(
    ngx_http_auth_oidc_redis_conf_t *conf, ngx_str_t *name,
    ngx_http_auth_oidc_redis_t *redis, ngx_cycle_t *cycle);
void ngx_http_auth_oidc_redis_cache_destroy(
    ngx_http_auth_oidc_redis_cache_t *cache);

/*
 * A Cluster master's connection, tracked with a subscriber of its own on
 * the same node; the node's watch says when the connection is ready or
 * lost. NULL: not cached (out of memory, or too many).
 */
ngx_http_auth_oidc_redis_cache_link_t *ngx_http_auth_oidc_redis_cache_attach(
    ngx_http_auth_oidc_redis_cache_t *cache, ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_conf_t *conf);
void ngx_http_auth_oidc_redis_cache_link_ready(
    ngx_http_auth_oidc_redis_cache_link_t *link);
void ngx_http_auth_oidc_redis_cache_link_lost(
    ngx_http_auth_oidc_redis_cache_link_t *link);

/*
 * By the store's key (no keyed hash to compute): NGX_OK with the record
 * (cache memory: copy it before the next event),
 * its version (new at every fill: see the caller's version in
 * ngx_http_auth_oidc_store.h) and when this worker last checked its expiry
 * (ngx_current_msec); NGX_DECLINED if absent.
 */
ngx_int_t ngx_http_auth_oidc_redis_cache_get(
    ngx_http_auth_oidc_redis_cache_t *cache, ngx_str_t *key,
    ngx_str_t *value, uint64_t *version, ngx_msec_t **touched);

/*
 * Taken when a read is sent on link's connection (NULL: the one Redis's);
 * 0: the read is not tracked, do not fill.
 */
uint64_t ngx_http_auth_oidc_redis_cache_ticket(
    ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_http_auth_oidc_redis_cache_link_t *link);
/* A Cluster redirected a command: no read in flight is cached. */
void ngx_http_auth_oidc_redis_cache_redirected(
    ngx_http_auth_oidc_redis_cache_t *cache);
/* the cached record's version, or 0 when it is not cached */
uint64_t ngx_http_auth_oidc_redis_cache_fill(
    ngx_http_auth_oidc_redis_cache_t *cache, uint64_t ticket,
    ngx_str_t *key, ngx_str_t *rkey, ngx_str_t *value);

/* This worker writes or deletes rkey (NULL: keys it cannot name). */
void ngx_http_auth_oidc_redis_cache_forget(
    ngx_http_auth_oidc_redis_cache_t *cache, ngx_str_t *rkey);

/* The master moved (Sentinel): the subscriber looks for it again. */
void ngx_http_auth_oidc_redis_cache_moved(
    ngx_http_auth_oidc_redis_cache_t *cache);

/* writes at most last - buf bytes of JSON; returns the end */
u_char *ngx_http_auth_oidc_redis_cache_describe(
    ngx_http_auth_oidc_redis_cache_t *cache, u_char *buf, u_char *last);


#endif /* _NGX_HTTP_AUTH_OIDC_REDIS_CACHE_H_INCLUDED_ */
