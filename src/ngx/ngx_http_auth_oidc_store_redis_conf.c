
/*
 * The Redis store's configuration: where Redis is (redis=, or the
 * sentinels that know), and TLS to it. Read once, when the configuration
 * is: addresses are resolved now, as a worker never waits for a resolver.
 */


#include "ngx_http_auth_oidc_store.h"


/*
 * "redis=127.0.0.1:6379", "redis=cache.internal:6379" (resolved now, when
 * the configuration is read: a worker never waits for a resolver) or
 * "redis=unix:/run/redis.sock".
 */

ngx_int_t
ngx_http_auth_oidc_store_redis_addr(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *addr)
{
    ngx_url_t  u;

    store->redis_conf.addr = *addr;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *addr;
    u.default_port = 6379;

    if (addr->len > 6 && ngx_strncmp(addr->data, "tls://", 6) == 0) {
        store->redis_conf.tls = 1;
        u.url.data += 6;
        u.url.len -= 6;
    }

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis= \"%V\" of oidc_session_store "
                           "\"%V\": %s", addr, &store->name,
                           u.err ? u.err : "host not found");
        return NGX_ERROR;
    }

    /* the first address, as hiredis took it (no failover between them) */
    store->redis_conf.sockaddr = u.addrs[0].sockaddr;
    store->redis_conf.socklen = u.addrs[0].socklen;

    if (store->redis_conf.tls && store->redis_conf.ssl_name.len == 0) {
        store->redis_conf.ssl_name = u.host;
    }

    return NGX_OK;
}


/*
 * "sentinel=HOST:PORT" once per sentinel (the master named master_name= is
 * asked of them in turn), or "cluster=HOST:PORT" once per seed node of a
 * Redis Cluster (asked for the slot map in turn; "cluster=tls://HOST:PORT"
 * for TLS to every node, all seeds alike): resolved now, as redis= is.
 */

ngx_int_t
ngx_http_auth_oidc_store_redis_list(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *param, ngx_str_t *addr)
{
    ngx_url_t     u;
    ngx_uint_t    tls;
    ngx_addr_t   *a;
    ngx_array_t **list;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *addr;

    if (param->data[0] == 's') {
        list = &store->redis_conf.sentinels;
        u.default_port = 26379;

    } else {
        list = &store->redis_conf.cluster;
        u.default_port = 6379;

        tls = (addr->len > 6 && ngx_strncmp(addr->data, "tls://", 6) == 0);

        if (*list && tls != (ngx_uint_t) store->redis_conf.tls) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cluster= \"%V\" of "
                               "oidc_session_store \"%V\": every seed node "
                               "is reached with TLS (\"tls://\") or none",
                               addr, &store->name);
            return NGX_ERROR;
        }

        if (tls) {
            store->redis_conf.tls = 1;
            u.url.data += 6;
            u.url.len -= 6;
        }
    }

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\" of oidc_session_store \"%V\": "
                           "%s", param, addr, &store->name,
                           u.err ? u.err : "host not found");
        return NGX_ERROR;
    }

    if (u.family == AF_UNIX && *list == store->redis_conf.cluster) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cluster= \"%V\" of oidc_session_store "
                           "\"%V\": a Redis Cluster is reached over TCP",
                           addr, &store->name);
        return NGX_ERROR;
    }

    if (*list == NULL) {
        *list = ngx_array_create(cf->pool, 3, sizeof(ngx_addr_t));
        if (*list == NULL) {
            return NGX_ERROR;
        }
    }

    a = ngx_array_push(*list);
    if (a == NULL) {
        return NGX_ERROR;
    }

    *a = u.addrs[0];
    a->name = *addr;

    if (store->redis_conf.tls && store->redis_conf.ssl_name.len == 0) {
        /* the name every node's certificate must carry, unless ssl_name= */
        store->redis_conf.ssl_name = u.host;
    }

    return NGX_OK;
}


/*
 * "redis=tls://HOST:PORT": nginx's TLS (1.2 and 1.3) to Redis, the server
 * verified against ssl_trusted_certificate= (the system's CAs by default)
 * and for ssl_name= (the host as written by default, SNI too), with a
 * client certificate when Redis asks for one (tls-auth-clients). Never a
 * fallback to plaintext.
 */

ngx_int_t
ngx_http_auth_oidc_store_redis_tls(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store)
{
    ngx_str_t                         file;
    ngx_http_auth_oidc_redis_conf_t  *rc;

    rc = &store->redis_conf;

    if ((rc->sentinels != NULL) != (rc->master_name.len != 0)
        || (rc->sentinels && rc->sockaddr)
        || (rc->sentinel_password.len && rc->sentinels == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": \"sentinel=\" and "
                           "\"master_name=\" go together, without "
                           "\"redis=\"", &store->name);
        return NGX_ERROR;
    }

    if (rc->sentinels) {
        /* logs say "Redis mymaster", whichever host it is on now */
        rc->addr = rc->master_name;
    }

    if (rc->cluster) {
        if (rc->sockaddr || rc->sentinels || rc->db) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_session_store \"%V\": \"cluster=\" "
                               "goes without \"redis=\", \"sentinel=\" and "
                               "\"db=\" (a Cluster has database 0 only)",
                               &store->name);
            return NGX_ERROR;
        }

        ngx_str_set(&rc->addr, "Cluster");
    }

    if (!rc->tls) {
        if (rc->ssl_trusted_certificate.len || rc->ssl_certificate.len
            || rc->ssl_certificate_key.len || rc->ssl_name.len)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_session_store \"%V\": \"ssl_*=\" "
                               "parameters need \"redis=tls://...\"",
                               &store->name);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (rc->sockaddr && rc->sockaddr->sa_family == AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": TLS over a unix "
                           "socket is not supported", &store->name);
        return NGX_ERROR;
    }

    if ((rc->ssl_certificate.len == 0) != (rc->ssl_certificate_key.len == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": \"ssl_certificate=\" "
                           "and \"ssl_certificate_key=\" go together",
                           &store->name);
        return NGX_ERROR;
    }

    rc->ssl_name_is_ip = (ngx_inet_addr(rc->ssl_name.data, rc->ssl_name.len)
                          != INADDR_NONE);

    file = rc->ssl_trusted_certificate;

    if (file.len == 0) {
        ngx_str_set(&file, "/etc/ssl/certs/ca-certificates.crt");
    }

    rc->ssl = ngx_http_auth_oidc_ssl_client(cf, &file);
    if (rc->ssl == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": cannot load "
                           "ssl_trusted_certificate \"%V\"", &store->name,
                           &file);
        return NGX_ERROR;
    }

    if (rc->ssl_certificate.len
        && ngx_ssl_certificate(cf, rc->ssl, &rc->ssl_certificate,
                               &rc->ssl_certificate_key, NULL)
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": cannot load "
                           "ssl_certificate \"%V\"", &store->name,
                           &rc->ssl_certificate);
        return NGX_ERROR;
    }

    return NGX_OK;
}
