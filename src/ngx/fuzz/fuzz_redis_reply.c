
/*
 * libFuzzer entry point: what a Redis server answers the session store.
 *
 * The input is the bytes the connection receives. They go to hiredis's
 * reader with the settings of the module's connection (hiredis's defaults,
 * redisReaderCreate() as redisAsyncConnect() has it), once whole and once
 * in small pieces as the network may cut them: both must give the same
 * replies, and the same error. Every reply goes through the store's reading
 * of a GET (ngx_http_auth_oidc_store_redis_open(), compiled as it is): nil
 * is no record, a string a sealed record (which arbitrary bytes never
 * are), anything else an outage; array elements go through it too. Then
 * each string is sealed as the store seals, and must open to its bytes,
 * which the module's callers decode as a session or a pending login.
 */


#include <stdlib.h>

#include "ngx_http_auth_oidc_fuzz.h"
#include "ngx_http_auth_oidc_store.h"


#define NGX_HTTP_AUTH_OIDC_FUZZ_REPLIES  64


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

static ngx_uint_t ngx_http_auth_oidc_fuzz_read(const uint8_t *data,
    size_t size, size_t piece, redisReply **replies, ngx_uint_t *n);
static ngx_uint_t ngx_http_auth_oidc_fuzz_same(redisReply *a, redisReply *b);
static void ngx_http_auth_oidc_fuzz_reply(redisReply *reply,
    ngx_uint_t depth);
static void ngx_http_auth_oidc_fuzz_sealed(redisReply *reply);


static auth_oidc_keyring_t  *ngx_http_auth_oidc_fuzz_keyring;
static ngx_str_t             ngx_http_auth_oidc_fuzz_rkey;
static ngx_pool_t            ngx_http_auth_oidc_fuzz_pool;


/*
 * An array header may announce 2^31 elements, and hiredis 0.14 calloc()s
 * them at once: 16 GiB. Such a calloc() returns NULL here (hiredis then
 * reports "Out of memory", and the module drops the connection) rather
 * than stop the fuzzer on libFuzzer's memory limit.
 */

const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=256";
}


/* The store's keyring, and a session's key name as the store makes it. */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t           len;
    u_char          *p;
    auth_oidc_str_t  cur, prev, kind, id;

    static const char  current[] =
        "fuzzing secret, current, 32 bytes or more";
    static const char  previous[] =
        "fuzzing secret, previous, 32 bytes or more";

    cur.data = (u_char *) current;
    cur.len = sizeof(current) - 1;
    prev.data = (u_char *) previous;
    prev.len = sizeof(previous) - 1;

    if (auth_oidc_keyring_new(cur, prev, &ngx_http_auth_oidc_fuzz_keyring,
                              NULL)
        != AUTH_OIDC_OK)
    {
        abort();
    }

    /* "oidc:s:<HMAC of the id>" */
    kind.data = (u_char *) "s";
    kind.len = 1;
    id.data = (u_char *) "fuzzing session id";
    id.len = sizeof("fuzzing session id") - 1;

    len = auth_oidc_keyring_lookup_key(ngx_http_auth_oidc_fuzz_keyring, kind,
                                       id, 0, NULL, 0);
    p = malloc(sizeof("oidc:s:") - 1 + len);
    if (len == 0 || p == NULL) {
        abort();
    }

    ngx_http_auth_oidc_fuzz_rkey.data = p;
    p = ngx_cpymem(p, "oidc:s:", sizeof("oidc:s:") - 1);

    if (auth_oidc_keyring_lookup_key(ngx_http_auth_oidc_fuzz_keyring, kind,
                                     id, 0, p, len)
        != len)
    {
        abort();
    }

    ngx_http_auth_oidc_fuzz_rkey.len = sizeof("oidc:s:") - 1 + len;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_uint_t   i, n, m, err, err2;
    redisReply  *replies[NGX_HTTP_AUTH_OIDC_FUZZ_REPLIES];
    redisReply  *again[NGX_HTTP_AUTH_OIDC_FUZZ_REPLIES];

    err = ngx_http_auth_oidc_fuzz_read(data, size, size ? size : 1,
                                       replies, &n);
    err2 = ngx_http_auth_oidc_fuzz_read(data, size,
                                        1 + (size ? data[0] % 7 : 0),
                                        again, &m);

    if (err != err2 || n != m) {
        __builtin_trap();
    }

    for (i = 0; i < n; i++) {
        if (!ngx_http_auth_oidc_fuzz_same(replies[i], again[i])) {
            __builtin_trap();
        }

        ngx_http_auth_oidc_fuzz_reply(replies[i], 0);
        ngx_http_auth_oidc_fuzz_pool_free();

        freeReplyObject(again[i]);
        freeReplyObject(replies[i]);
    }

    return 0;
}


/*
 * The replies of the input fed in pieces of piece bytes, each piece read
 * out as the async context does after a read(); returns whether the reader
 * failed (a protocol error: the module then drops the connection).
 */

static ngx_uint_t
ngx_http_auth_oidc_fuzz_read(const uint8_t *data, size_t size, size_t piece,
    redisReply **replies, ngx_uint_t *n)
{
    void         *reply;
    size_t        off, len;
    ngx_uint_t    failed;
    redisReader  *reader;

    reader = redisReaderCreate();
    if (reader == NULL) {
        abort();
    }

    *n = 0;
    failed = 0;

    for (off = 0; off < size && !failed; off += len) {
        len = ngx_min(piece, size - off);

        if (redisReaderFeed(reader, (const char *) data + off, len)
            != REDIS_OK)
        {
            abort();
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
                failed = 1;
                break;
            }

            if (reply == NULL) {
                break;
            }

            if (*n == NGX_HTTP_AUTH_OIDC_FUZZ_REPLIES) {
                freeReplyObject(reply);
                continue;
            }

            replies[(*n)++] = reply;
        }
    }

    redisReaderFree(reader);

    return failed;
}


