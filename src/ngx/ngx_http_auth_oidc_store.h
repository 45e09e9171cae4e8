
/*
 * Session store: sessions (keyed by provider and session id), the used
 * states of finished callbacks and the other records below, as opaque
 * records encoded by the core.
 *
 * One interface, one table of operations per store type (get, also with
 * take or touch; put with or without put-if-absent; delete; a session
 * index's add and end); the shared-memory store answers at once,
 * Redis later (NGX_AGAIN, then the caller's done). Operations take a
 * caller (pool, log, done, data), not a request, so that a timer or a
 * back-channel logout can use them too.
 *
 * Record kinds (the core's AUTH_OIDC_RECORD_* use the same numbers):
 * started logins and the used states of finished callbacks, sessions,
 * refresh locks (one refresh of a session's tokens at a time, across
 * workers and hosts: an add with a TTL of a few seconds), session indexes,
 * the used "jti" of back-channel logout tokens, and bearer tokens'
 * verifications (a cache, always in shared memory: the first to go when
 * the zone is full, without a warning).
 *
 * A session index lists the sessions of a provider's "sid" or "sub", so
 * that a back-channel logout ends them all on every host: index_add after
 * a session is put, index_end at the logout. In Redis an index is a set
 * under "<prefix>i:<HMAC>" of its sessions' key names (never a session
 * id); in shared memory a record listing its sessions' keys.
 *
 * The hot path, a request with a session, is one get_touch: the session is
 * read and its store expiry moved (an idle timeout) in one operation.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_redis.h"
#include "ngx_http_auth_oidc_redis_cache.h"
#include "ngx_http_auth_oidc_redis_cluster.h"
#include "ngx_http_auth_oidc_sentinel_watch.h"


typedef enum {
    NGX_HTTP_AUTH_OIDC_PENDING_LOGIN = 1,
    NGX_HTTP_AUTH_OIDC_SESSION = 2,
    NGX_HTTP_AUTH_OIDC_REFRESH_LOCK = 3,
    NGX_HTTP_AUTH_OIDC_SESSION_INDEX = 4,
    NGX_HTTP_AUTH_OIDC_USED_JTI = 5,
    NGX_HTTP_AUTH_OIDC_BEARER_TOKEN = 6,
    NGX_HTTP_AUTH_OIDC_REVOKED = 7   /* a cookie store's ended sessions */
} ngx_http_auth_oidc_record_e;

/* kinds are 1 .. NGX_HTTP_AUTH_OIDC_RECORD_KINDS - 1 */
#define NGX_HTTP_AUTH_OIDC_RECORD_KINDS  8

/* sessions an index lists at most */
#define NGX_HTTP_AUTH_OIDC_INDEX_MAX     64


/*
 * COOKIE: sessions sealed into the browser's cookies
 * (ngx_http_auth_oidc_store_cookie.c), everything else, and the sessions
 * ended before their cookies expire, in the store's shared memory.
 */
typedef enum {
    NGX_HTTP_AUTH_OIDC_STORE_SHM = 0,
    NGX_HTTP_AUTH_OIDC_STORE_REDIS,
    NGX_HTTP_AUTH_OIDC_STORE_COOKIE
} ngx_http_auth_oidc_store_type_e;


struct ngx_http_auth_oidc_store_s {
    ngx_str_t                         name;
    ngx_uint_t                        type;
    size_t                            size;
    ngx_shm_zone_t                   *shm_zone;

    ngx_http_auth_oidc_redis_conf_t   redis_conf;
    ngx_str_t                         prefix;
    ngx_str_t                         secret_file;
    ngx_str_t                         previous_secret_file;
    auth_oidc_keyring_t              *keyring;
    ngx_http_auth_oidc_redis_t       *redis;        /* per worker */
    ngx_http_auth_oidc_redis_cluster_t  *cluster;   /* per worker, or NULL */
    ngx_http_auth_oidc_redis_cache_t *cache;        /* per worker, or NULL */
    ngx_http_auth_oidc_sentinel_watch_t  *sentinel_watch;  /* or NULL */

