
/*
 * Login loops: a browser that is sent to log in again and again because
 * its session cookie never comes back (the callback on another host, a
 * session store each host keeps to itself, Secure cookies over http, a
 * proxy or the app dropping the cookie) would bounce between nginx and the
 * provider for ever, the provider's single sign-on answering at once. Each
 * login done (its callback) counts itself in a cookie of the browser's; a
 * login start after NGX_HTTP_AUTH_OIDC_LOOP_LOGINS of them in
 * NGX_HTTP_AUTH_OIDC_LOOP_WINDOW seconds is not sent on: the browser gets a
 * page that says what is likely wrong, the error log says it with the fix,
 * once per worker and provider. A request with a session clears the count:
 * people who log in often, or open many tabs at once, are never stopped.
 */


#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_login_loop_parse(ngx_str_t *value,
    time_t now, time_t *first);
static ngx_keyval_t *ngx_http_auth_oidc_login_loop_find(
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
static const char *ngx_http_auth_oidc_login_loop_cause(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    const char **fix);


/*
 * "<count>.<the first login's time>": the logins completed in the window,
 * 0 (and now) when there is none or it is over.
 */

static ngx_int_t
ngx_http_auth_oidc_login_loop_parse(ngx_str_t *value, time_t now,
    time_t *first)
{
    u_char     *dot;
    ngx_int_t   count;

    dot = value->len ? ngx_strlchr(value->data, value->data + value->len, '.')
                     : NULL;

    if (dot) {
        count = ngx_atoi(value->data, dot - value->data);
        *first = ngx_atotm(dot + 1, value->data + value->len - dot - 1);

        if (count != NGX_ERROR && *first != NGX_ERROR && *first <= now
            && now - *first < NGX_HTTP_AUTH_OIDC_LOOP_WINDOW)
        {
            return count;
        }
    }

    *first = now;

    return 0;
}


/* At a login's callback, done: one more in the window. */

ngx_int_t
ngx_http_auth_oidc_login_loop_count(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    time_t     first;
    ngx_int_t  count;
    ngx_str_t  value;

    if (ngx_http_auth_oidc_cookie_get(r, &prov->loop_cookie, &value)
        != NGX_OK)
    {
        value.len = 0;
    }

    count = ngx_http_auth_oidc_login_loop_parse(&value, ngx_time(), &first);

    value.data = ngx_pnalloc(r->pool, 2 * NGX_TIME_T_LEN + 1);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%i.%T", count + 1, first)
                - value.data;

    return ngx_http_auth_oidc_login_loop_cookie(r, prov, &value);
}


/*
 * At a login's start: NGX_DECLINED when it goes on, else the access
 * phase's answer (the page sent, or a status).
 */

ngx_int_t
ngx_http_auth_oidc_login_loop(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char        *p;
    time_t         now, first;
    ngx_int_t      count;
    ngx_str_t      detail;
    const char    *cause, *fix;
    ngx_keyval_t  *counter;

    /* as cookie_strip() found it */
    counter = ngx_http_auth_oidc_login_loop_find(ctx, prov);
    if (counter == NULL) {
        return NGX_DECLINED;
    }

    now = ngx_time();
    count = ngx_http_auth_oidc_login_loop_parse(&counter->value, now, &first);

    if (count < NGX_HTTP_AUTH_OIDC_LOOP_LOGINS) {
        return NGX_DECLINED;
    }

    /* stopped: the count starts afresh, so that "Sign in again" tries */
    if (ngx_http_auth_oidc_login_loop_cookie(r, prov, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    cause = ngx_http_auth_oidc_login_loop_cause(r, ctx, prov, &fix);

    if (!prov->loop_logged) {
        prov->loop_logged = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login loop stopped: "
                      "%i logins of one browser done in %T s, its session "
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
    if (ngx_http_auth_oidc_login_loop_find(ctx, prov) == NULL) {
        return NGX_OK;
    }

    return ngx_http_auth_oidc_login_loop_cookie(r, prov, NULL);
}


/* The counter among the cookies of ours the request brought, or NULL. */

static ngx_keyval_t *
ngx_http_auth_oidc_login_loop_find(ngx_http_auth_oidc_ctx_t *ctx,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_uint_t     i;
    ngx_keyval_t  *cookies;

    if (ctx->logins == NULL) {
        return NULL;
    }

    cookies = ctx->logins->elts;

    for (i = 0; i < ctx->logins->nelts; i++) {
        if (cookies[i].key.len == prov->loop_cookie.len
            && ngx_memcmp(cookies[i].key.data, prov->loop_cookie.data,
                          prov->loop_cookie.len)
               == 0)
        {
            return &cookies[i];
        }
    }

    return NULL;
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
    if (ctx->stale_cookie
        && prov->store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE)
    {
        *fix = "every host of the cookie store needs the same secret_file= "
               "(and previous_secret_file= during a rotation); a cookie of "
               "another provider or client_id of the same cookie_name does "
               "not open either: give each its own cookie_name";
        return "the session cookie comes back, but does not open here";
    }

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
