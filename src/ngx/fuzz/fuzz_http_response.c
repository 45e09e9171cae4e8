
/*
 * libFuzzer entry point: an OpenID provider's answer, as the module's
 * outbound HTTP client reads it. ngx_http_auth_oidc_http.c is included as
 * it is, static functions and all; its read handler is driven through a
 * connection of ours, and it parses with nginx's own ngx_http_parse.c,
 * which only a full nginx source tree has (make fuzz NGINX_FULL_SRC=...).
 *
 * The input is two bytes of settings, then the bytes the peer sends:
 *
 *   byte 0  the low three bits pick max_response_size, from
 *           ngx_http_auth_oidc_fuzz_caps[]; bit 3 set: the bytes end with
 *           a read error rather than with the peer closing the connection
 *           ('0' to '7': a close, '8' and '9': an error);
 *   byte 1  how the trickled run cuts the bytes: its low six bits are the
 *           largest piece less one, and it seeds the piece sizes and the
 *           reads that find nothing yet (the event loop then calls again).
 *
 * The bytes are read twice, once in reads as large as the buffer offers,
 * once trickled: both must end alike (result, status, body, error). Along
 * the way: nothing past ctx->in->last is read (the rest of the buffer is
 * poisoned for AddressSanitizer after each read), the body never holds
 * more than the cap, a pending read always has its timer, nothing is read
 * after the end. At the end: the handler's event posted once, the
 * connection closed once, no timer left; and a success has its body where
 * a plain reading of the input puts it (the header ends at the first empty
 * line): the Content-Length bytes right after the header, the chunks
 * decoded here, or everything until the close. A truncated response, or a
 * read error before a close-delimited body ends, never succeeds.
 *
 * nginx's ngx_string.c, ngx_buf.c and ngx_rbtree.c come from the full tree
 * too; the rest of nginx that the client needs is here: the timer tree and
 * posted events as variables, a connection that closes, and stubs that
 * abort() for what only the connecting part calls (resolver, peer, SSL).
 */


#include <stdlib.h>
#include <sanitizer/asan_interface.h>

#include "ngx_http_auth_oidc_fuzz.h"
#include "ngx_http_auth_oidc_http.c"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ngx_http_auth_oidc_fuzz_run(const u_char *data, size_t size,
    ngx_uint_t trickle, ngx_http_auth_oidc_http_ctx_t **out);
static ssize_t ngx_http_auth_oidc_fuzz_recv(ngx_connection_t *c,
    u_char *buf, size_t size);
static void ngx_http_auth_oidc_fuzz_expect(ngx_http_auth_oidc_http_ctx_t *ctx,
    const u_char *data, size_t size);
static ngx_uint_t ngx_http_auth_oidc_fuzz_dechunk(const u_char *p,
    const u_char *last, u_char *out, size_t *len);
static ngx_uint_t ngx_http_auth_oidc_fuzz_same(ngx_str_t *a, ngx_str_t *b);


static size_t  ngx_http_auth_oidc_fuzz_caps[] = {
    1024, 1025, 4096, 16383, 16384, 16385, 65536, 512 * 1024
};


/* what nginx's event and time code defines */
ngx_rbtree_t             ngx_event_timer_rbtree;
ngx_queue_t              ngx_posted_events;
volatile ngx_msec_t      ngx_current_msec;
volatile ngx_cycle_t    *ngx_cycle;
ngx_uint_t               ngx_pagesize = 4096;

static ngx_rbtree_node_t  ngx_http_auth_oidc_fuzz_sentinel;

static ngx_log_t          ngx_http_auth_oidc_fuzz_log;
static ngx_pool_t         ngx_http_auth_oidc_fuzz_pool;
static ngx_str_t          ngx_http_auth_oidc_fuzz_peer =
    ngx_string("127.0.0.1:443");

