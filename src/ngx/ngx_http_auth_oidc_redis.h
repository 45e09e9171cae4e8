
/*
 * One Redis connection per worker and store, an nginx peer connection on
 * nginx's event loop; hiredis formats the commands and parses the replies.
 * Commands are pipelined on it: a single connection keeps Redis's own
 * ordering and needs no pool bookkeeping, and a worker is single-threaded
 * anyway.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_REDIS_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_REDIS_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"

#include <hiredis/hiredis.h>


typedef struct ngx_http_auth_oidc_redis_s      ngx_http_auth_oidc_redis_t;
typedef struct ngx_http_auth_oidc_redis_cmd_s  ngx_http_auth_oidc_redis_cmd_t;

/*
 * reply is NULL when the command failed (error says why: not connected,
 * timed out, connection lost); a Redis error reply is a reply.
 */
typedef void (*ngx_http_auth_oidc_redis_handler_pt)(void *data,
    redisReply *reply, ngx_str_t *error);


/*
 * What the user of a connection beyond its commands hears (the session
 * cache): the link became ready (after AUTH, SELECT, PING), the link is
 * gone (every command in flight was answered with no reply first), and a
 * published message (["message", channel, payload]), which answers no
 * command. Any of them may be NULL.
 */
typedef struct {
    void                       (*ready)(void *data);
    void                       (*lost)(void *data);
    void                       (*message)(void *data, redisReply *reply);
    void                        *data;

    /* a connection that sends no commands of its own (a subscriber): PING
     * this often once ready; no answer within timeout= and it is lost */
    ngx_msec_t                   keepalive;
} ngx_http_auth_oidc_redis_watch_t;


typedef struct {
    ngx_str_t                    addr;        /* as configured, for logs */
    struct sockaddr             *sockaddr;    /* resolved when read */
    socklen_t                    socklen;

    /* TLS ("redis=tls://HOST:PORT"): the certificate must name ssl_name
     * (by default the host as written), signed by a trusted CA */
    ngx_flag_t                   tls;
    ngx_str_t                    ssl_name;
    unsigned                     ssl_name_is_ip:1;
    ngx_str_t                    ssl_trusted_certificate;
    ngx_str_t                    ssl_certificate;
    ngx_str_t                    ssl_certificate_key;
    ngx_ssl_t                   *ssl;

    /* Sentinel (sentinel=HOST:PORT ..., master_name=): the master is asked
     * of the sentinels in turn and followed on failover */
    ngx_array_t                 *sentinels;   /* ngx_addr_t */
    ngx_str_t                    master_name;
    ngx_str_t                    sentinel_password;

    /* Redis Cluster (cluster=HOST:PORT ...): the seed nodes, asked for the
     * slot map; see ngx_http_auth_oidc_redis_cluster.h */
    ngx_array_t                 *cluster;     /* ngx_addr_t */

    ngx_str_t                    user;
    ngx_str_t                    password;
    ngx_int_t                    db;
    ngx_msec_t                   connect_timeout;
    ngx_msec_t                   timeout;     /* per command */

    /* the per-worker session cache (cache=SIZE|off, cache_max_age=) */
    size_t                       cache_size;
    time_t                       cache_max_age;

    /* in shared memory, set in each worker (oidc_metrics); or NULL */
    ngx_http_auth_oidc_store_counters_t  *counters;
} ngx_http_auth_oidc_redis_conf_t;


ngx_http_auth_oidc_redis_t *ngx_http_auth_oidc_redis_create(
    ngx_http_auth_oidc_redis_conf_t *conf, ngx_str_t *name,
    ngx_cycle_t *cycle);
void ngx_http_auth_oidc_redis_destroy(ngx_http_auth_oidc_redis_t *redis);
void ngx_http_auth_oidc_redis_watch(ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_watch_t *watch, ngx_uint_t log_level);
ngx_uint_t ngx_http_auth_oidc_redis_ready(ngx_http_auth_oidc_redis_t *redis);
/* the link is given up (a subscriber that stopped answering), and retried */
void ngx_http_auth_oidc_redis_close(ngx_http_auth_oidc_redis_t *redis,
    const char *why);

ngx_http_auth_oidc_redis_cmd_t *ngx_http_auth_oidc_redis_command(
    ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
void ngx_http_auth_oidc_redis_cancel(ngx_http_auth_oidc_redis_cmd_t *cmd);

void ngx_http_auth_oidc_redis_incident(ngx_http_auth_oidc_redis_t *redis,
    const char *fmt, ...);

/* For oidc_status: connected, command and error counts, last latency. */
void ngx_http_auth_oidc_redis_stats(ngx_http_auth_oidc_redis_t *redis,
    ngx_uint_t *connected, ngx_uint_t *commands, ngx_uint_t *errors,
    ngx_msec_t *latency, ngx_str_t *last_error);


#endif /* _NGX_HTTP_AUTH_OIDC_REDIS_H_INCLUDED_ */
