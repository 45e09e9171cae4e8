
/*
 * The session cookie: read from the request, removed from what goes
 * upstream, and set (or cleared) in the answer.
 */


#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_cookie_add(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *name,
    ngx_str_t *value, ngx_str_t *path, time_t max_age);
static ngx_table_elt_t *ngx_http_auth_oidc_cookie_header(
    ngx_http_request_t *r, ngx_http_auth_oidc_header_iter_t *it);
static u_char *ngx_http_auth_oidc_cookie_next(u_char *p, u_char *last,
    ngx_str_t *name, ngx_str_t *value);
static ngx_uint_t ngx_http_auth_oidc_cookie_ours(ngx_str_t *n,
    ngx_str_t *name);
static ngx_uint_t ngx_http_auth_oidc_cookie_is_part(ngx_str_t *n,
    ngx_str_t *name);
static ngx_int_t ngx_http_auth_oidc_cookie_parts_clear(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t from);


/*
 * The value of the cookie called name, in any Cookie header. Two different
 * values mean that another site of the domain set one ("cookie tossing"):
 * neither is trusted.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_get(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    u_char                            *p, *last;
    ngx_str_t                          n, v, found;
    ngx_table_elt_t                   *h;
    ngx_http_auth_oidc_header_iter_t   it;

    ngx_memzero(&it, sizeof(ngx_http_auth_oidc_header_iter_t));
    ngx_str_null(&found);

    while ((h = ngx_http_auth_oidc_cookie_header(r, &it)) != NULL) {

        p = h->value.data;
        last = p + h->value.len;

        while (p < last) {
            p = ngx_http_auth_oidc_cookie_next(p, last, &n, &v);

            if (n.len != name->len
                || ngx_memcmp(n.data, name->data, n.len) != 0
                || v.len == 0)
            {
                continue;
            }

            if (found.len
                && (found.len != v.len
                    || ngx_memcmp(found.data, v.data, v.len) != 0))
            {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "auth_oidc: two different \"%V\" cookies, "
                              "neither is used", name);
                return NGX_DECLINED;
            }

            found = v;
        }
    }

    if (found.len == 0) {
        return NGX_DECLINED;
    }

    *value = found;

    return NGX_OK;
}


/*
 * Rewrites every Cookie header without our cookies (the session's, and the
 * started logins' "<name>_login_..." that a "__Host-" name sends on every
 * path), so that the session id never reaches the app (which could replay
 * it). A header left empty stays
 * as an empty value: nginx's header lists cannot drop an element.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_strip(ngx_http_request_t *r, ngx_str_t *name,
    ngx_array_t **logins)
{
    ngx_keyval_t                      *login;

    u_char                            *p, *last, *d, *out;
    ngx_str_t                          n, v;
    ngx_uint_t                         found;
    ngx_table_elt_t                   *h;
    ngx_http_auth_oidc_header_iter_t   it;

    ngx_memzero(&it, sizeof(ngx_http_auth_oidc_header_iter_t));

    while ((h = ngx_http_auth_oidc_cookie_header(r, &it)) != NULL) {

        p = h->value.data;
        last = p + h->value.len;
        found = 0;

        while (p < last) {
            p = ngx_http_auth_oidc_cookie_next(p, last, &n, &v);

            if (ngx_http_auth_oidc_cookie_ours(&n, name)) {
                found = 1;
                break;
            }
        }

        if (!found) {
            continue;
        }

        /* a kept pair may gain a space after its ";": room for twice */
        out = ngx_pnalloc(r->pool, 2 * h->value.len);
        if (out == NULL) {
            return NGX_ERROR;
        }

        d = out;
        p = h->value.data;

        while (p < last) {
            p = ngx_http_auth_oidc_cookie_next(p, last, &n, &v);

            if (ngx_http_auth_oidc_cookie_ours(&n, name)) {

                /* the started logins' names, for the next login start;
                 * they stay in the header's old value, in the pool */
                if (logins && n.len != name->len
                    && !ngx_http_auth_oidc_cookie_is_part(&n, name))
                {
                    if (*logins == NULL) {
                        *logins = ngx_array_create(r->pool, 4,
                                                   sizeof(ngx_keyval_t));
                        if (*logins == NULL) {
                            return NGX_ERROR;
                        }
                    }

                    login = ngx_array_push(*logins);
                    if (login == NULL) {
                        return NGX_ERROR;
                    }

                    login->key = n;
                    login->value = v;
                }

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

        h->value.data = out;
        h->value.len = d - out;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_auth_oidc_cookie_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *value,
    ngx_uint_t clear)
{
    static ngx_str_t  root = ngx_string("/");

    if (prov->store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
        if (!clear) {
            /* the session's cookies were written with its record */
            return NGX_OK;
        }

        if (ngx_http_auth_oidc_cookie_parts_clear(r, prov, 2) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* a session cookie: the session's own lifetime is kept server-side */
    return ngx_http_auth_oidc_cookie_add(r, prov, &prov->cookie_name,
                                         clear ? NULL : value, &root,
                                         clear ? 0 : -1);
}


/*
 * The cookie store's sealed text in parts of at most part characters (nine
 * at most): "<name>" gets "<parts>." and the first, "<name>_2" on the
 * others; parts the request had beyond these are cleared.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_parts_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *text, size_t part)
{
    u_char      *p;
    ngx_str_t   *name, value;
    ngx_uint_t   parts, i;

    static ngx_str_t  root = ngx_string("/");

    parts = (text->len + part - 1) / part;

    for (i = 1; i <= parts; i++) {
        value.data = text->data + (i - 1) * part;
        value.len = ngx_min(part, (size_t) (text->data + text->len
                                            - value.data));

        if (i == 1) {
            /* "<parts>." before the first part */
            p = ngx_pnalloc(r->pool, 2 + value.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            p[0] = (u_char) ('0' + parts);
            p[1] = '.';
            ngx_memcpy(p + 2, value.data, value.len);
            value.data = p;
            value.len += 2;
            name = &prov->cookie_name;

        } else {
            name = &prov->cookie_parts[i];
        }

        if (ngx_http_auth_oidc_cookie_add(r, prov, name, &value, &root, -1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_auth_oidc_cookie_parts_clear(r, prov, parts + 1);
}


/* Clears the parts "<name>_<from>" to "<name>_9" the request carries. */

static ngx_int_t
ngx_http_auth_oidc_cookie_parts_clear(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t from)
{
    ngx_str_t   value;
    ngx_uint_t  i;

    static ngx_str_t  root = ngx_string("/");

    for (i = ngx_max(from, 2); i <= NGX_HTTP_AUTH_OIDC_COOKIE_PARTS; i++) {
        if (ngx_http_auth_oidc_cookie_get(r, &prov->cookie_parts[i], &value)
            == NGX_OK
            && ngx_http_auth_oidc_cookie_add(r, prov, &prov->cookie_parts[i],
                                             NULL, &root, 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The cookie that ties a started login to the browser that started it: a
 * callback whose state was begun elsewhere (login CSRF, an injected code)
 * is refused. Its name carries part of the state, so that several logins
 * in several tabs each have their own.
 */

ngx_int_t
ngx_http_auth_oidc_login_cookie_name(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *name)
{
    u_char  *p;

    if (state->len < NGX_HTTP_AUTH_OIDC_STATE_PART) {
        return NGX_DECLINED;
    }

    name->len = prov->cookie_name.len + sizeof("_login_") - 1
                + NGX_HTTP_AUTH_OIDC_STATE_PART;

    p = ngx_pnalloc(r->pool, name->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    name->data = p;
    p = ngx_cpymem(p, prov->cookie_name.data, prov->cookie_name.len);
    p = ngx_cpymem(p, "_login_", sizeof("_login_") - 1);
    ngx_memcpy(p, state->data, NGX_HTTP_AUTH_OIDC_STATE_PART);

    return NGX_OK;
}


/*
 * value: the sealed started login, or NULL to clear the cookie. Its path is
 * "/" (a "__Host-" name must have it, RFC 6265bis, 4.1.3.2, and so the next
 * login start sees how many are pending: see login_cookies_prune()); it is
 * removed from what goes upstream like the session cookie.
 */

ngx_int_t
ngx_http_auth_oidc_login_cookie_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *value)
{
    ngx_str_t  name;

    static ngx_str_t  root = ngx_string("/");

    if (ngx_http_auth_oidc_login_cookie_name(r, prov, state, &name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_auth_oidc_cookie_add(r, prov, &name, value, &root,
                                         value ? prov->login_timeout : 0);
}


/* The login loop's counter (ngx_http_auth_oidc_login_loop.c); value NULL
 * clears it. */

ngx_int_t
ngx_http_auth_oidc_login_loop_cookie(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *value)
{
    static ngx_str_t  root = ngx_string("/");

    return ngx_http_auth_oidc_cookie_add(r, prov, &prov->loop_cookie, value,
                                         &root,
                                         value ? NGX_HTTP_AUTH_OIDC_LOOP_WINDOW
                                               : 0);
}


/*
 * Every login start adds a cookie of a few hundred bytes for
 * login_timeout; abandoned ones (tabs, or a hostile page opening protected
 * URLs) would grow every request's Cookie header past nginx's header
 * buffer and lock the user out. When the request already carries max of
 * this provider's (logins: what cookie_strip() took out of the request),
 * they are all cleared: an older login still open in another tab then has
 * to start again.
 */

ngx_int_t
ngx_http_auth_oidc_login_cookies_prune(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_array_t *logins,
    ngx_uint_t max)
{
    size_t         len;
    ngx_uint_t     i, n;
    ngx_keyval_t  *cookies;

    static ngx_str_t  root = ngx_string("/");

    if (logins == NULL) {
        return NGX_OK;
    }

    /* started logins' cookies only: not the login loop's counter */
    len = prov->cookie_name.len + sizeof("_login_") - 1
          + NGX_HTTP_AUTH_OIDC_STATE_PART;
    cookies = logins->elts;

    for (i = 0, n = 0; i < logins->nelts; i++) {
        n += (cookies[i].key.len == len);
    }

    if (n < max) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "auth_oidc: provider \"%V\": %ui logins pending in this "
                  "browser, the older ones cleared", &prov->name, n);

    for (i = 0; i < logins->nelts; i++) {
        if (cookies[i].key.len != len) {
            continue;
        }

        if (ngx_http_auth_oidc_cookie_add(r, prov, &cookies[i].key, NULL,
                                          &root, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_auth_oidc_cookie_prefixed(ngx_str_t *name, const char *prefix)
{
    size_t  len;

    len = ngx_strlen(prefix);

    return name->len > len
           && ngx_strncasecmp(name->data, (u_char *) prefix, len) == 0;
}


/* max_age: -1 none (ends with the browser), 0 deletes the cookie. */

static ngx_int_t
ngx_http_auth_oidc_cookie_add(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *name,
    ngx_str_t *value, ngx_str_t *path, time_t max_age)
{
    u_char                          *p;
    size_t                           len;
    ngx_str_t                        empty;
    ngx_uint_t                       secure;
    ngx_table_elt_t                 *h;
    ngx_http_auth_oidc_forwarded_t   fwd;

    secure = (prov->cookie_secure == 1);

#if (NGX_HTTP_SSL)
    if (prov->cookie_secure == NGX_CONF_UNSET && r->connection->ssl) {
        secure = 1;
    }
#endif

    /* browsers keep "__Host-" and "__Secure-" cookies only when Secure */
    if (ngx_http_auth_oidc_cookie_prefixed(name, "__Host-")
        || ngx_http_auth_oidc_cookie_prefixed(name, "__Secure-"))
    {
        secure = 1;
    }

    /* an absolute https redirect_uri: a TLS terminator is in front */
    if (prov->cookie_secure == NGX_CONF_UNSET
        && prov->redirect_uri.len > 8
        && ngx_strncasecmp(prov->redirect_uri.data, (u_char *) "https://", 8)
           == 0)
    {
        secure = 1;
    }

    /* a trusted proxy says the browser speaks https */
    if (prov->cookie_secure == NGX_CONF_UNSET && !secure
        && ngx_http_auth_oidc_forwarded(r, &fwd) == NGX_OK && fwd.https == 1)
    {
        secure = 1;
    }

    ngx_str_null(&empty);

    if (value == NULL) {
        value = &empty;
    }

    len = name->len + 1 + value->len + sizeof("; Path=") - 1 + path->len
          + sizeof("; Domain=") - 1 + prov->cookie_domain.len
          + sizeof("; HttpOnly; SameSite=Lax; Secure; Max-Age=") - 1
          + NGX_TIME_T_LEN;

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

    p = ngx_sprintf(p, "%V=%V; Path=%V; HttpOnly; SameSite=Lax",
                    name, value, path);

    /* one login for the hosts under it; deleted where it was set */
    if (prov->cookie_domain.len) {
        p = ngx_sprintf(p, "; Domain=%V", &prov->cookie_domain);
    }

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (max_age >= 0) {
        p = ngx_sprintf(p, "; Max-Age=%T", max_age);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/* The session cookie, one of its parts, or one of its started logins. */

static ngx_uint_t
ngx_http_auth_oidc_cookie_ours(ngx_str_t *n, ngx_str_t *name)
{
    if (n->len < name->len
        || ngx_memcmp(n->data, name->data, name->len) != 0)
    {
        return 0;
    }

    return n->len == name->len
           || ngx_http_auth_oidc_cookie_is_part(n, name)
           || (n->len > name->len + sizeof("_login_") - 1
               && ngx_memcmp(n->data + name->len, "_login_",
                             sizeof("_login_") - 1)
                  == 0);
}


/* "<name>_2" to "<name>_9": a part of a cookie store's session (one digit:
 * NGX_HTTP_AUTH_OIDC_COOKIE_PARTS is 9) */

static ngx_uint_t
ngx_http_auth_oidc_cookie_is_part(ngx_str_t *n, ngx_str_t *name)
{
    return n->len == name->len + 2 && n->data[name->len] == '_'
           && n->data[name->len + 1] >= '2' && n->data[name->len + 1] <= '9';
}


static ngx_table_elt_t *
ngx_http_auth_oidc_cookie_header(ngx_http_request_t *r,
    ngx_http_auth_oidc_header_iter_t *it)
{
    return ngx_http_auth_oidc_header_next(r, it, "Cookie",
                                          sizeof("Cookie") - 1);
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
