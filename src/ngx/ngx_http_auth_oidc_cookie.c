
/*
 * The session cookie: read from the request, removed from what goes
 * upstream, and set (or cleared) in the answer.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_uint_t ngx_http_auth_oidc_cookie_is(ngx_str_t *header_key);
static u_char *ngx_http_auth_oidc_cookie_next(u_char *p, u_char *last,
    ngx_str_t *name, ngx_str_t *value);


/* The value of the first cookie called name, in any Cookie header. */

ngx_int_t
ngx_http_auth_oidc_cookie_get(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char           *p, *last;
    ngx_str_t         n, v;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_DECLINED;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (!ngx_http_auth_oidc_cookie_is(&h[i].key)) {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;

        while (p < last) {
            p = ngx_http_auth_oidc_cookie_next(p, last, &n, &v);

            if (n.len == name->len
                && ngx_strncmp(n.data, name->data, n.len) == 0
                && v.len)
            {
                *value = v;
                return NGX_OK;
            }
        }
    }
}


/*
 * Rewrites every Cookie header without our cookie, so that the session id
 * never reaches the app (which could replay it). A header left empty stays
 * as an empty value: nginx's header lists cannot drop an element.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_strip(ngx_http_request_t *r, ngx_str_t *name)
{
    u_char           *p, *last, *d, *out;
    ngx_str_t         n, v;
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_OK;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (!ngx_http_auth_oidc_cookie_is(&h[i].key)) {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;
        found = 0;

        while (p < last) {
            p = ngx_http_auth_oidc_cookie_next(p, last, &n, &v);

            if (n.len == name->len
                && ngx_strncmp(n.data, name->data, n.len) == 0)
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            continue;
        }

        out = ngx_pnalloc(r->pool, h[i].value.len);
        if (out == NULL) {
            return NGX_ERROR;
        }

        d = out;
        p = h[i].value.data;

        while (p < last) {
            p = ngx_http_auth_oidc_cookie_next(p, last, &n, &v);

            if (n.len == name->len
                && ngx_strncmp(n.data, name->data, n.len) == 0)
            {
                continue;
            }

            if (n.len == 0) {
                continue;
            }

            if (d != out) {
                *d++ = ';';
                *d++ = ' ';
            }

            /* the pair as it was: name, "=", value */
            d = ngx_cpymem(d, n.data,
                           (v.data ? v.data + v.len : n.data + n.len)
                           - n.data);
        }

        h[i].value.data = out;
        h[i].value.len = d - out;
    }
}


ngx_int_t
ngx_http_auth_oidc_cookie_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *value,
    ngx_uint_t clear)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        secure;
    ngx_table_elt_t  *h;

    secure = (prov->cookie_secure == 1);

#if (NGX_HTTP_SSL)
    if (prov->cookie_secure == NGX_CONF_UNSET && r->connection->ssl) {
        secure = 1;
    }
#endif

    /* an absolute https redirect_uri: a TLS terminator is in front */
    if (prov->cookie_secure == NGX_CONF_UNSET
        && prov->redirect_uri.len > 8
        && ngx_strncasecmp(prov->redirect_uri.data, (u_char *) "https://", 8)
           == 0)
    {
        secure = 1;
    }

    len = prov->cookie_name.len + 1 + (clear ? 0 : value->len)
          + sizeof("; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0")
          - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    /* a session cookie: the session's own lifetime is kept server-side */
    if (clear) {
        p = ngx_sprintf(p, "%V=; Path=/; HttpOnly; SameSite=Lax",
                        &prov->cookie_name);

    } else {
        p = ngx_sprintf(p, "%V=%V; Path=/; HttpOnly; SameSite=Lax",
                        &prov->cookie_name, value);
    }

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (clear) {
        p = ngx_cpymem(p, "; Max-Age=0", sizeof("; Max-Age=0") - 1);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_auth_oidc_cookie_is(ngx_str_t *key)
{
    return key->len == sizeof("Cookie") - 1
           && ngx_strncasecmp(key->data, (u_char *) "Cookie", key->len) == 0;
}


/*
 * Parses one "name=value" pair of a Cookie header (RFC 6265, 5.4) starting
 * at p, trimming spaces; returns where the next pair starts.
 */

static u_char *
ngx_http_auth_oidc_cookie_next(u_char *p, u_char *last, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char  *end, *eq;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    end = ngx_strlchr(p, last, ';');
    if (end == NULL) {
        end = last;
    }

    eq = ngx_strlchr(p, end, '=');

    name->data = p;
    name->len = (eq ? eq : end) - p;

    while (name->len && (name->data[name->len - 1] == ' '
                         || name->data[name->len - 1] == '\t'))
    {
        name->len--;
    }

    if (eq) {
        value->data = eq + 1;
        value->len = end - value->data;

        while (value->len && (*value->data == ' ' || *value->data == '\t')) {
            value->data++;
            value->len--;
        }

        while (value->len && (value->data[value->len - 1] == ' '
                              || value->data[value->len - 1] == '\t'))
        {
            value->len--;
        }

    } else {
        ngx_str_null(value);
    }

    return end < last ? end + 1 : last;
}
