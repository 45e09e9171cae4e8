
/*
 * The access-phase handler of locations with "auth_oidc NAME".
 *
 * It fails closed: until the login flow exists, a protected location is
 * never served without authentication.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_http_auth_oidc_provider_conf_t *ngx_http_auth_oidc_provider(
    ngx_http_request_t *r, ngx_http_auth_oidc_loc_conf_t *alcf);


ngx_int_t
ngx_http_auth_oidc_access_handler(ngx_http_request_t *r)
{
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

    if (ngx_http_auth_oidc_metadata_sync(prov, r->connection->log)
        != NGX_OK)
    {
        /* said at most once a second per worker, not once per request */
        if (prov->not_ready_logged != ngx_time()) {
            prov->not_ready_logged = ngx_time();
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_oidc: provider \"%V\" is not ready: its "
                          "metadata has not been fetched yet", &prov->name);
        }

        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "auth_oidc: provider \"%V\": login is not available in "
                  "this version, access denied", &prov->name);

    return NGX_HTTP_UNAUTHORIZED;
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
