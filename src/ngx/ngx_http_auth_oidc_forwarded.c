
/*
 * Behind a proxy that ends TLS: the scheme and host the browser used, as
 * the proxy forwards them (RFC 7239 "Forwarded: proto=https;host=...", or
 * X-Forwarded-Proto and X-Forwarded-Host), believed only from the
 * addresses auth_oidc_forwarded_from lists, as set_real_ip_from does for
 * the client's address. Our absolute URLs (redirect_uri, post-logout, the
 * origin a logout POST must come from) and the cookie's Secure flag follow
 * them. Anyone else's headers are ignored: a client must not choose where
 * the provider sends codes, nor turn Secure off.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_uint_t ngx_http_auth_oidc_forwarded_trusted(ngx_http_request_t *r,
    ngx_http_auth_oidc_srv_conf_t *ascf);
static void ngx_http_auth_oidc_forwarded_rfc7239(ngx_str_t *value,
    ngx_http_auth_oidc_forwarded_t *fwd);
static ngx_str_t ngx_http_auth_oidc_forwarded_last(ngx_http_request_t *r,
    const char *name, size_t len);
static void ngx_http_auth_oidc_forwarded_host(ngx_str_t *value,
    ngx_http_auth_oidc_forwarded_t *fwd);


/*
 * "auth_oidc_forwarded_from 10.0.0.0/8;" (http, server), once per address,
 * network or "unix:". With set_real_ip_from the proxy's address is
 * $realip_remote_addr, which nginx keeps apart from the client's.
 */

char *
ngx_http_auth_oidc_forwarded_from(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_srv_conf_t *ascf = conf;

    ngx_int_t                   rc;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_cidr_t                 *cidr;
    ngx_hash_key_t             *key;
    ngx_http_core_main_conf_t  *cmcf;

    static ngx_str_t  realip = ngx_string("realip_remote_addr");

    value = cf->args->elts;

    if (ascf->forwarded_from == NULL) {
        ascf->forwarded_from = ngx_array_create(cf->pool, 2,
                                                sizeof(ngx_cidr_t));
        if (ascf->forwarded_from == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cidr = ngx_array_push(ascf->forwarded_from);
    if (cidr == NULL) {
        return NGX_CONF_ERROR;
    }

#if (NGX_HAVE_UNIX_DOMAIN)
    if (value[1].len == 5 && ngx_strcmp(value[1].data, "unix:") == 0) {
        cidr->family = AF_UNIX;
        goto realip;
    }
#endif

    rc = ngx_ptocidr(&value[1], cidr);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address \"%V\" in "
                           "auth_oidc_forwarded_from", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DONE) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "low address bits of %V are meaningless",
                           &value[1]);
    }

#if (NGX_HAVE_UNIX_DOMAIN)
realip:
#endif

    /* the variable exists only where nginx has the realip module */
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == realip.len
            && ngx_strncmp(key[i].key.data, realip.data, realip.len) == 0)
        {
            ascf->realip_index = ngx_http_get_variable_index(cf, &realip);
            if (ascf->realip_index == NGX_ERROR) {
                return NGX_CONF_ERROR;
            }

            break;
        }
    }

    return NGX_CONF_OK;
}


/*
 * What a trusted proxy says the browser used: NGX_OK with fwd->https
 * (-1 when not said) and fwd->host, fwd->port (empty when not said; the
 * host is not checked here: the caller uses it only when this server
 * serves it); NGX_DECLINED when the request did not come from one.
 */

ngx_int_t
ngx_http_auth_oidc_forwarded(ngx_http_request_t *r,
    ngx_http_auth_oidc_forwarded_t *fwd)
{
    ngx_str_t                       value;
    ngx_http_auth_oidc_srv_conf_t  *ascf;

    ngx_memzero(fwd, sizeof(ngx_http_auth_oidc_forwarded_t));
    fwd->https = -1;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_auth_oidc_module);

    if (ascf->forwarded_from == NULL
        || !ngx_http_auth_oidc_forwarded_trusted(r, ascf))
    {
        return NGX_DECLINED;
    }

    /* the element our proxy added is the last one */
    value = ngx_http_auth_oidc_forwarded_last(r, "Forwarded",
                                              sizeof("Forwarded") - 1);
    if (value.data) {
        ngx_http_auth_oidc_forwarded_rfc7239(&value, fwd);
        return NGX_OK;
    }

    value = ngx_http_auth_oidc_forwarded_last(r, "X-Forwarded-Proto",
                                        sizeof("X-Forwarded-Proto") - 1);

    if (value.len == 5 && ngx_strncasecmp(value.data, (u_char *) "https", 5)
                          == 0)
    {
        fwd->https = 1;

    } else if (value.len == 4
               && ngx_strncasecmp(value.data, (u_char *) "http", 4) == 0)
    {
        fwd->https = 0;
    }

    value = ngx_http_auth_oidc_forwarded_last(r, "X-Forwarded-Host",
                                        sizeof("X-Forwarded-Host") - 1);
    ngx_http_auth_oidc_forwarded_host(&value, fwd);

    return NGX_OK;
}


