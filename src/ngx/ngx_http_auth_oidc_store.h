
/*
 * Session store: pending logins (keyed by state) and sessions (keyed by
 * session id), as opaque records encoded by the core.
 *
 * The shared-memory store answers at once. The interface returns nginx
 * codes so that an asynchronous store (Redis) can answer NGX_AGAIN later
 * without changing its callers.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"


typedef enum {
    NGX_HTTP_AUTH_OIDC_PENDING_LOGIN = 1,
    NGX_HTTP_AUTH_OIDC_SESSION
} ngx_http_auth_oidc_record_e;


struct ngx_http_auth_oidc_store_s {
    ngx_str_t                    name;
    size_t                       size;
    ngx_shm_zone_t              *shm_zone;

    u_char                      *file;
    ngx_uint_t                   line;
};


char *ngx_http_auth_oidc_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_auth_oidc_store_t *ngx_http_auth_oidc_store_find(
    ngx_http_auth_oidc_main_conf_t *amcf, ngx_str_t *name);
ngx_int_t ngx_http_auth_oidc_store_init_conf(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf);

/* NGX_OK: found and copied into pool; NGX_DECLINED: absent or expired */
ngx_int_t ngx_http_auth_oidc_store_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_pool_t *pool, ngx_str_t *value,
    ngx_log_t *log);
/* as get, and the record is gone afterwards: one-time use */
ngx_int_t ngx_http_auth_oidc_store_take(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_pool_t *pool, ngx_str_t *value,
    ngx_log_t *log);
ngx_int_t ngx_http_auth_oidc_store_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_log_t *log);
void ngx_http_auth_oidc_store_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_log_t *log);


#endif /* _NGX_HTTP_AUTH_OIDC_STORE_H_INCLUDED_ */
