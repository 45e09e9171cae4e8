
/*
 * Following a Sentinel failover as it happens: one connection per worker
 * and store to a sentinel, subscribed to "+switch-master". When the
 * sentinels name a new master for master_name=, the store's connections
 * are told to find it again (handler), without waiting for a write to be
 * refused with READONLY or for the old master to go away. A sentinel that
 * cannot be reached is replaced by the next one; the other signs of a
 * failover (a lost connection, READONLY, ROLE) still work without it.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_SENTINEL_WATCH_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_SENTINEL_WATCH_H_INCLUDED_


#include "ngx_http_auth_oidc_redis.h"


typedef struct ngx_http_auth_oidc_sentinel_watch_s
    ngx_http_auth_oidc_sentinel_watch_t;

typedef void (*ngx_http_auth_oidc_sentinel_switch_pt)(void *data);


ngx_http_auth_oidc_sentinel_watch_t *ngx_http_auth_oidc_sentinel_watch_create(
    ngx_http_auth_oidc_redis_conf_t *conf, ngx_str_t *name,
    ngx_http_auth_oidc_sentinel_switch_pt handler, void *data,
    ngx_cycle_t *cycle);
void ngx_http_auth_oidc_sentinel_watch_destroy(
    ngx_http_auth_oidc_sentinel_watch_t *watch);


#endif /* _NGX_HTTP_AUTH_OIDC_SENTINEL_WATCH_H_INCLUDED_ */
