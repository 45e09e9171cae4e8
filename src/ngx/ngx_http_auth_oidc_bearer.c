
/*
 * Bearer tokens on APIs (RFC 6750): "auth_oidc_bearer NAME [token=$var]"
 * accepts an access token of provider NAME, from "Authorization: Bearer"
 * or from the variable. Never a redirect: a request without a token, or
 * with one that does not pass, gets 401 and a WWW-Authenticate: Bearer
 * challenge (with error and error_description when a token was sent); a
 * token without a required scope (auth_oidc_bearer_scope) gets 403
 * insufficient_scope.
 *
 * The hot path, a token verified before, is one lookup in shared memory
 * under the token's SHA-256 and a decode, as a session is; a miss runs the
 * bearer flow (src/core/flow/bearer.h): the JWT checked with the
 * provider's keys, or the token introspected, and the verdict cached.
 * The token's claims then fill the same $oidc_claim_* variables and
 * auth_require decides as for a session.
 *
 * With "auth_oidc" in the same location, a request with a token is judged
 * by it alone; one without goes the session's way.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"
#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_bearer_token(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf, ngx_str_t *token);
static ngx_int_t ngx_http_auth_oidc_bearer_lookup(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *token);
static ngx_int_t ngx_http_auth_oidc_bearer_verify(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *token);
static void ngx_http_auth_oidc_bearer_done(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_bearer_answer(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_loc_conf_t *alcf);
static void ngx_http_auth_oidc_bearer_incident(ngx_http_request_t *r,
    ngx_http_auth_oidc_counters_t *counters, auth_oidc_step_t *step);
static ngx_int_t ngx_http_auth_oidc_bearer_refuse(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t status,
    const char *error, ngx_str_t *description);
static ngx_uint_t ngx_http_auth_oidc_bearer_has_scopes(
    ngx_http_auth_oidc_ctx_t *ctx, ngx_array_t *scopes);


/* auth_oidc_bearer NAME [token=$variable] | off */

char *
ngx_http_auth_oidc_bearer_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_loc_conf_t *alcf = conf;

    ngx_str_t                         *value, v;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->bearer != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters with \"off\"";
        }

        alcf->bearer = 0;
        return NGX_CONF_OK;
    }

    alcf->bearer = 1;
    alcf->bearer_name = value[1];

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "token=", 6) != 0 || value[2].len == 6) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    v.data = value[2].data + 6;
    v.len = value[2].len - 6;

    alcf->bearer_token = ngx_palloc(cf->pool,
                                    sizeof(ngx_http_complex_value_t));
    if (alcf->bearer_token == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &v;
    ccv.complex_value = alcf->bearer_token;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Inherits auth_oidc_bearer and auth_oidc_bearer_scope; a location with
 * bearer tokens needs a provider that says which audience its tokens must
 * name: an API that took any audience would take every other API's tokens.
 */

char *
ngx_http_auth_oidc_bearer_merge(ngx_conf_t *cf,
    ngx_http_auth_oidc_loc_conf_t *prev, ngx_http_auth_oidc_loc_conf_t *conf)
{
    ngx_http_auth_oidc_main_conf_t  *amcf;

    if (conf->bearer_scopes == NULL) {
        conf->bearer_scopes = prev->bearer_scopes;
    }

    if (conf->bearer == NGX_CONF_UNSET) {
        conf->bearer = prev->bearer;
        conf->bearer_name = prev->bearer_name;
        conf->bearer_token = prev->bearer_token;
        conf->bearer_provider = prev->bearer_provider;
    }

    ngx_conf_init_value(conf->bearer, 0);

    /*
     * Scopes written in a location that takes no bearer token would check
     * nothing; written at http or server level they are for the locations
     * below, so only the location's own are refused.
     */
    if (!conf->bearer && conf->bearer_scopes_file) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"auth_oidc_bearer_scope\" has no effect where "
                      "\"auth_oidc_bearer\" is off in %s:%ui",
                      conf->bearer_scopes_file, conf->bearer_scopes_line);
        return NGX_CONF_ERROR;
    }

    if (!conf->bearer || conf->bearer_provider) {
        return NGX_CONF_OK;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_oidc_module);

    conf->bearer_provider = ngx_http_auth_oidc_provider_find(amcf,
                                                         &conf->bearer_name);
    if (conf->bearer_provider == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "unknown oidc_provider \"%V\" in auth_oidc_bearer",
                      &conf->bearer_name);
        return NGX_CONF_ERROR;
    }

    if (conf->bearer_provider->bearer_audience.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "auth_oidc_bearer \"%V\": oidc_provider \"%V\" has no "
                      "\"bearer_audience\": say which audience (\"aud\") "
                      "the tokens of this API carry",
                      &conf->bearer_name, &conf->bearer_name);
        return NGX_CONF_ERROR;
    }

    conf->bearer_provider->bearer_used = 1;

    return NGX_CONF_OK;
}


