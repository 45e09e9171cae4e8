
/*
 * The nginx side of the fuzz targets in src/ngx/fuzz. nginx's .c files are
 * not at hand (Debian's nginx-dev has the headers only), so the functions
 * that the fuzzed code calls are supplied here:
 *
 * - ngx_pnalloc(), ngx_palloc(), ngx_pcalloc(): one malloc() block per
 *   allocation, of the exact size asked, so that AddressSanitizer reports
 *   the first byte past it; ngx_pfree() frees its block at once, as nginx
 *   frees a large allocation; all are freed after each input;
 * - ngx_log_error_core(): nothing is logged;
 * - ngx_strncasecmp(): as ngx_string.c has it (the Cookie target also
 *   compiles ngx_http_auth_oidc_headers.c, the module's own header walk).
 *
 * The other functions of the fuzzed files refer to more of nginx and of the
 * module; they are never called, and their symbols are resolved by stubs
 * that abort().
 *
 * A target built with a full nginx source tree links nginx's own
 * ngx_string.c (NGX_HTTP_AUTH_OIDC_FUZZ_FULL_SRC): the functions of it
 * here are then left out.
 */


#include <stdlib.h>

#include "ngx_http_auth_oidc_fuzz.h"
#include "ngx_http_auth_oidc_store.h"


static void       **ngx_http_auth_oidc_fuzz_blocks;
static ngx_uint_t   ngx_http_auth_oidc_fuzz_nblocks;
static ngx_uint_t   ngx_http_auth_oidc_fuzz_nalloc;


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    void        *p, **blocks;
    ngx_uint_t   n;

    if (pool == NULL) {
        abort();
    }

    if (ngx_http_auth_oidc_fuzz_nblocks == ngx_http_auth_oidc_fuzz_nalloc) {
        n = ngx_http_auth_oidc_fuzz_nalloc ? 2 * ngx_http_auth_oidc_fuzz_nalloc
                                           : 64;

        blocks = realloc(ngx_http_auth_oidc_fuzz_blocks, n * sizeof(void *));
        if (blocks == NULL) {
            return NULL;
        }

        ngx_http_auth_oidc_fuzz_blocks = blocks;
        ngx_http_auth_oidc_fuzz_nalloc = n;
    }

    p = malloc(size);
    if (p == NULL) {
        return NULL;
    }

    ngx_http_auth_oidc_fuzz_blocks[ngx_http_auth_oidc_fuzz_nblocks++] = p;

    return p;
}


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    return ngx_pnalloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_pnalloc(pool, size);
    if (p) {
        ngx_memzero(p, size);
    }

    return p;
}


ngx_int_t
ngx_pfree(ngx_pool_t *pool, void *p)
{
    void        **blocks;
    ngx_uint_t    i, n;

    blocks = ngx_http_auth_oidc_fuzz_blocks;
    n = ngx_http_auth_oidc_fuzz_nblocks;

    for (i = 0; i < n; i++) {
        if (blocks[i] == p) {
            free(p);
            blocks[i] = blocks[n - 1];
            ngx_http_auth_oidc_fuzz_nblocks--;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


void
ngx_http_auth_oidc_fuzz_pool_free(void)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_http_auth_oidc_fuzz_nblocks; i++) {
        free(ngx_http_auth_oidc_fuzz_blocks[i]);
    }

    ngx_http_auth_oidc_fuzz_nblocks = 0;
}


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}


#if !(NGX_HTTP_AUTH_OIDC_FUZZ_FULL_SRC)

ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    while (n) {
        c1 = (ngx_uint_t) *s1++;
        c2 = (ngx_uint_t) *s2++;

        c1 = (c1 >= 'A' && c1 <= 'Z') ? (c1 | 0x20) : c1;
        c2 = (c2 >= 'A' && c2 <= 'Z') ? (c2 | 0x20) : c2;

        if (c1 == c2) {

            if (c1) {
                n--;
                continue;
            }

            return 0;
        }

        return c1 - c2;
    }

    return 0;
}

#endif


/* Never called: what the unfuzzed functions of the fuzzed files refer to. */

volatile ngx_time_t  *ngx_cached_time;
volatile ngx_msec_t   ngx_current_msec;


