
/*
 * logout_uri: the session ends server-side and its cookie is cleared, then
 * the browser goes to the provider's end_session_endpoint (OpenID Connect
 * RP-Initiated Logout 1.0), to post_logout_uri, or sees a small page.
 *
 * Another site must not log a user out (logout CSRF): a GET or HEAD only
 * shows a page with a "Log out" button, and the session ends only with a
 * POST from our own origin (Origin; without it Sec-Fetch-Site; without
 * both Referer). A POST that shows none of them (a browser hiding its
 * Referer) gets a 403 that says so, never a logout anyone could forge.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


static void ngx_http_auth_oidc_logged_out(ngx_http_request_t *r,
    ngx_int_t rc, ngx_str_t *record);
static void ngx_http_auth_oidc_logout_onward(ngx_http_request_t *r);
static ngx_uint_t ngx_http_auth_oidc_same_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_own_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *origin);
static ngx_int_t ngx_http_auth_oidc_confirm_form(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_end_session_url(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *id_token,
    ngx_str_t *url);
static u_char *ngx_http_auth_oidc_escape_arg(u_char *dst, u_char *src,
    size_t len);


void
ngx_http_auth_oidc_logout(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t  rc;
    ngx_str_t  id, key, record;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD
        && r->method != NGX_HTTP_POST)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed", NULL);
        return;
    }

    if (r->method == NGX_HTTP_POST
        && ngx_http_discard_request_body(r) != NGX_OK)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    if (r->method != NGX_HTTP_POST || !ngx_http_auth_oidc_same_origin(r, prov))
    {
        if (r->method == NGX_HTTP_POST) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "auth_oidc: logout POST not from this origin "
                          "refused");
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_FORBIDDEN,
                                       "Logout refused",
                                       "The logout did not come from this "
                                       "site. Please use its \"Log out\" "
                                       "button.");
            return;
        }

        if (ngx_http_auth_oidc_confirm_form(r, ctx) != NGX_OK) {
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       "Logout failed", NULL);
            return;
        }

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_OK, "Log out?", NULL);
        return;
    }

    if (ngx_http_auth_oidc_cookie_get(r, &prov->cookie_name, &id) != NGX_OK) {
        ngx_http_auth_oidc_logged_out(r, NGX_DECLINED, NULL);
        return;
    }

    if (ngx_http_auth_oidc_session_key(r, prov, &id, &key) != NGX_OK) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    rc = ngx_http_auth_oidc_store_take(prov->store,
                                       NGX_HTTP_AUTH_OIDC_SESSION, &key, r,
                                       &record,
                                       ngx_http_auth_oidc_logged_out);
    if (rc != NGX_AGAIN) {
        ngx_http_auth_oidc_logged_out(r, rc, &record);
    }
}


/* The session is gone from the store: the browser is told, then sent on. */

static void
ngx_http_auth_oidc_logged_out(ngx_http_request_t *r, ngx_int_t rc,
    ngx_str_t *record)
{
    ngx_str_t                            id_token;
    auth_oidc_error_t                    err;
    auth_oidc_session_t                 *session;
    ngx_http_auth_oidc_ctx_t            *ctx;
    const auth_oidc_session_fields_t    *f;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);
    prov = ctx->provider;

    ngx_str_null(&id_token);

    if (rc == NGX_ERROR) {
        /* the session may live on in the store: say so, keep the cookie */
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "Logout failed",
                                   "The session store is not available; "
                                   "please try again.");
        return;
    }

    if (rc == NGX_OK
        && auth_oidc_session_decode(record->data, record->len, &session, &err)
           == AUTH_OIDC_OK)
    {
        f = auth_oidc_session_fields(session);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": logout of \"%*s\"",
                      &prov->name, f->sub.len, f->sub.data);

        if (prov->logout_token_hint) {
            id_token.data = ngx_pnalloc(r->pool, f->id_token.len);
            if (id_token.data) {
                ngx_memcpy(id_token.data, f->id_token.data, f->id_token.len);
                id_token.len = f->id_token.len;
            }
        }

        auth_oidc_session_free(session);
    }

    if (ngx_http_auth_oidc_cookie_set(r, prov, NULL, 1) != NGX_OK) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Logout failed", NULL);
        return;
    }

    ctx->id_token = id_token;

    ngx_http_auth_oidc_logout_onward(r);
}


/*
 * Where the browser goes once logged out here: to the provider's
 * end_session_endpoint when it has one. A worker without metadata yet
 * waits for the fetch under way rather than skip the provider's logout;
 * when none comes, the local logout is all there is.
 */

