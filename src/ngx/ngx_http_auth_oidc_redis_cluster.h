
/*
 * Redis Cluster: the slot map asked of the cluster (CLUSTER SLOTS), one
 * connection per master (an ngx_http_auth_oidc_redis_t each, created as
 * the map names them), and every command sent to the master of its key's
 * slot. A MOVED answer names the slot's new master: the command goes there
 * and the map is asked again; an ASK answer (the slot is being migrated)
 * sends it once to the importing node, after ASKING. The map is asked
 * again too when a node is lost (a failover promotes a replica). With the
 * worker's session cache, each master's connection is tracked with a
 * subscriber of its own (ngx_http_auth_oidc_redis_cache_attach()).
 *
 * Every command names one key: the store sends no command that spans two
 * slots (see ngx_http_auth_oidc_store_redis.c).
 */


#ifndef _NGX_HTTP_AUTH_OIDC_REDIS_CLUSTER_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_REDIS_CLUSTER_H_INCLUDED_


#include "ngx_http_auth_oidc_redis.h"
#include "ngx_http_auth_oidc_redis_cache.h"


typedef struct ngx_http_auth_oidc_redis_cluster_s
    ngx_http_auth_oidc_redis_cluster_t;
typedef struct ngx_http_auth_oidc_redis_cluster_cmd_s
    ngx_http_auth_oidc_redis_cluster_cmd_t;


/*
 * conf->cluster: the seed nodes, asked for the map in turn; cache (or
 * NULL): the worker's session cache, each master's connection attached.
 */
ngx_http_auth_oidc_redis_cluster_t *ngx_http_auth_oidc_redis_cluster_create(
    ngx_http_auth_oidc_redis_conf_t *conf, ngx_str_t *name,
    ngx_http_auth_oidc_redis_cache_t *cache, ngx_cycle_t *cycle);
void ngx_http_auth_oidc_redis_cluster_destroy(
    ngx_http_auth_oidc_redis_cluster_t *cluster);

/*
 * As ngx_http_auth_oidc_redis_command(), to the node of key's slot; the
 * handler hears the answer after the redirects were followed. A handler
 * of NULL: nobody waits, but MOVED and ASK are followed all the same (a
 * logout's delete must reach the key).
 */
ngx_http_auth_oidc_redis_cluster_cmd_t *ngx_http_auth_oidc_redis_cluster_command(
    ngx_http_auth_oidc_redis_cluster_t *cluster, ngx_str_t *key,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
void ngx_http_auth_oidc_redis_cluster_cancel(
    ngx_http_auth_oidc_redis_cluster_cmd_t *cmd);

/* the cache link of the master of key's slot now; NULL if not known */
ngx_http_auth_oidc_redis_cache_link_t *ngx_http_auth_oidc_redis_cluster_link(
    ngx_http_auth_oidc_redis_cluster_t *cluster, ngx_str_t *key);

/* the Redis Cluster hash slot of a key (CRC16 of it or its {hash tag}) */
ngx_uint_t ngx_http_auth_oidc_redis_cluster_slot(u_char *key, size_t len);

void ngx_http_auth_oidc_redis_cluster_incident(
    ngx_http_auth_oidc_redis_cluster_t *cluster, const char *fmt, ...);

/* as ngx_http_auth_oidc_redis_stats(), for every node together */
void ngx_http_auth_oidc_redis_cluster_stats(
    ngx_http_auth_oidc_redis_cluster_t *cluster, ngx_uint_t *connected,
    ngx_uint_t *commands, ngx_uint_t *errors, ngx_msec_t *latency,
    ngx_str_t *last_error);

/* ",\"cluster\":{...}" for oidc_status; at most last - buf bytes */
u_char *ngx_http_auth_oidc_redis_cluster_describe(
    ngx_http_auth_oidc_redis_cluster_t *cluster, u_char *buf, u_char *last);


#endif /* _NGX_HTTP_AUTH_OIDC_REDIS_CLUSTER_H_INCLUDED_ */
