
/*
 * What the browser sees when the module answers by itself: redirects and
 * small HTML pages. Every text placed in a page is HTML-escaped. A page
 * says what happened in a sentence and offers a way on: sign in again, go
 * to the home page, log out. A client that asks for JSON or plain text
 * (Accept, without text/html) gets the same title and sentence so; and
 * where the operator set an error_page for the status, nginx answers with
 * it instead.
 */


#include <openssl/evp.h>

#include "ngx_http_auth_oidc_module.h"


/* page_send()'s flags */
#define NGX_HTTP_AUTH_OIDC_PAGE_SCRIPT    0x01  /* the page's own script */
#define NGX_HTTP_AUTH_OIDC_PAGE_NO_LINKS  0x02


static ngx_int_t ngx_http_auth_oidc_page_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *detail,
    ngx_str_t *html, ngx_str_t *ancestors, ngx_uint_t flags);
static ngx_int_t ngx_http_auth_oidc_page_links(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *links);
static ngx_int_t ngx_http_auth_oidc_page_csp(ngx_http_request_t *r,
    ngx_str_t *ancestors, ngx_uint_t flags);
static ngx_str_t *ngx_http_auth_oidc_script_hash(void);
static ngx_int_t ngx_http_auth_oidc_page_header(ngx_http_request_t *r,
    const char *name, const char *value, size_t len);
static ngx_int_t ngx_http_auth_oidc_send(ngx_http_request_t *r,
    ngx_buf_t *b);
static ngx_int_t ngx_http_auth_oidc_page_other(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *detail,
    ngx_uint_t json);


static u_char  ngx_http_auth_oidc_page_head[] =
"<!DOCTYPE html>" CRLF
"<html lang=\"en\"><head><meta charset=\"utf-8\">"
"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
"<title>";

static u_char  ngx_http_auth_oidc_page_body[] =
"</title>" CRLF
"<style>body{font:1.0625rem/1.5 system-ui,sans-serif;color:#1b1b1b;"
"max-width:36rem;margin:4rem auto;padding:0 1.25rem}"
"h1{font-size:1.5rem;margin:0 0 .75rem}"
"nav{margin-top:1.5rem;display:flex;flex-wrap:wrap;gap:.75rem 1.5rem}"
"a,button{font:inherit;color:#0b57d0}"
"button{padding:.4rem 1.2rem;color:#fff;background:#0b57d0;border:0;"
"border-radius:.3rem;cursor:pointer}"
"a:focus,button:focus{outline:3px solid #f4b400;outline-offset:2px}"
"</style></head>" CRLF
"<body><main>" CRLF "<h1>";

static u_char  ngx_http_auth_oidc_page_tail[] =
"</main></body></html>" CRLF;


/*
 * The one script a page of ours may run (the kept form post, see
 * ngx_http_auth_oidc_preserve_post.c), allowed by its hash alone. What it
 * does is read from the element "oidc-post": with data-blob, it keeps the
 * form in this tab's sessionStorage under data-key and goes to data-go (the
 * provider); without, it takes the form back (once: it is removed) and
 * posts it to data-action, or goes to data-back when there is none.
 */
static u_char  ngx_http_auth_oidc_page_script[] =
"(function(){var e=document.getElementById(\"oidc-post\"),d=e.dataset,"
"b=null;try{if(d.blob){sessionStorage.setItem(d.key,d.blob)}else{"
"b=sessionStorage.getItem(d.key);sessionStorage.removeItem(d.key)}}"
"catch(x){}if(d.go){location.replace(d.go);return}"
"if(!b){location.replace(d.back);return}"
"var f=document.createElement(\"form\"),i=document.createElement(\"input\");"
"f.method=\"post\";f.action=d.action;i.type=\"hidden\";i.name=\"blob\";"
"i.value=b;f.appendChild(i);document.body.appendChild(f);f.submit()})();";


/*
 * A page with a title, an escaped detail line and optional raw HTML (built
 * by the caller from escaped parts). Never cached: it tells of one login.
 */

ngx_int_t
ngx_http_auth_oidc_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *html)
{
    return ngx_http_auth_oidc_page_send(r, status, title, detail, html, NULL,
                                        0);
}


/*
 * A page with the script above; html carries its "oidc-post" element. Its
 * Content-Security-Policy lets nothing else run, load or be posted to
 * another site.
 */

ngx_int_t
ngx_http_auth_oidc_script_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *html)
{
    return ngx_http_auth_oidc_page_send(r, status, title, detail, html, NULL,
                                        NGX_HTTP_AUTH_OIDC_PAGE_SCRIPT
                                        |NGX_HTTP_AUTH_OIDC_PAGE_NO_LINKS);
}


