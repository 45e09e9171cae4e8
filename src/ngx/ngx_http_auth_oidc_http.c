
/*
 * Outbound HTTP/1.1 client on nginx events (the shape of nginx's OCSP
 * client): resolve, connect each address in turn, TLS with verification
 * and SNI, send, parse the answer with nginx's own HTTP parsers.
 */


#include "ngx_http_auth_oidc_http.h"


#define NGX_HTTP_AUTH_OIDC_HEADER_BUF  16384
#define NGX_HTTP_AUTH_OIDC_BODY_START  16384


typedef enum {
    ngx_http_auth_oidc_http_status_line = 0,
    ngx_http_auth_oidc_http_headers,
    ngx_http_auth_oidc_http_body
} ngx_http_auth_oidc_http_phase_e;


typedef struct {
    ngx_http_auth_oidc_http_t           pub;    /* must be first */

    ngx_http_auth_oidc_http_request_t   req;
    ngx_http_auth_oidc_target_t        *target;

    ngx_addr_t                         *addrs;
    ngx_uint_t                          naddrs;
    ngx_uint_t                          naddr;
    ngx_resolver_ctx_t                 *resolve;

    ngx_peer_connection_t               peer;
    ngx_buf_t                          *request;
    ngx_buf_t                          *in;     /* raw bytes from the wire */
    ngx_buf_t                          *body;

    /* nginx's parsers keep their state in a request; this one is private */
    ngx_http_request_t                 *parser;
    ngx_http_status_t                   status;
    ngx_http_chunked_t                  chunked;
    off_t                               content_length;
    ngx_uint_t                          phase;

    ngx_event_t                         done;
    ngx_event_t                         deadline;
    ngx_str_t                           last_error;

    unsigned                            connecting:1;
    unsigned                            chunked_body:1;
    unsigned                            finished:1;
} ngx_http_auth_oidc_http_ctx_t;


static void ngx_http_auth_oidc_http_resolve_handler(ngx_resolver_ctx_t *rctx);
static void ngx_http_auth_oidc_http_connect(
    ngx_http_auth_oidc_http_ctx_t *ctx);
