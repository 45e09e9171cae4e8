
/*
 * Request headers of a name, in any case: the first one, or each in turn.
 * A file of its own so that the Cookie header fuzzer
 * (src/ngx/fuzz/fuzz_cookie_header.c) runs the very walk the module runs.
 */


#include "ngx_http_auth_oidc_module.h"


/* The first request header called name (any case). */

ngx_table_elt_t *
ngx_http_auth_oidc_header_in(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_http_auth_oidc_header_iter_t  it;

    ngx_memzero(&it, sizeof(ngx_http_auth_oidc_header_iter_t));

    return ngx_http_auth_oidc_header_next(r, &it, name, len);
}


/*
 * Whether the first request header called name is value (any case, a
 * Sec-Fetch-* token): 1 or 0; NGX_DECLINED when there is none.
 */

ngx_int_t
ngx_http_auth_oidc_header_is(ngx_http_request_t *r, const char *name,
    const char *value)
{
    size_t            len;
    ngx_table_elt_t  *h;

    h = ngx_http_auth_oidc_header_in(r, name, ngx_strlen(name));
    if (h == NULL) {
        return NGX_DECLINED;
    }

    len = ngx_strlen(value);

    return h->value.len == len
           && ngx_strncasecmp(h->value.data, (u_char *) value, len) == 0;
}


/* The next request header called name (any case); it starts zeroed. */

ngx_table_elt_t *
ngx_http_auth_oidc_header_next(ngx_http_request_t *r,
    ngx_http_auth_oidc_header_iter_t *it, const char *name, size_t len)
{
    ngx_table_elt_t  *h;

    if (it->part == NULL) {
        it->part = &r->headers_in.headers.part;
        it->i = 0;
    }

    for ( ;; ) {

        if (it->i >= it->part->nelts) {
            if (it->part->next == NULL) {
                return NULL;
            }

            it->part = it->part->next;
            it->i = 0;
            continue;
        }

        h = (ngx_table_elt_t *) it->part->elts + it->i++;

        if (h->key.len == len
            && ngx_strncasecmp(h->key.data, (u_char *) name, len) == 0)
        {
            return h;
        }
    }
}