    /* per worker: the session records it wrote to Redis (sizing) */
    ngx_uint_t                        session_puts;
    size_t                            session_put_bytes;
    const struct ngx_http_auth_oidc_store_ops_s  *ops;

    u_char                           *file;
    ngx_uint_t                        line;
};


/* A put's condition (the put operation's nx). */
#define NGX_HTTP_AUTH_OIDC_PUT_ALWAYS      0
#define NGX_HTTP_AUTH_OIDC_PUT_IF_ABSENT   1
#define NGX_HTTP_AUTH_OIDC_PUT_IF_PRESENT  2


/*
 * Called with the answer of an operation that returned NGX_AGAIN: rc is
 * NGX_OK (found, or stored), NGX_DECLINED (absent; for an add: taken) or
 * NGX_ERROR (the store failed; logged). value is in the caller's pool.
 */
typedef void (*ngx_http_auth_oidc_store_done_pt)(void *data, ngx_int_t rc,
    ngx_str_t *value);


/*
 * Who asks: a request, or anything else with a pool and a log (a timer, a
 * back-channel logout). Answers and an operation's bookkeeping live in
 * pool; an operation still in flight when the pool goes is cancelled, and
 * done is not called then.
 */
typedef struct {
    ngx_pool_t                        *pool;
    ngx_log_t                         *log;
    ngx_http_auth_oidc_store_done_pt   done;
    void                              *data;

    /*
     * A session get's version (NULL: not asked): in, the version of the
     * record the caller holds decoded (0: none); out, the found record's
     * (0: the store cannot tell). A get whose record still has the
     * caller's version answers NGX_DONE, without a value: see
     * ngx_http_auth_oidc_session_memo.h. Lives as long as the operation.
     */
    uint64_t                          *version;
} ngx_http_auth_oidc_store_caller_t;


/*
 * What every store does (ngx_http_auth_oidc_store_shm_ops, _redis_ops).
 * Each answers at once (NGX_OK, NGX_DECLINED, NGX_ERROR; value filled) or
 * later (NGX_AGAIN, then caller->done). take: the record is gone after it
 * is read (one-time use); touch: when not 0 and the record is found (and
 * not taken), its store expiry becomes touch; nx, a put's condition
 * (NGX_HTTP_AUTH_OIDC_PUT_*): ALWAYS, IF_ABSENT (or expired), IF_PRESENT
 * (a replace). index_add and index_end: see their wrappers below.
 */
typedef struct ngx_http_auth_oidc_store_ops_s {
    ngx_int_t  (*get)(ngx_http_auth_oidc_store_t *store, ngx_uint_t kind,
                      ngx_str_t *key, ngx_uint_t take, time_t touch,
                      ngx_http_auth_oidc_store_caller_t *caller,
                      ngx_str_t *value);
    ngx_int_t  (*put)(ngx_http_auth_oidc_store_t *store, ngx_uint_t nx,
                      ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value,
                      time_t expires,
                      ngx_http_auth_oidc_store_caller_t *caller);
    /* no answer is awaited */
    void       (*remove)(ngx_http_auth_oidc_store_t *store, ngx_uint_t kind,
                         ngx_str_t *key,
                         ngx_http_auth_oidc_store_caller_t *caller);
    ngx_int_t  (*index_add)(ngx_http_auth_oidc_store_t *store,
                            ngx_str_t *index_key, ngx_str_t *session_key,
                            time_t expires,
                            ngx_http_auth_oidc_store_caller_t *caller);
    ngx_int_t  (*index_end)(ngx_http_auth_oidc_store_t *store,
                            ngx_str_t *index_key,
                            ngx_http_auth_oidc_store_caller_t *caller,
                            ngx_uint_t *ended);
} ngx_http_auth_oidc_store_ops_t;


extern const ngx_http_auth_oidc_store_ops_t  ngx_http_auth_oidc_store_shm_ops;
extern const ngx_http_auth_oidc_store_ops_t  ngx_http_auth_oidc_store_redis_ops;