static void ngx_http_auth_oidc_http_next(ngx_http_auth_oidc_http_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_http_test_connect(
    ngx_http_auth_oidc_http_ctx_t *ctx, ngx_connection_t *c);
static void ngx_http_auth_oidc_http_connected(
    ngx_http_auth_oidc_http_ctx_t *ctx);
static void ngx_http_auth_oidc_http_ssl_handshake(ngx_connection_t *c);
static void ngx_http_auth_oidc_http_write_handler(ngx_event_t *wev);
static void ngx_http_auth_oidc_http_read_handler(ngx_event_t *rev);
static void ngx_http_auth_oidc_http_dummy_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_auth_oidc_http_process(
    ngx_http_auth_oidc_http_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_http_process_headers(
    ngx_http_auth_oidc_http_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_http_process_body(
    ngx_http_auth_oidc_http_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_http_append(
    ngx_http_auth_oidc_http_ctx_t *ctx, u_char *data, size_t len);
static ngx_int_t ngx_http_auth_oidc_http_create_request(
    ngx_http_auth_oidc_http_ctx_t *ctx);
static void ngx_http_auth_oidc_http_close(ngx_http_auth_oidc_http_ctx_t *ctx);
static void ngx_http_auth_oidc_http_fail(ngx_http_auth_oidc_http_ctx_t *ctx,
    const char *fmt, ...);
static void ngx_http_auth_oidc_http_finish(ngx_http_auth_oidc_http_ctx_t *ctx,
    ngx_int_t rc);
static void ngx_http_auth_oidc_http_done_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_http_deadline_handler(ngx_event_t *ev);


ngx_http_auth_oidc_http_t *
ngx_http_auth_oidc_http_start(ngx_http_auth_oidc_http_request_t *req,
    ngx_log_t *log)
{
    ngx_pool_t                     *pool;
    ngx_log_t                      *plog;
    ngx_resolver_ctx_t             *rctx, temp;
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_auth_oidc_http_ctx_t));
    plog = ngx_palloc(pool, sizeof(ngx_log_t));
    if (ctx == NULL || plog == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    *plog = *log;
    plog->action = "requesting OpenID provider";
    pool->log = plog;

    ctx->pub.pool = pool;
    ctx->pub.log = plog;
    ctx->pub.data = req->data;
    ctx->pub.rc = NGX_ERROR;

    ctx->req = *req;
    ctx->target = req->target;

    ctx->done.handler = ngx_http_auth_oidc_http_done_handler;
    ctx->done.data = ctx;
    ctx->done.log = plog;

    /* read_timeout is per read: a peer trickling bytes meets this one */
    ctx->deadline.handler = ngx_http_auth_oidc_http_deadline_handler;
    ctx->deadline.data = ctx;
    ctx->deadline.log = plog;
    ctx->deadline.cancelable = req->cancelable;

    ctx->parser = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
    if (ctx->parser == NULL
        || ngx_http_auth_oidc_http_create_request(ctx) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NULL;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, plog, 0,
                   "auth oidc http start \"%V\"", &ctx->target->url);

    rctx = NGX_NO_RESOLVER;

    if (ctx->target->addrs == NULL && req->resolver) {
        temp.name = ctx->target->host;
        rctx = ngx_resolve_start(req->resolver, &temp);
        if (rctx == NULL) {
            /* nothing is armed yet: the pool can go */
            ngx_destroy_pool(pool);
            return NULL;
        }
    }

    /* from here on, every way out goes through ngx_http_auth_oidc_http_done
     * or _cancel, which disarm the deadline before the pool goes */
    if (req->total_timeout) {
        ngx_add_timer(&ctx->deadline, req->total_timeout);
    }

    if (ctx->target->addrs) {
        ctx->addrs = ctx->target->addrs;
        ctx->naddrs = ctx->target->naddrs;
        ngx_http_auth_oidc_http_connect(ctx);
        return &ctx->pub;
    }

    if (rctx == NGX_NO_RESOLVER) {
        ngx_http_auth_oidc_http_fail(ctx,
                         "no resolver defined to resolve \"%V\"",
                         &ctx->target->host);
        return &ctx->pub;
    }

    rctx->name = ctx->target->host;
    rctx->handler = ngx_http_auth_oidc_http_resolve_handler;
    rctx->data = ctx;
    rctx->timeout = req->resolver_timeout;
    rctx->cancelable = req->cancelable;

    ctx->resolve = rctx;

    if (ngx_resolve_name(rctx) != NGX_OK) {
        ctx->resolve = NULL;
        ngx_http_auth_oidc_http_fail(ctx, "could not resolve \"%V\"",
                                     &ctx->target->host);
    }

    return &ctx->pub;
}


void
ngx_http_auth_oidc_http_cancel(ngx_http_auth_oidc_http_t *h)
{
    ngx_http_auth_oidc_http_ctx_t  *ctx = (ngx_http_auth_oidc_http_ctx_t *) h;

    if (ctx->resolve) {
        ngx_resolve_name_done(ctx->resolve);
        ctx->resolve = NULL;
    }

    ngx_http_auth_oidc_http_close(ctx);

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    if (ctx->done.posted) {
        ngx_delete_posted_event(&ctx->done);
    }

    ngx_destroy_pool(h->pool);
}


void
ngx_http_auth_oidc_http_free(ngx_http_auth_oidc_http_t *h)
{
    ngx_http_auth_oidc_http_cancel(h);
}


static void
ngx_http_auth_oidc_http_resolve_handler(ngx_resolver_ctx_t *rctx)
{
    ngx_http_auth_oidc_http_ctx_t *ctx = rctx->data;

    size_t            len;
    u_char           *p;
    socklen_t         socklen;
    ngx_uint_t        i;
    struct sockaddr  *sockaddr;

    ctx->resolve = NULL;

    if (rctx->state) {
        ngx_http_auth_oidc_http_fail(ctx, "\"%V\" could not be resolved "
                                     "(%i: %s)", &rctx->name, rctx->state,
                                     ngx_resolver_strerror(rctx->state));
        ngx_resolve_name_done(rctx);
        return;
    }

    ctx->naddrs = rctx->naddrs;
    ctx->addrs = ngx_pcalloc(ctx->pub.pool,
                             rctx->naddrs * sizeof(ngx_addr_t));
    if (ctx->addrs == NULL) {
        goto failed;
    }

    for (i = 0; i < rctx->naddrs; i++) {
        socklen = rctx->addrs[i].socklen;

        sockaddr = ngx_palloc(ctx->pub.pool, socklen);
        p = ngx_pnalloc(ctx->pub.pool, NGX_SOCKADDR_STRLEN);
        if (sockaddr == NULL || p == NULL) {
            goto failed;
        }

        ngx_memcpy(sockaddr, rctx->addrs[i].sockaddr, socklen);
        ngx_inet_set_port(sockaddr, ctx->target->port);

        len = ngx_sock_ntop(sockaddr, socklen, p, NGX_SOCKADDR_STRLEN, 1);

        ctx->addrs[i].sockaddr = sockaddr;
        ctx->addrs[i].socklen = socklen;
        ctx->addrs[i].name.len = len;
        ctx->addrs[i].name.data = p;
    }

    ngx_resolve_name_done(rctx);
    ngx_http_auth_oidc_http_connect(ctx);
    return;

failed:

    ngx_resolve_name_done(rctx);
    ngx_http_auth_oidc_http_fail(ctx, "out of memory");
}


static void
ngx_http_auth_oidc_http_connect(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    ngx_int_t          rc;
    ngx_err_t          err;
    ngx_addr_t        *addr;
    ngx_connection_t  *c;

    if (ctx->naddr >= ctx->naddrs) {
        if (ctx->last_error.len) {
            ngx_http_auth_oidc_http_fail(ctx, "%V", &ctx->last_error);
        } else {
            ngx_http_auth_oidc_http_fail(ctx, "no address to connect to");
        }
        return;
    }

    addr = &ctx->addrs[ctx->naddr];

    ngx_memzero(&ctx->peer, sizeof(ngx_peer_connection_t));
    ctx->peer.sockaddr = addr->sockaddr;
    ctx->peer.socklen = addr->socklen;
    ctx->peer.name = &addr->name;
    ctx->peer.get = ngx_event_get_peer;
    ctx->peer.log = ctx->pub.log;
    ctx->peer.log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(&ctx->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        err = ngx_socket_errno;
        ctx->last_error.data = ngx_pnalloc(ctx->pub.pool,
                                           NGX_HTTP_AUTH_OIDC_ERRLEN);
        if (ctx->last_error.data) {
            ctx->last_error.len = ngx_snprintf(ctx->last_error.data,
                                      NGX_HTTP_AUTH_OIDC_ERRLEN,
                                      "connect() to %V failed (%d: %s)",
                                      &addr->name, err,
                                      err ? strerror(err) : "refused")
                                  - ctx->last_error.data;
        }

        ngx_http_auth_oidc_http_next(ctx);
        return;
    }

    c = ctx->peer.connection;
    c->data = ctx;
    c->pool = ctx->pub.pool;
    c->read->handler = ngx_http_auth_oidc_http_read_handler;
    c->write->handler = ngx_http_auth_oidc_http_write_handler;

    /*
     * A worker shutting down gracefully need not wait for a background
     * fetch, but does finish a login a browser is waiting for.
     */
    c->read->cancelable = ctx->req.cancelable;
    c->write->cancelable = ctx->req.cancelable;

    ctx->parser->connection = c;

    if (rc == NGX_AGAIN) {
        ctx->connecting = 1;
        ngx_add_timer(c->write, ctx->req.connect_timeout);
        return;
    }

    ngx_http_auth_oidc_http_connected(ctx);
}


static void
ngx_http_auth_oidc_http_next(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    ngx_http_auth_oidc_http_close(ctx);

    ctx->naddr++;
    ctx->connecting = 0;
    ctx->request->pos = ctx->request->start;

    ngx_http_auth_oidc_http_connect(ctx);
}


static ngx_int_t
ngx_http_auth_oidc_http_test_connect(ngx_http_auth_oidc_http_ctx_t *ctx,
    ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err == 0) {
        return NGX_OK;
    }

    ctx->last_error.data = ngx_pnalloc(ctx->pub.pool,
                                       NGX_HTTP_AUTH_OIDC_ERRLEN);
    if (ctx->last_error.data) {
        ctx->last_error.len = ngx_snprintf(ctx->last_error.data,
                                           NGX_HTTP_AUTH_OIDC_ERRLEN,
                                           "connect() to %V failed (%d: %s)",
                                           ctx->peer.name, err, strerror(err))
                              - ctx->last_error.data;
    }

    return NGX_ERROR;
}


static void
ngx_http_auth_oidc_http_connected(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = ctx->peer.connection;
    ctx->connecting = 0;

    if (!ctx->target->ssl) {
        ngx_http_auth_oidc_http_write_handler(c->write);
        return;
    }

    if (ctx->req.ssl == NULL) {
        ngx_http_auth_oidc_http_fail(ctx, "no SSL context for \"%V\"",
                                     &ctx->target->url);
        return;
    }

    if (ngx_ssl_create_connection(ctx->req.ssl, c,
                                  NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_auth_oidc_http_fail(ctx, "SSL connection to %V failed",
                                     ctx->peer.name);
        return;
    }

    c->sendfile = 0;

    if (!ctx->target->host_is_ip) {
        /* SNI: the host name, NUL-terminated as OpenSSL wants it */
        u_char  *name;

        name = ngx_pnalloc(ctx->pub.pool, ctx->target->host.len + 1);
        if (name == NULL) {
            ngx_http_auth_oidc_http_fail(ctx, "out of memory");
            return;
        }

        (void) ngx_cpystrn(name, ctx->target->host.data,
                           ctx->target->host.len + 1);

        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
            == 0)
        {
            ngx_http_auth_oidc_http_fail(ctx, "SSL_set_tlsext_host_name() "
                                         "failed for \"%V\"",
                                         &ctx->target->host);
            return;
        }
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        if (!c->write->timer_set) {
            ngx_add_timer(c->write, ctx->req.connect_timeout);
        }

        c->ssl->handler = ngx_http_auth_oidc_http_ssl_handshake;
        return;
    }

    ngx_http_auth_oidc_http_ssl_handshake(c);
}


static void
ngx_http_auth_oidc_http_ssl_handshake(ngx_connection_t *c)
{
    long                            rc;
    X509                           *cert;
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    ctx = c->data;

    if (!c->ssl->handshaked) {
        if (c->write->timedout || c->read->timedout) {
            ctx->pub.timedout = 1;
            ngx_http_auth_oidc_http_fail(ctx, "SSL handshake with %V "
                                         "timed out", ctx->peer.name);
        } else {
            ngx_http_auth_oidc_http_fail(ctx, "SSL handshake with %V failed",
                                         ctx->peer.name);
        }
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_auth_oidc_http_fail(ctx, "SSL certificate verify error "
                                     "for \"%V\": (%l:%s)",
                                     &ctx->target->host, rc,
                                     X509_verify_cert_error_string(rc));
        return;
    }

    if (ctx->target->host_is_ip) {
        u_char  ip[NGX_SOCKADDR_STRLEN + 1];

        cert = SSL_get_peer_certificate(c->ssl->connection);
        rc = 0;

        if (cert) {
            (void) ngx_cpystrn(ip, ctx->target->host.data,
                               ngx_min(ctx->target->host.len + 1,
                                       sizeof(ip)));
            rc = X509_check_ip_asc(cert, (char *) ip, 0);
            X509_free(cert);
        }

        if (rc != 1) {
            ngx_http_auth_oidc_http_fail(ctx, "SSL certificate does not "
                                         "match \"%V\"", &ctx->target->host);
            return;
        }

    } else if (ngx_ssl_check_host(c, &ctx->target->host) != NGX_OK) {
        ngx_http_auth_oidc_http_fail(ctx, "SSL certificate does not match "
                                     "\"%V\"", &ctx->target->host);
        return;
    }

    c->read->handler = ngx_http_auth_oidc_http_read_handler;
    c->write->handler = ngx_http_auth_oidc_http_write_handler;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_http_auth_oidc_http_write_handler(c->write);
}


static void
ngx_http_auth_oidc_http_write_handler(ngx_event_t *wev)
{
    ssize_t                         n, size;
    ngx_connection_t               *c;
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    c = wev->data;
    ctx = c->data;

    if (ctx->connecting) {
        if (wev->timedout) {
            ctx->pub.timedout = 1;
            ctx->last_error.data = ngx_pnalloc(ctx->pub.pool,
                                               NGX_HTTP_AUTH_OIDC_ERRLEN);
            if (ctx->last_error.data) {
                ctx->last_error.len = ngx_snprintf(ctx->last_error.data,
                                          NGX_HTTP_AUTH_OIDC_ERRLEN,
                                          "connect() to %V timed out",
                                          ctx->peer.name)
                                      - ctx->last_error.data;
            }

            ngx_http_auth_oidc_http_next(ctx);
            return;
        }

        if (ngx_http_auth_oidc_http_test_connect(ctx, c) != NGX_OK) {
            ngx_http_auth_oidc_http_next(ctx);
            return;
        }

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        ngx_http_auth_oidc_http_connected(ctx);
        return;
    }

    if (wev->timedout) {
        ctx->pub.timedout = 1;
        ngx_http_auth_oidc_http_fail(ctx, "sending to %V timed out",
                                     ctx->peer.name);
        return;
    }

    size = ctx->request->last - ctx->request->pos;

    if (size == 0) {
        /* the request was sent; nothing more to write */
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_auth_oidc_http_fail(ctx, "write event failed");
        }

        return;
    }

    n = c->send(c, ctx->request->pos, size);

    if (n == NGX_ERROR) {
        ngx_http_auth_oidc_http_fail(ctx, "sending to %V failed",
                                     ctx->peer.name);
        return;
    }

    if (n > 0) {
        ctx->request->pos += n;

        if (n == size) {
            wev->handler = ngx_http_auth_oidc_http_dummy_handler;

            if (wev->timer_set) {
                ngx_del_timer(wev);
            }

            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_auth_oidc_http_fail(ctx, "write event failed");
                return;
            }

            ngx_add_timer(c->read, ctx->req.read_timeout);

            if (c->read->ready) {
                ngx_http_auth_oidc_http_read_handler(c->read);
            }

            return;
        }
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_auth_oidc_http_fail(ctx, "write event failed");
        return;
    }

    ngx_add_timer(wev, ctx->req.send_timeout);
}