/*
 * A page as a phase handler's answer: NGX_DONE once sent (the request is
 * finalized), or the status for nginx to answer (an error_page of the
 * operator's, a subrequest, or not a status we have a page for).
 */

ngx_int_t
ngx_http_auth_oidc_phase_page(ngx_http_request_t *r, ngx_int_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *html)
{
    ngx_int_t                  rc;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* under "satisfy any" a 401 or 403 lets another module grant access */
    if (r != r->main || status < NGX_HTTP_BAD_REQUEST
        || status == NGX_HTTP_INTERNAL_SERVER_ERROR
        || ((status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN)
            && clcf->satisfy == NGX_HTTP_SATISFY_ANY)
        || ngx_http_auth_oidc_error_page_set(r, status))
    {
        return status;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    rc = ngx_http_auth_oidc_page(r, status, title, detail, html);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
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
                                        ancestors,
                                        NGX_HTTP_AUTH_OIDC_PAGE_NO_LINKS);
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
    ngx_str_t *ancestors, ngx_uint_t flags)
{
    size_t            len, tlen, dlen;
    u_char           *p;
    ngx_str_t         links;
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

    ngx_str_null(&links);

    if (!(flags & NGX_HTTP_AUTH_OIDC_PAGE_NO_LINKS)
        && ngx_http_auth_oidc_page_links(r, status, title, &links) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tlen = ngx_strlen(title);
    dlen = detail ? detail->len + ngx_escape_html(NULL, detail->data,
                                                  detail->len)
                  : 0;

    len = sizeof(ngx_http_auth_oidc_page_head) - 1 + 2 * tlen
          + sizeof(ngx_http_auth_oidc_page_body) - 1
          + sizeof("</h1>" CRLF "<p></p>" CRLF) - 1 + dlen
          + (html ? html->len : 0) + links.len
          + sizeof("<script></script>" CRLF) - 1
          + sizeof(ngx_http_auth_oidc_page_script) - 1
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

    if (links.len) {
        p = ngx_cpymem(p, links.data, links.len);
    }

    if (flags & NGX_HTTP_AUTH_OIDC_PAGE_SCRIPT) {
        p = ngx_cpymem(p, "<script>", sizeof("<script>") - 1);
        p = ngx_cpymem(p, ngx_http_auth_oidc_page_script,
                       sizeof(ngx_http_auth_oidc_page_script) - 1);
        p = ngx_cpymem(p, "</script>" CRLF, sizeof("</script>" CRLF) - 1);
    }

    p = ngx_cpymem(p, ngx_http_auth_oidc_page_tail,
                   sizeof(ngx_http_auth_oidc_page_tail) - 1);

    b->last = p;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/html") - 1;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK
        || ngx_http_auth_oidc_page_csp(r, ancestors, flags) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_auth_oidc_send(r, b);
}


/*
 * Who may frame the page (nobody, or the provider for a front-channel
 * logout) and, for a page with our script, what it may do besides.
 */

static ngx_int_t
ngx_http_auth_oidc_page_csp(ngx_http_request_t *r, ngx_str_t *ancestors,
    ngx_uint_t flags)
{
    size_t      len;
    u_char     *csp, *p;
    ngx_str_t  *hash;

    if (ancestors) {
        len = sizeof("frame-ancestors ") - 1 + ancestors->len;

        csp = ngx_pnalloc(r->pool, len);
        if (csp == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(csp, "frame-ancestors ",
                              sizeof("frame-ancestors ") - 1),
                   ancestors->data, ancestors->len);

        return ngx_http_auth_oidc_page_header(r, "Content-Security-Policy",
                                              (char *) csp, len);
    }

    if (ngx_http_auth_oidc_page_header(r, "X-Frame-Options", "DENY", 4)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!(flags & NGX_HTTP_AUTH_OIDC_PAGE_SCRIPT)) {
        return ngx_http_auth_oidc_page_header(r, "Content-Security-Policy",
                                              "frame-ancestors 'none'",
                                              sizeof("frame-ancestors 'none'")
                                              - 1);
    }

    hash = ngx_http_auth_oidc_script_hash();
    if (hash == NULL) {
        return NGX_ERROR;
    }

    /* no form-action: the app's answer to the form sent on may redirect
     * to another site, and browsers hold redirects to it */
    len = sizeof("default-src 'none'; script-src 'sha256-'; "
                 "style-src 'unsafe-inline'; "
                 "base-uri 'none'; frame-ancestors 'none'") - 1 + hash->len;

    csp = ngx_pnalloc(r->pool, len);
    if (csp == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(csp, "default-src 'none'; script-src 'sha256-",
                   sizeof("default-src 'none'; script-src 'sha256-") - 1);
    p = ngx_cpymem(p, hash->data, hash->len);
    p = ngx_cpymem(p, "'; style-src 'unsafe-inline'; "
                   "base-uri 'none'; frame-ancestors 'none'",
                   sizeof("'; style-src 'unsafe-inline'; "
                          "base-uri 'none'; frame-ancestors 'none'") - 1);

    return ngx_http_auth_oidc_page_header(r, "Content-Security-Policy",
                                          (char *) csp, p - csp);
}


/* base64 of the script's SHA-256, made once per worker */

static ngx_str_t *
ngx_http_auth_oidc_script_hash(void)
{
    ngx_str_t      digest;
    unsigned int   n;
    u_char         md[EVP_MAX_MD_SIZE];

    static u_char     text[ngx_base64_encoded_length(32)];
    static ngx_str_t  hash;

    if (hash.len) {
        return &hash;
    }

    if (EVP_Digest(ngx_http_auth_oidc_page_script,
                   sizeof(ngx_http_auth_oidc_page_script) - 1, md, &n,
                   EVP_sha256(), NULL)
        != 1 || n != 32)
    {
        return NULL;
    }

    digest.data = md;
    digest.len = n;
    hash.data = text;
    ngx_encode_base64(&hash, &digest);

    return &hash;
}


/*
 * The way on from a page, by what it tells: after a login that failed or
 * a logout, sign in (again) and come back home; when the provider cannot
 * be reached, try again (the same page, or a new login); after a refused
 * access, home or log out; else home.
 */

static ngx_int_t
ngx_http_auth_oidc_page_links(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *links)
{
    u_char                              *p;
    size_t                               len;
    ngx_str_t                            login, root, label;
    ngx_uint_t                           sign_in, log_out, ended;
    ngx_http_auth_oidc_ctx_t            *ctx;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);
    prov = ctx ? ctx->provider : NULL;

    ended = (ngx_strcmp(title, "Session ended") == 0);
    sign_in = (ngx_strncmp(title, "Login", 5) == 0
               || ngx_strcmp(title, "Logged out") == 0 || ended)
              && status != NGX_HTTP_NOT_ALLOWED;
    log_out = ngx_strcmp(title, "Access denied") == 0 && ctx && ctx->session
              && prov && prov->logout_path.len;

    ngx_str_null(&login);
    ngx_str_set(&root, "/");
    ngx_str_set(&label, "Sign in again");

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_str_set(&label, "Try again");

        if (ctx && !ctx->done
            && (r->method == NGX_HTTP_GET || r->method == NGX_HTTP_HEAD))
        {
            /* a page that waits for the provider: that page again */
            login = r->unparsed_uri;
            sign_in = 0;
        }
    }

    if (sign_in && prov && prov->redirect_path.len) {
        /* a form's session ended: back to the form's page */
        if ((ended && ngx_http_auth_oidc_referer_page(r, prov, &root)
                      != NGX_OK)
            || ngx_http_auth_oidc_login_url(r, prov, &root, &login) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    len = sizeof("<nav><a href=\"\"></a>"
                 "<a href=\"\">Log out</a>"
                 "<a href=\"/\">Go to the home page</a></nav>" CRLF) - 1
          + label.len + login.len
          + ngx_escape_html(NULL, login.data, login.len)
          + (log_out ? prov->logout_path.len
                       + ngx_escape_html(NULL, prov->logout_path.data,
                                         prov->logout_path.len)
                     : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    links->data = p;
    p = ngx_cpymem(p, "<nav>", 5);

    if (login.len) {
        p = ngx_cpymem(p, "<a href=\"", sizeof("<a href=\"") - 1);
        p = (u_char *) ngx_escape_html(p, login.data, login.len);
        *p++ = '"';
        *p++ = '>';
        p = ngx_cpymem(p, label.data, label.len);
        p = ngx_cpymem(p, "</a>", sizeof("</a>") - 1);
    }

    if (log_out) {
        p = ngx_cpymem(p, "<a href=\"", sizeof("<a href=\"") - 1);
        p = (u_char *) ngx_escape_html(p, prov->logout_path.data,
                                       prov->logout_path.len);
        p = ngx_cpymem(p, "\">Log out</a>", sizeof("\">Log out</a>") - 1);
    }

    p = ngx_cpymem(p, "<a href=\"/\">Go to the home page</a></nav>" CRLF,
                   sizeof("<a href=\"/\">Go to the home page</a></nav>" CRLF)
                   - 1);
    links->len = p - links->data;

    return NGX_OK;
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
