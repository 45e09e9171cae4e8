
/*
 * One Redis connection per worker and store, owned by nginx: the socket is
 * an nginx peer connection (connect, events, timers), and hiredis only
 * formats commands and parses replies (its reader). Nothing here ever
 * waits: connect is non-blocking (addresses are resolved when the
 * configuration is read), every command has a timer, and a lost
 * connection is retried with a growing delay.
 *
 * Commands are pipelined: each is appended to the output buffer and the
 * write event is posted, so every command queued while nginx handles one
 * batch of events goes out in one send() after it. Replies come in the
 * order of the commands (RESP2), so the commands in flight are a FIFO
 * queue; a command that timed out or whose requester went away keeps its
 * place until its reply comes, and the reply is dropped.
 *
 * Failures are logged once per incident at "error" and the recovery at
 * "notice", not once per request.
 */


#include "ngx_http_auth_oidc_redis.h"


#define NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MAX  5000
#define NGX_HTTP_AUTH_OIDC_REDIS_SENTINEL_BACKOFF_MAX  1000

/* read at most this much per recv(): the reader keeps what it needs */
#define NGX_HTTP_AUTH_OIDC_REDIS_READ_CHUNK   16384


typedef enum {
    NGX_HTTP_AUTH_OIDC_REDIS_DOWN = 0,
    NGX_HTTP_AUTH_OIDC_REDIS_CONNECTING,   /* socket, then AUTH/SELECT/PING */
    NGX_HTTP_AUTH_OIDC_REDIS_READY
} ngx_http_auth_oidc_redis_state_e;


struct ngx_http_auth_oidc_redis_s {
    ngx_http_auth_oidc_redis_conf_t     *conf;
    ngx_str_t                            name;
    ngx_log_t                           *log;

    ngx_peer_connection_t                peer;
    ngx_connection_t                    *conn;     /* NULL: none */
    redisReader                         *reader;
    ngx_uint_t                           state;
    unsigned                             connected:1;  /* socket is up */

    /* formatted commands not sent yet: out[sent .. len) */
    u_char                              *out;
    size_t                               out_len;
    size_t                               out_sent;
    size_t                               out_size;

    ngx_queue_t                          inflight; /* cmd_t, oldest first */

    ngx_event_t                          reconnect;
    ngx_event_t                          connect_timer;
    ngx_event_t                          keepalive;  /* watch->keepalive */
    unsigned                             pinging:1;
    ngx_msec_t                           backoff;

    /* Sentinel: which sentinel is asked next, the master it named */
    ngx_uint_t                           sentinel;
    ngx_sockaddr_t                       master;
    socklen_t                            master_socklen;
    ngx_str_t                            master_addr;
    u_char                               master_text[NGX_SOCKADDR_STRLEN];
    unsigned                             discovering:1; /* to a sentinel */
    unsigned                             have_master:1;
    unsigned                             rediscover:1;  /* not a master */

    ngx_http_auth_oidc_redis_watch_t    *watch;
    ngx_uint_t                           log_level; /* of incidents */

    ngx_uint_t                           failing;
    ngx_uint_t                           refused;   /* AUTH, SELECT, PING */
    ngx_uint_t                           commands;
    ngx_uint_t                           errors;
    ngx_msec_t                           latency;
    size_t                               last_error_len;
    u_char                               last_error[NGX_HTTP_AUTH_OIDC_ERRLEN];
};


struct ngx_http_auth_oidc_redis_cmd_s {
    ngx_queue_t                          queue;     /* in redis->inflight */
    ngx_http_auth_oidc_redis_t          *redis;
    ngx_http_auth_oidc_redis_handler_pt  handler;    /* NULL: nobody waits */
    void                                *data;
    ngx_event_t                          timer;
    ngx_msec_t                           started;
};


