
/*
 * "+switch-master" from a sentinel: see ngx_http_auth_oidc_sentinel_watch.h.
 */


#include "ngx_http_auth_oidc_sentinel_watch.h"


#define NGX_HTTP_AUTH_OIDC_SWITCH_MASTER  "+switch-master"

/* how often the sentinel must prove the connection still hears it */
#define NGX_HTTP_AUTH_OIDC_SENTINEL_KEEPALIVE  5000


struct ngx_http_auth_oidc_sentinel_watch_s {
    /* the store's, but to one sentinel, with the sentinels' password */
    ngx_http_auth_oidc_redis_conf_t         conf;
    ngx_array_t                            *sentinels;   /* ngx_addr_t */
    ngx_uint_t                              sentinel;    /* asked now */
    ngx_str_t                               master_name;

    ngx_http_auth_oidc_redis_t             *redis;
    ngx_http_auth_oidc_redis_watch_t        events;

    ngx_http_auth_oidc_sentinel_switch_pt   handler;
    void                                   *data;
    ngx_log_t                              *log;
    ngx_str_t                               name;
};


static void ngx_http_auth_oidc_sentinel_watch_use(
    ngx_http_auth_oidc_sentinel_watch_t *watch);
static void ngx_http_auth_oidc_sentinel_watch_ready(void *data);
static void ngx_http_auth_oidc_sentinel_watch_lost(void *data);
static void ngx_http_auth_oidc_sentinel_watch_message(void *data,
    redisReply *reply);


ngx_http_auth_oidc_sentinel_watch_t *
ngx_http_auth_oidc_sentinel_watch_create(ngx_http_auth_oidc_redis_conf_t *conf,
    ngx_str_t *name, ngx_http_auth_oidc_sentinel_switch_pt handler,
    void *data, ngx_cycle_t *cycle)
{
    ngx_http_auth_oidc_sentinel_watch_t  *watch;

    watch = ngx_pcalloc(cycle->pool,
                        sizeof(ngx_http_auth_oidc_sentinel_watch_t));
    if (watch == NULL) {
        return NULL;
    }

    watch->conf = *conf;
    watch->sentinels = conf->sentinels;
    watch->master_name = conf->master_name;
    watch->handler = handler;
    watch->data = data;
    watch->log = cycle->log;
    watch->name = *name;

    /* a plain connection to a sentinel: no Sentinel discovery, no ACL
     * user or database of the master's */
    watch->conf.sentinels = NULL;
    ngx_str_null(&watch->conf.user);
    watch->conf.password = conf->sentinel_password;
    watch->conf.db = 0;

    /* the workers spread over the sentinels */
    watch->sentinel = ngx_worker;
    ngx_http_auth_oidc_sentinel_watch_use(watch);

    watch->redis = ngx_http_auth_oidc_redis_create(&watch->conf, name, cycle);
    if (watch->redis == NULL) {
        return NULL;
    }

    watch->events.ready = ngx_http_auth_oidc_sentinel_watch_ready;
    watch->events.lost = ngx_http_auth_oidc_sentinel_watch_lost;
    watch->events.message = ngx_http_auth_oidc_sentinel_watch_message;
    watch->events.data = watch;
    watch->events.keepalive = NGX_HTTP_AUTH_OIDC_SENTINEL_KEEPALIVE;

    /* the store's connection says an outage; this one only notes its own */
    ngx_http_auth_oidc_redis_watch(watch->redis, &watch->events,
                                   NGX_LOG_INFO);

    return watch;
}


void
ngx_http_auth_oidc_sentinel_watch_destroy(
    ngx_http_auth_oidc_sentinel_watch_t *watch)
{
    ngx_http_auth_oidc_redis_watch(watch->redis, NULL, NGX_LOG_INFO);
    ngx_http_auth_oidc_redis_destroy(watch->redis);
}


/* The sentinel the next connection goes to. */

static void
ngx_http_auth_oidc_sentinel_watch_use(ngx_http_auth_oidc_sentinel_watch_t *watch)
{
    ngx_addr_t  *sentinel;

    sentinel = watch->sentinels->elts;
    sentinel += watch->sentinel % watch->sentinels->nelts;

    watch->conf.sockaddr = sentinel->sockaddr;
    watch->conf.socklen = sentinel->socklen;
    watch->conf.addr = sentinel->name;
}


static void
ngx_http_auth_oidc_sentinel_watch_ready(void *data)
{
    ngx_http_auth_oidc_sentinel_watch_t *watch = data;

    size_t        argvlen[2];
    const char   *argv[2];

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;
    argv[1] = NGX_HTTP_AUTH_OIDC_SWITCH_MASTER;
    argvlen[1] = sizeof(NGX_HTTP_AUTH_OIDC_SWITCH_MASTER) - 1;

    /* its confirmation is a reply like any other, and is not needed */
    (void) ngx_http_auth_oidc_redis_command(watch->redis, NULL, NULL, 2, argv,
                                            argvlen);
}


/* Lost: the next attempt goes to the next sentinel. */

static void
ngx_http_auth_oidc_sentinel_watch_lost(void *data)
{
    ngx_http_auth_oidc_sentinel_watch_t *watch = data;

    watch->sentinel++;
    ngx_http_auth_oidc_sentinel_watch_use(watch);
}


/*
 * ["message", "+switch-master", "<name> <old ip> <old port> <new ip>
 * <new port>"]: for this store's master, its connections look again.
 */

static void
ngx_http_auth_oidc_sentinel_watch_message(void *data, redisReply *reply)
{
    ngx_http_auth_oidc_sentinel_watch_t *watch = data;

    redisReply  *channel, *payload;

    channel = reply->element[1];
    payload = reply->element[2];

    if (channel->type != REDIS_REPLY_STRING
        || channel->len != sizeof(NGX_HTTP_AUTH_OIDC_SWITCH_MASTER) - 1
        || ngx_strncmp(channel->str, NGX_HTTP_AUTH_OIDC_SWITCH_MASTER,
                       channel->len) != 0
        || payload->type != REDIS_REPLY_STRING
        || (size_t) payload->len <= watch->master_name.len
        || payload->str[watch->master_name.len] != ' '
        || ngx_strncmp(payload->str, watch->master_name.data,
                       watch->master_name.len) != 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, watch->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": the sentinels "
                  "switched master \"%V\": %*s", &watch->name,
                  &watch->master_name, (size_t) payload->len, payload->str);

    watch->handler(watch->data);
}
