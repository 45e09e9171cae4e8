
/*
 * What the browser sees when the module answers by itself: redirects and
 * small HTML pages. Every text placed in a page is HTML-escaped.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_int_t ngx_http_auth_oidc_page_header(ngx_http_request_t *r,
    const char *name, const char *value);


static u_char  ngx_http_auth_oidc_page_head[] =
"<!DOCTYPE html>" CRLF
"<html><head><meta charset=\"utf-8\">"
"<meta name=\"viewport\" content=\"width=device-width\"><title>";

static u_char  ngx_http_auth_oidc_page_body[] =
"</title></head>" CRLF
"<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
CRLF "<h1>";

static u_char  ngx_http_auth_oidc_page_tail[] =
"</body></html>" CRLF;


/*
 * A page with a title, an escaped detail line and optional raw HTML (built
 * by the caller from escaped parts). Never cached: it tells of one login.
 */

ngx_int_t
ngx_http_auth_oidc_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *html)
{
    size_t            len, tlen, dlen;
    u_char           *p;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;

    tlen = ngx_strlen(title);
    dlen = detail ? detail->len + ngx_escape_html(NULL, detail->data,
                                                  detail->len)
                  : 0;

    len = sizeof(ngx_http_auth_oidc_page_head) - 1 + 2 * tlen
          + sizeof(ngx_http_auth_oidc_page_body) - 1
          + sizeof("</h1>" CRLF "<p></p>" CRLF) - 1 + dlen
          + (html ? html->len : 0)
          + sizeof(ngx_http_auth_oidc_page_tail) - 1;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    p = ngx_cpymem(p, ngx_http_auth_oidc_page_head,
                   sizeof(ngx_http_auth_oidc_page_head) - 1);
    p = ngx_cpymem(p, title, tlen);
    p = ngx_cpymem(p, ngx_http_auth_oidc_page_body,
                   sizeof(ngx_http_auth_oidc_page_body) - 1);
    p = ngx_cpymem(p, title, tlen);
    p = ngx_cpymem(p, "</h1>" CRLF, sizeof("</h1>" CRLF) - 1);

    if (detail) {
        p = ngx_cpymem(p, "<p>", 3);
        p = (u_char *) ngx_escape_html(p, detail->data, detail->len);
        p = ngx_cpymem(p, "</p>" CRLF, sizeof("</p>" CRLF) - 1);
    }

    if (html) {
        p = ngx_cpymem(p, html->data, html->len);
    }

    p = ngx_cpymem(p, ngx_http_auth_oidc_page_tail,
                   sizeof(ngx_http_auth_oidc_page_tail) - 1);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/html") - 1;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK
        || ngx_http_auth_oidc_page_header(r, "Content-Security-Policy",
                                          "frame-ancestors 'none'")
           != NGX_OK
        || ngx_http_auth_oidc_page_header(r, "X-Frame-Options", "DENY")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Our pages are never framed: a framed "Log out" button could be clicked
 * by a user who does not see it (clickjacking).
 */

static ngx_int_t
ngx_http_auth_oidc_page_header(ngx_http_request_t *r, const char *name,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


/* A 302 that is never cached: it carries a one-time login state. */

ngx_int_t
ngx_http_auth_oidc_redirect(ngx_http_request_t *r, ngx_str_t *location)
{
    ngx_table_elt_t  *h;

    ngx_http_clear_location(r);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = *location;
    r->headers_out.location = h;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_HTTP_MOVED_TEMPORARILY;
}


/* "Cache-Control: no-store": what we answer is about one user, now. */

ngx_int_t
ngx_http_auth_oidc_no_store(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    return NGX_OK;
}
