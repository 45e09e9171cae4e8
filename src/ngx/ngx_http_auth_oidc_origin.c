
/*
 * This site's origin, as a browser names it, and whether a request was
 * made by one of its pages: what a logout's POST and a form kept over a
 * login must show before they are acted upon; and a browser's CORS
 * preflight, which carries no credentials.
 */


#include "ngx_http_auth_oidc_module.h"


/*
 * A CORS preflight (Fetch, "CORS-preflight request"): OPTIONS with Origin
 * and Access-Control-Request-Method. A browser sends it without cookies or
 * Authorization, so it can never be authenticated; a protected location
 * that refused it would make the browser refuse the real request too.
 */

ngx_uint_t
ngx_http_auth_oidc_is_preflight(ngx_http_request_t *r)
{
    return r->method == NGX_HTTP_OPTIONS
           && ngx_http_auth_oidc_header_in(r, "Origin",
                                           sizeof("Origin") - 1)
           && ngx_http_auth_oidc_header_in(r,
                                  "Access-Control-Request-Method",
                                  sizeof("Access-Control-Request-Method") - 1);
}


/*
 * A request made by a page of our own origin (a logout's POST, a form
 * kept over a login): its Origin says so, or without
 * one its Sec-Fetch-Site, or without both its Referer. "null" (an opaque
 * origin), "same-site" (a sibling subdomain) and no header at all are not.
 */

ngx_uint_t
ngx_http_auth_oidc_same_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t         rc;
    ngx_str_t         own;
    ngx_table_elt_t  *h;

    h = ngx_http_auth_oidc_header_in(r, "Origin", sizeof("Origin") - 1);

    if (h) {
        return ngx_http_auth_oidc_own_origin(r, prov, &own) == NGX_OK
               && h->value.len == own.len
               && ngx_strncasecmp(h->value.data, own.data, own.len) == 0;
    }

    rc = ngx_http_auth_oidc_header_is(r, "Sec-Fetch-Site", "same-origin");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    h = r->headers_in.referer;

    if (h == NULL || ngx_http_auth_oidc_own_origin(r, prov, &own) != NGX_OK) {
        return 0;
    }

    /* the origin, then the end of the URL or its path */
    return h->value.len >= own.len
           && ngx_strncasecmp(h->value.data, own.data, own.len) == 0
           && (h->value.len == own.len || h->value.data[own.len] == '/');
}


/*
 * Our origin as a browser names it: from an absolute redirect_uri when
 * there is one (a TLS terminator in front changes the scheme), else from
 * the request.
 */

ngx_int_t
ngx_http_auth_oidc_own_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *origin)
{
    u_char     *p, *last;
    ngx_str_t   uri;

    static ngx_str_t  slash = ngx_string("/");

    uri = (prov->redirect_uri.len && prov->redirect_uri.data[0] != '/')
          ? prov->redirect_uri : slash;

    if (ngx_http_auth_oidc_absolute_uri(r, &uri, origin) != NGX_OK) {
        return NGX_ERROR;
    }

    /* scheme "://" host [":" port], without the path */
    last = origin->data + origin->len;
    p = ngx_strlchr(origin->data, last, ':');

    if (p == NULL || last - p < 3) {
        return NGX_ERROR;
    }

    p = ngx_strlchr(p + 3, last, '/');
    origin->len = (p ? p : last) - origin->data;

    return NGX_OK;
}
