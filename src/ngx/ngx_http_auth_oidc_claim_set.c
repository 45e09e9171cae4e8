
/*
 * Claims of any shape, as variables (http level):
 *
 *   auth_oidc_claim_set $roles realm_access roles;
 *       the claim at that path of member names (an array's element by its
 *       index): a string as it is, an array as its elements joined by ","
 *       (as NGINX Plus's auth_jwt_claim_set), an object as compact JSON;
 *   auth_oidc_claim_has $admin groups admins;
 *       "1" when the claim at the path (all arguments but the last) is an
 *       array holding the string that is the last argument, or is that
 *       string; else "0". Membership for map and auth_require without a
 *       pattern that an element holding a "," could fool.
 *
 * Both read the request's session (empty, or "0", without one).
 */


#include "ngx_http_auth_oidc_module.h"


typedef struct {
    auth_oidc_str_t   *path;
    ngx_uint_t         npath;
    ngx_str_t          value;       /* auth_oidc_claim_has */
} ngx_http_auth_oidc_claim_set_t;


/* what a claim usually takes: one call of the core, not two */
#define NGX_HTTP_AUTH_OIDC_CLAIM_BUF  256


static char *ngx_http_auth_oidc_claim_define(ngx_conf_t *cf,
    ngx_http_get_variable_pt handler, ngx_uint_t npath,
    ngx_uint_t has);
static ngx_int_t ngx_http_auth_oidc_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_oidc_claim_has_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


char *
ngx_http_auth_oidc_claim_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_auth_oidc_claim_define(cf,
                                       ngx_http_auth_oidc_claim_set_variable,
                                       cf->args->nelts - 2, 0);
}


char *
ngx_http_auth_oidc_claim_has(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    if (cf->args->nelts < 4) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "auth_oidc_claim_has needs a variable, a claim "
                           "and the value to look for");
        return NGX_CONF_ERROR;
    }

    return ngx_http_auth_oidc_claim_define(cf,
                                       ngx_http_auth_oidc_claim_has_variable,
                                       cf->args->nelts - 3, 1);
}


static char *
ngx_http_auth_oidc_claim_define(ngx_conf_t *cf,
    ngx_http_get_variable_pt handler, ngx_uint_t npath,
    ngx_uint_t has)
{
    ngx_str_t                       *value, name;
    ngx_uint_t                       i;
    ngx_http_variable_t             *var;
    ngx_http_auth_oidc_main_conf_t  *amcf;
    ngx_http_auth_oidc_claim_set_t  *set;

    value = cf->args->elts;

    /* claim paths read the ID token itself: sessions keep it */
    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_oidc_module);
    amcf->claim_paths = 1;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 1;
    name.len = value[1].len - 1;

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }

    set = ngx_palloc(cf->pool, sizeof(ngx_http_auth_oidc_claim_set_t));
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    set->path = ngx_palloc(cf->pool, npath * sizeof(auth_oidc_str_t));
    if (set->path == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < npath; i++) {
        set->path[i] = ngx_http_auth_oidc_view(&value[2 + i]);
    }

    set->npath = npath;

    if (has) {
        set->value = value[2 + npath];

    } else {
        ngx_str_null(&set->value);
    }

    var->get_handler = handler;
    var->data = (uintptr_t) set;
    var->flags |= NGX_HTTP_VAR_NOCACHEABLE;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_auth_oidc_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_auth_oidc_claim_set_t *set = (ngx_http_auth_oidc_claim_set_t *)
                                          data;

    int                        rc;
    u_char                    *buf;
    size_t                     needed;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_auth_oidc_find_ctx(r);

    if (ctx == NULL || ctx->session == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    buf = ngx_pnalloc(r->pool, NGX_HTTP_AUTH_OIDC_CLAIM_BUF);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    rc = auth_oidc_session_claim_path(ctx->session, set->path, set->npath,
                                      buf, NGX_HTTP_AUTH_OIDC_CLAIM_BUF,
                                      &needed);

    if (rc == 1 && needed > NGX_HTTP_AUTH_OIDC_CLAIM_BUF) {
        buf = ngx_pnalloc(r->pool, needed);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        rc = auth_oidc_session_claim_path(ctx->session, set->path,
                                          set->npath, buf, needed, &needed);
    }

    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: the session's claims cannot be read");
    }

    if (rc != 1) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = buf;
    v->len = needed;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_claim_has_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_auth_oidc_claim_set_t *set = (ngx_http_auth_oidc_claim_set_t *)
                                          data;

    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_auth_oidc_find_ctx(r);

    v->data = (u_char *) "0";

    if (ctx && ctx->session
        && auth_oidc_session_claim_has(ctx->session, set->path, set->npath,
                                       ngx_http_auth_oidc_view(&set->value)))
    {
        v->data = (u_char *) "1";
    }

    v->len = 1;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
