
/*
 * Where and how the module talks to a provider at run time: URLs parsed
 * into targets (syntax only, safe on the event loop), endpoints from the
 * discovery document checked against what may be reached without a
 * resolver, and the one setup of every HTTP request to the provider.
 * (The oidc_provider{} block itself is ngx_http_auth_oidc_provider.c.)
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"


/*
 * Parses an absolute http(s) URL into a target. Only syntax: no name is
 * looked up, so this is safe on the event loop (jwks_uri at run time).
 */

ngx_int_t
ngx_http_auth_oidc_target_parse(ngx_pool_t *pool, ngx_str_t *url,
    ngx_http_auth_oidc_target_t *t, u_char *err, size_t err_len)
{
    u_char     *p, *last;
    size_t      skip;
    ngx_url_t   u;
    ngx_uint_t  i;

    ngx_memzero(t, sizeof(ngx_http_auth_oidc_target_t));
    ngx_memzero(&u, sizeof(ngx_url_t));

    for (i = 0; i < url->len; i++) {
        if (url->data[i] <= ' ' || url->data[i] == 0x7f
            || url->data[i] == '#')
        {
            ngx_snprintf(err, err_len, "URL has a space, control character "
                         "or fragment%Z");
            return NGX_ERROR;
        }
    }

    if (url->len > 8 && ngx_strncasecmp(url->data, (u_char *) "https://", 8)
                        == 0)
    {
        skip = 8;
        t->ssl = 1;
        u.default_port = 443;

    } else if (url->len > 7
               && ngx_strncasecmp(url->data, (u_char *) "http://", 7) == 0)
    {
        skip = 7;
        u.default_port = 80;

    } else {
        ngx_snprintf(err, err_len, "an absolute http:// or https:// URL "
                     "is expected%Z");
        return NGX_ERROR;
    }

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.uri_part = 1;
    u.no_resolve = 1;

    last = u.url.data + u.url.len;
    for (p = u.url.data; p < last && *p != '/' && *p != '?'; p++) {
        if (*p == '@') {
            ngx_snprintf(err, err_len, "user information in a URL is not "
                         "supported%Z");
            return NGX_ERROR;
        }
    }

    if (u.url.len >= 5 && ngx_strncasecmp(u.url.data, (u_char *) "unix:", 5)
                          == 0)
    {
        ngx_snprintf(err, err_len, "unix sockets are not supported%Z");
        return NGX_ERROR;
    }

    if (ngx_parse_url(pool, &u) != NGX_OK) {
        ngx_snprintf(err, err_len, "%s%Z", u.err ? u.err : "bad URL");
        return NGX_ERROR;
    }

    if (u.host.len == 0) {
        ngx_snprintf(err, err_len, "no host%Z");
        return NGX_ERROR;
    }

    t->url = *url;
    t->port = u.port;
    t->host = u.host;

    /* ngx_parse_url() keeps IPv6 brackets in the host; SNI and checks not */
    t->host_is_ip = (u.naddrs > 0);

    if (t->host.len > 2 && t->host.data[0] == '[') {
        t->host.data++;
        t->host.len -= 2;
    }

    t->host_header.data = u.url.data;
    t->host_header.len = (u.uri.len ? u.uri.data : last) - u.url.data;

    if (u.uri.len == 0) {
        ngx_str_set(&t->uri, "/");

    } else if (u.uri.data[0] == '?') {
        t->uri.len = u.uri.len + 1;
        t->uri.data = ngx_pnalloc(pool, t->uri.len);
        if (t->uri.data == NULL) {
            ngx_snprintf(err, err_len, "out of memory%Z");
            return NGX_ERROR;
        }

        t->uri.data[0] = '/';
        ngx_memcpy(t->uri.data + 1, u.uri.data, u.uri.len);

    } else {
        t->uri = u.uri;
    }

    if (u.naddrs) {
        t->addrs = u.addrs;
        t->naddrs = u.naddrs;
    }

    return NGX_OK;
}


/*
 * Where to connect for an endpoint the discovery document names (jwks_uri,
 * token_endpoint, ...). Without a resolver only names known at start (the
 * hosts of issuer and config_url) or IP addresses can be used: the system
 * resolver would block the worker. After an https discovery, endpoints
 * over plain http are refused: anyone on the path could answer them.
 */