/* The address the request came from is a proxy the operator listed. */

static ngx_uint_t
ngx_http_auth_oidc_forwarded_trusted(ngx_http_request_t *r,
    ngx_http_auth_oidc_srv_conf_t *ascf)
{
    ngx_addr_t                  addr;
    struct sockaddr            *sa;
    ngx_http_variable_value_t  *vv;

    sa = r->connection->sockaddr;

    if (ascf->realip_index != NGX_CONF_UNSET && ascf->realip_index >= 0) {
        /* set_real_ip_from may have replaced it with the client's */
        vv = ngx_http_get_indexed_variable(r, ascf->realip_index);

        if (vv && !vv->not_found && vv->len
            && !(vv->len == 5 && ngx_strncmp(vv->data, "unix:", 5) == 0))
        {
            if (ngx_parse_addr(r->pool, &addr, vv->data, vv->len) != NGX_OK) {
                return 0;
            }

            sa = addr.sockaddr;
        }
    }

    return ngx_cidr_match(sa, ascf->forwarded_from) == NGX_OK;
}


/*
 * The last comma-separated element of the last header called name; data
 * NULL when there is no such header.
 */

static ngx_str_t
ngx_http_auth_oidc_forwarded_last(ngx_http_request_t *r, const char *name,
    size_t len)
{
    u_char                            *p, *start, *end;
    ngx_str_t                          value;
    ngx_table_elt_t                   *h, *last;
    ngx_http_auth_oidc_header_iter_t   it;

    ngx_memzero(&it, sizeof(ngx_http_auth_oidc_header_iter_t));
    last = NULL;

    while ((h = ngx_http_auth_oidc_header_next(r, &it, name, len)) != NULL) {
        last = h;
    }

    ngx_str_null(&value);

    if (last == NULL) {
        return value;
    }

    start = last->value.data;
    end = start + last->value.len;

    for (p = end; p > start && p[-1] != ','; p--) { /* void */ }

    start = p;

    while (start < end && (*start == ' ' || *start == '\t')) {
        start++;
    }

    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    value.data = start;
    value.len = end - start;

    return value;
}


/*
 * An RFC 7239 element: pairs "name=value" separated by ";", values tokens
 * or quoted strings (a quoted host may carry a port or an IPv6 address).
 * proto= and host= are read; anything malformed is ignored.
 */

static void
ngx_http_auth_oidc_forwarded_rfc7239(ngx_str_t *value,
    ngx_http_auth_oidc_forwarded_t *fwd)
{
    u_char     *p, *end, *name, *eq, *v, *vend;
    ngx_str_t   pair;

    p = value->data;
    end = p + value->len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == ';')) {
            p++;
        }

        name = p;
        eq = ngx_strlchr(p, end, '=');

        if (eq == NULL) {
            return;
        }

        v = eq + 1;

        if (v < end && *v == '"') {
            /* a quoted string, without escapes in what we read */
            v++;
            vend = ngx_strlchr(v, end, '"');
            if (vend == NULL) {
                return;
            }

            p = vend + 1;

        } else {
            vend = ngx_strlchr(v, end, ';');
            if (vend == NULL) {
                vend = end;
            }

            p = vend;
        }

        pair.data = v;
        pair.len = vend - v;

        if (eq - name == 5 && ngx_strncasecmp(name, (u_char *) "proto", 5)
                              == 0)
        {
            if (pair.len == 5
                && ngx_strncasecmp(pair.data, (u_char *) "https", 5) == 0)
            {
                fwd->https = 1;

            } else if (pair.len == 4
                       && ngx_strncasecmp(pair.data, (u_char *) "http", 4)
                          == 0)
            {
                fwd->https = 0;
            }

        } else if (eq - name == 4
                   && ngx_strncasecmp(name, (u_char *) "host", 4) == 0)
        {
            ngx_http_auth_oidc_forwarded_host(&pair, fwd);
        }
    }
}


/* "app.example.com", "app.example.com:8443", "[::1]:8443": name and port. */

static void
ngx_http_auth_oidc_forwarded_host(ngx_str_t *value,
    ngx_http_auth_oidc_forwarded_t *fwd)
{
    u_char     *p, *end, *colon;
    ngx_int_t   port;

    if (value->len == 0) {
        return;
    }

    p = value->data;
    end = p + value->len;

    if (*p == '[') {
        /* an IPv6 address: up to its "]" */
        colon = ngx_strlchr(p, end, ']');
        if (colon == NULL) {
            return;
        }

        colon++;

    } else {
        colon = ngx_strlchr(p, end, ':');
        if (colon == NULL) {
            colon = end;
        }
    }

    if (colon < end) {
        if (*colon != ':') {
            return;
        }

        port = ngx_atoi(colon + 1, end - colon - 1);
        if (port <= 0 || port > 65535) {
            return;
        }

        fwd->port.data = colon + 1;
        fwd->port.len = end - colon - 1;
    }

    fwd->host.data = p;
    fwd->host.len = colon - p;
}
