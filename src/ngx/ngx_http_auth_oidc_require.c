
/*
 * auth_require $value ... [error=4xx|5xx]: access only when every value is
 * non-empty and not "0", as NGINX Plus's ngx_http_auth_require_module
 * defines it. It runs in the access phase after auth_oidc (whose session
 * the $oidc_* variables read), so that "map $oidc_claim_... $allowed"
 * decides, which the rewrite phase's "if" cannot: it runs before any
 * session is found.
 *
 * Several directives are checked in order; the first that fails answers
 * with its error code (403 by default). A level without auth_require
 * inherits its parent's, one with any replaces them all.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_int_t ngx_http_auth_oidc_denied(ngx_http_request_t *r,
    ngx_uint_t status);


typedef struct {
    ngx_array_t   values;       /* ngx_http_complex_value_t */
    ngx_uint_t    error;
} ngx_http_auth_oidc_require_t;


char *
ngx_http_auth_oidc_require_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_loc_conf_t *alcf = conf;

    ngx_str_t                         *value, code;
    ngx_int_t                          n;
    ngx_uint_t                         i, last;
    ngx_http_complex_value_t          *cv;
    ngx_http_auth_oidc_require_t      *rule;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->require == NULL) {
        alcf->require = ngx_array_create(cf->pool, 2,
                                         sizeof(ngx_http_auth_oidc_require_t));
        if (alcf->require == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(alcf->require);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    last = cf->args->nelts;
    rule->error = NGX_HTTP_FORBIDDEN;

    if (ngx_strncmp(value[last - 1].data, "error=", 6) == 0) {
        code.data = value[last - 1].data + 6;
        code.len = value[last - 1].len - 6;

        n = ngx_atoi(code.data, code.len);

        if (n < 400 || n > 599) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid error code \"%V\" in auth_require: "
                               "4xx or 5xx expected", &value[last - 1]);
            return NGX_CONF_ERROR;
        }

        rule->error = (ngx_uint_t) n;
        last--;
    }

    if (last < 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "auth_require needs at least one value");
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&rule->values, cf->pool, last - 1,
                       sizeof(ngx_http_complex_value_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < last; i++) {
        cv = ngx_array_push(&rule->values);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The refusal: a page that says so (a 4xx but 401, which asks for a login
 * nobody can give here, under "satisfy all", where it is the answer), or
 * the status for nginx and the operator's error_page.
 */

static ngx_int_t
ngx_http_auth_oidc_denied(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_str_t                  detail;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->satisfy != NGX_HTTP_SATISFY_ALL || status >= 500
        || status == NGX_HTTP_UNAUTHORIZED)
    {
        return status;
    }

    ngx_str_set(&detail, "This page is not open to your account. If you "
                "think it should be, ask the people who run this site.");

    return ngx_http_auth_oidc_phase_page(r, status, "Access denied", &detail,
                                         NULL);
}


/*
 * NGX_DECLINED without rules; NGX_OK when every rule holds (with "satisfy
 * any" that grants access, as the access module's allow does); the first
 * failing rule's error code otherwise.
 */

ngx_int_t
ngx_http_auth_oidc_require_handler(ngx_http_request_t *r)
{
    ngx_str_t                       v;
    ngx_uint_t                      i, j;
    ngx_http_complex_value_t       *cv;
    ngx_http_auth_oidc_require_t   *rule;
    ngx_http_auth_oidc_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_oidc_module);

    if (alcf->require == NULL) {
        return NGX_DECLINED;
    }

    if (alcf->cors_preflight && (alcf->enable || alcf->bearer)
        && ngx_http_auth_oidc_is_preflight(r))
    {
        /* passed unauthenticated by auth_oidc: nothing to require of it */
        return NGX_OK;
    }

    rule = alcf->require->elts;

    for (i = 0; i < alcf->require->nelts; i++) {
        cv = rule[i].values.elts;

        for (j = 0; j < rule[i].values.nelts; j++) {
            if (ngx_http_complex_value(r, &cv[j], &v) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (v.len == 0 || (v.len == 1 && v.data[0] == '0')) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "auth_oidc: access denied by auth_require "
                              "\"%V\"", &cv[j].value);
                return ngx_http_auth_oidc_denied(r, rule[i].error);
            }
        }
    }

    return NGX_OK;
}
