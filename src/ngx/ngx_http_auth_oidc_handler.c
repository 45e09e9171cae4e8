
/*
 * Request handling: the access-phase check of protected locations, and the
 * server-level handler that answers each provider's callback and logout
 * paths in every server that uses the provider.
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"
#include "ngx_http_auth_oidc_store.h"


#define NGX_HTTP_AUTH_OIDC_ID_BYTES  32


static ngx_http_auth_oidc_provider_conf_t *ngx_http_auth_oidc_provider(
    ngx_http_request_t *r, ngx_http_auth_oidc_loc_conf_t *alcf);
static ngx_int_t ngx_http_auth_oidc_find_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_uint_t ngx_http_auth_oidc_is_navigation(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_oidc_unauthorized(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_table_elt_t *ngx_http_auth_oidc_header(ngx_http_request_t *r,
    const char *name, size_t len);
static void ngx_http_auth_oidc_cleanup(void *data);


ngx_int_t
ngx_http_auth_oidc_access_handler(ngx_http_request_t *r)
{
    ngx_uint_t                           mode;
    ngx_http_auth_oidc_ctx_t            *ctx;
    ngx_http_auth_oidc_loc_conf_t       *alcf;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_oidc_module);

    if (!alcf->enable) {
        return NGX_DECLINED;
    }

    prov = ngx_http_auth_oidc_provider(r, alcf);

    if (prov == NULL) {
        return NGX_DECLINED;
    }

    if (prov == NGX_CONF_UNSET_PTR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_auth_oidc_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->provider = prov;

    if (ngx_http_auth_oidc_find_session(r, ctx, prov) == NGX_OK) {
        return NGX_OK;
    }

    mode = alcf->unauth;

    if (mode == NGX_HTTP_AUTH_OIDC_UNAUTH_AUTO) {
        mode = ngx_http_auth_oidc_is_navigation(r)
               ? NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT
               : NGX_HTTP_AUTH_OIDC_UNAUTH_401;
    }

    switch (mode) {

    case NGX_HTTP_AUTH_OIDC_UNAUTH_PASS:
        /* on, with empty identity variables */
        return NGX_OK;

    case NGX_HTTP_AUTH_OIDC_UNAUTH_401:
        return ngx_http_auth_oidc_unauthorized(r, prov);

    default: /* NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT */

        if (ngx_http_auth_oidc_metadata_ready(r, prov) != NGX_OK) {
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        return ngx_http_auth_oidc_login(r, prov);
    }
}


/*
 * SERVER_REWRITE phase: the callback and logout paths are answered before
 * any location is chosen, so they need no location of their own.
 */

ngx_int_t
ngx_http_auth_oidc_endpoint_handler(ngx_http_request_t *r)
{
    ngx_uint_t                            i, n, callback;
    ngx_http_auth_oidc_ctx_t             *ctx;
    ngx_http_auth_oidc_srv_conf_t        *ascf;
    ngx_http_auth_oidc_main_conf_t       *amcf;
    ngx_http_auth_oidc_provider_conf_t  **provs, *prov;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (ctx && ctx->done) {
        /* a callback that waited for the provider resumes here */
        if (ctx->status == NGX_HTTP_MOVED_TEMPORARILY) {
            return ctx->status;
        }

        return ngx_http_auth_oidc_page(r, ctx->status, ctx->title,
                                       &ctx->detail, NULL);
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_auth_oidc_module);

    if (ascf->any_provider) {
        amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_oidc_module);
        provs = amcf->providers.elts;
        n = amcf->providers.nelts;

    } else if (ascf->providers) {
        provs = ascf->providers->elts;
        n = ascf->providers->nelts;

    } else {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        prov = provs[i];

        callback = (r->uri.len == prov->redirect_path.len
                    && ngx_strncmp(r->uri.data, prov->redirect_path.data,
                                   r->uri.len) == 0);

        if (!callback
            && (prov->logout_path.len == 0
                || r->uri.len != prov->logout_path.len
                || ngx_strncmp(r->uri.data, prov->logout_path.data,
                               r->uri.len) != 0))
        {
            continue;
        }

        if (callback) {
            ctx = ngx_http_auth_oidc_get_ctx(r);
            if (ctx == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            /* the pending login says which provider it belongs to */
            ctx->provider = prov;
            ctx->candidates = provs;
            ctx->ncandidates = n;

            return ngx_http_auth_oidc_callback(r, ctx);
        }

        return ngx_http_auth_oidc_logout(r, prov);
    }

    return NGX_DECLINED;
}


