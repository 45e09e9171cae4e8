
/*
 * hiredis's asynchronous API on nginx's events: hiredis's socket is wrapped
 * in an nginx connection whose read and write events call hiredis, and
 * hiredis's add/del hooks switch those events on and off. Nothing here
 * ever waits: connect is non-blocking (addresses are resolved when the
 * configuration is read), every command has a timer, and a lost
 * connection is retried with a growing delay.
 *
 * Failures are logged once per incident at "error" and the recovery at
 * "notice", not once per request.
 *
 * Writes are batched: hiredis asks for a write event after every command,
 * and instead of switching epoll's write interest on and off around each
 * one (two epoll_ctl() calls and a wake-up per command), the write event is
 * posted, so every command queued while nginx handles one batch of events
 * goes out in one write() after it (pipelining). Only a write that could
 * not finish, or a connect under way, waits for the socket to be writable.
 */


#include "ngx_http_auth_oidc_redis.h"


#define NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MAX  5000


typedef enum {
    NGX_HTTP_AUTH_OIDC_REDIS_DOWN = 0,
    NGX_HTTP_AUTH_OIDC_REDIS_CONNECTING,
    NGX_HTTP_AUTH_OIDC_REDIS_READY
} ngx_http_auth_oidc_redis_state_e;


struct ngx_http_auth_oidc_redis_s {
    ngx_http_auth_oidc_redis_conf_t     *conf;
    ngx_str_t                            name;
    ngx_log_t                           *log;

    redisAsyncContext                   *ac;
    ngx_connection_t                    *conn;
    ngx_uint_t                           state;

    ngx_event_t                          reconnect;
    ngx_event_t                          connect_timer;
    ngx_msec_t                           backoff;

    unsigned                             writing:1; /* in HandleWrite */

    ngx_uint_t                           failing;
    ngx_uint_t                           refused;   /* AUTH, SELECT, PING */
    ngx_uint_t                           commands;
    ngx_uint_t                           errors;
    ngx_msec_t                           latency;
    size_t                               last_error_len;
    u_char                               last_error[NGX_HTTP_AUTH_OIDC_ERRLEN];
};


struct ngx_http_auth_oidc_redis_cmd_s {
    ngx_http_auth_oidc_redis_t          *redis;
    ngx_http_auth_oidc_redis_handler_pt  handler;    /* NULL: nobody waits */
    void                                *data;
    ngx_event_t                          timer;
    ngx_msec_t                           started;
};