static void
ngx_http_auth_oidc_http_read_handler(ngx_event_t *rev)
{
    ssize_t                         n;
    ngx_buf_t                      *b;
    ngx_int_t                       rc;
    ngx_connection_t               *c;
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    c = rev->data;
    ctx = c->data;

    if (ctx->connecting) {
        /* a failed connect() is reported on both events */
        ngx_http_auth_oidc_http_write_handler(c->write);
        return;
    }

    if (rev->timedout) {
        ctx->pub.timedout = 1;
        ngx_http_auth_oidc_http_fail(ctx, "reading from %V timed out "
                                     "after %M ms", ctx->peer.name,
                                     ctx->req.read_timeout);
        return;
    }

    if (ctx->in == NULL) {
        ctx->in = ngx_create_temp_buf(ctx->pub.pool,
                                      NGX_HTTP_AUTH_OIDC_HEADER_BUF);
        if (ctx->in == NULL) {
            ngx_http_auth_oidc_http_fail(ctx, "out of memory");
            return;
        }
    }

    b = ctx->in;

    for ( ;; ) {

        if (b->pos == b->last && ctx->phase == ngx_http_auth_oidc_http_body) {
            b->pos = b->start;
            b->last = b->start;
        }

        if (b->last == b->end) {
            /* only possible while headers are incomplete */
            ngx_http_auth_oidc_http_fail(ctx, "response header from %V "
                                         "is too large", ctx->peer.name);
            return;
        }

        n = c->recv(c, b->last, b->end - b->last);

        if (n > 0) {
            b->last += n;

            rc = ngx_http_auth_oidc_http_process(ctx);

            if (rc == NGX_DONE) {
                ngx_http_auth_oidc_http_finish(ctx, NGX_OK);
                return;
            }

            if (rc == NGX_ERROR) {
                return;
            }

            continue;
        }

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_auth_oidc_http_fail(ctx, "read event failed");
                return;
            }

            ngx_add_timer(rev, ctx->req.read_timeout);
            return;
        }

        break;
    }

    /* the connection was closed (n == 0) or broke (NGX_ERROR) */

    if (n == 0
        && ctx->phase == ngx_http_auth_oidc_http_body
        && !ctx->chunked_body
        && ctx->content_length == -1)
    {
        ngx_http_auth_oidc_http_finish(ctx, NGX_OK);
        return;
    }

    ngx_http_auth_oidc_http_fail(ctx, "%V closed the connection before "
                                 "the response was complete",
                                 ctx->peer.name);
}