static void ngx_http_auth_oidc_redis_connect(ngx_http_auth_oidc_redis_t *r);
static void ngx_http_auth_oidc_redis_connected(
    ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_ssl_start(
    ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_ssl_done(ngx_connection_t *c);
static void ngx_http_auth_oidc_redis_schedule(ngx_http_auth_oidc_redis_t *r);
static void ngx_http_auth_oidc_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_keepalive_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_keepalive_done(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_lost(ngx_http_auth_oidc_redis_t *redis,
    const char *why);
static void ngx_http_auth_oidc_redis_drop(ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_handshake(
    ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_discover(
    ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_master_named(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_role_done(void *data, redisReply *reply,
    ngx_str_t *error);
static ngx_http_auth_oidc_redis_cmd_t *ngx_http_auth_oidc_redis_queue(
    ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
static void ngx_http_auth_oidc_redis_auth_done(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_ping_done(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_refused(ngx_http_auth_oidc_redis_t *redis,
    redisReply *reply);
static void ngx_http_auth_oidc_redis_recovered(
    ngx_http_auth_oidc_redis_t *redis);
static ngx_int_t ngx_http_auth_oidc_redis_append(
    ngx_http_auth_oidc_redis_t *redis, char *data, size_t len);
static void ngx_http_auth_oidc_redis_reply(ngx_http_auth_oidc_redis_t *redis,
    redisReply *reply);
static void ngx_http_auth_oidc_redis_command_timeout(ngx_event_t *ev);
static ngx_uint_t ngx_http_auth_oidc_redis_is_message(redisReply *reply);
static void ngx_http_auth_oidc_redis_read_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_write_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_flush(ngx_http_auth_oidc_redis_t *redis);


ngx_http_auth_oidc_redis_t *
ngx_http_auth_oidc_redis_create(ngx_http_auth_oidc_redis_conf_t *conf,
    ngx_str_t *name, ngx_cycle_t *cycle)
{
    ngx_http_auth_oidc_redis_t  *redis;

    redis = ngx_pcalloc(cycle->pool, sizeof(ngx_http_auth_oidc_redis_t));
    if (redis == NULL) {
        return NULL;
    }

    redis->conf = conf;
    redis->name = *name;
    redis->log = cycle->log;
    redis->backoff = NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MIN;
    redis->log_level = NGX_LOG_ERR;

    ngx_queue_init(&redis->inflight);

    redis->reconnect.handler = ngx_http_auth_oidc_redis_reconnect_handler;
    redis->reconnect.data = redis;
    redis->reconnect.log = cycle->log;
    redis->reconnect.cancelable = 1;

    redis->connect_timer.handler = ngx_http_auth_oidc_redis_connect_timeout;
    redis->connect_timer.data = redis;
    redis->connect_timer.log = cycle->log;
    redis->connect_timer.cancelable = 1;

    redis->keepalive.handler = ngx_http_auth_oidc_redis_keepalive_handler;
    redis->keepalive.data = redis;
    redis->keepalive.log = cycle->log;
    redis->keepalive.cancelable = 1;

    ngx_http_auth_oidc_redis_connect(redis);

    return redis;
}


/* Worker exit: pending commands get their callbacks with no reply. */

void
ngx_http_auth_oidc_redis_destroy(ngx_http_auth_oidc_redis_t *redis)
{
    if (redis->reconnect.timer_set) {
        ngx_del_timer(&redis->reconnect);
    }

    /* a move to the master a sentinel just named */
    if (redis->reconnect.posted) {
        ngx_delete_posted_event(&redis->reconnect);
    }

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    ngx_http_auth_oidc_redis_drop(redis);

    ngx_free(redis->out);
    redis->out = NULL;
    redis->out_size = 0;
}


/*
 * Before the first event: a second connection (the cache's subscriber)
 * logs its incidents at log_level, the first one says the outage.
 */

void
ngx_http_auth_oidc_redis_watch(ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_watch_t *watch, ngx_uint_t log_level)
{
    redis->watch = watch;
    redis->log_level = log_level;
}


ngx_uint_t
ngx_http_auth_oidc_redis_ready(ngx_http_auth_oidc_redis_t *redis)
{
    return redis->conn && redis->state == NGX_HTTP_AUTH_OIDC_REDIS_READY
           && !redis->discovering;
}


void
ngx_http_auth_oidc_redis_close(ngx_http_auth_oidc_redis_t *redis,
    const char *why)
{
    if (redis->conn) {
        ngx_http_auth_oidc_redis_lost(redis, why);
    }
}


static void
ngx_http_auth_oidc_redis_connect(ngx_http_auth_oidc_redis_t *redis)
{
    ngx_int_t          rc;
    ngx_addr_t        *sentinel;
    ngx_connection_t  *c;

    ngx_memzero(&redis->peer, sizeof(ngx_peer_connection_t));

    redis->discovering = 0;
    redis->rediscover = 0;

    if (redis->conf->sentinels && !redis->have_master) {
        /* ask a sentinel where the master is first */
        sentinel = redis->conf->sentinels->elts;
        sentinel += redis->sentinel % redis->conf->sentinels->nelts;

        redis->discovering = 1;
        redis->peer.sockaddr = sentinel->sockaddr;
        redis->peer.socklen = sentinel->socklen;
        redis->peer.name = &sentinel->name;

    } else if (redis->conf->sentinels) {
        redis->peer.sockaddr = &redis->master.sockaddr;
        redis->peer.socklen = redis->master_socklen;
        redis->peer.name = &redis->master_addr;

    } else {
        redis->peer.sockaddr = redis->conf->sockaddr;
        redis->peer.socklen = redis->conf->socklen;
        redis->peer.name = &redis->conf->addr;
    }

    redis->peer.get = ngx_event_get_peer;
    redis->peer.log = redis->log;
    redis->peer.log_error = NGX_ERROR_ERR;

    redis->reader = redisReaderCreate();
    if (redis->reader == NULL) {
        ngx_http_auth_oidc_redis_incident(redis, "cannot create a Redis "
                                          "reply reader");
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    rc = ngx_event_connect_peer(&redis->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_auth_oidc_redis_incident(redis, "connect() to %V failed",
                                          redis->peer.name);

        if (redis->peer.connection) {
            ngx_close_connection(redis->peer.connection);
            redis->peer.connection = NULL;
        }

        redisReaderFree(redis->reader);
        redis->reader = NULL;
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    c = redis->peer.connection;

    c->data = redis;
    c->read->handler = ngx_http_auth_oidc_redis_read_handler;
    c->write->handler = ngx_http_auth_oidc_redis_write_handler;
    c->read->log = redis->log;
    c->write->log = redis->log;
    c->log = redis->log;

    /* a failure is said once per incident, by us, not by every recv() */
    c->log_error = NGX_ERROR_INFO;

    /* what nginx's TLS keeps per connection; gone with the connection */
    c->pool = ngx_create_pool(1024, redis->log);
    if (c->pool == NULL) {
        ngx_close_connection(c);
        redis->peer.connection = NULL;
        redisReaderFree(redis->reader);
        redis->reader = NULL;
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    redis->conn = c;
    redis->connected = 0;
    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_CONNECTING;
    redis->refused = 0;
    redis->out_len = 0;
    redis->out_sent = 0;

    ngx_add_timer(&redis->connect_timer, redis->conf->connect_timeout);

    /* queued now, sent once the socket is up */
    if (redis->discovering) {
        ngx_http_auth_oidc_redis_discover(redis);

    } else {
        ngx_http_auth_oidc_redis_handshake(redis);
    }

    if (rc == NGX_OK) {
        ngx_http_auth_oidc_redis_connected(redis);
    }

    /* NGX_AGAIN: the write event says when the connect is over */
}


/* The socket is up (or failed: the first write or read will say). */

static void
ngx_http_auth_oidc_redis_connected(ngx_http_auth_oidc_redis_t *redis)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(redis->conn->fd, SOL_SOCKET, SO_ERROR, (void *) &err,
                   &len)
        == -1)
    {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_auth_oidc_redis_incident(redis, "connect() to %V failed: "
                                          "%s", redis->peer.name,
                                          strerror(err));
        ngx_http_auth_oidc_redis_drop(redis);
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    if (redis->conf->ssl) {
        ngx_http_auth_oidc_redis_ssl_start(redis);
        return;
    }

    redis->connected = 1;

    ngx_http_auth_oidc_redis_flush(redis);
}


/* TLS on the socket: nothing is sent before the server is verified. */

static void
ngx_http_auth_oidc_redis_ssl_start(ngx_http_auth_oidc_redis_t *redis)
{
    u_char            *name;
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = redis->conn;

    if (ngx_ssl_create_connection(redis->conf->ssl, c,
                                  NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_auth_oidc_redis_lost(redis, "SSL connection failed");
        return;
    }

    c->sendfile = 0;

    if (!redis->conf->ssl_name_is_ip) {
        /* SNI: the name, NUL-terminated as OpenSSL wants it */
        name = ngx_alloc(redis->conf->ssl_name.len + 1, redis->log);
        if (name == NULL) {
            ngx_http_auth_oidc_redis_lost(redis, "out of memory");
            return;
        }

        (void) ngx_cpystrn(name, redis->conf->ssl_name.data,
                           redis->conf->ssl_name.len + 1);

        rc = SSL_set_tlsext_host_name(c->ssl->connection, (char *) name);
        ngx_free(name);

        if (rc == 0) {
            ngx_http_auth_oidc_redis_lost(redis, "SSL_set_tlsext_host_name() "
                                          "failed");
            return;
        }
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        /* bounded by connect_timeout (the connect timer) */
        c->ssl->handler = ngx_http_auth_oidc_redis_ssl_done;
        return;
    }

    ngx_http_auth_oidc_redis_ssl_done(c);
}


static void
ngx_http_auth_oidc_redis_ssl_done(ngx_connection_t *c)
{
    ngx_http_auth_oidc_redis_t *redis = c->data;

    long    rc;
    X509   *cert;
    u_char  ip[NGX_SOCKADDR_STRLEN + 1];

    rc = SSL_get_verify_result(c->ssl->connection);

    if (!c->ssl->handshaked || rc != X509_V_OK) {
        if (rc != X509_V_OK) {
            ngx_http_auth_oidc_redis_incident(redis, "SSL certificate verify "
                                          "error for Redis %V: (%l:%s)",
                                          &redis->conf->addr, rc,
                                          X509_verify_cert_error_string(rc));
        } else {
            ngx_http_auth_oidc_redis_incident(redis, "SSL handshake with "
                                          "Redis %V failed%s",
                                          &redis->conf->addr,
                                          redis->connect_timer.timedout
                                          ? " (timed out)" : "");
        }

        ngx_http_auth_oidc_redis_drop(redis);
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    if (redis->conf->ssl_name_is_ip) {
        cert = SSL_get_peer_certificate(c->ssl->connection);
        rc = 0;

        if (cert) {
            (void) ngx_cpystrn(ip, redis->conf->ssl_name.data,
                               ngx_min(redis->conf->ssl_name.len + 1,
                                       sizeof(ip)));
            rc = X509_check_ip_asc(cert, (char *) ip, 0);
            X509_free(cert);
        }

    } else {
        rc = (ngx_ssl_check_host(c, &redis->conf->ssl_name) == NGX_OK);
    }

    if (rc != 1) {
        ngx_http_auth_oidc_redis_incident(redis, "SSL certificate of Redis "
                                          "%V does not match \"%V\"",
                                          &redis->conf->addr,
                                          &redis->conf->ssl_name);
        ngx_http_auth_oidc_redis_drop(redis);
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    c->read->handler = ngx_http_auth_oidc_redis_read_handler;
    c->write->handler = ngx_http_auth_oidc_redis_write_handler;

    redis->connected = 1;

    ngx_http_auth_oidc_redis_flush(redis);

    /* a reply may already wait in the TLS buffers */
    if (redis->conn && c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


/* AUTH and SELECT, pipelined, then a PING that says the link is ready. */

static void
ngx_http_auth_oidc_redis_handshake(ngx_http_auth_oidc_redis_t *redis)
{
    int            argc;
    u_char         db[NGX_INT_T_LEN];
    size_t         argvlen[3];
    const char    *argv[3];

    if (redis->conf->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (redis->conf->user.len) {
            argv[argc] = (char *) redis->conf->user.data;
            argvlen[argc++] = redis->conf->user.len;
        }

        argv[argc] = (char *) redis->conf->password.data;
        argvlen[argc++] = redis->conf->password.len;

        (void) ngx_http_auth_oidc_redis_queue(redis,
                                      ngx_http_auth_oidc_redis_auth_done,
                                      redis, argc, argv, argvlen);
    }

    if (redis->conf->db > 0) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", redis->conf->db) - db;

        (void) ngx_http_auth_oidc_redis_queue(redis,
                                      ngx_http_auth_oidc_redis_auth_done,
                                      redis, 2, argv, argvlen);
    }

    if (redis->conf->sentinels) {
        /* what a sentinel named may have been demoted since */
        argv[0] = "ROLE";
        argvlen[0] = 4;

        (void) ngx_http_auth_oidc_redis_queue(redis,
                                      ngx_http_auth_oidc_redis_role_done,
                                      redis, 1, argv, argvlen);
    }

    argv[0] = "PING";
    argvlen[0] = 4;

    (void) ngx_http_auth_oidc_redis_queue(redis,
                                      ngx_http_auth_oidc_redis_ping_done,
                                      redis, 1, argv, argvlen);
}


/* SENTINEL get-master-addr-by-name, authenticated to the sentinel. */

static void
ngx_http_auth_oidc_redis_discover(ngx_http_auth_oidc_redis_t *redis)
{
    size_t        argvlen[3];
    const char   *argv[3];

    if (redis->conf->sentinel_password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (char *) redis->conf->sentinel_password.data;
        argvlen[1] = redis->conf->sentinel_password.len;

        (void) ngx_http_auth_oidc_redis_queue(redis,
                                      ngx_http_auth_oidc_redis_auth_done,
                                      redis, 2, argv, argvlen);
    }

    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (char *) redis->conf->master_name.data;
    argvlen[2] = redis->conf->master_name.len;

    (void) ngx_http_auth_oidc_redis_queue(redis,
                                      ngx_http_auth_oidc_redis_master_named,
                                      redis, 3, argv, argvlen);
}


/* A sentinel's answer: ["ip", "port"], or nil when it knows no such master. */

static void
ngx_http_auth_oidc_redis_master_named(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_t *redis = data;

    ngx_int_t             port;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    if (reply == NULL || redis->refused) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_http_auth_oidc_redis_incident(redis, "sentinel %V does not name "
                                          "master \"%V\"", redis->peer.name,
                                          &redis->conf->master_name);
        redis->rediscover = 1;
        return;
    }

    port = ngx_atoi((u_char *) reply->element[1]->str,
                    reply->element[1]->len);

    ngx_memzero(&redis->master, sizeof(ngx_sockaddr_t));

    sin = &redis->master.sockaddr_in;
#if (NGX_HAVE_INET6)
    sin6 = &redis->master.sockaddr_in6;
#endif

    if (port > 0 && port < 65536
        && inet_pton(AF_INET, reply->element[0]->str, &sin->sin_addr) == 1)
    {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((in_port_t) port);
        redis->master_socklen = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
    } else if (port > 0 && port < 65536
               && inet_pton(AF_INET6, reply->element[0]->str,
                            &sin6->sin6_addr) == 1)
    {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((in_port_t) port);
        redis->master_socklen = sizeof(struct sockaddr_in6);
#endif

    } else {
        ngx_http_auth_oidc_redis_incident(redis, "sentinel %V named master "
                                          "\"%V\" at an unusable address",
                                          redis->peer.name,
                                          &redis->conf->master_name);
        redis->rediscover = 1;
        return;
    }

    redis->master_addr.data = redis->master_text;
    redis->master_addr.len = ngx_sock_ntop(&redis->master.sockaddr,
                                           redis->master_socklen,
                                           redis->master_text,
                                           NGX_SOCKADDR_STRLEN, 1);

    ngx_log_error(NGX_LOG_INFO, redis->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": sentinel %V names "
                  "%V as master \"%V\"", &redis->name, redis->peer.name,
                  &redis->master_addr, &redis->conf->master_name);

    /* to the master now: see the read handler */
    redis->have_master = 1;
}


/* The master a sentinel named must still be one (a failover demotes it). */

static void
ngx_http_auth_oidc_redis_role_done(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_t *redis = data;

    if (reply == NULL || redis->refused) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
        && reply->element[0]->type == REDIS_REPLY_STRING
        && reply->element[0]->len == 6
        && ngx_strncmp(reply->element[0]->str, "master", 6) == 0)
    {
        return;
    }

    ngx_http_auth_oidc_redis_incident(redis, "%V is no longer the master "
                                      "\"%V\"", &redis->master_addr,
                                      &redis->conf->master_name);
    redis->rediscover = 1;
}


static void
ngx_http_auth_oidc_redis_auth_done(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_t *redis = data;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_http_auth_oidc_redis_refused(redis, reply);
    }
}


/*
 * A wrong password, ACL user or database: retrying soon will not help, and
 * the PING queued behind must not mark the link ready.
 */

static void
ngx_http_auth_oidc_redis_refused(ngx_http_auth_oidc_redis_t *redis,
    redisReply *reply)
{
    if (redis->refused) {
        return;
    }

    redis->refused = 1;
    redis->backoff = NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MAX;

    ngx_http_auth_oidc_redis_incident(redis, "Redis %V refused the login or "
                                      "database: %*s", &redis->conf->addr,
                                      (size_t) reply->len, reply->str);

    /* after the reply being handled: see redis_reply() */
}


static void
ngx_http_auth_oidc_redis_ping_done(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_t *redis = data;

    if (reply == NULL || redis->refused
        || redis->state != NGX_HTTP_AUTH_OIDC_REDIS_CONNECTING)
    {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* NOAUTH: a password is needed and none was configured */
        ngx_http_auth_oidc_redis_refused(redis, reply);
        return;
    }

    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_READY;
    redis->backoff = NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MIN;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    ngx_http_auth_oidc_redis_recovered(redis);

    if (redis->watch && redis->watch->keepalive) {
        ngx_add_timer(&redis->keepalive, redis->watch->keepalive);
    }

    if (redis->watch && redis->watch->ready) {
        redis->watch->ready(redis->watch->data);
    }
}


/* A connection that only listens must still prove that it hears Redis. */

static void
ngx_http_auth_oidc_redis_keepalive_handler(ngx_event_t *ev)
{
    ngx_http_auth_oidc_redis_t *redis = ev->data;

    size_t        argvlen[1];
    const char   *argv[1];

    if (ngx_exiting || ngx_terminate || redis->watch == NULL) {
        return;
    }

    if (!redis->pinging) {
        argv[0] = "PING";
        argvlen[0] = 4;

        if (ngx_http_auth_oidc_redis_command(redis,
                                        ngx_http_auth_oidc_redis_keepalive_done,
                                        redis, 1, argv, argvlen)
            != NULL)
        {
            redis->pinging = 1;
        }
    }

    ngx_add_timer(&redis->keepalive, redis->watch->keepalive);
}


static void
ngx_http_auth_oidc_redis_keepalive_done(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_t *redis = data;

    redis->pinging = 0;

    if (reply == NULL) {
        /* timed out (lost already: closing again does nothing) */
        ngx_http_auth_oidc_redis_close(redis, "no answer to PING");
    }
}


static void
ngx_http_auth_oidc_redis_recovered(ngx_http_auth_oidc_redis_t *redis)
{
    if (!redis->failing) {
        return;
    }

    redis->failing = 0;

    ngx_log_error(ngx_max(redis->log_level, NGX_LOG_NOTICE), redis->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": Redis %V is "
                  "reachable again", &redis->name, &redis->conf->addr);
}


static void
ngx_http_auth_oidc_redis_schedule(ngx_http_auth_oidc_redis_t *redis)
{
    ngx_msec_t  max;

    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_DOWN;
    max = NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MAX;

    if (redis->conf->sentinels) {
        /* a failover takes seconds: ask again soon, the next sentinel if
         * this one failed, and where the master is now */
        if (redis->discovering) {
            redis->sentinel++;
        }

        redis->have_master = 0;
        max = NGX_HTTP_AUTH_OIDC_REDIS_SENTINEL_BACKOFF_MAX;
        redis->backoff = ngx_min(redis->backoff, max);
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (redis->reconnect.timer_set) {
        return;
    }

    ngx_add_timer(&redis->reconnect, redis->backoff);

    redis->backoff = ngx_min(2 * redis->backoff, max);
}


static void
ngx_http_auth_oidc_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_auth_oidc_redis_t *redis = ev->data;

    if (redis->conn == NULL && !ngx_exiting && !ngx_terminate) {
        ngx_http_auth_oidc_redis_connect(redis);
    }
}


static void
ngx_http_auth_oidc_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_auth_oidc_redis_t *redis = ev->data;

    ngx_http_auth_oidc_redis_incident(redis, "connect() to Redis %V timed "
                                      "out", &redis->conf->addr);

    ngx_http_auth_oidc_redis_drop(redis);
    ngx_http_auth_oidc_redis_schedule(redis);
}


/* The connection failed or closed: said once, retried later. */

static void
ngx_http_auth_oidc_redis_lost(ngx_http_auth_oidc_redis_t *redis,
    const char *why)
{
    ngx_http_auth_oidc_redis_incident(redis, "connection to Redis %V lost: "
                                      "%s", &redis->conf->addr, why);

    ngx_http_auth_oidc_redis_drop(redis);
    ngx_http_auth_oidc_redis_schedule(redis);
}


/*
 * Closes the connection now; every command in flight is answered with no
 * reply. The caller decides about reconnecting.
 */

static void
ngx_http_auth_oidc_redis_drop(ngx_http_auth_oidc_redis_t *redis)
{
    ngx_str_t                             error;
    ngx_uint_t                            was;
    ngx_pool_t                           *pool;
    ngx_queue_t                          *q;
    ngx_http_auth_oidc_redis_cmd_t       *cmd;
    ngx_http_auth_oidc_redis_handler_pt   handler;

    was = (redis->conn != NULL);

    if (redis->conn) {
        pool = redis->conn->pool;

        if (redis->conn->ssl) {
            redis->conn->ssl->no_wait_shutdown = 1;
            (void) ngx_ssl_shutdown(redis->conn);
        }

        ngx_close_connection(redis->conn);
        redis->conn = NULL;
        redis->peer.connection = NULL;

        if (pool) {
            ngx_destroy_pool(pool);
        }
    }

    if (redis->reader) {
        redisReaderFree(redis->reader);
        redis->reader = NULL;
    }

    redis->connected = 0;
    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_DOWN;
    redis->out_len = 0;
    redis->out_sent = 0;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    if (redis->keepalive.timer_set) {
        ngx_del_timer(&redis->keepalive);
    }

    ngx_str_set(&error, "the connection to Redis was lost");

    while (!ngx_queue_empty(&redis->inflight)) {
        q = ngx_queue_head(&redis->inflight);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_auth_oidc_redis_cmd_t, queue);

        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        handler = cmd->handler;
        redis->errors++;

        if (redis->conf->counters && !cmd->timer.timedout) {
            /* lost with the connection (a timed out one was counted) */
            (void) ngx_atomic_fetch_add(&redis->conf->counters->errors, 1);
        }

        if (handler) {
            cmd->handler = NULL;
            handler(cmd->data, NULL, &error);
        }

        ngx_free(cmd);
    }

    if (was && redis->watch && redis->watch->lost) {
        redis->watch->lost(redis->watch->data);
    }
}


ngx_http_auth_oidc_redis_cmd_t *
ngx_http_auth_oidc_redis_command(ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    /* not to a sentinel: a request waits for no rediscovery either */
    if (redis->conn == NULL || redis->state == NGX_HTTP_AUTH_OIDC_REDIS_DOWN
        || redis->discovering)
    {
        redis->errors++;
        return NULL;
    }

    return ngx_http_auth_oidc_redis_queue(redis, handler, data, argc, argv,
                                          argvlen);
}


static ngx_http_auth_oidc_redis_cmd_t *
ngx_http_auth_oidc_redis_queue(ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    int                              len;
    char                            *formatted;
    ngx_http_auth_oidc_redis_cmd_t  *cmd;

    len = redisFormatCommandArgv(&formatted, argc, argv, argvlen);
    if (len < 0) {
        redis->errors++;
        return NULL;
    }

    cmd = ngx_calloc(sizeof(ngx_http_auth_oidc_redis_cmd_t), redis->log);
    if (cmd == NULL
        || ngx_http_auth_oidc_redis_append(redis, formatted, (size_t) len)
           != NGX_OK)
    {
        free(formatted);
        ngx_free(cmd);
        redis->errors++;
        return NULL;
    }

    free(formatted);

    cmd->redis = redis;
    cmd->handler = handler;
    cmd->data = data;
    cmd->started = ngx_current_msec;

    cmd->timer.handler = ngx_http_auth_oidc_redis_command_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = redis->log;

    /* not cancelable: a request may wait for it while the worker exits */

    ngx_queue_insert_tail(&redis->inflight, &cmd->queue);
    ngx_add_timer(&cmd->timer, redis->conf->timeout);
    redis->commands++;

    /* written after the current batch of events: pipelining */
    if (redis->connected && !redis->conn->write->posted) {
        ngx_post_event(redis->conn->write, &ngx_posted_events);
    }

    return cmd;
}


/* The requester is gone: the reply, when it comes, is dropped. */

void
ngx_http_auth_oidc_redis_cancel(ngx_http_auth_oidc_redis_cmd_t *cmd)
{
    cmd->handler = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }
}


static ngx_int_t
ngx_http_auth_oidc_redis_append(ngx_http_auth_oidc_redis_t *redis, char *data,
    size_t len)
{
    u_char  *out;
    size_t   size, pending;

    pending = redis->out_len - redis->out_sent;

    if (redis->out_sent && pending + len > redis->out_size - redis->out_len) {
        /* what was sent makes room */
        ngx_memmove(redis->out, redis->out + redis->out_sent, pending);
        redis->out_len = pending;
        redis->out_sent = 0;
    }

    if (redis->out_len + len > redis->out_size) {
        size = ngx_max(2 * redis->out_size, redis->out_len + len);
        size = ngx_max(size, 4096);

        out = ngx_alloc(size, redis->log);
        if (out == NULL) {
            return NGX_ERROR;
        }

        if (redis->out) {
            ngx_memcpy(out, redis->out, redis->out_len);
            ngx_free(redis->out);
        }

        redis->out = out;
        redis->out_size = size;
    }

    ngx_memcpy(redis->out + redis->out_len, data, len);
    redis->out_len += len;

    return NGX_OK;
}


/* The oldest command in flight gets its reply. */

static void
ngx_http_auth_oidc_redis_reply(ngx_http_auth_oidc_redis_t *redis,
    redisReply *reply)
{
    ngx_queue_t                          *q;
    ngx_http_auth_oidc_redis_cmd_t       *cmd;
    ngx_http_auth_oidc_redis_handler_pt   handler;

    q = ngx_queue_head(&redis->inflight);
    ngx_queue_remove(q);
    cmd = ngx_queue_data(q, ngx_http_auth_oidc_redis_cmd_t, queue);

    handler = cmd->handler;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    redis->latency = ngx_current_msec - cmd->started;

    if (redis->conf->counters) {
        (void) ngx_atomic_fetch_add(&redis->conf->counters->commands, 1);
        ngx_http_auth_oidc_metrics_observe(&redis->conf->counters->latency,
                                           redis->latency);
    }

    if (redis->state == NGX_HTTP_AUTH_OIDC_REDIS_READY
        && reply->type != REDIS_REPLY_ERROR)
    {
        /* answers again after timeouts: the incident is over */
        ngx_http_auth_oidc_redis_recovered(redis);
    }

    if (redis->conf->sentinels && reply->type == REDIS_REPLY_ERROR
        && reply->len >= 8 && ngx_strncmp(reply->str, "READONLY", 8) == 0)
    {
        /* a replica now: the sentinels name the new master */
        ngx_http_auth_oidc_redis_incident(redis, "%V is read-only now (a "
                                          "failover)", &redis->master_addr);
        redis->rediscover = 1;
    }

    if (handler) {
        cmd->handler = NULL;
        handler(cmd->data, reply, NULL);
    }

    ngx_free(cmd);
}


static void
ngx_http_auth_oidc_redis_command_timeout(ngx_event_t *ev)
{
    ngx_http_auth_oidc_redis_cmd_t *cmd = ev->data;

    ngx_str_t                             error;
    ngx_http_auth_oidc_redis_t           *redis;
    ngx_http_auth_oidc_redis_handler_pt   handler;

    redis = cmd->redis;
    handler = cmd->handler;
    redis->errors++;

    if (redis->conf->counters) {
        (void) ngx_atomic_fetch_add(&redis->conf->counters->errors, 1);
    }

    ngx_http_auth_oidc_redis_incident(redis, "Redis %V did not answer "
                                      "within %M ms", &redis->conf->addr,
                                      redis->conf->timeout);

    /* the command keeps its place in the queue until its reply comes */
    if (handler) {
        cmd->handler = NULL;
        ngx_str_set(&error, "Redis timed out");
        handler(cmd->data, NULL, &error);
    }
}


/*
 * Everything the socket holds (nginx's events are edge-triggered), each
 * complete reply to the oldest command in flight.
 */

static void
ngx_http_auth_oidc_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t            *c = ev->data;
    ngx_http_auth_oidc_redis_t  *redis = c->data;

    void        *reply;
    ssize_t      n;
    u_char       buf[NGX_HTTP_AUTH_OIDC_REDIS_READ_CHUNK];

    if (!redis->connected) {
        /* the connect ended in an error the read event reports first */
        ngx_http_auth_oidc_redis_connected(redis);

        if (redis->conn == NULL) {
            return;
        }
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(ev, 0) != NGX_OK) {
                ngx_http_auth_oidc_redis_lost(redis, "cannot wait for it");
            }

            return;
        }

        if (n == 0) {
            ngx_http_auth_oidc_redis_lost(redis, "closed by Redis");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_auth_oidc_redis_lost(redis, "recv() failed");
            return;
        }

        if (redisReaderFeed(redis->reader, (const char *) buf, (size_t) n)
            != REDIS_OK)
        {
            ngx_http_auth_oidc_redis_lost(redis, "out of memory");
            return;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(redis->reader, &reply) != REDIS_OK) {
                ngx_http_auth_oidc_redis_lost(redis, "protocol error");
                return;
            }

            if (reply == NULL) {
                break;
            }

            if (redis->watch && redis->watch->message
                && ngx_http_auth_oidc_redis_is_message(reply))
            {
                /* published, not an answer: SUBSCRIBE's connection */
                redis->watch->message(redis->watch->data, reply);
                freeReplyObject(reply);

                if (redis->conn == NULL) {
                    return;
                }

                continue;
            }

            if (ngx_queue_empty(&redis->inflight)) {
                freeReplyObject(reply);
                ngx_http_auth_oidc_redis_lost(redis, "a reply to no "
                                              "command");
                return;
            }

            ngx_http_auth_oidc_redis_reply(redis, reply);
            freeReplyObject(reply);

            if (redis->refused || redis->rediscover) {
                /* a wrong login, or not the master: nothing more from
                 * this connection */
                ngx_http_auth_oidc_redis_drop(redis);
                ngx_http_auth_oidc_redis_schedule(redis);
                return;
            }

            if (redis->discovering && redis->have_master) {
                /* the sentinel named the master: to it at once */
                ngx_http_auth_oidc_redis_drop(redis);
                ngx_post_event(&redis->reconnect, &ngx_posted_events);
                return;
            }

            if (redis->conn == NULL) {
                /* a handler gave up the connection */
                return;
            }
        }
    }
}


/* ["message", channel, payload]: what a subscribed connection is sent */

static ngx_uint_t
ngx_http_auth_oidc_redis_is_message(redisReply *reply)
{
    return reply->type == REDIS_REPLY_ARRAY && reply->elements == 3
           && reply->element[0]->type == REDIS_REPLY_STRING
           && reply->element[0]->len == 7
           && ngx_strncmp(reply->element[0]->str, "message", 7) == 0;
}


static void
ngx_http_auth_oidc_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t            *c = ev->data;
    ngx_http_auth_oidc_redis_t  *redis = c->data;

    if (!redis->connected) {
        ngx_http_auth_oidc_redis_connected(redis);
        return;
    }

    ngx_http_auth_oidc_redis_flush(redis);
}


/* Sends what is queued; the write event fires again for the rest. */

static void
ngx_http_auth_oidc_redis_flush(ngx_http_auth_oidc_redis_t *redis)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = redis->conn;

    while (redis->out_sent < redis->out_len) {
        n = c->send(c, redis->out + redis->out_sent,
                    redis->out_len - redis->out_sent);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_auth_oidc_redis_lost(redis, "cannot wait for it");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_auth_oidc_redis_lost(redis, "send() failed");
            return;
        }

        redis->out_sent += n;
    }

    redis->out_len = 0;
    redis->out_sent = 0;
}


void
ngx_http_auth_oidc_redis_stats(ngx_http_auth_oidc_redis_t *redis,
    ngx_uint_t *connected, ngx_uint_t *commands, ngx_uint_t *errors,
    ngx_msec_t *latency, ngx_str_t *last_error)
{
    *connected = (redis->state == NGX_HTTP_AUTH_OIDC_REDIS_READY);
    *commands = redis->commands;
    *errors = redis->errors;
    *latency = redis->latency;
    last_error->data = redis->last_error;
    last_error->len = redis->last_error_len;
}


/* Logged at "error" once per incident; debug while it lasts. */

void
ngx_http_auth_oidc_redis_incident(ngx_http_auth_oidc_redis_t *redis,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(redis->last_error,
                      redis->last_error + NGX_HTTP_AUTH_OIDC_ERRLEN, fmt,
                      args);
    va_end(args);

    redis->last_error_len = p - redis->last_error;

    if (redis->failing) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, redis->log, 0,
                       "auth oidc redis \"%V\": %*s", &redis->name,
                       redis->last_error_len, redis->last_error);
        return;
    }

    redis->failing = 1;

    ngx_log_error(redis->log_level, redis->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": %*s", &redis->name,
                  redis->last_error_len, redis->last_error);
}