/* the connection of the current run */
static ngx_connection_t   ngx_http_auth_oidc_fuzz_conn;
static ngx_event_t        ngx_http_auth_oidc_fuzz_rev;
static ngx_event_t        ngx_http_auth_oidc_fuzz_wev;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_closed;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_chunked;  /* at close */

/* what the peer sends in the current run */
static const u_char      *ngx_http_auth_oidc_fuzz_data;
static size_t             ngx_http_auth_oidc_fuzz_size;
static size_t             ngx_http_auth_oidc_fuzz_off;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_piece;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_rnd;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_error;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_waited;
static ngx_uint_t         ngx_http_auth_oidc_fuzz_ended;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ngx_rbtree_init(&ngx_event_timer_rbtree, &ngx_http_auth_oidc_fuzz_sentinel,
                    ngx_rbtree_insert_timer_value);
    ngx_queue_init(&ngx_posted_events);

    ngx_http_auth_oidc_fuzz_log.log_level = NGX_LOG_ERR;
    ngx_http_auth_oidc_fuzz_pool.log = &ngx_http_auth_oidc_fuzz_log;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_http_auth_oidc_http_ctx_t  *whole, *trickled;

    if (size < 2) {
        return 0;
    }

    ngx_http_auth_oidc_fuzz_run(data, size, 0, &whole);
    ngx_http_auth_oidc_fuzz_run(data, size, 1, &trickled);

    if (whole->pub.rc != trickled->pub.rc
        || whole->pub.status != trickled->pub.status
        || !ngx_http_auth_oidc_fuzz_same(&whole->pub.body,
                                         &trickled->pub.body)
        || !ngx_http_auth_oidc_fuzz_same(&whole->pub.content_type,
                                         &trickled->pub.content_type)
        || !ngx_http_auth_oidc_fuzz_same(&whole->pub.error,
                                         &trickled->pub.error))
    {
        __builtin_trap();
    }

    ngx_http_auth_oidc_fuzz_pool_free();

    return 0;
}


/*
 * A client context as ngx_http_auth_oidc_http_start() makes it, past the
 * connect and the request sent: the read handler is called until the
 * response ends, as the event loop calls it.
 */

