
/*
 * What a script gets when its request has no session (a fetch or XHR: a
 * 401, never a redirect it cannot follow): a JSON body that says so and
 * where the page should send the user to log in,
 *
 *   {"error":"login_required","login":"https://app.example/oidc_callback?
 *    oidc_login=idp&return_to=%2Fpage"}
 *
 * with WWW-Authenticate and no caching. The login URL starts a login with
 * the provider and comes back to the page the script ran in (its Referer,
 * when it is of this site), not to the API path. A location with its own
 * error_page for 401, or under "satisfy any", keeps nginx's answer.
 *
 * A form a person posted (a top-level POST) without a session, that is not
 * kept over a login (auth_oidc_preserve_post), gets a page that says the
 * session ended and offers to sign in again, back to the form's page.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_uint_t ngx_http_auth_oidc_wants_json(ngx_http_request_t *r);


/*
 * NGX_DECLINED: answer with the status alone (nginx's page, or the
 * operator's error_page); otherwise what sending the JSON answer returned.
 */

ngx_int_t
ngx_http_auth_oidc_login_required(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char                    *p;
    size_t                     len;
    ngx_buf_t                 *b;
    ngx_str_t                  page, login;
    ngx_chain_t                out;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY
        || ngx_http_auth_oidc_error_page_set(r, NGX_HTTP_UNAUTHORIZED)
        || !ngx_http_auth_oidc_wants_json(r)
        || prov->redirect_path.len == 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_auth_oidc_referer_page(r, prov, &page) != NGX_OK
        || ngx_http_auth_oidc_login_url(r, prov, &page, &login) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"error\":\"login_required\",\"login\":\"\"}") - 1
          + login.len + ngx_escape_json(NULL, login.data, login.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"error\":\"login_required\",\"login\":\"",
                   sizeof("{\"error\":\"login_required\",\"login\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, login.data, login.len);
    p = ngx_cpymem(p, "\"}", 2);
    b->last = p;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_UNAUTHORIZED;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_send_header(r) == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (r->header_only) {
        return NGX_OK;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * A script's request that takes JSON: not one that asks for a page
 * (text/html) or for plain text only.
 */

static ngx_uint_t
ngx_http_auth_oidc_wants_json(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_http_auth_oidc_header_in(r, "Accept", sizeof("Accept") - 1);

    if (h == NULL) {
        return 1;
    }

    if (ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                         (u_char *) "text/html", sizeof("text/html") - 2))
    {
        return 0;
    }

    return !(h->value.len >= 10
             && ngx_strncasecmp(h->value.data, (u_char *) "text/plain", 10)
                == 0);
}


/*
 * "<callback URL>?oidc_login=NAME&return_to=PAGE": a login with the
 * provider that comes back to page (see ngx_http_auth_oidc_login_start()).
 */

ngx_int_t
ngx_http_auth_oidc_login_url(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *page, ngx_str_t *url)
{
    u_char     *p;
    size_t      len;
    uintptr_t   escape;
    ngx_str_t   callback;

    if (ngx_http_auth_oidc_absolute_uri(r, &prov->redirect_path, &callback)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    escape = ngx_escape_uri(NULL, prov->name.data, prov->name.len,
                            NGX_ESCAPE_ARGS)
             + ngx_escape_uri(NULL, page->data, page->len, NGX_ESCAPE_ARGS);

    /* "%2F" for "/" too: the value is one query argument */
    len = callback.len + sizeof("?oidc_login=&return_to=") - 1
          + prov->name.len + page->len + 2 * escape + 2 * page->len;

    url->data = ngx_pnalloc(r->pool, len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, callback.data, callback.len);
    p = ngx_cpymem(p, "?oidc_login=", sizeof("?oidc_login=") - 1);
    p = (u_char *) ngx_escape_uri(p, prov->name.data, prov->name.len,
                                  NGX_ESCAPE_ARGS);
    p = ngx_cpymem(p, "&return_to=", sizeof("&return_to=") - 1);
    p = (u_char *) ngx_escape_uri(p, page->data, page->len, NGX_ESCAPE_ARGS);
    url->len = p - url->data;

    return NGX_OK;
}


/*
 * The page a request came from (a script ran in, a form was posted from):
 * the Referer's path and query when it is of this site (our origin
 * followed by "/"), else "/". The login flow checks it again as any
 * return path.
 */

ngx_int_t
ngx_http_auth_oidc_referer_page(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *path)
{
    u_char     *hash;
    ngx_str_t  *ref, origin;

    ngx_str_set(path, "/");

    if (r->headers_in.referer == NULL || prov->redirect_path.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_auth_oidc_own_origin(r, prov, &origin) != NGX_OK) {
        return NGX_ERROR;
    }

    ref = &r->headers_in.referer->value;

    if (ref->len > origin.len
        && ngx_strncasecmp(ref->data, origin.data, origin.len) == 0
        && ref->data[origin.len] == '/'
        && (ref->len == origin.len + 1 || ref->data[origin.len + 1] != '/'))
    {
        path->data = ref->data + origin.len;
        path->len = ref->len - origin.len;

        /* the fragment never reaches a server, but a bad client may send one */
        hash = ngx_strlchr(path->data, path->data + path->len, '#');
        if (hash) {
            path->len = hash - path->data;
        }
    }

    return NGX_OK;
}


/*
 * A form posted without a session, not kept: why (detail), and a way back
 * to the form's page through a login (the page's links).
 */

ngx_int_t
ngx_http_auth_oidc_session_ended(ngx_http_request_t *r, const char *why)
{
    ngx_str_t  detail;

    detail.data = (u_char *) why;
    detail.len = ngx_strlen(why);

    return ngx_http_auth_oidc_phase_page(r, NGX_HTTP_UNAUTHORIZED,
                                         "Session ended", &detail, NULL);
}