ngx_http_auth_oidc_ctx_t *
ngx_http_auth_oidc_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (ctx) {
        return ctx;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_auth_oidc_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_auth_oidc_ctx_t));

    cln->handler = ngx_http_auth_oidc_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_auth_oidc_module);

    return ctx;
}


/* Runs when the request ends, however it ends: nothing outlives it. */

static void
ngx_http_auth_oidc_cleanup(void *data)
{
    ngx_http_auth_oidc_ctx_t  *ctx = data;

    if (ctx->http) {
        ngx_http_auth_oidc_http_cancel(ctx->http);
        ctx->http = NULL;
    }

    if (ctx->wait.timer_set) {
        ngx_del_timer(&ctx->wait);
    }

    auth_oidc_session_free(ctx->session);
    auth_oidc_claims_free(ctx->claims);
    auth_oidc_pending_free(ctx->pending);
    auth_oidc_token_response_free(ctx->tokens);

    ctx->session = NULL;
    ctx->claims = NULL;
    ctx->pending = NULL;
    ctx->tokens = NULL;
}


/*
 * A session is found by the cookie's id under the provider's name: a
 * session of one provider is never accepted by another.
 */

static ngx_int_t
ngx_http_auth_oidc_find_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t                          id, key, record;
    ngx_int_t                          rc;
    auth_oidc_error_t                  err;
    auth_oidc_session_t               *session;
    const auth_oidc_session_fields_t  *f;

    rc = ngx_http_auth_oidc_cookie_get(r, &prov->cookie_name, &id);

    /* whatever happens, the app behind never sees the session cookie */
    if (rc == NGX_OK
        && ngx_http_auth_oidc_cookie_strip(r, &prov->cookie_name) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_http_auth_oidc_session_key(r, prov, &id, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_auth_oidc_store_get(prov->store,
                                      NGX_HTTP_AUTH_OIDC_SESSION, &key,
                                      r->pool, &record, r->connection->log);
    if (rc != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth oidc: no session for the cookie");
        return NGX_DECLINED;
    }

    if (auth_oidc_session_decode(record.data, record.len, &session, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: stored session refused: %s", err.msg);
        ngx_http_auth_oidc_store_delete(prov->store,
                                        NGX_HTTP_AUTH_OIDC_SESSION, &key,
                                        r->connection->log);
        return NGX_DECLINED;
    }

    f = auth_oidc_session_fields(session);

    if (f->expires <= (int64_t) ngx_time()) {
        auth_oidc_session_free(session);
        return NGX_DECLINED;
    }

    auth_oidc_session_free(ctx->session);
    ctx->session = session;
    ctx->session_id = id;

    return NGX_OK;
}


/*
 * "auto": only a top-level page load is worth a redirect to a login page;
 * scripts and API clients get a 401 they can act upon.
 */

static ngx_uint_t
ngx_http_auth_oidc_is_navigation(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return 0;
    }

    h = ngx_http_auth_oidc_header(r, "Sec-Fetch-Mode",
                                  sizeof("Sec-Fetch-Mode") - 1);
    if (h) {
        return h->value.len == sizeof("navigate") - 1
               && ngx_strncasecmp(h->value.data, (u_char *) "navigate",
                                  h->value.len) == 0;
    }

    h = ngx_http_auth_oidc_header(r, "X-Requested-With",
                                  sizeof("X-Requested-With") - 1);
    if (h) {
        return 0;
    }

    h = ngx_http_auth_oidc_header(r, "Accept", sizeof("Accept") - 1);

    if (h == NULL
        || (h->value.len == 3 && ngx_strncmp(h->value.data, "*/*", 3) == 0))
    {
        return 1;
    }

    return ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) "text/html", sizeof("text/html") - 2)
           != NULL;
}