/*
 * NGX_DECLINED: the request carries no token (a session may still do);
 * NGX_OK: the token is valid and has the scopes (ctx->session holds its
 * claims); NGX_AGAIN: being verified; otherwise the HTTP status to answer,
 * its WWW-Authenticate set.
 */

ngx_int_t
ngx_http_auth_oidc_bearer(ngx_http_request_t *r, ngx_http_auth_oidc_ctx_t *ctx,
    ngx_http_auth_oidc_loc_conf_t *alcf)
{
    ngx_int_t                            rc;
    ngx_str_t                            token;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = alcf->bearer_provider;

    if (ctx->bearer_checked && ctx->provider == prov) {
        /* again after the verification's wait, or an internal redirect */
        return ngx_http_auth_oidc_bearer_answer(r, ctx, alcf);
    }

    rc = ngx_http_auth_oidc_bearer_token(r, alcf, &token);

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_HTTP_BAD_REQUEST) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: \"Authorization: Bearer\" without a token");
        return ngx_http_auth_oidc_bearer_refuse(r, prov, NGX_HTTP_BAD_REQUEST,
                                                "invalid_request", NULL);
    }

    /* the request is the token's from now on, not a session's */
    auth_oidc_flow_free(ctx->flow);
    ctx->flow = NULL;
    auth_oidc_session_free(ctx->session);
    ctx->session = NULL;
    ctx->provider = prov;
    ctx->bearer_checked = 1;
    ctx->done = 0;
    ctx->looked_up = 1;
    ctx->refresh_checked = 1;

    rc = ngx_http_auth_oidc_bearer_lookup(r, ctx, prov, &token);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_auth_oidc_bearer_verify(r, ctx, prov, &token);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        /* refused, as the cache remembers (or malformed): a later pass,
         * after an internal redirect, asks the cache again */
        ctx->bearer_checked = 0;
        return rc;
    }

    return ngx_http_auth_oidc_bearer_answer(r, ctx, alcf);
}


/*
 * The token: token=$variable when configured (empty: none), else the
 * "Authorization: Bearer" header (RFC 6750, section 2.1; the scheme is
 * case-insensitive). nginx itself refuses a second Authorization header.
 */