void *
ngx_list_push(ngx_list_t *l)
{
    abort();
}


/* nginx's array over the harness's pool (nginx-dev ships no ngx_array.c) */

ngx_array_t *
ngx_array_create(ngx_pool_t *p, ngx_uint_t n, size_t size)
{
    ngx_array_t  *a;

    a = ngx_palloc(p, sizeof(ngx_array_t));
    if (a == NULL || ngx_array_init(a, p, n, size) != NGX_OK) {
        return NULL;
    }

    return a;
}


void *
ngx_array_push(ngx_array_t *a)
{
    void  *elts;

    if (a->nelts == a->nalloc) {
        elts = ngx_palloc(a->pool, 2 * a->nalloc * a->size);
        if (elts == NULL) {
            return NULL;
        }

        ngx_memcpy(elts, a->elts, a->nelts * a->size);
        a->elts = elts;
        a->nalloc *= 2;
    }

    return (u_char *) a->elts + a->size * a->nelts++;
}


#if !(NGX_HTTP_AUTH_OIDC_FUZZ_FULL_SRC)

u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    abort();
}


u_char *
ngx_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    abort();
}


void *
ngx_calloc(size_t size, ngx_log_t *log)
{
    abort();
}


u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    abort();
}


u_char *
ngx_pstrdup(ngx_pool_t *pool, ngx_str_t *src)
{
    abort();
}


void
ngx_explicit_memzero(void *buf, size_t n)
{
    abort();
}

#endif


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    abort();
}


size_t
ngx_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, ngx_uint_t port)
{
    abort();
}


ssize_t
ngx_read_file(ngx_file_t *file, u_char *buf, size_t size, off_t offset)
{
    abort();
}


ngx_int_t
ngx_conf_full_name(ngx_cycle_t *cycle, ngx_str_t *name, ngx_uint_t conf_prefix)
{
    abort();
}


ngx_http_auth_oidc_redis_cmd_t *
ngx_http_auth_oidc_redis_command(ngx_http_auth_oidc_redis_t *redis,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    abort();
}


void
ngx_http_auth_oidc_redis_cancel(ngx_http_auth_oidc_redis_cmd_t *cmd)
{
    abort();
}


void
ngx_http_auth_oidc_redis_incident(ngx_http_auth_oidc_redis_t *redis,
    const char *fmt, ...)
{
    abort();
}


ngx_int_t
ngx_http_auth_oidc_forwarded(ngx_http_request_t *r,
    ngx_http_auth_oidc_forwarded_t *fwd)
{
    /* no proxy is trusted here */
    return NGX_DECLINED;
}


ngx_http_auth_oidc_redis_cluster_cmd_t *
ngx_http_auth_oidc_redis_cluster_command(
    ngx_http_auth_oidc_redis_cluster_t *cluster, ngx_str_t *key,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    abort();
}


void
ngx_http_auth_oidc_redis_cluster_cancel(
    ngx_http_auth_oidc_redis_cluster_cmd_t *cmd)
{
    abort();
}


void
ngx_http_auth_oidc_redis_cluster_incident(
    ngx_http_auth_oidc_redis_cluster_t *cluster, const char *fmt, ...)
{
    abort();
}


ngx_int_t
ngx_http_auth_oidc_redis_cache_get(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_str_t *key, ngx_str_t *value, uint64_t *version,
    ngx_msec_t **touched)
{
    abort();
}


uint64_t
ngx_http_auth_oidc_redis_cache_ticket(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_http_auth_oidc_redis_cache_link_t *link)
{
    abort();
}


ngx_http_auth_oidc_redis_cache_link_t *
ngx_http_auth_oidc_redis_cluster_link(ngx_http_auth_oidc_redis_cluster_t *cluster,
    ngx_str_t *key)
{
    abort();
}


uint64_t
ngx_http_auth_oidc_redis_cache_fill(ngx_http_auth_oidc_redis_cache_t *cache,
    uint64_t ticket, ngx_str_t *key, ngx_str_t *rkey, ngx_str_t *value)
{
    abort();
}


void
ngx_http_auth_oidc_redis_cache_forget(ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_str_t *rkey)
{
    abort();
}