static void ngx_http_auth_oidc_redis_connect(ngx_http_auth_oidc_redis_t *r);
static void ngx_http_auth_oidc_redis_schedule(ngx_http_auth_oidc_redis_t *r);
static void ngx_http_auth_oidc_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_drop(ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_handshake(
    ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_auth_done(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_ping_done(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_refused(ngx_http_auth_oidc_redis_t *redis,
    redisReply *reply);
static void ngx_http_auth_oidc_redis_recovered(
    ngx_http_auth_oidc_redis_t *redis);
static void ngx_http_auth_oidc_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_auth_oidc_redis_on_disconnect(
    const redisAsyncContext *ac, int status);
static void ngx_http_auth_oidc_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_auth_oidc_redis_command_timeout(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_read_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_write_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_redis_add_read(void *privdata);
static void ngx_http_auth_oidc_redis_del_read(void *privdata);
static void ngx_http_auth_oidc_redis_add_write(void *privdata);
static void ngx_http_auth_oidc_redis_del_write(void *privdata);
static void ngx_http_auth_oidc_redis_cleanup(void *privdata);


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

    redis->reconnect.handler = ngx_http_auth_oidc_redis_reconnect_handler;
    redis->reconnect.data = redis;
    redis->reconnect.log = cycle->log;
    redis->reconnect.cancelable = 1;

    redis->connect_timer.handler = ngx_http_auth_oidc_redis_connect_timeout;
    redis->connect_timer.data = redis;
    redis->connect_timer.log = cycle->log;
    redis->connect_timer.cancelable = 1;

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

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    ngx_http_auth_oidc_redis_drop(redis);
}


static void
ngx_http_auth_oidc_redis_connect(ngx_http_auth_oidc_redis_t *redis)
{
    redisAsyncContext  *ac;
    ngx_connection_t   *c;

    if (redis->conf->unix_path) {
        ac = redisAsyncConnectUnix((char *) redis->conf->unix_path);

    } else {
        /* an IP address: hiredis would resolve a name with getaddrinfo() */
        ac = redisAsyncConnect((char *) redis->conf->host, redis->conf->port);
    }

    if (ac == NULL) {
        ngx_http_auth_oidc_redis_incident(redis, "cannot create a Redis "
                                          "context");
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    if (ac->err) {
        ngx_http_auth_oidc_redis_incident(redis, "connect() to %V failed: "
                                          "%s", &redis->conf->addr,
                                          ac->errstr);
        redisAsyncFree(ac);
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    c = ngx_get_connection(ac->c.fd, redis->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_auth_oidc_redis_schedule(redis);
        return;
    }

    c->data = redis;
    c->read->handler = ngx_http_auth_oidc_redis_read_handler;
    c->write->handler = ngx_http_auth_oidc_redis_write_handler;
    c->read->log = redis->log;
    c->write->log = redis->log;

    redis->ac = ac;
    redis->conn = c;
    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_CONNECTING;
    redis->refused = 0;

    ac->data = redis;
    ac->ev.data = redis;
    ac->ev.addRead = ngx_http_auth_oidc_redis_add_read;
    ac->ev.delRead = ngx_http_auth_oidc_redis_del_read;
    ac->ev.addWrite = ngx_http_auth_oidc_redis_add_write;
    ac->ev.delWrite = ngx_http_auth_oidc_redis_del_write;
    ac->ev.cleanup = ngx_http_auth_oidc_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_auth_oidc_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_auth_oidc_redis_on_disconnect);

    ngx_add_timer(&redis->connect_timer, redis->conf->connect_timeout);

    ngx_http_auth_oidc_redis_handshake(redis);
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

        (void) ngx_http_auth_oidc_redis_command(redis,
                                      ngx_http_auth_oidc_redis_auth_done,
                                      redis, argc, argv, argvlen);
    }

    if (redis->conf->db > 0) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", redis->conf->db) - db;

        (void) ngx_http_auth_oidc_redis_command(redis,
                                      ngx_http_auth_oidc_redis_auth_done,
                                      redis, 2, argv, argvlen);
    }

    argv[0] = "PING";
    argvlen[0] = 4;

    (void) ngx_http_auth_oidc_redis_command(redis,
                                      ngx_http_auth_oidc_redis_ping_done,
                                      redis, 1, argv, argvlen);
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

    if (redis->ac) {
        redisAsyncDisconnect(redis->ac);
    }
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
}


static void
ngx_http_auth_oidc_redis_recovered(ngx_http_auth_oidc_redis_t *redis)
{
    if (!redis->failing) {
        return;
    }

    redis->failing = 0;

    ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": Redis %V is "
                  "reachable again", &redis->name, &redis->conf->addr);
}


static void
ngx_http_auth_oidc_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_auth_oidc_redis_t *redis = ac->data;

    if (status == REDIS_OK) {
        return;
    }

    /* hiredis frees the context after this, without a disconnect call */
    ngx_http_auth_oidc_redis_incident(redis, "connect() to %V failed: %s",
                                      &redis->conf->addr, ac->errstr);

    redis->ac = NULL;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    ngx_http_auth_oidc_redis_schedule(redis);
}


static void
ngx_http_auth_oidc_redis_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_auth_oidc_redis_t *redis = ac->data;

    if (status != REDIS_OK) {
        ngx_http_auth_oidc_redis_incident(redis, "connection to Redis %V "
                                          "lost: %s", &redis->conf->addr,
                                          ac->errstr);
    }

    redis->ac = NULL;
    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_DOWN;

    if (redis->connect_timer.timer_set) {
        ngx_del_timer(&redis->connect_timer);
    }

    ngx_http_auth_oidc_redis_schedule(redis);
}


static void
ngx_http_auth_oidc_redis_schedule(ngx_http_auth_oidc_redis_t *redis)
{
    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_DOWN;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(&redis->reconnect, redis->backoff);

    redis->backoff = ngx_min(2 * redis->backoff,
                             NGX_HTTP_AUTH_OIDC_REDIS_BACKOFF_MAX);
}


