
/*
 * $oidc_* variables, as NGINX Plus names them: $oidc_claim_<name> (top-level
 * claims of the ID token), $oidc_id_token, $oidc_access_token,
 * $oidc_userinfo; and ours: $oidc_session_expires, $oidc_user (the
 * provider's user_claim, for logs). They are empty when the request has no
 * session (auth_oidc_unauth pass). With auth_oidc_remote_user on,
 * $remote_user is $oidc_user too.
 */


#include "ngx_http_auth_oidc_module.h"


typedef enum {
    NGX_HTTP_AUTH_OIDC_VAR_ID_TOKEN = 0,
    NGX_HTTP_AUTH_OIDC_VAR_ACCESS_TOKEN,
    NGX_HTTP_AUTH_OIDC_VAR_USERINFO,
    NGX_HTTP_AUTH_OIDC_VAR_SESSION_EXPIRES
} ngx_http_auth_oidc_var_e;


static ngx_int_t ngx_http_auth_oidc_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_oidc_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_auth_oidc_token_dropped(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t drop,
    const char *name);
static void ngx_http_auth_oidc_claim_dropped(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_str_t *claim);
static ngx_int_t ngx_http_auth_oidc_user_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_oidc_remote_user(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_oidc_set_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, auth_oidc_str_t value);


/* nginx's own $remote_user (auth_basic), for requests without a session */
static ngx_http_get_variable_pt  ngx_http_auth_oidc_basic_remote_user;
static uintptr_t                 ngx_http_auth_oidc_basic_remote_user_data;


static ngx_http_variable_t  ngx_http_auth_oidc_vars[] = {

    { ngx_string("oidc_claim_"), NULL, ngx_http_auth_oidc_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("oidc_id_token"), NULL, ngx_http_auth_oidc_session_variable,
      NGX_HTTP_AUTH_OIDC_VAR_ID_TOKEN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oidc_access_token"), NULL,
      ngx_http_auth_oidc_session_variable,
      NGX_HTTP_AUTH_OIDC_VAR_ACCESS_TOKEN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oidc_userinfo"), NULL, ngx_http_auth_oidc_session_variable,
      NGX_HTTP_AUTH_OIDC_VAR_USERINFO, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oidc_session_expires"), NULL,
      ngx_http_auth_oidc_session_variable,
      NGX_HTTP_AUTH_OIDC_VAR_SESSION_EXPIRES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oidc_user"), NULL, ngx_http_auth_oidc_user_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_auth_oidc_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_auth_oidc_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * The session record carries every claim already rendered (at login): a
 * lookup is a binary search in it, with no JSON parsed per request.
 */

static ngx_int_t
ngx_http_auth_oidc_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *name = (ngx_str_t *) data;

    auth_oidc_str_t            claim, value;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_auth_oidc_find_ctx(r);

    if (ctx == NULL || ctx->session == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    claim.data = name->data + sizeof("oidc_claim_") - 1;
    claim.len = name->len - (sizeof("oidc_claim_") - 1);

    if (!auth_oidc_session_claim(ctx->session, claim, &value)) {
        if (ctx->provider && !ctx->bearer_checked) {
            ngx_http_auth_oidc_claim_dropped(r, ctx->provider, &claim);
        }

        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) (value.len ? value.data : (u_char *) "");
    v->len = value.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * auth_oidc_remote_user: nginx's $remote_user, which log formats such as
 * "combined" print, becomes the session's user in a location of auth_oidc
 * or auth_oidc_bearer: empty without a session, never the name a client's
 * own Basic header claims. Its handler is wrapped (postconfiguration,
 * before nginx indexes variables); elsewhere, or with the directive off,
 * nginx's own answers (auth_basic's user).
 */

ngx_int_t
ngx_http_auth_oidc_remote_user_init(ngx_conf_t *cf)
{
    ngx_uint_t                  i;
    ngx_hash_key_t             *key;
    ngx_http_variable_t        *v;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == sizeof("remote_user") - 1
            && ngx_strncmp(key[i].key.data, "remote_user", key[i].key.len)
               == 0)
        {
            v = key[i].value;

            if (v->get_handler != ngx_http_auth_oidc_remote_user) {
                ngx_http_auth_oidc_basic_remote_user = v->get_handler;
                ngx_http_auth_oidc_basic_remote_user_data = v->data;
                v->get_handler = ngx_http_auth_oidc_remote_user;
            }

            return NGX_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "auth_oidc: nginx has no $remote_user variable");
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_auth_oidc_remote_user(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_auth_oidc_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_oidc_module);

    if (alcf->remote_user && (alcf->enable || alcf->bearer)) {
        return ngx_http_auth_oidc_user_variable(r, v, 0);
    }

    return ngx_http_auth_oidc_basic_remote_user(r, v,
                                     ngx_http_auth_oidc_basic_remote_user_data);
}


/* The session's (or bearer token's) user: its provider's user_claim. */

static ngx_int_t
ngx_http_auth_oidc_user_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    auth_oidc_str_t            claim, value;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_auth_oidc_find_ctx(r);

    if (ctx == NULL || ctx->session == NULL || ctx->provider == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    claim = ngx_http_auth_oidc_view(&ctx->provider->user_claim);

    if (!auth_oidc_session_claim(ctx->session, claim, &value)) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_auth_oidc_set_value(r, v, value);
}


static ngx_int_t
ngx_http_auth_oidc_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                            *p;
    auth_oidc_str_t                    value;
    ngx_http_auth_oidc_ctx_t          *ctx;
    const auth_oidc_session_fields_t  *f;

    ctx = ngx_http_auth_oidc_find_ctx(r);

    if (ctx == NULL || ctx->session == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == NGX_HTTP_AUTH_OIDC_VAR_SESSION_EXPIRES) {
        /* no token asked for: the fields' tokens stay packed */
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        value.data = p;
        value.len = ngx_sprintf(p, "%L",
                                auth_oidc_session_expires(ctx->session)) - p;

        return ngx_http_auth_oidc_set_value(r, v, value);
    }

    f = auth_oidc_session_fields(ctx->session);

    switch (data) {

    case NGX_HTTP_AUTH_OIDC_VAR_ID_TOKEN:
        ngx_http_auth_oidc_token_dropped(r, ctx->provider,
                                         AUTH_OIDC_DROP_ID_TOKEN,
                                         "oidc_id_token");
        return ngx_http_auth_oidc_set_value(r, v, f->id_token);

    case NGX_HTTP_AUTH_OIDC_VAR_ACCESS_TOKEN:
        ngx_http_auth_oidc_token_dropped(r, ctx->provider,
                                         AUTH_OIDC_DROP_ACCESS_TOKEN,
                                         "oidc_access_token");
        return ngx_http_auth_oidc_set_value(r, v, f->access_token);

    default: /* NGX_HTTP_AUTH_OIDC_VAR_USERINFO */
        return ngx_http_auth_oidc_set_value(r, v, f->userinfo);
    }
}