static void
ngx_http_auth_oidc_fuzz_run(const u_char *data, size_t size,
    ngx_uint_t trickle, ngx_http_auth_oidc_http_ctx_t **out)
{
    ngx_uint_t                      calls;
    ngx_connection_t               *c;
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    ctx = ngx_pcalloc(&ngx_http_auth_oidc_fuzz_pool,
                      sizeof(ngx_http_auth_oidc_http_ctx_t));
    if (ctx == NULL) {
        abort();
    }

    ctx->parser = ngx_pcalloc(&ngx_http_auth_oidc_fuzz_pool,
                              sizeof(ngx_http_request_t));
    if (ctx->parser == NULL) {
        abort();
    }

    ctx->pub.pool = &ngx_http_auth_oidc_fuzz_pool;
    ctx->pub.log = &ngx_http_auth_oidc_fuzz_log;
    ctx->pub.rc = NGX_ERROR;

    ctx->req.max_size = ngx_http_auth_oidc_fuzz_caps[data[0] & 7];
    ctx->req.read_timeout = 60000;

    ctx->done.handler = ngx_http_auth_oidc_http_done_handler;
    ctx->done.data = ctx;
    ctx->done.log = &ngx_http_auth_oidc_fuzz_log;

    c = &ngx_http_auth_oidc_fuzz_conn;
    ngx_memzero(c, sizeof(ngx_connection_t));
    ngx_memzero(&ngx_http_auth_oidc_fuzz_rev, sizeof(ngx_event_t));
    ngx_memzero(&ngx_http_auth_oidc_fuzz_wev, sizeof(ngx_event_t));

    c->read = &ngx_http_auth_oidc_fuzz_rev;
    c->write = &ngx_http_auth_oidc_fuzz_wev;
    c->read->data = c;
    c->write->data = c;
    c->read->log = &ngx_http_auth_oidc_fuzz_log;
    c->write->log = &ngx_http_auth_oidc_fuzz_log;
    c->read->handler = ngx_http_auth_oidc_http_read_handler;
    c->write->handler = ngx_http_auth_oidc_http_dummy_handler;
    c->read->ready = 1;
    c->log = &ngx_http_auth_oidc_fuzz_log;
    c->pool = &ngx_http_auth_oidc_fuzz_pool;
    c->recv = ngx_http_auth_oidc_fuzz_recv;
    c->data = ctx;
    c->fd = (ngx_socket_t) -1;

    ctx->peer.connection = c;
    ctx->peer.name = &ngx_http_auth_oidc_fuzz_peer;
    ctx->peer.log = &ngx_http_auth_oidc_fuzz_log;
    ctx->parser->connection = c;

    ngx_http_auth_oidc_fuzz_data = data + 2;
    ngx_http_auth_oidc_fuzz_size = size - 2;
    ngx_http_auth_oidc_fuzz_off = 0;
    ngx_http_auth_oidc_fuzz_piece = trickle ? 1 + (data[1] & 0x3f) : 0;
    ngx_http_auth_oidc_fuzz_rnd = 0x9e3779b9 ^ data[1];
    ngx_http_auth_oidc_fuzz_error = data[0] & 8;
    ngx_http_auth_oidc_fuzz_waited = 0;
    ngx_http_auth_oidc_fuzz_ended = 0;
    ngx_http_auth_oidc_fuzz_closed = 0;
    ngx_http_auth_oidc_fuzz_chunked = 0;

    /* every call reads a byte, or waits once */
    for (calls = 0; !ctx->finished; calls++) {
        if (calls > 2 * size + 4) {
            __builtin_trap();
        }

        c->read->ready = 1;
        c->read->handler(c->read);

        if (!ctx->finished && !c->read->timer_set) {
            /* waiting for the peer without a timeout */
            __builtin_trap();
        }
    }

    if (ctx->in) {
        ASAN_UNPOISON_MEMORY_REGION(ctx->in->start,
                                    ctx->in->end - ctx->in->start);
    }

    /* the handler's event posted once, nothing else left behind */

    if (!ctx->done.posted
        || ngx_queue_next(&ngx_posted_events) != &ctx->done.queue
        || ngx_queue_last(&ngx_posted_events) != &ctx->done.queue
        || ngx_http_auth_oidc_fuzz_closed != 1
        || ctx->peer.connection != NULL
        || c->read->timer_set
        || c->write->timer_set
        || ngx_event_timer_rbtree.root != &ngx_http_auth_oidc_fuzz_sentinel)
    {
        __builtin_trap();
    }

    ngx_delete_posted_event(&ctx->done);

    if (ctx->pub.rc == NGX_OK) {
        ngx_http_auth_oidc_fuzz_expect(ctx, data + 2, size - 2);

    } else if (ctx->pub.rc != NGX_ERROR || ctx->pub.error.len == 0) {
        __builtin_trap();
    }

    *out = ctx;
}


/* The peer: the bytes in pieces, then a close or an error. */