static ngx_int_t
ngx_http_auth_oidc_bearer_token(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf, ngx_str_t *token)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    if (alcf->bearer_token) {
        if (ngx_http_complex_value(r, alcf->bearer_token, token) != NGX_OK) {
            return NGX_ERROR;
        }

        return token->len ? NGX_OK : NGX_DECLINED;
    }

    h = r->headers_in.authorization;

    if (h == NULL
        || h->value.len < sizeof("Bearer") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer",
                           sizeof("Bearer") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p = h->value.data + sizeof("Bearer") - 1;
    last = h->value.data + h->value.len;

    if (p < last && *p != ' ') {
        /* "Bearerish": another scheme */
        return NGX_DECLINED;
    }

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    if (p == last) {
        return NGX_HTTP_BAD_REQUEST;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


/*
 * The verification cache: NGX_OK with ctx->session for a token accepted
 * before, the refusal's status for one refused before, NGX_DECLINED when
 * it does not know the token.
 */

static ngx_int_t
ngx_http_auth_oidc_bearer_lookup(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *token)
{
    size_t                              len;
    ngx_int_t                           rc;
    ngx_str_t                           key, record, description;
    auth_oidc_str_t                     error, text;
    auth_oidc_error_t                   err;
    auth_oidc_session_t                *session;
    ngx_http_auth_oidc_store_caller_t   caller;

    /* one hash of the token: a buffer the key always fits in */
    len = AUTH_OIDC_BEARER_KEY_MAX(prov->name.len);

    key.data = ngx_pnalloc(r->pool, len);
    if (key.data == NULL) {
        return NGX_ERROR;
    }

    key.len = auth_oidc_bearer_key(ngx_http_auth_oidc_view(&prov->name),
                                   ngx_http_auth_oidc_view(token), key.data,
                                   len);
    if (key.len == 0 || key.len > len) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": bearer token refused: "
                      "not a b64token of at most 16k", &prov->name);
        ngx_str_set(&description, "the token is malformed");
        return ngx_http_auth_oidc_bearer_refuse(r, prov,
                                                NGX_HTTP_UNAUTHORIZED,
                                                "invalid_token",
                                                &description);
    }

    /* shared memory: answers at once */
    ngx_http_auth_oidc_store_request(&caller, r, NULL);

    rc = ngx_http_auth_oidc_store_get(prov->bearer_store,
                                      NGX_HTTP_AUTH_OIDC_BEARER_TOKEN, &key,
                                      &caller, &record);
    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    if (auth_oidc_bearer_decode(record.data, record.len, &session, &error,
                                &text, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: cached bearer verification refused: %s",
                      err.msg);
        return NGX_DECLINED;
    }

    if (session == NULL) {
        description.data = (u_char *) text.data;
        description.len = text.len;

        return ngx_http_auth_oidc_bearer_refuse(r, prov,
                                                NGX_HTTP_UNAUTHORIZED,
                                                "invalid_token",
                                                &description);
    }

    ctx->session = session;

    return NGX_OK;
}


/* A token the cache does not know: the bearer flow verifies it. */

static ngx_int_t
ngx_http_auth_oidc_bearer_verify(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *token)
{
    auth_oidc_error_t          err;
    auth_oidc_bearer_params_t  params;

    ngx_memzero(&params, sizeof(auth_oidc_bearer_params_t));

    params.provider = ngx_http_auth_oidc_view(&prov->name);
    params.issuer = ngx_http_auth_oidc_view(&prov->issuer);
    params.client_id = ngx_http_auth_oidc_view(&prov->client_id);
    ngx_http_auth_oidc_client_credentials(r->connection->log, prov,
                                          &params.client_secret,
                                          &params.client);
    params.algorithms = ngx_http_auth_oidc_view(&prov->id_token_algorithms);
    params.audiences = ngx_http_auth_oidc_view(&prov->bearer_audience);
    params.validation = (auth_oidc_bearer_validation_t) prov->bearer_validation;
    params.strict_type = (int) prov->bearer_strict_type;
    params.leeway = prov->clock_skew;
    params.cache_valid = prov->bearer_cache_valid;
    params.cache_invalid = prov->bearer_cache_invalid;
    params.token = ngx_http_auth_oidc_view(token);
    params.now = (int64_t) ngx_time();

    if (auth_oidc_bearer_flow(&params, &ctx->flow, &ctx->step, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": bearer token not "
                      "verified: %s", &prov->name, err.msg);
        return NGX_ERROR;
    }

    ctx->finish = ngx_http_auth_oidc_bearer_done;

    ngx_http_auth_oidc_drive(r, ctx);

    /* over at once (keys at hand, or a reply), or waiting */
    return (ctx->flow && !ctx->done) ? NGX_AGAIN : NGX_OK;
}