static void
ngx_http_auth_oidc_logout_onward(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    ngx_str_t                            url;
    ngx_http_auth_oidc_ctx_t            *ctx;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);
    prov = ctx->provider;

    rc = ngx_http_auth_oidc_metadata_ready(r, ctx, prov,
                                           ngx_http_auth_oidc_logout_onward);
    if (rc == NGX_AGAIN) {
        return;
    }

    if (rc == NGX_OK
        && auth_oidc_discovery_endpoint(prov->runtime->discovery,
                                        AUTH_OIDC_EP_END_SESSION).len)
    {
        if (ngx_http_auth_oidc_end_session_url(r, prov, &ctx->id_token, &url)
            != NGX_OK)
        {
            goto failed;
        }

        (void) ngx_http_auth_oidc_redirect(r, &url);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_MOVED_TEMPORARILY, NULL,
                                   NULL);
        return;
    }

    if (prov->post_logout_uri.len) {
        (void) ngx_http_auth_oidc_redirect(r, &prov->post_logout_uri);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_MOVED_TEMPORARILY, NULL,
                                   NULL);
        return;
    }

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_OK, "Logged out", NULL);
    return;

failed:

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                               "Logout failed", NULL);
}


/*
 * A POST made by a page of our own origin: its Origin says so, or without
 * one its Sec-Fetch-Site, or without both its Referer. "null" (an opaque
 * origin), "same-site" (a sibling subdomain) and no header at all are not.
 */

static ngx_uint_t
ngx_http_auth_oidc_same_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t         own;
    ngx_table_elt_t  *h;

    h = ngx_http_auth_oidc_header_in(r, "Origin", sizeof("Origin") - 1);

    if (h) {
        return ngx_http_auth_oidc_own_origin(r, prov, &own) == NGX_OK
               && h->value.len == own.len
               && ngx_strncasecmp(h->value.data, own.data, own.len) == 0;
    }

    h = ngx_http_auth_oidc_header_in(r, "Sec-Fetch-Site",
                                     sizeof("Sec-Fetch-Site") - 1);
    if (h) {
        return h->value.len == sizeof("same-origin") - 1
               && ngx_strncasecmp(h->value.data, (u_char *) "same-origin",
                                  h->value.len) == 0;
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

static ngx_int_t
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


static ngx_int_t
ngx_http_auth_oidc_confirm_form(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    size_t   len;
    u_char  *p;

    len = sizeof("<form method=\"post\" action=\"\">"
                 "<button type=\"submit\">Log out</button></form>") - 1
          + r->uri.len + ngx_escape_html(NULL, r->uri.data, r->uri.len);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->html.data = p;
    p = ngx_cpymem(p, "<form method=\"post\" action=\"",
                   sizeof("<form method=\"post\" action=\"") - 1);
    p = (u_char *) ngx_escape_html(p, r->uri.data, r->uri.len);
    p = ngx_cpymem(p, "\"><button type=\"submit\">Log out</button></form>",
                   sizeof("\"><button type=\"submit\">Log out</button>"
                          "</form>") - 1);
    ctx->html.len = p - ctx->html.data;

    return NGX_OK;
}


/* end_session_endpoint?client_id=..&post_logout_redirect_uri=..&... */

static ngx_int_t
ngx_http_auth_oidc_end_session_url(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *id_token,
    ngx_str_t *url)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         post;
    auth_oidc_str_t   endpoint;

    endpoint = auth_oidc_discovery_endpoint(prov->runtime->discovery,
                                            AUTH_OIDC_EP_END_SESSION);

    ngx_str_null(&post);

    if (prov->post_logout_uri.len
        && ngx_http_auth_oidc_absolute_uri(r, &prov->post_logout_uri, &post)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = endpoint.len + sizeof("?client_id=") - 1
          + 3 * prov->client_id.len
          + sizeof("&post_logout_redirect_uri=") - 1 + 3 * post.len
          + sizeof("&id_token_hint=") - 1 + 3 * id_token->len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    url->data = p;
    p = ngx_cpymem(p, endpoint.data, endpoint.len);
    *p++ = ngx_strlchr((u_char *) endpoint.data,
                       (u_char *) endpoint.data + endpoint.len, '?')
           ? '&' : '?';

    p = ngx_cpymem(p, "client_id=", sizeof("client_id=") - 1);
    p = ngx_http_auth_oidc_escape_arg(p, prov->client_id.data,
                                      prov->client_id.len);

    if (post.len) {
        p = ngx_cpymem(p, "&post_logout_redirect_uri=",
                       sizeof("&post_logout_redirect_uri=") - 1);
        p = ngx_http_auth_oidc_escape_arg(p, post.data, post.len);
    }

    if (id_token->len) {
        p = ngx_cpymem(p, "&id_token_hint=", sizeof("&id_token_hint=") - 1);
        p = ngx_http_auth_oidc_escape_arg(p, id_token->data, id_token->len);
    }

    url->len = p - url->data;

    return NGX_OK;
}


/* RFC 3986 percent-encoding of everything but unreserved characters. */

static u_char *
ngx_http_auth_oidc_escape_arg(u_char *dst, u_char *src, size_t len)
{
    static u_char  hex[] = "0123456789ABCDEF";

    while (len--) {
        if ((*src >= 'A' && *src <= 'Z') || (*src >= 'a' && *src <= 'z')
            || (*src >= '0' && *src <= '9')
            || *src == '-' || *src == '.' || *src == '_' || *src == '~')
        {
            *dst++ = *src++;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src & 0xf];
        src++;
    }

    return dst;
}
