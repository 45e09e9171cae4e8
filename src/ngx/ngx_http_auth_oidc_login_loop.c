
/*
 * Login loops: a browser that is sent to log in again and again because
 * its session cookie never comes back (the callback on another host, a
 * session store each host keeps to itself, Secure cookies over http, a
 * proxy or the app dropping the cookie) would bounce between nginx and the
 * provider for ever, the provider's single sign-on answering at once. Each
 * login start counts itself in a cookie of the browser's; the one after
 * NGX_HTTP_AUTH_OIDC_LOOP_LOGINS in NGX_HTTP_AUTH_OIDC_LOOP_WINDOW seconds
 * is not sent on: the browser gets a page that says what is likely wrong,
 * the error log says it with the fix, once per worker and provider. A
 * request with a session clears the count: people who log in often are
 * never stopped.
 */


#include "ngx_http_auth_oidc_module.h"


static const char *ngx_http_auth_oidc_login_loop_cause(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    const char **fix);


/*
 * NGX_DECLINED: the login goes on (its start counted); else the answer of
 * the access phase (the page sent, or a status).
 */

ngx_int_t
ngx_http_auth_oidc_login_loop(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char        *p, *dot, *last;
    time_t         now, first;
    ngx_int_t      count;
    ngx_str_t      name, value, detail;
    ngx_uint_t     i;
    const char    *cause, *fix;
    ngx_keyval_t  *cookies;

    name.len = prov->cookie_name.len + sizeof("_login_loop") - 1;
    name.data = ngx_pnalloc(r->pool, name.len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(name.data, prov->cookie_name.data,
                          prov->cookie_name.len),
               "_login_loop", sizeof("_login_loop") - 1);

    now = ngx_time();
    count = 0;
    first = now;

    /* "<count>.<first login's time>", as cookie_strip() found it */
    cookies = ctx->logins ? ctx->logins->elts : NULL;

    for (i = 0; cookies && i < ctx->logins->nelts; i++) {
        if (cookies[i].key.len != name.len
            || ngx_memcmp(cookies[i].key.data, name.data, name.len) != 0)
        {
            continue;
        }

        p = cookies[i].value.data;
        last = p + cookies[i].value.len;
        dot = p ? ngx_strlchr(p, last, '.') : NULL;

        if (dot) {
            count = ngx_atoi(p, dot - p);
            first = ngx_atotm(dot + 1, last - dot - 1);
        }

        if (count == NGX_ERROR || first == NGX_ERROR || first > now
            || now - first >= NGX_HTTP_AUTH_OIDC_LOOP_WINDOW)
        {
            count = 0;
            first = now;
        }
    }

    if (++count <= NGX_HTTP_AUTH_OIDC_LOOP_LOGINS) {
        value.data = ngx_pnalloc(r->pool, 2 * NGX_TIME_T_LEN + 1);
        if (value.data == NULL) {
            return NGX_ERROR;
        }

        value.len = ngx_sprintf(value.data, "%i.%T", count, first)
                    - value.data;

        return ngx_http_auth_oidc_login_loop_cookie(r, prov, &name, &value)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    /* stopped: the counter starts afresh, so that "Try again" tries */
    if (ngx_http_auth_oidc_login_loop_cookie(r, prov, &name, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    cause = ngx_http_auth_oidc_login_loop_cause(r, ctx, prov, &fix);

    if (!prov->loop_logged) {
        prov->loop_logged = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login loop stopped: "
                      "%i logins of one browser in %T s, its session "
                      "cookie \"%V\" never came back; likely %s; fix: %s",
                      &prov->name, count, now - first, &prov->cookie_name,
                      cause, fix);
    }

    detail.len = sizeof("You were sent to sign in several times in a row, "
                        "but the session never reached this site: ") - 1
                 + ngx_strlen(cause) + 1;
    detail.data = ngx_pnalloc(r->pool, detail.len);
    if (detail.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(detail.data, "You were sent to sign in several times in "
                    "a row, but the session never reached this site: %s.",
                    cause);
    detail.len = p - detail.data;

    /* 508 Loop Detected (RFC 5842, 7.2): the site's setup, not the user */
    return ngx_http_auth_oidc_phase_page(r, NGX_HTTP_AUTH_OIDC_LOOP_DETECTED,
                                         "Login loop stopped", &detail, NULL);
}


/*
 * A request with a session: the logins before it were no loop. The
 * counter, when the browser sent one, is cleared (nothing to do, and no
 * cost, for a browser without login cookies: the hot path).
 */

ngx_int_t
ngx_http_auth_oidc_login_loop_reset(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t      name;
    ngx_uint_t     i;
    ngx_keyval_t  *cookies;

    if (ctx->logins == NULL) {
        return NGX_OK;
    }

    cookies = ctx->logins->elts;

    for (i = 0; i < ctx->logins->nelts; i++) {
        if (cookies[i].key.len == prov->cookie_name.len
                                  + sizeof("_login_loop") - 1
            && ngx_strncmp(cookies[i].key.data + prov->cookie_name.len,
                           "_login_loop", sizeof("_login_loop") - 1) == 0)
        {
            name = cookies[i].key;
            return ngx_http_auth_oidc_login_loop_cookie(r, prov, &name, NULL);
        }
    }

    return NGX_OK;
}


/*
 * The likely cause, as the request shows it, and its fix. (A cookie that
 * never reaches nginx at all, such as a Secure one over http or one of
 * another host, makes the callback fail first, for want of the login's
 * cookie: no loop.)
 */

static const char *
ngx_http_auth_oidc_login_loop_cause(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    const char **fix)
{
    if (ctx->stale_cookie) {
        *fix = "several nginx hosts behind one load balancer need one shared "
               "session store (oidc_session_store NAME redis=...); a zone "
               "that evicts sessions needs a larger size= (oidc_status: "
               "evicted_sessions)";
        return "the session cookie comes back, but this server's session "
               "store does not know its session";
    }

    *fix = "look for what drops the session cookie but not the login's: a "
           "CDN or proxy that passes only some cookies, an app that sets or "
           "clears a cookie of the same name, a browser extension";
    return "the browser does not send the session cookie back";
}
