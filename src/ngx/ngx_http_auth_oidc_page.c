
/*
 * What the browser sees when the module answers by itself: redirects and
 * small HTML pages. Every text placed in a page is HTML-escaped. A client
 * that asks for JSON or plain text (Accept, without text/html) gets the
 * same title and sentence so; and where the operator set an error_page for
 * the status, nginx answers with it instead.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_int_t ngx_http_auth_oidc_page_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *detail,
    ngx_str_t *html, ngx_str_t *ancestors);
static ngx_int_t ngx_http_auth_oidc_page_header(ngx_http_request_t *r,
    const char *name, const char *value, size_t len);
static ngx_int_t ngx_http_auth_oidc_send(ngx_http_request_t *r,
    ngx_buf_t *b);
static ngx_int_t ngx_http_auth_oidc_page_other(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *detail,
    ngx_uint_t json);


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
    return ngx_http_auth_oidc_page_send(r, status, title, detail, html, NULL);
}


/*
 * A page that sits in another site's iframe (front-channel logout: the
 * provider's): framed only by ancestors, e.g. "https://op.example".
 */

ngx_int_t
ngx_http_auth_oidc_framed_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *ancestors)
{
    return ngx_http_auth_oidc_page_send(r, status, title, detail, NULL,
                                        ancestors);
}


/*
 * An answer to a machine (RFC 6749, 5.2 style): empty for a 2xx, else
 * {"error":"...","error_description":"..."}; never cached.
 */

ngx_int_t
ngx_http_auth_oidc_oauth_answer(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, ngx_str_t *description)
{
    size_t      len, elen;
    u_char     *p;
    ngx_buf_t  *b;

    /* an answer the driver made itself carries a page title, not a code */
    if (ngx_strlchr((u_char *) error, (u_char *) error + ngx_strlen(error),
                    ' '))
    {
        error = status >= NGX_HTTP_INTERNAL_SERVER_ERROR
                ? "temporarily_unavailable" : "invalid_request";
    }

    elen = ngx_strlen(error);
    len = sizeof("{\"error\":\"\",\"error_description\":\"\"}") - 1 + elen
          + (description ? description->len
                           + ngx_escape_json(NULL, description->data,
                                             description->len)
                         : 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status >= NGX_HTTP_BAD_REQUEST) {
        p = ngx_cpymem(b->last, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
        p = ngx_cpymem(p, error, elen);
        p = ngx_cpymem(p, "\",\"error_description\":\"",
                       sizeof("\",\"error_description\":\"") - 1);

        if (description) {
            p = (u_char *) ngx_escape_json(p, description->data,
                                           description->len);
        }

        p = ngx_cpymem(p, "\"}", 2);
        b->last = p;

        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = sizeof("application/json") - 1;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_auth_oidc_send(r, b);
}


static ngx_int_t
ngx_http_auth_oidc_page_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *html,
    ngx_str_t *ancestors)
{
    size_t            len, tlen, dlen;
    u_char           *p, *csp;
    ngx_buf_t        *b;
    ngx_table_elt_t  *accept;

    if (status >= NGX_HTTP_BAD_REQUEST
        && ngx_http_auth_oidc_error_page_set(r, status))
    {
        /* the operator's page: nginx's error_page, with our headers */
        return status;
    }

    accept = ngx_http_auth_oidc_header_in(r, "Accept", sizeof("Accept") - 1);

    if (accept && html == NULL
        && !ngx_strlcasestrn(accept->value.data,
                             accept->value.data + accept->value.len,
                             (u_char *) "text/html", sizeof("text/html") - 2))
    {
        if (ngx_strlcasestrn(accept->value.data,
                             accept->value.data + accept->value.len,
                             (u_char *) "json", sizeof("json") - 2))
        {
            return ngx_http_auth_oidc_page_other(r, status, title, detail, 1);
        }

        if (ngx_strlcasestrn(accept->value.data,
                             accept->value.data + accept->value.len,
                             (u_char *) "text/plain",
                             sizeof("text/plain") - 2))
        {
            return ngx_http_auth_oidc_page_other(r, status, title, detail, 0);
        }
    }

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

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/html") - 1;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ancestors == NULL) {
        if (ngx_http_auth_oidc_page_header(r, "Content-Security-Policy",
                                           "frame-ancestors 'none'",
                                           sizeof("frame-ancestors 'none'")
                                           - 1)
            != NGX_OK
            || ngx_http_auth_oidc_page_header(r, "X-Frame-Options", "DENY",
                                              4)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        len = sizeof("frame-ancestors ") - 1 + ancestors->len;

        csp = ngx_pnalloc(r->pool, len);
        if (csp == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(ngx_cpymem(csp, "frame-ancestors ",
                              sizeof("frame-ancestors ") - 1),
                   ancestors->data, ancestors->len);

        if (ngx_http_auth_oidc_page_header(r, "Content-Security-Policy",
                                           (char *) csp, len)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_auth_oidc_send(r, b);
}


/*
 * The page as JSON, {"error":"login_failed","error_description":"..."}
 * (the title as a code), or as plain text: the title, then the sentence.
 */

static ngx_int_t
ngx_http_auth_oidc_page_other(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_uint_t json)
{
    u_char     *p, c;
    size_t      len, tlen;
    ngx_buf_t  *b;

    tlen = ngx_strlen(title);
    len = sizeof("{\"error\":\"\",\"error_description\":\"\"}" CRLF) - 1
          + tlen + (detail ? 2 * detail->len
                             + ngx_escape_json(NULL, detail->data, detail->len)
                           : 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    if (json) {
        p = ngx_cpymem(p, "{\"error\":\"", sizeof("{\"error\":\"") - 1);

        /* "Login failed": "login_failed" */
        for (len = 0; len < tlen; len++) {
            c = ngx_tolower((u_char) title[len]);
            *p++ = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                   ? c : '_';
        }

        p = ngx_cpymem(p, "\",\"error_description\":\"",
                       sizeof("\",\"error_description\":\"") - 1);

        if (detail) {
            p = (u_char *) ngx_escape_json(p, detail->data, detail->len);
        }

        p = ngx_cpymem(p, "\"}" CRLF, sizeof("\"}" CRLF) - 1);

        ngx_str_set(&r->headers_out.content_type, "application/json");

    } else {
        p = ngx_cpymem(p, title, tlen);
        *p++ = LF;

        if (detail) {
            *p++ = LF;
            p = ngx_cpymem(p, detail->data, detail->len);
            *p++ = LF;
        }

        ngx_str_set(&r->headers_out.content_type, "text/plain; charset=utf-8");
    }

    b->last = p;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_auth_oidc_send(r, b);
}


/* The location (or server) has an error_page for this status. */

ngx_uint_t
ngx_http_auth_oidc_error_page_set(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->error_pages == NULL) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_auth_oidc_send(ngx_http_request_t *r, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (r->method == NGX_HTTP_HEAD || b->last == b->pos) {
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
    const char *value, size_t len)
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
    h->value.len = len;

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