ngx_int_t
ngx_http_auth_oidc_endpoint_target(ngx_pool_t *pool,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_str_t uri,
    const char *what, ngx_http_auth_oidc_target_t *t, u_char *err,
    size_t err_len)
{
    u_char                        msg[NGX_MAX_CONF_ERRSTR];
    ngx_str_t                     url;
    ngx_uint_t                    i, k;
    struct sockaddr              *sa;
    ngx_http_auth_oidc_target_t  *known[2];

    url.len = uri.len;
    url.data = ngx_pnalloc(pool, uri.len);
    if (url.data == NULL) {
        ngx_snprintf(err, err_len, "out of memory%Z");
        return NGX_ERROR;
    }

    ngx_memcpy(url.data, uri.data, uri.len);

    if (ngx_http_auth_oidc_target_parse(pool, &url, t, msg, sizeof(msg))
        != NGX_OK)
    {
        ngx_snprintf(err, err_len, "invalid %s \"%V\": %s%Z",
                     what, &url, msg);
        return NGX_ERROR;
    }

    if (!t->ssl && prov->discovery_target.ssl) {
        ngx_snprintf(err, err_len, "%s \"%V\" is not https while discovery "
                     "is%Z", what, &url);
        return NGX_ERROR;
    }

    if (t->addrs || prov->resolver) {
        return NGX_OK;
    }

    known[0] = &prov->discovery_target;
    known[1] = &prov->issuer_target;

    for (k = 0; k < 2; k++) {
        if (known[k]->host.len != t->host.len
            || ngx_strncasecmp(known[k]->host.data, t->host.data,
                               t->host.len) != 0)
        {
            continue;
        }

        t->naddrs = known[k]->naddrs;
        t->addrs = ngx_palloc(pool, t->naddrs * sizeof(ngx_addr_t));
        if (t->addrs == NULL) {
            ngx_snprintf(err, err_len, "out of memory%Z");
            return NGX_ERROR;
        }

        for (i = 0; i < t->naddrs; i++) {
            t->addrs[i] = known[k]->addrs[i];

            sa = ngx_palloc(pool, t->addrs[i].socklen);
            t->addrs[i].name.data = ngx_pnalloc(pool, NGX_SOCKADDR_STRLEN);

            if (sa == NULL || t->addrs[i].name.data == NULL) {
                ngx_snprintf(err, err_len, "out of memory%Z");
                return NGX_ERROR;
            }

            ngx_memcpy(sa, t->addrs[i].sockaddr, t->addrs[i].socklen);
            ngx_inet_set_port(sa, t->port);
            t->addrs[i].sockaddr = sa;
            t->addrs[i].name.len = ngx_sock_ntop(sa, t->addrs[i].socklen,
                                                 t->addrs[i].name.data,
                                                 NGX_SOCKADDR_STRLEN, 1);
        }

        return NGX_OK;
    }

    ngx_snprintf(err, err_len, "%s host \"%V\" is not the issuer's host: "
                 "configure a \"resolver\" to reach it%Z", what, &t->host);

    return NGX_ERROR;
}


/*
 * Every request to a provider (discovery, keys, token endpoint) is set up
 * here: its TLS context, resolver, per-operation timeouts, a total deadline
 * that bounds a peer trickling bytes, and the answer's size cap.
 */

void
ngx_http_auth_oidc_provider_http_request(
    ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_http_request_t *req)
{
    ngx_memzero(req, sizeof(ngx_http_auth_oidc_http_request_t));

    req->ssl = prov->ssl;
    req->resolver = prov->resolver;
    req->resolver_timeout = prov->resolver_timeout;
    req->connect_timeout = prov->connect_timeout;
    req->send_timeout = prov->send_timeout;
    req->read_timeout = prov->read_timeout;
    req->total_timeout = ngx_http_auth_oidc_provider_total_timeout(prov);
    req->max_size = prov->max_response_size;
}


/* The most one request to the provider may take, every step at its bound. */

ngx_msec_t
ngx_http_auth_oidc_provider_total_timeout(
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    return prov->resolver_timeout + prov->connect_timeout
           + prov->send_timeout + prov->read_timeout;
}