static ngx_uint_t
ngx_http_auth_oidc_fuzz_same(redisReply *a, redisReply *b)
{
    size_t  i;

    if (a->type != b->type) {
        return 0;
    }

    switch (a->type) {

    case REDIS_REPLY_INTEGER:
        return a->integer == b->integer;

    case REDIS_REPLY_ARRAY:
        if (a->elements != b->elements) {
            return 0;
        }

        for (i = 0; i < a->elements; i++) {
            if (!ngx_http_auth_oidc_fuzz_same(a->element[i], b->element[i])) {
                return 0;
            }
        }

        return 1;

    case REDIS_REPLY_NIL:
        return 1;

    default:
        return a->len == b->len
               && ngx_memcmp(a->str, b->str, a->len + 1) == 0;
    }
}


static void
ngx_http_auth_oidc_fuzz_reply(redisReply *reply, ngx_uint_t depth)
{
    size_t             i;
    ngx_int_t          rc;
    ngx_str_t          value;
    auth_oidc_error_t  err;

    if (depth > 8) {
        __builtin_trap();
    }

    /*
     * the store logs an error reply's text, len bytes: they are there, and
     * a NUL after them (AddressSanitizer knows hiredis's blocks)
     */
    if ((reply->type == REDIS_REPLY_ERROR
         || reply->type == REDIS_REPLY_STATUS
         || reply->type == REDIS_REPLY_STRING)
        && (reply->str == NULL || reply->str[reply->len] != '\0'))
    {
        __builtin_trap();
    }

    err.msg[0] = '\0';

    rc = ngx_http_auth_oidc_store_redis_open(ngx_http_auth_oidc_fuzz_keyring,
                                             &ngx_http_auth_oidc_fuzz_rkey,
                                             reply,
                                             &ngx_http_auth_oidc_fuzz_pool,
                                             &value, &err);

    switch (reply->type) {

    case REDIS_REPLY_NIL:
        if (rc != NGX_DECLINED) {
            __builtin_trap();
        }

        break;

    case REDIS_REPLY_STRING:
        /* opening arbitrary bytes would mean forging the tag */
        if (rc != NGX_ABORT || err.msg[0] == '\0') {
            __builtin_trap();
        }

        ngx_http_auth_oidc_fuzz_sealed(reply);
        break;

    default:
        if (rc != NGX_BUSY) {
            __builtin_trap();
        }
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            ngx_http_auth_oidc_fuzz_reply(reply->element[i], depth + 1);
        }
    }
}


/* The string as a record the store wrote, read back as the store reads. */

static void
ngx_http_auth_oidc_fuzz_sealed(redisReply *reply)
{
    size_t                 needed;
    ngx_int_t              rc;
    ngx_str_t              value;
    redisReply             sealed;
    auth_oidc_str_t        aad, plain;
    auth_oidc_error_t      err;
    auth_oidc_pending_t   *pending;
    auth_oidc_session_t   *session;

    static const u_char  nonce[AUTH_OIDC_SEAL_NONCE_LEN] = { 1, 2, 3 };

    aad.data = ngx_http_auth_oidc_fuzz_rkey.data;
    aad.len = ngx_http_auth_oidc_fuzz_rkey.len;
    plain.data = (u_char *) reply->str;
    plain.len = reply->len;

    ngx_memzero(&sealed, sizeof(redisReply));
    sealed.type = REDIS_REPLY_STRING;
    sealed.len = plain.len + AUTH_OIDC_SEAL_OVERHEAD;
    sealed.str = malloc(sealed.len);

    if (sealed.str == NULL
        || auth_oidc_seal(ngx_http_auth_oidc_fuzz_keyring, aad, plain, nonce,
                          (u_char *) sealed.str, sealed.len, &needed, NULL)
           != AUTH_OIDC_OK
        || needed != sealed.len)
    {
        abort();
    }

    rc = ngx_http_auth_oidc_store_redis_open(ngx_http_auth_oidc_fuzz_keyring,
                                             &ngx_http_auth_oidc_fuzz_rkey,
                                             &sealed,
                                             &ngx_http_auth_oidc_fuzz_pool,
                                             &value, &err);

    if (rc != NGX_OK
        || value.len != plain.len
        || (plain.len && ngx_memcmp(value.data, plain.data, plain.len) != 0))
    {
        __builtin_trap();
    }

    /* as the handler, the logout and the callback do with it */
    session = NULL;

    if (auth_oidc_session_decode(value.data, value.len, &session, &err)
        == AUTH_OIDC_OK)
    {
        (void) auth_oidc_session_fields(session);
    }

    auth_oidc_session_free(session);

    pending = NULL;

    if (auth_oidc_pending_decode(value.data, value.len, &pending, &err)
        == AUTH_OIDC_OK)
    {
        (void) auth_oidc_pending_fields(pending);
    }

    auth_oidc_pending_free(pending);

    /* under another key name (the aad): refused */
    ngx_http_auth_oidc_fuzz_rkey.len--;

    rc = ngx_http_auth_oidc_store_redis_open(ngx_http_auth_oidc_fuzz_keyring,
                                             &ngx_http_auth_oidc_fuzz_rkey,
                                             &sealed,
                                             &ngx_http_auth_oidc_fuzz_pool,
                                             &value, &err);

    ngx_http_auth_oidc_fuzz_rkey.len++;

    if (rc != NGX_ABORT) {
        __builtin_trap();
    }

    free(sealed.str);
}