static void
ngx_http_auth_oidc_http_dummy_handler(ngx_event_t *ev)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "auth oidc http dummy handler");
}


/* NGX_AGAIN: more input needed; NGX_DONE: complete; NGX_ERROR: failed */

static ngx_int_t
ngx_http_auth_oidc_http_process(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->phase == ngx_http_auth_oidc_http_status_line) {
        rc = ngx_http_parse_status_line(ctx->parser, ctx->in, &ctx->status);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            ngx_http_auth_oidc_http_fail(ctx, "%V sent an invalid HTTP "
                                         "status line", ctx->peer.name);
            return NGX_ERROR;
        }

        ctx->pub.status = ctx->status.code;
        ctx->phase = ngx_http_auth_oidc_http_headers;
        ctx->content_length = -1;
    }

    if (ctx->phase == ngx_http_auth_oidc_http_headers) {
        rc = ngx_http_auth_oidc_http_process_headers(ctx);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_auth_oidc_http_process_body(ctx);
}


static ngx_int_t
ngx_http_auth_oidc_http_process_headers(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    size_t               len;
    ngx_int_t            rc;
    ngx_str_t            name, value;
    ngx_http_request_t  *p;

    p = ctx->parser;

    for ( ;; ) {
        rc = ngx_http_parse_header_line(p, ctx->in, 1);

        if (rc == NGX_AGAIN) {
            /* the parser keeps pointers into ctx->in: it is never moved */
            return NGX_AGAIN;
        }

        if (rc == NGX_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        if (rc != NGX_OK) {
            ngx_http_auth_oidc_http_fail(ctx, "%V sent an invalid header",
                                         ctx->peer.name);
            return NGX_ERROR;
        }

        name.data = p->header_name_start;
        name.len = p->header_name_end - p->header_name_start;
        value.data = p->header_start;
        value.len = p->header_end - p->header_start;

        if (name.len == sizeof("Content-Length") - 1
            && ngx_strncasecmp(name.data, (u_char *) "Content-Length",
                               name.len) == 0)
        {
            if (ctx->content_length != -1) {
                ngx_http_auth_oidc_http_fail(ctx, "%V sent duplicate "
                                             "Content-Length",
                                             ctx->peer.name);
                return NGX_ERROR;
            }

            ctx->content_length = ngx_atoof(value.data, value.len);

            if (ctx->content_length == NGX_ERROR) {
                ngx_http_auth_oidc_http_fail(ctx, "%V sent an invalid "
                                             "Content-Length",
                                             ctx->peer.name);
                return NGX_ERROR;
            }

        } else if (name.len == sizeof("Transfer-Encoding") - 1
                   && ngx_strncasecmp(name.data,
                                      (u_char *) "Transfer-Encoding",
                                      name.len) == 0)
        {
            if (value.len != sizeof("chunked") - 1
                || ngx_strncasecmp(value.data, (u_char *) "chunked",
                                   value.len) != 0)
            {
                ngx_http_auth_oidc_http_fail(ctx, "%V sent an unsupported "
                                             "Transfer-Encoding",
                                             ctx->peer.name);
                return NGX_ERROR;
            }

            ctx->chunked_body = 1;

        } else if (name.len == sizeof("Content-Type") - 1
                   && ngx_strncasecmp(name.data, (u_char *) "Content-Type",
                                      name.len) == 0)
        {
            ctx->pub.content_type.data = ngx_pstrdup(ctx->pub.pool, &value);
            if (ctx->pub.content_type.data == NULL) {
                ngx_http_auth_oidc_http_fail(ctx, "out of memory");
                return NGX_ERROR;
            }

            ctx->pub.content_type.len = value.len;
        }
    }

    if (ctx->chunked_body && ctx->content_length != -1) {
        /* RFC 9112 6.3: a message with both is a smuggling attempt */
        ngx_http_auth_oidc_http_fail(ctx, "%V sent both Content-Length and "
                                     "Transfer-Encoding", ctx->peer.name);
        return NGX_ERROR;
    }

    if (ctx->content_length > (off_t) ctx->req.max_size) {
        ngx_http_auth_oidc_http_fail(ctx, "response from %V is too large "
                                     "(%O bytes, limit %uz)", ctx->peer.name,
                                     ctx->content_length, ctx->req.max_size);
        return NGX_ERROR;
    }

    len = ctx->content_length >= 0 ? (size_t) ctx->content_length
                                   : ngx_min(ctx->req.max_size,
                                             NGX_HTTP_AUTH_OIDC_BODY_START);

    ctx->body = ngx_create_temp_buf(ctx->pub.pool, len ? len : 1);
    if (ctx->body == NULL) {
        ngx_http_auth_oidc_http_fail(ctx, "out of memory");
        return NGX_ERROR;
    }

    ctx->phase = ngx_http_auth_oidc_http_body;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_http_process_body(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    size_t      len;
    ngx_buf_t  *in;
    ngx_int_t   rc;

    in = ctx->in;

    if (!ctx->chunked_body) {
        len = in->last - in->pos;

        if (ctx->content_length >= 0) {
            len = ngx_min(len, (size_t) (ctx->content_length
                                         - (ctx->body->last
                                            - ctx->body->pos)));
        }

        if (ngx_http_auth_oidc_http_append(ctx, in->pos, len) != NGX_OK) {
            return NGX_ERROR;
        }

        /* bytes past Content-Length are dropped with the connection */
        in->pos = in->last;

        if (ctx->content_length >= 0
            && ctx->body->last - ctx->body->pos == ctx->content_length)
        {
            return NGX_DONE;
        }

        return NGX_AGAIN;
    }

    for ( ;; ) {
#if (nginx_version >= 1027002)
        /* trailers are of no use here: let the parser skip them */
        rc = ngx_http_parse_chunked(ctx->parser, in, &ctx->chunked, 0);
#else
        rc = ngx_http_parse_chunked(ctx->parser, in, &ctx->chunked);
#endif

        if (rc == NGX_OK) {
            len = ngx_min((off_t) (in->last - in->pos), ctx->chunked.size);

            if (ngx_http_auth_oidc_http_append(ctx, in->pos, len) != NGX_OK)
            {
                return NGX_ERROR;
            }

            in->pos += len;
            ctx->chunked.size -= len;
            continue;
        }

        if (rc == NGX_DONE) {
            return NGX_DONE;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        ngx_http_auth_oidc_http_fail(ctx, "%V sent an invalid chunked body",
                                     ctx->peer.name);
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_auth_oidc_http_append(ngx_http_auth_oidc_http_ctx_t *ctx,
    u_char *data, size_t len)
{
    size_t      used, size;
    ngx_buf_t  *b, *nb;

    b = ctx->body;
    used = b->last - b->pos;

    if (used + len > ctx->req.max_size) {
        ngx_http_auth_oidc_http_fail(ctx, "response from %V is too large "
                                     "(over %uz bytes)", ctx->peer.name,
                                     ctx->req.max_size);
        return NGX_ERROR;
    }

    if ((size_t) (b->end - b->last) < len) {
        size = ngx_max(2 * (size_t) (b->end - b->start), used + len);
        size = ngx_min(size, ctx->req.max_size);

        nb = ngx_create_temp_buf(ctx->pub.pool, size);
        if (nb == NULL) {
            ngx_http_auth_oidc_http_fail(ctx, "out of memory");
            return NGX_ERROR;
        }

        nb->last = ngx_cpymem(nb->last, b->pos, used);
        ngx_pfree(ctx->pub.pool, b->start);
        ctx->body = nb;
        b = nb;
    }

    b->last = ngx_cpymem(b->last, data, len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_http_create_request(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    size_t                        len;
    ngx_buf_t                    *b;
    ngx_str_t                     method;
    ngx_http_auth_oidc_target_t  *t;

    static const char  ua[] = "User-Agent: nginx-auth-oidc/"
                              NGX_HTTP_AUTH_OIDC_VERSION CRLF;

    t = ctx->target;
    method = ctx->req.method;

    if (method.len == 0) {
        ngx_str_set(&method, "GET");
    }

    len = method.len + 1 + t->uri.len + sizeof(" HTTP/1.1" CRLF) - 1
          + sizeof("Host: ") - 1 + t->host_header.len + sizeof(CRLF) - 1
          + sizeof(ua) - 1
          + sizeof("Accept: application/json" CRLF) - 1
          + sizeof("Connection: close" CRLF) - 1
          + ctx->req.headers.len
          + sizeof(CRLF) - 1;

    if (ctx->req.body.len) {
        len += sizeof("Content-Length: " CRLF) - 1 + NGX_SIZE_T_LEN
               + ctx->req.body.len;
    }

    b = ngx_create_temp_buf(ctx->pub.pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "%V %V HTTP/1.1" CRLF "Host: %V" CRLF,
                          &method, &t->uri, &t->host_header);
    b->last = ngx_cpymem(b->last, ua, sizeof(ua) - 1);
    b->last = ngx_cpymem(b->last, "Accept: application/json" CRLF
                         "Connection: close" CRLF,
                         sizeof("Accept: application/json" CRLF
                                "Connection: close" CRLF) - 1);
    if (ctx->req.headers.len) {
        b->last = ngx_cpymem(b->last, ctx->req.headers.data,
                             ctx->req.headers.len);
    }

    if (ctx->req.body.len) {
        b->last = ngx_sprintf(b->last, "Content-Length: %uz" CRLF,
                              ctx->req.body.len);
    }

    *b->last++ = CR; *b->last++ = LF;

    if (ctx->req.body.len) {
        b->last = ngx_cpymem(b->last, ctx->req.body.data, ctx->req.body.len);
    }

    ctx->request = b;

    return NGX_OK;
}


static void
ngx_http_auth_oidc_http_close(ngx_http_auth_oidc_http_ctx_t *ctx)
{
    ngx_connection_t  *c;

    c = ctx->peer.connection;

    if (c == NULL) {
        return;
    }

    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }

    ngx_close_connection(c);
    ctx->peer.connection = NULL;

    ctx->phase = ngx_http_auth_oidc_http_status_line;
    ctx->chunked_body = 0;
    ngx_memzero(&ctx->chunked, sizeof(ngx_http_chunked_t));
    ctx->parser->state = 0;

    if (ctx->in) {
        ctx->in->pos = ctx->in->start;
        ctx->in->last = ctx->in->start;
    }
}


static void
ngx_http_auth_oidc_http_fail(ngx_http_auth_oidc_http_ctx_t *ctx,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_pnalloc(ctx->pub.pool, NGX_HTTP_AUTH_OIDC_ERRLEN);

    if (p) {
        va_start(args, fmt);
        ctx->pub.error.len = ngx_vslprintf(p, p + NGX_HTTP_AUTH_OIDC_ERRLEN,
                                           fmt, args) - p;
        va_end(args);
        ctx->pub.error.data = p;

    } else {
        ngx_str_set(&ctx->pub.error, "out of memory");
    }

    ngx_http_auth_oidc_http_finish(ctx, NGX_ERROR);
}


/* The handler always runs from the event loop, never inside start(). */

static void
ngx_http_auth_oidc_http_finish(ngx_http_auth_oidc_http_ctx_t *ctx,
    ngx_int_t rc)
{
    if (ctx->finished) {
        return;
    }

    ctx->finished = 1;
    ctx->pub.rc = rc;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    if (ctx->resolve) {
        ngx_resolve_name_done(ctx->resolve);
        ctx->resolve = NULL;
    }

    if (rc == NGX_OK) {
        ctx->pub.body.data = ctx->body->pos;
        ctx->pub.body.len = ctx->body->last - ctx->body->pos;
    }

    ngx_http_auth_oidc_http_close(ctx);

    ngx_post_event(&ctx->done, &ngx_posted_events);
}


static void
ngx_http_auth_oidc_http_done_handler(ngx_event_t *ev)
{
    ngx_http_auth_oidc_http_ctx_t  *ctx = ev->data;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "auth oidc http done rc:%i status:%ui body:%uz",
                   ctx->pub.rc, ctx->pub.status, ctx->pub.body.len);

    ctx->req.handler(&ctx->pub);
}


static void
ngx_http_auth_oidc_http_deadline_handler(ngx_event_t *ev)
{
    ngx_http_auth_oidc_http_ctx_t  *ctx = ev->data;

    ctx->pub.timedout = 1;
    ngx_http_auth_oidc_http_fail(ctx, "request to \"%V\" timed out after "
                                 "%M ms in all", &ctx->target->url,
                                 ctx->req.total_timeout);
}