static ssize_t
ngx_http_auth_oidc_fuzz_recv(ngx_connection_t *c, u_char *buf, size_t size)
{
    size_t                          n;
    ngx_buf_t                      *b;
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    ctx = c->data;
    b = ctx->in;

    /* into the client's buffer, after what it holds, never after the end */
    if (b == NULL
        || buf != b->last
        || size != (size_t) (b->end - b->last)
        || size == 0
        || b->pos < b->start
        || b->pos > b->last
        || ctx->finished
        || ngx_http_auth_oidc_fuzz_ended)
    {
        __builtin_trap();
    }

    if (ctx->body
        && (size_t) (ctx->body->last - ctx->body->pos) > ctx->req.max_size)
    {
        __builtin_trap();
    }

    n = ngx_http_auth_oidc_fuzz_size - ngx_http_auth_oidc_fuzz_off;

    if (ngx_http_auth_oidc_fuzz_piece) {
        ngx_http_auth_oidc_fuzz_rnd ^= ngx_http_auth_oidc_fuzz_rnd << 13;
        ngx_http_auth_oidc_fuzz_rnd ^= ngx_http_auth_oidc_fuzz_rnd >> 7;
        ngx_http_auth_oidc_fuzz_rnd ^= ngx_http_auth_oidc_fuzz_rnd << 17;
        ngx_http_auth_oidc_fuzz_rnd &= 0xffffffff;

        if (n && !ngx_http_auth_oidc_fuzz_waited
            && ngx_http_auth_oidc_fuzz_rnd % 8 == 0)
        {
            ngx_http_auth_oidc_fuzz_waited = 1;
            c->read->ready = 0;
            return NGX_AGAIN;
        }

        n = ngx_min(n, 1 + (ngx_http_auth_oidc_fuzz_rnd >> 3)
                           % ngx_http_auth_oidc_fuzz_piece);
    }

    ngx_http_auth_oidc_fuzz_waited = 0;

    if (n == 0) {
        ngx_http_auth_oidc_fuzz_ended = 1;
        c->read->ready = 0;

        if (ngx_http_auth_oidc_fuzz_error) {
            c->read->error = 1;
            return NGX_ERROR;
        }

        c->read->eof = 1;
        return 0;
    }

    n = ngx_min(n, size);

    ASAN_UNPOISON_MEMORY_REGION(buf, n);
    ngx_memcpy(buf, ngx_http_auth_oidc_fuzz_data + ngx_http_auth_oidc_fuzz_off,
               n);
    ASAN_POISON_MEMORY_REGION(buf + n, size - n);

    ngx_http_auth_oidc_fuzz_off += n;

    return n;
}


/* A success, against a plain reading of what the peer sent. */

static void
ngx_http_auth_oidc_fuzz_expect(ngx_http_auth_oidc_http_ctx_t *ctx,
    const u_char *data, size_t size)
{
    size_t         len;
    u_char        *out;
    ngx_str_t     *body;
    const u_char  *p, *last, *start;

    body = &ctx->pub.body;
    last = data + size;

    if (body->len > ctx->req.max_size
        || ctx->phase != ngx_http_auth_oidc_http_status_line)
    {
        __builtin_trap();
    }

    /* every LF ends a line: the header ends at the first empty one */

    start = NULL;

    for (p = data; p < last; p++) {
        if (*p != LF) {
            continue;
        }

        if (p + 1 < last && p[1] == LF) {
            start = p + 2;
            break;
        }

        if (p + 2 < last && p[1] == CR && p[2] == LF) {
            start = p + 3;
            break;
        }
    }

    if (start == NULL) {
        /* a success without the end of the header */
        __builtin_trap();
    }

    if (ngx_http_auth_oidc_fuzz_chunked) {
        if (ctx->content_length != -1) {
            /* both Content-Length and chunked */
            __builtin_trap();
        }

        out = malloc(ngx_max((size_t) (last - start), 1));
        if (out == NULL) {
            abort();
        }

        if (!ngx_http_auth_oidc_fuzz_dechunk(start, last, out, &len)
            || len != body->len
            || (len && ngx_memcmp(out, body->data, len) != 0))
        {
            __builtin_trap();
        }

        free(out);
        return;
    }

    if (ctx->content_length >= 0) {
        len = (size_t) ctx->content_length;

        if ((size_t) (last - start) < len) {
            /* a truncated body */
            __builtin_trap();
        }

    } else {
        len = last - start;

        if (ngx_http_auth_oidc_fuzz_error) {
            /* no close: the body may have been cut */
            __builtin_trap();
        }
    }

    if (body->len != len
        || (len && ngx_memcmp(body->data, start, len) != 0))
    {
        __builtin_trap();
    }
}


/*
 * Chunks: hex size, anything to the end of the line (extensions), the data,
 * an end of line; the last chunk's size is 0, and its trailers end at an
 * empty line. Returns 0 for a body without its last chunk.
 */

