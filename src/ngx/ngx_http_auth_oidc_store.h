
/*
 * Session store: pending logins (keyed by state) and sessions (keyed by
 * session id), as opaque records encoded by the core.
 *
 * The shared-memory store answers at once. The interface returns nginx
 * codes so that an asynchronous store (Redis) can answer NGX_AGAIN later
 * without changing its callers.
 *
 * Next in this interface (records are opaque and kinds are open-ended, so
 * both fit without changing a caller):
 * - back-channel logout ends every session of a provider's "sid" or "sub"
 *   on every host: a kind for an index record, keyed by provider and sid
 *   (or sub), holding the keys of its sessions; in Redis a set under
 *   "<prefix>i:<HMAC>", in shared memory a second record kind;
 * - one refresh of a session's tokens at a time, across workers and hosts:
 *   a short lock, put-if-absent with a TTL of a few seconds ("SET NX PX"
 *   in Redis, a record with a short expiry under the zone's mutex).
 */


#ifndef _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_redis.h"


typedef enum {
    NGX_HTTP_AUTH_OIDC_PENDING_LOGIN = 1,
    NGX_HTTP_AUTH_OIDC_SESSION
} ngx_http_auth_oidc_record_e;


typedef enum {
    NGX_HTTP_AUTH_OIDC_STORE_SHM = 0,
    NGX_HTTP_AUTH_OIDC_STORE_REDIS
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

    u_char                           *file;
    ngx_uint_t                        line;
};


/*
 * Called with the answer of an operation that returned NGX_AGAIN: rc is
 * NGX_OK (found, or stored), NGX_DECLINED (absent) or NGX_ERROR (the store
 * failed; logged). value is in the request's pool.
 */
typedef void (*ngx_http_auth_oidc_store_done_pt)(ngx_http_request_t *r,
    ngx_int_t rc, ngx_str_t *value);


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

/*
 * Each answers at once (shared memory: NGX_OK, NGX_DECLINED, NGX_ERROR,
 * value filled) or later (Redis: NGX_AGAIN, then done is called).
 */
ngx_int_t ngx_http_auth_oidc_store_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_request_t *r, ngx_str_t *value,
    ngx_http_auth_oidc_store_done_pt done);
/* as get, and the record is gone afterwards: one-time use */
ngx_int_t ngx_http_auth_oidc_store_take(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_request_t *r, ngx_str_t *value,
    ngx_http_auth_oidc_store_done_pt done);
ngx_int_t ngx_http_auth_oidc_store_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_request_t *r, ngx_http_auth_oidc_store_done_pt done);
/* as put, only when the key is absent (or expired): NGX_DECLINED if not */
ngx_int_t ngx_http_auth_oidc_store_add(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_request_t *r, ngx_http_auth_oidc_store_done_pt done);
/* no answer is awaited */
void ngx_http_auth_oidc_store_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_request_t *r);

/* writes at most size bytes of JSON; returns the end */
u_char *ngx_http_auth_oidc_store_describe(ngx_http_auth_oidc_store_t *store,
    u_char *buf, size_t size);

/* ngx_http_auth_oidc_store_redis.c */
ngx_int_t ngx_http_auth_oidc_store_redis_addr(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *addr);
char *ngx_http_auth_oidc_store_keyring(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store);
ngx_int_t ngx_http_auth_oidc_store_redis_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_request_t *r, ngx_uint_t take,
    ngx_http_auth_oidc_store_done_pt done);
ngx_int_t ngx_http_auth_oidc_store_redis_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t nx, ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_request_t *r, ngx_http_auth_oidc_store_done_pt done);
void ngx_http_auth_oidc_store_redis_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_request_t *r);
ngx_int_t ngx_http_auth_oidc_store_redis_open(
    const auth_oidc_keyring_t *keyring, ngx_str_t *rkey, redisReply *reply,
    ngx_pool_t *pool, ngx_str_t *value, auth_oidc_error_t *err);


#endif /* _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_ */