/* The driver's DONE: the token is valid, its record the request's. */

static void
ngx_http_auth_oidc_bearer_done(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    auth_oidc_str_t                 error, text;
    auth_oidc_error_t               err;
    auth_oidc_session_t            *session;
    ngx_http_auth_oidc_counters_t  *counters;

    if (auth_oidc_bearer_decode(ctx->step.value.data, ctx->step.value.len,
                                &session, &error, &text, &err)
        != AUTH_OIDC_OK
        || session == NULL)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: bearer verification unreadable");
        session = NULL;
    }

    auth_oidc_session_free(ctx->session);
    ctx->session = session;

    auth_oidc_flow_free(ctx->flow);
    ctx->flow = NULL;

    counters = ngx_http_auth_oidc_counters(ctx->provider);
    if (counters && session) {
        (void) ngx_atomic_fetch_add(&counters->bearer_verified, 1);

        if (ngx_atomic_cmp_set(&counters->bearer_incident, 1, 0)) {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "auth_oidc: provider \"%V\": bearer tokens are "
                          "verified again", &ctx->provider->name);
        }
    }

    ngx_http_auth_oidc_wake(r, ctx);
}


/* The verification is over: the flow's reply, or the token's scopes. */

static ngx_int_t
ngx_http_auth_oidc_bearer_answer(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_loc_conf_t *alcf)
{
    ngx_str_t                            description;
    ngx_http_auth_oidc_counters_t       *counters;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = alcf->bearer_provider;

    if (ctx->done && ctx->flow) {
        /* the flow's reply, counted (and a failure said) once */
        counters = ngx_http_auth_oidc_counters(prov);

        if (ctx->status == NGX_HTTP_UNAUTHORIZED) {
            if (counters) {
                (void) ngx_atomic_fetch_add(&counters->bearer_refused, 1);
            }

        } else {
            ngx_http_auth_oidc_bearer_incident(r, counters, &ctx->step);
        }

        auth_oidc_flow_free(ctx->flow);
        ctx->flow = NULL;
    }

    if (ctx->done) {
        if (ctx->status == NGX_HTTP_UNAUTHORIZED) {
            return ngx_http_auth_oidc_bearer_refuse(r, prov, ctx->status,
                                                    ctx->title, &ctx->detail);
        }

        return ctx->status;
    }

    if (ctx->flow) {
        return NGX_AGAIN;
    }

    if (ctx->session == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_auth_oidc_bearer_has_scopes(ctx, alcf->bearer_scopes)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": bearer token lacks a "
                      "required scope", &prov->name);

        ngx_str_set(&description, "the token lacks a scope this API needs");

        if (ngx_http_auth_oidc_bearer_challenge(r, prov, "insufficient_scope",
                                                &description,
                                                alcf->bearer_scopes)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_FORBIDDEN;
    }

    return NGX_OK;
}


/*
 * A token that could not be verified (provider down, slow or answering
 * errors): every API request of an outage would say the same, so the
 * first says it, as an error, until a verification works again.
 */

static void
ngx_http_auth_oidc_bearer_incident(ngx_http_request_t *r,
    ngx_http_auth_oidc_counters_t *counters, auth_oidc_step_t *step)
{
    if (counters) {
        (void) ngx_atomic_fetch_add(&counters->bearer_unavailable, 1);
    }

    if (step->log.len == 0) {
        /* the driver's own answer (no metadata): said where it was made */
        return;
    }

    if (counters == NULL
        || ngx_atomic_cmp_set(&counters->bearer_incident, 0, 1))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: %*s; until a verification works, further "
                      "failures are only counted (oidc_status)",
                      step->log.len, step->log.data);
    }
}