static ngx_uint_t
ngx_http_auth_oidc_fuzz_dechunk(const u_char *p, const u_char *last,
    u_char *out, size_t *len)
{
    u_char      c;
    uint64_t    size;
    ngx_uint_t  digits, empty;

    *len = 0;

    for ( ;; ) {
        size = 0;

        for (digits = 0; p < last; p++, digits++) {
            c = (u_char) (*p | 0x20);

            if (*p >= '0' && *p <= '9') {
                size = size * 16 + (*p - '0');

            } else if (c >= 'a' && c <= 'f') {
                size = size * 16 + (c - 'a' + 10);

            } else {
                break;
            }

            if (size > (uint64_t) 1 << 48) {
                return 0;
            }
        }

        if (digits == 0) {
            return 0;
        }

        while (p < last && *p != LF) {
            p++;
        }

        if (p++ == last) {
            return 0;
        }

        if (size == 0) {
            break;
        }

        if ((uint64_t) (last - p) < size) {
            return 0;
        }

        ngx_memcpy(out + *len, p, size);
        *len += size;
        p += size;

        if (p < last && *p == CR) {
            p++;
        }

        if (p == last || *p++ != LF) {
            return 0;
        }
    }

    /* trailers, to an empty line */

    for (empty = 1; p < last; p++) {
        if (*p == LF) {
            if (empty) {
                return 1;
            }

            empty = 1;

        } else if (*p != CR) {
            empty = 0;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_auth_oidc_fuzz_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


/*
 * nginx's event code: the connection of a run closes, once; how the body
 * was framed is noted before ngx_http_auth_oidc_http_close() forgets it.
 */

void
ngx_close_connection(ngx_connection_t *c)
{
    ngx_http_auth_oidc_http_ctx_t  *ctx;

    if (c != &ngx_http_auth_oidc_fuzz_conn || ngx_http_auth_oidc_fuzz_closed)
    {
        __builtin_trap();
    }

    ctx = c->data;

    ngx_http_auth_oidc_fuzz_closed = 1;
    ngx_http_auth_oidc_fuzz_chunked = ctx->chunked_body;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }
}


ngx_int_t
ngx_handle_read_event(ngx_event_t *rev, ngx_uint_t flags)
{
    return NGX_OK;
}


void *
ngx_alloc(size_t size, ngx_log_t *log)
{
    return malloc(size);
}


/* Never called: what resolving, connecting and TLS refer to. */

ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    abort();
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    abort();
}


ngx_resolver_ctx_t *
ngx_resolve_start(ngx_resolver_t *r, ngx_resolver_ctx_t *temp)
{
    abort();
}


ngx_int_t
ngx_resolve_name(ngx_resolver_ctx_t *ctx)
{
    abort();
}


void
ngx_resolve_name_done(ngx_resolver_ctx_t *ctx)
{
    abort();
}


char *
ngx_resolver_strerror(ngx_int_t err)
{
    abort();
}


void
ngx_inet_set_port(struct sockaddr *sa, in_port_t port)
{
    abort();
}


ngx_int_t
ngx_event_get_peer(ngx_peer_connection_t *pc, void *data)
{
    abort();
}


ngx_int_t
ngx_event_connect_peer(ngx_peer_connection_t *pc)
{
    abort();
}


ngx_int_t
ngx_handle_write_event(ngx_event_t *wev, size_t lowat)
{
    abort();
}


ngx_int_t
ngx_ssl_create_connection(ngx_ssl_t *ssl, ngx_connection_t *c,
    ngx_uint_t flags)
{
    abort();
}


ngx_int_t
ngx_ssl_handshake(ngx_connection_t *c)
{
    abort();
}


ngx_int_t
ngx_ssl_check_host(ngx_connection_t *c, ngx_str_t *name)
{
    abort();
}


ngx_int_t
ngx_ssl_shutdown(ngx_connection_t *c)
{
    abort();
}