/* A request as the caller: its pool, its log, data = r. */
static ngx_inline void
ngx_http_auth_oidc_store_request(ngx_http_auth_oidc_store_caller_t *caller,
    ngx_http_request_t *r, ngx_http_auth_oidc_store_done_pt done)
{
    caller->pool = r->pool;
    caller->log = r->connection->log;
    caller->done = done;
    caller->data = r;
    caller->version = NULL;
}


char *ngx_http_auth_oidc_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_auth_oidc_store_t *ngx_http_auth_oidc_store_find(
    ngx_http_auth_oidc_main_conf_t *amcf, ngx_str_t *name);
ngx_int_t ngx_http_auth_oidc_store_init_conf(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf);
ngx_int_t ngx_http_auth_oidc_store_init_worker(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_main_conf_t *amcf);
void ngx_http_auth_oidc_store_exit_worker(
    ngx_http_auth_oidc_main_conf_t *amcf);

/* Through the store's table of operations. */
ngx_int_t ngx_http_auth_oidc_store_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_str_t *value);
/* as get, and a record found expires at touch (unix time) from now on */
ngx_int_t ngx_http_auth_oidc_store_get_touch(
    ngx_http_auth_oidc_store_t *store, ngx_uint_t kind, ngx_str_t *key,
    time_t touch, ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *value);
ngx_int_t ngx_http_auth_oidc_store_take(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_str_t *value);
ngx_int_t ngx_http_auth_oidc_store_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
/* as put, only when the key is absent (or expired): NGX_DECLINED if not */
ngx_int_t ngx_http_auth_oidc_store_add(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
/* as put, only while the key is there: NGX_DECLINED when it is gone */
ngx_int_t ngx_http_auth_oidc_store_replace(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
void ngx_http_auth_oidc_store_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller);

/*
 * The session put under session_key (kind SESSION) belongs to the index
 * index_key (kind SESSION_INDEX), which lives at least until expires (never
 * shortened). Answers as a put: NGX_OK, NGX_ERROR, or NGX_AGAIN and then
 * done with NGX_OK or NGX_ERROR. An index keeps at most
 * NGX_HTTP_AUTH_OIDC_INDEX_MAX sessions; see each store for which go first.
 */
ngx_int_t ngx_http_auth_oidc_store_index_add(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *index_key,
    ngx_str_t *session_key, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
/*
 * Deletes every session the index lists, and the index: a session listed
 * before the call is gone after it. NGX_OK with *ended the number of
 * session records deleted, NGX_DECLINED when there is no such index,
 * NGX_ERROR; or NGX_AGAIN and then done with the same rc, and for NGX_OK
 * the number as decimal text in value (*ended is not written then).
 */
ngx_int_t ngx_http_auth_oidc_store_index_end(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *index_key,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_uint_t *ended);

/* writes at most size bytes of JSON; returns the end */
u_char *ngx_http_auth_oidc_store_describe(ngx_http_auth_oidc_store_t *store,
    u_char *buf, size_t size);

/* counts[]: entries, sessions, evicted, evicted sessions */
void ngx_http_auth_oidc_store_shm_counts(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t *counts);

/* ngx_http_auth_oidc_keyring.c */
char *ngx_http_auth_oidc_store_keyring(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store);

/* ngx_http_auth_oidc_store_redis.c */
ngx_int_t ngx_http_auth_oidc_store_redis_addr(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *addr);
ngx_int_t ngx_http_auth_oidc_store_redis_list(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *param, ngx_str_t *addr);
ngx_int_t ngx_http_auth_oidc_store_redis_tls(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store);
ngx_int_t ngx_http_auth_oidc_store_redis_open(
    const auth_oidc_keyring_t *keyring, ngx_str_t *rkey, redisReply *reply,
    ngx_pool_t *pool, ngx_str_t *value, auth_oidc_error_t *err);


#endif /* _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_ */