static void
ngx_http_auth_oidc_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_auth_oidc_redis_t *redis = ev->data;

    if (redis->ac == NULL) {
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


/* Frees the context now; hiredis answers every pending command with NULL. */

static void
ngx_http_auth_oidc_redis_drop(ngx_http_auth_oidc_redis_t *redis)
{
    redisAsyncContext  *ac;

    ac = redis->ac;

    if (ac == NULL) {
        return;
    }

    redis->ac = NULL;
    redis->state = NGX_HTTP_AUTH_OIDC_REDIS_DOWN;

    /* no disconnect callback: the caller decides about reconnecting */
    ac->onDisconnect = NULL;

    redisAsyncFree(ac);
}


ngx_http_auth_oidc_redis_cmd_t *
ngx_http_auth_oidc_redis_command(ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_auth_oidc_redis_cmd_t  *cmd;

    if (redis->ac == NULL || redis->state == NGX_HTTP_AUTH_OIDC_REDIS_DOWN) {
        redis->errors++;
        return NULL;
    }

    cmd = ngx_calloc(sizeof(ngx_http_auth_oidc_redis_cmd_t), redis->log);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->redis = redis;
    cmd->handler = handler;
    cmd->data = data;
    cmd->started = ngx_current_msec;

    cmd->timer.handler = ngx_http_auth_oidc_redis_command_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = redis->log;

    /* not cancelable: a request may wait for it while the worker exits */

    if (redisAsyncCommandArgv(redis->ac, ngx_http_auth_oidc_redis_reply, cmd,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        redis->errors++;
        return NULL;
    }

    ngx_add_timer(&cmd->timer, redis->conf->timeout);
    redis->commands++;

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


static void
ngx_http_auth_oidc_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_auth_oidc_redis_cmd_t *cmd = privdata;

    redisReply                           *reply = r;
    ngx_str_t                             error;
    ngx_http_auth_oidc_redis_t           *redis;
    ngx_http_auth_oidc_redis_handler_pt   handler;

    redis = cmd->redis;
    handler = cmd->handler;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    redis->latency = ngx_current_msec - cmd->started;

    if (reply == NULL) {
        redis->errors++;

    } else if (redis->state == NGX_HTTP_AUTH_OIDC_REDIS_READY
               && reply->type != REDIS_REPLY_ERROR)
    {
        /* answers again after timeouts: the incident is over */
        ngx_http_auth_oidc_redis_recovered(redis);
    }

    ngx_str_set(&error, "the connection to Redis was lost");

    if (handler) {
        cmd->handler = NULL;
        handler(cmd->data, reply, reply ? NULL : &error);
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

    ngx_http_auth_oidc_redis_incident(redis, "Redis %V did not answer "
                                      "within %M ms", &redis->conf->addr,
                                      redis->conf->timeout);

    /* hiredis still owns cmd: it is freed when the late reply comes */
    if (handler) {
        cmd->handler = NULL;
        ngx_str_set(&error, "Redis timed out");
        handler(cmd->data, NULL, &error);
    }
}


static void
ngx_http_auth_oidc_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t            *c = ev->data;
    ngx_http_auth_oidc_redis_t  *redis = c->data;

    /* hiredis may free the context, and this connection, in here */
    if (redis->ac) {
        redisAsyncHandleRead(redis->ac);
    }
}


static void
ngx_http_auth_oidc_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t            *c = ev->data;
    ngx_http_auth_oidc_redis_t  *redis = c->data;

    if (redis->ac) {
        redis->writing = 1;
        redisAsyncHandleWrite(redis->ac);
        redis->writing = 0;
    }
}


/*
 * hiredis reads a bounded chunk per call: its events are level-triggered,
 * so data left in the socket is reported again.
 */

static void
ngx_http_auth_oidc_redis_add_read(void *privdata)
{
    ngx_http_auth_oidc_redis_t *redis = privdata;

    ngx_event_t  *ev;

    ev = redis->conn->read;

    if (!ev->active) {
        (void) ngx_add_event(ev, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_auth_oidc_redis_del_read(void *privdata)
{
    ngx_http_auth_oidc_redis_t *redis = privdata;

    ngx_event_t  *ev;

    ev = redis->conn->read;

    if (ev->active) {
        (void) ngx_del_event(ev, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_auth_oidc_redis_add_write(void *privdata)
{
    ngx_http_auth_oidc_redis_t *redis = privdata;

    ngx_event_t  *ev;

    ev = redis->conn->write;

    /* a command queued: written after the current batch of events */
    if (!redis->writing && (redis->ac->c.flags & REDIS_CONNECTED)) {
        if (!ev->active && !ev->posted) {
            ngx_post_event(ev, &ngx_posted_events);
        }

        return;
    }

    /* connecting, or the socket's buffer is full: wait until writable */
    if (!ev->active) {
        (void) ngx_add_event(ev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_auth_oidc_redis_del_write(void *privdata)
{
    ngx_http_auth_oidc_redis_t *redis = privdata;

    ngx_event_t  *ev;

    ev = redis->conn->write;

    if (ev->active) {
        (void) ngx_del_event(ev, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself: only nginx's side is released. */

static void
ngx_http_auth_oidc_redis_cleanup(void *privdata)
{
    ngx_http_auth_oidc_redis_t *redis = privdata;

    ngx_connection_t  *c;

    c = redis->conn;

    if (c == NULL) {
        return;
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    redis->conn = NULL;
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

    ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": %*s", &redis->name,
                  redis->last_error_len, redis->last_error);
}