/* The session handle lives as long as the request: no copy is needed. */

/*
 * A token variable read by name at run time (a script) while sessions do
 * not keep the token: empty, said once per worker with the fix.
 */

static void
ngx_http_auth_oidc_token_dropped(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t drop,
    const char *name)
{
    if (!(prov->drop_tokens & drop) || (prov->drop_logged & drop)) {
        return;
    }

    prov->drop_logged |= drop;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "auth_oidc: $%s is empty: sessions of provider \"%V\" do "
                  "not keep that token, since no directive names the "
                  "variable; set \"session_tokens all\" in the provider "
                  "for a script that reads it", name, &prov->name);
}


/*
 * A claim variable the configuration does not name, read at run time (a
 * script) while sessions keep only the claims named: empty, and said once
 * per worker with the fix. A claim the session never had is said the same
 * way: the module cannot tell the two apart.
 */

static void
ngx_http_auth_oidc_claim_dropped(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_str_t *claim)
{
    u_char     *p;
    ngx_str_t   name;

    if (!(prov->drop_tokens & AUTH_OIDC_DROP_CLAIMS)
        || (prov->drop_logged & AUTH_OIDC_DROP_CLAIMS))
    {
        return;
    }

    p = prov->keep_claims.data;

    while (ngx_http_auth_oidc_next_name(&p, prov->keep_claims.data
                                            + prov->keep_claims.len, &name))
    {
        if (name.len == claim->len
            && ngx_strncmp(name.data, claim->data, claim->len) == 0)
        {
            /* named in the configuration: the session has no such claim */
            return;
        }
    }

    prov->drop_logged |= AUTH_OIDC_DROP_CLAIMS;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "auth_oidc: $oidc_claim_%*s is empty: sessions of provider "
                  "\"%V\" keep only the claims the configuration names; set "
                  "\"session_claims all\" in the provider for a script that "
                  "reads claims by name", claim->len, claim->data,
                  &prov->name);
}


static ngx_int_t
ngx_http_auth_oidc_set_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, auth_oidc_str_t value)
{
    if (value.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) value.data;
    v->len = value.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
