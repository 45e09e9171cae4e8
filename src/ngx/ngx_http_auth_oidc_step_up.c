
/*
 * What a location asks of a login beyond a session: its own authorization
 * arguments (auth_oidc_extra_auth_args, with variables: login_hint, prompt,
 * ui_locales) and a step-up (auth_oidc_acr, auth_oidc_max_age: OpenID
 * Connect Core 1.0, 3.1.2.1). A session that does not meet the step-up is
 * sent to log in again with acr_values and max_age, and comes back; the
 * callback then checks the ID token's "acr" and "auth_time" against what
 * the login asked (src/core/flow/step_up.h).
 */


#include "ngx_http_auth_oidc_module.h"


/*
 * 1 when the location asks no step-up or the session meets it ("acr" and
 * "auth_time" are always kept in sessions); 0 when a login must ask again.
 */

ngx_uint_t
ngx_http_auth_oidc_step_up_met(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_loc_conf_t *alcf)
{
    int64_t          max_age;
    auth_oidc_str_t  acr;

    if (alcf->acr_values.len == 0 && alcf->max_age == NGX_CONF_UNSET) {
        return 1;
    }

    acr = ngx_http_auth_oidc_view(&alcf->acr_values);
    max_age = (alcf->max_age == NGX_CONF_UNSET) ? -1 : (int64_t) alcf->max_age;

    if (auth_oidc_session_step_up_met(ctx->session, acr, max_age,
                                      (int64_t) ngx_time(),
                                      ctx->provider->clock_skew))
    {
        return 1;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth oidc: the session does not meet the step-up");

    return 0;
}


/*
 * The location's part of a login's parameters. Its arguments are checked
 * by the login flow as extra_auth_args are (no parameter the module sets
 * itself); a variable that makes them unusable fails that login, logged.
 */

ngx_int_t
ngx_http_auth_oidc_step_up_params(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf, auth_oidc_login_params_t *params)
{
    ngx_str_t  args;

    ngx_str_null(&args);

    if (alcf->login_args
        && ngx_http_complex_value(r, alcf->login_args, &args) != NGX_OK)
    {
        return NGX_ERROR;
    }

    params->location_args = ngx_http_auth_oidc_view(&args);
    params->acr_values = ngx_http_auth_oidc_view(&alcf->acr_values);
    params->max_age = (alcf->max_age == NGX_CONF_UNSET)
                      ? -1 : (int64_t) alcf->max_age;

    return NGX_OK;
}
