
/*
 * application/x-www-form-urlencoded values: the query of a callback or a
 * front-channel logout, the body of a back-channel logout.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_int_t ngx_http_auth_oidc_form_unescape(ngx_pool_t *pool,
    ngx_str_t *raw, ngx_str_t *value);


/* A decoded query argument; NGX_DECLINED when absent or empty. */

ngx_int_t
ngx_http_auth_oidc_arg(ngx_http_request_t *r, const char *name, size_t len,
    ngx_str_t *value)
{
    ngx_str_t  raw;

    if (ngx_http_arg(r, (u_char *) name, len, &raw) != NGX_OK
        || raw.len == 0)
    {
        return NGX_DECLINED;
    }

    return ngx_http_auth_oidc_form_unescape(r->pool, &raw, value);
}


/*
 * A decoded parameter of a form body (name=value pairs joined by "&");
 * NGX_DECLINED when absent or empty.
 */

ngx_int_t
ngx_http_auth_oidc_form_value(ngx_pool_t *pool, ngx_str_t *form,
    const char *name, size_t len, ngx_str_t *value)
{
    u_char     *p, *end, *amp;
    ngx_str_t   raw;

    p = form->data;
    end = form->data + form->len;

    while (p < end) {
        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        if ((size_t) (amp - p) > len && p[len] == '='
            && ngx_strncmp(p, name, len) == 0)
        {
            raw.data = p + len + 1;
            raw.len = amp - raw.data;

            return ngx_http_auth_oidc_form_unescape(pool, &raw, value);
        }

        p = amp + 1;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_auth_oidc_form_unescape(ngx_pool_t *pool, ngx_str_t *raw,
    ngx_str_t *value)
{
    u_char      *dst, *src, *plus;
    ngx_uint_t   i;

    if (raw->len == 0) {
        return NGX_DECLINED;
    }

    /* '+' is a space in application/x-www-form-urlencoded */
    plus = ngx_pnalloc(pool, raw->len);
    dst = ngx_pnalloc(pool, raw->len);
    if (plus == NULL || dst == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < raw->len; i++) {
        plus[i] = (raw->data[i] == '+') ? ' ' : raw->data[i];
    }

    value->data = dst;
    src = plus;

    ngx_unescape_uri(&dst, &src, raw->len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}