static ngx_int_t
ngx_http_auth_oidc_bearer_refuse(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t status,
    const char *error, ngx_str_t *description)
{
    if (ngx_http_auth_oidc_bearer_challenge(r, prov, error, description, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return status;
}


/* Every scope required is one of the token's, as whole words. */

static ngx_uint_t
ngx_http_auth_oidc_bearer_has_scopes(ngx_http_auth_oidc_ctx_t *ctx,
    ngx_array_t *scopes)
{
    u_char           *p, *last, *end;
    ngx_str_t        *scope;
    ngx_uint_t        i, found;
    auth_oidc_str_t   granted;

    if (scopes == NULL) {
        return 1;
    }

    granted = auth_oidc_session_scope(ctx->session);
    scope = scopes->elts;

    for (i = 0; i < scopes->nelts; i++) {
        found = 0;
        p = (u_char *) granted.data;
        last = p + granted.len;

        while (p < last) {
            end = ngx_strlchr(p, last, ' ');
            if (end == NULL) {
                end = last;
            }

            if ((size_t) (end - p) == scope[i].len
                && ngx_strncmp(p, scope[i].data, scope[i].len) == 0)
            {
                found = 1;
                break;
            }

            p = end + 1;
        }

        if (!found) {
            return 0;
        }
    }

    return 1;
}


/*
 * RFC 6750, section 3: WWW-Authenticate: Bearer realm="NAME"[, error="..",
 * error_description=".."][, scope=".."]. The description is one of the
 * core's fixed sentences; anything that could end the quoted string is
 * dropped all the same.
 */

ngx_int_t
ngx_http_auth_oidc_bearer_challenge(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *error,
    ngx_str_t *description, ngx_array_t *scopes)
{
    u_char           *p, c;
    size_t            len;
    ngx_str_t        *scope;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    len = sizeof("Bearer realm=\"\"") - 1 + prov->name.len;

    if (error) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
    }

    if (description && description->len) {
        len += sizeof(", error_description=\"\"") - 1 + description->len;
    }

    if (scopes) {
        len += sizeof(", scope=\"\"") - 1;
        scope = scopes->elts;

        for (i = 0; i < scopes->nelts; i++) {
            len += scope[i].len + 1;
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &prov->name);

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }

    if (description && description->len) {
        p = ngx_cpymem(p, ", error_description=\"",
                       sizeof(", error_description=\"") - 1);

        for (i = 0; i < description->len; i++) {
            c = description->data[i];
            *p++ = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? ' ' : c;
        }

        *p++ = '"';
    }

    if (scopes) {
        p = ngx_cpymem(p, ", scope=\"", sizeof(", scope=\"") - 1);
        scope = scopes->elts;

        for (i = 0; i < scopes->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, scope[i].data, scope[i].len);
        }

        *p++ = '"';
    }

    h->value.len = p - h->value.data;

    /* a WWW-Authenticate of a session's 401 may be there already */
    if (r->headers_out.www_authenticate == NULL) {
        r->headers_out.www_authenticate = h;
    }

    return NGX_OK;
}


/* auth_oidc_bearer_scope SCOPE ...: every one must be granted */

char *
ngx_http_auth_oidc_bearer_scope_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_loc_conf_t *alcf = conf;

    ngx_str_t   *value, *scope;
    ngx_uint_t   i;

    if (alcf->bearer_scopes) {
        return "is duplicate";
    }

    alcf->bearer_scopes = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(ngx_str_t));
    if (alcf->bearer_scopes == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->cmd_type & NGX_HTTP_LOC_CONF) {
        alcf->bearer_scopes_file = cf->conf_file->file.name.data;
        alcf->bearer_scopes_line = cf->conf_file->line;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (auth_oidc_scope_check(ngx_http_auth_oidc_view(&value[i]), NULL)
            != AUTH_OIDC_OK
            || ngx_strlchr(value[i].data, value[i].data + value[i].len, ' '))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid scope \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        scope = ngx_array_push(alcf->bearer_scopes);
        if (scope == NULL) {
            return NGX_CONF_ERROR;
        }

        *scope = value[i];
    }

    return NGX_CONF_OK;
}