static ngx_int_t
ngx_http_auth_oidc_unauthorized(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    size_t            len;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("OIDC realm=\"\"") - 1 + prov->name.len;

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "OIDC realm=\"%V\"",
                               &prov->name)
                   - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_HTTP_UNAUTHORIZED;
}


static ngx_table_elt_t *
ngx_http_auth_oidc_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


ngx_int_t
ngx_http_auth_oidc_metadata_ready(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    if (ngx_http_auth_oidc_metadata_sync(prov, r->connection->log) == NGX_OK)
    {
        return NGX_OK;
    }

    /* said at most once a second per worker, not once per request */
    if (prov->not_ready_logged != ngx_time()) {
        prov->not_ready_logged = ngx_time();
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\" is not ready: its "
                      "metadata has not been fetched yet", &prov->name);
    }

    return NGX_DECLINED;
}


/*
 * The redirect_uri (or another path of ours) as the provider must see it:
 * absolute, on the host the browser used. A deployment behind a proxy that
 * rewrites hosts or schemes configures it absolute instead.
 */

ngx_int_t
ngx_http_auth_oidc_absolute_uri(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *out)
{
    u_char     *p;
    ngx_str_t   host;

    if (uri->len == 0 || uri->data[0] != '/') {
        *out = *uri;
        return NGX_OK;
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        host = ((ngx_http_core_srv_conf_t *)
                ngx_http_get_module_srv_conf(r, ngx_http_core_module))
               ->server_name;
    }

    p = ngx_pnalloc(r->pool, sizeof("https://") - 1 + host.len + uri->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        p = ngx_cpymem(p, "https://", sizeof("https://") - 1);
    } else
#endif
    {
        p = ngx_cpymem(p, "http://", sizeof("http://") - 1);
    }

    p = ngx_cpymem(p, host.data, host.len);
    p = ngx_cpymem(p, uri->data, uri->len);

    out->len = p - out->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_auth_oidc_session_key(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *id, ngx_str_t *key)
{
    u_char  *p;

    key->len = prov->name.len + 1 + id->len;

    p = ngx_pnalloc(r->pool, key->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, prov->name.data, prov->name.len);
    *p++ = '\n';
    ngx_memcpy(p, id->data, id->len);

    return NGX_OK;
}


/* 256 bits from OpenSSL's CSPRNG, base64url: state, nonce, ids. */

ngx_int_t
ngx_http_auth_oidc_random_id(ngx_pool_t *pool, ngx_str_t *id)
{
    u_char  bytes[NGX_HTTP_AUTH_OIDC_ID_BYTES];

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return NGX_ERROR;
    }

    id->len = AUTH_OIDC_BASE64URL_LEN(sizeof(bytes));
    id->data = ngx_pnalloc(pool, id->len);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_base64url_encode(bytes, sizeof(bytes), id->data, id->len)
        != id->len)
    {
        return NGX_ERROR;
    }

    ngx_explicit_memzero(bytes, sizeof(bytes));

    return NGX_OK;
}


/*
 * NULL: authentication is off for this request (the value is "off");
 * NGX_CONF_UNSET_PTR: a configuration error, already logged.
 */

static ngx_http_auth_oidc_provider_conf_t *
ngx_http_auth_oidc_provider(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf)
{
    ngx_str_t                            name;
    ngx_http_auth_oidc_main_conf_t      *amcf;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    if (alcf->provider) {
        return alcf->provider;
    }

    if (ngx_http_complex_value(r, alcf->provider_name, &name) != NGX_OK) {
        return NGX_CONF_UNSET_PTR;
    }

    /* only an explicit "off" turns authentication off: empty fails closed */
    if (name.len == 3 && ngx_strncmp(name.data, "off", 3) == 0) {
        return NULL;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_oidc_module);

    prov = ngx_http_auth_oidc_provider_find(amcf, &name);

    if (prov == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: unknown oidc_provider \"%V\"", &name);
        return NGX_CONF_UNSET_PTR;
    }

    return prov;
}
