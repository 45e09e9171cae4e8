
/*
 * The oidc_provider{} block: its directives (named as in NGINX Plus's
 * ngx_http_oidc_module, plus our extensions), their defaults, and what is
 * prepared once at configuration time: parsed URLs, addresses when no
 * resolver is configured, and the TLS context for talking to the provider.
 */


#include "ngx_http_auth_oidc_module.h"


#define NGX_HTTP_AUTH_OIDC_CA_BUNDLE  "/etc/ssl/certs/ca-certificates.crt"


static char *ngx_http_auth_oidc_provider_directive(ngx_conf_t *cf,
    ngx_command_t *dummy, void *conf);
static char *ngx_http_auth_oidc_set_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_oidc_set_path_or_url(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_oidc_provider_merge(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_provider_resolve(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_target_t *t, const char *directive);
static ngx_int_t ngx_http_auth_oidc_provider_ssl(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov);
static char *ngx_http_auth_oidc_path_of(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *directive,
    ngx_str_t *uri, ngx_str_t *path);
static char *ngx_http_auth_oidc_core_check(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *directive,
    ngx_str_t *value,
    auth_oidc_status_t (*check)(auth_oidc_str_t, auth_oidc_error_t *));


static char *ngx_http_auth_oidc_provider_user_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_uint_t ngx_http_auth_oidc_provider_names_claim(ngx_str_t *var,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_provider_keeps(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_provider_hosts(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_uint_t ngx_http_auth_oidc_host_name(u_char *p, size_t len,
    ngx_uint_t port);


static ngx_conf_enum_t  ngx_http_auth_oidc_bearer_validations[] = {
    { ngx_string("auto"), AUTH_OIDC_BEARER_AUTO },
    { ngx_string("jwt"), AUTH_OIDC_BEARER_JWT },
    { ngx_string("introspection"), AUTH_OIDC_BEARER_INTROSPECTION },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_auth_oidc_auto_all[] = {
    { ngx_string("auto"), 0 },
    { ngx_string("all"), 1 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_auth_oidc_bearer_types[] = {
    { ngx_string("at+jwt"), 1 },
    { ngx_string("any"), 0 },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_auth_oidc_provider_commands[] = {

    { ngx_string("issuer"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, issuer),
      NULL },

    { ngx_string("client_id"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, client_id),
      NULL },

    { ngx_string("client_secret"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, client_secret),
      NULL },

    { ngx_string("client_secret_file"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, client_secret_file),
      NULL },

    { ngx_string("client_key_file"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, client_key_file),
      NULL },

    { ngx_string("client_key_id"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, client_key_id),
      NULL },

    { ngx_string("token_endpoint_auth"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, client_auth),
      &ngx_http_auth_oidc_client_auth_methods },

    { ngx_string("config_url"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, config_url),
      NULL },

    { ngx_string("cookie_name"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, cookie_name),
      NULL },

    { ngx_string("cookie_domain"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, cookie_domain),
      NULL },

    { ngx_string("redirect_hosts"),
      NGX_CONF_1MORE,
      ngx_http_auth_oidc_conf_set_words,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, redirect_hosts),
      NULL },

    { ngx_string("user_claim"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_provider_user_claim,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, user_claim),
      NULL },

    { ngx_string("extra_auth_args"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, extra_auth_args),
      NULL },

    { ngx_string("redirect_uri"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_path_or_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, redirect_uri),
      NULL },

    { ngx_string("logout_uri"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_path_or_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, logout_uri),
      NULL },

    { ngx_string("post_logout_uri"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_path_or_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, post_logout_uri),
      NULL },

    { ngx_string("logout_token_hint"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, logout_token_hint),
      NULL },

    { ngx_string("scope"),
      NGX_CONF_1MORE,
      ngx_http_auth_oidc_conf_set_words,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, scope),
      NULL },

    { ngx_string("pkce"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, pkce),
      NULL },

    { ngx_string("session_store"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, session_store),
      NULL },

    { ngx_string("session_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, session_timeout),
      NULL },

    { ngx_string("userinfo"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, userinfo),
      NULL },

    { ngx_string("frontchannel_logout_uri"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_path_or_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, frontchannel_logout_uri),
      NULL },

    /* extensions: a session's life */

    { ngx_string("session_idle_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, session_idle_timeout),
      NULL },

    { ngx_string("refresh_margin"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, refresh_margin),
      NULL },

    { ngx_string("backchannel_logout_uri"),
      NGX_CONF_TAKE1,
      ngx_http_auth_oidc_set_path_or_url,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, backchannel_logout_uri),
      NULL },

    { ngx_string("revoke_tokens"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, revoke_tokens),
      NULL },

    { ngx_string("session_tokens"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, session_tokens),
      &ngx_http_auth_oidc_auto_all },

    { ngx_string("session_claims"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, session_claims),
      &ngx_http_auth_oidc_auto_all },

    { ngx_string("ssl_trusted_certificate"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("ssl_crl"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, ssl_crl),
      NULL },

    /* extensions: how we talk to the provider */

    { ngx_string("connect_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, connect_timeout),
      NULL },

    { ngx_string("send_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, send_timeout),
      NULL },

    { ngx_string("read_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, read_timeout),
      NULL },

    { ngx_string("max_response_size"),
      NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, max_response_size),
      NULL },

    { ngx_string("metadata_refresh"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, metadata_refresh),
      NULL },

    { ngx_string("metadata_retry"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, metadata_retry),
      NULL },

    { ngx_string("cookie_secure"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, cookie_secure),
      NULL },

    { ngx_string("login_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, login_timeout),
      NULL },

    { ngx_string("clock_skew"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, clock_skew),
      NULL },

    { ngx_string("id_token_algorithms"),
      NGX_CONF_1MORE,
      ngx_http_auth_oidc_conf_set_words,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, id_token_algorithms),
      NULL },

    { ngx_string("bearer_audience"),
      NGX_CONF_1MORE,
      ngx_http_auth_oidc_conf_set_words,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, bearer_audience),
      NULL },

    { ngx_string("bearer_validation"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, bearer_validation),
      &ngx_http_auth_oidc_bearer_validations },

    { ngx_string("bearer_token_type"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, bearer_strict_type),
      &ngx_http_auth_oidc_bearer_types },

    { ngx_string("bearer_cache_valid"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, bearer_cache_valid),
      NULL },

    { ngx_string("bearer_cache_invalid"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, bearer_cache_invalid),
      NULL },

    { ngx_string("keys_refetch_interval"),
      NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_http_auth_oidc_provider_conf_t, keys_refetch_interval),
      NULL },

      ngx_null_command
};


char *
ngx_http_auth_oidc_provider_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_main_conf_t *amcf = conf;

    char                                 *rv;
    ngx_str_t                            *value;
    ngx_conf_t                            save;
    ngx_http_auth_oidc_provider_conf_t   *prov, **provp;

    value = cf->args->elts;

    /* the name prefixes session keys in the store, which are short */
    if (value[1].len > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_provider name \"%V\" is longer than 64 "
                           "characters", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_auth_oidc_provider_find(amcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate oidc_provider \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    prov = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_provider_conf_t));
    if (prov == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     prov->issuer = { 0, NULL };
     *     prov->client_id = { 0, NULL };
     *     prov->... (all strings) = { 0, NULL };
     *     prov->ssl = NULL;
     *     prov->runtime = NULL;
     */

    prov->name = value[1];
    prov->file = cf->conf_file->file.name.data;
    prov->line = cf->conf_file->line;

    prov->logout_token_hint = NGX_CONF_UNSET;
    prov->pkce = NGX_CONF_UNSET;
    prov->session_timeout = NGX_CONF_UNSET;
    prov->userinfo = NGX_CONF_UNSET;
    prov->session_idle_timeout = NGX_CONF_UNSET;
    prov->refresh_margin = NGX_CONF_UNSET;
    prov->revoke_tokens = NGX_CONF_UNSET;
    prov->session_tokens = NGX_CONF_UNSET_UINT;
    prov->session_claims = NGX_CONF_UNSET_UINT;
    prov->client_auth = NGX_CONF_UNSET_UINT;
    prov->connect_timeout = NGX_CONF_UNSET_MSEC;
    prov->send_timeout = NGX_CONF_UNSET_MSEC;
    prov->read_timeout = NGX_CONF_UNSET_MSEC;
    prov->max_response_size = NGX_CONF_UNSET_SIZE;
    prov->metadata_refresh = NGX_CONF_UNSET;
    prov->metadata_retry = NGX_CONF_UNSET;
    prov->keys_refetch_interval = NGX_CONF_UNSET;
    prov->cookie_secure = NGX_CONF_UNSET;
    prov->login_timeout = NGX_CONF_UNSET;
    prov->clock_skew = NGX_CONF_UNSET;
    prov->bearer_validation = NGX_CONF_UNSET_UINT;
    prov->bearer_strict_type = NGX_CONF_UNSET_UINT;
    prov->bearer_cache_valid = NGX_CONF_UNSET;
    prov->bearer_cache_invalid = NGX_CONF_UNSET;

    save = *cf;
    cf->handler = ngx_http_auth_oidc_provider_directive;
    cf->handler_conf = (char *) prov;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rv = ngx_http_auth_oidc_provider_merge(cf, prov);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    provp = ngx_array_push(&amcf->providers);
    if (provp == NULL) {
        return NGX_CONF_ERROR;
    }

    *provp = prov;

    return NGX_CONF_OK;
}


/* Dispatches one directive inside oidc_provider{} to its setter. */

static char *
ngx_http_auth_oidc_provider_directive(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf)
{
    char           *rv;
    ngx_str_t      *name;
    ngx_uint_t      nargs;
    ngx_command_t  *cmd;

    static const ngx_uint_t  argument_number[] = {
        NGX_CONF_NOARGS, NGX_CONF_TAKE1, NGX_CONF_TAKE2, NGX_CONF_TAKE3
    };

    name = cf->args->elts;
    nargs = cf->args->nelts - 1;

    for (cmd = ngx_http_auth_oidc_provider_commands; cmd->name.len; cmd++) {

        if (cmd->name.len != name->len
            || ngx_strncmp(cmd->name.data, name->data, name->len) != 0)
        {
            continue;
        }

        if ((cmd->type & NGX_CONF_FLAG) && nargs == 1) {
            goto valid;
        }

        if ((cmd->type & NGX_CONF_1MORE) && nargs >= 1) {
            goto valid;
        }

        if (nargs < 4 && (cmd->type & argument_number[nargs])) {
            goto valid;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in \"%V\" directive",
                           name);
        return NGX_CONF_ERROR;

    valid:

        rv = cmd->set(cf, cmd, conf);

        if (rv == NGX_CONF_OK) {
            return NGX_CONF_OK;
        }

        if (rv != NGX_CONF_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive %s",
                               name, rv);
        }

        return NGX_CONF_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive \"%V\" in oidc_provider", name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_auth_oidc_set_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char                       err[NGX_MAX_CONF_ERRSTR];
    ngx_str_t                   *field, *value;
    ngx_http_auth_oidc_target_t  t;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_auth_oidc_target_parse(cf->pool, &value[1], &t, err,
                                        sizeof(err))
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid %V \"%V\": %s",
                           &cmd->name, &value[1], err);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


/* A local path ("/oidc_callback") or an absolute http(s) URL. */

static char *
ngx_http_auth_oidc_set_path_or_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0
        || (value[1].data[0] != '/'
            && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) != 0
            && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8) != 0)
        || (value[1].len > 1 && value[1].data[0] == '/'
            && value[1].data[1] == '/'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\": a path starting with \"/\" "
                           "or an http(s) URL is expected",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


/*
 * "scope openid profile email;" is kept as "openid profile email"; the same
 * for "id_token_algorithms RS256 ES256;", "redirect_hosts" and a location's
 * "auth_oidc_acr".
 */

char *
ngx_http_auth_oidc_conf_set_words(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    u_char      *d;
    size_t       len;
    ngx_str_t   *field, *value;
    ngx_uint_t   i;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        len += value[i].len + 1;
    }

    d = ngx_pnalloc(cf->pool, len);
    if (d == NULL) {
        return NGX_CONF_ERROR;
    }

    field->data = d;

    for (i = 1; i < cf->args->nelts; i++) {
        if (i > 1) {
            *d++ = ' ';
        }

        d = ngx_cpymem(d, value[i].data, value[i].len);
    }

    field->len = d - field->data;

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_oidc_provider_merge(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char  *p;
    u_char   err[NGX_MAX_CONF_ERRSTR];

    if (prov->issuer.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"issuer\" is required in oidc_provider \"%V\"",
                           &prov->name);
        return NGX_CONF_ERROR;
    }

    if (prov->client_id.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"client_id\" is required in oidc_provider \"%V\"",
                           &prov->name);
        return NGX_CONF_ERROR;
    }

    if (prov->config_url.len == 0
        && ngx_strnstr(prov->issuer.data, "{tenantid}", prov->issuer.len)
           != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_provider \"%V\": the issuer \"%V\" names "
                           "each token's tenant (\"{tenantid}\"): set "
                           "config_url to the provider's multi-tenant "
                           "discovery document, such as https://login."
                           "microsoftonline.com/organizations/v2.0/"
                           ".well-known/openid-configuration",
                           &prov->name, &prov->issuer);
        return NGX_CONF_ERROR;
    }

    if (prov->config_url.len == 0) {
        /* Discovery 1.0, 4: the issuer, minus a trailing "/", plus the path */
        prov->config_url.len = prov->issuer.len
                               + sizeof("/.well-known/openid-configuration")
                               - 1;
        p = ngx_pnalloc(cf->pool, prov->config_url.len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        prov->config_url.data = p;
        p = ngx_cpymem(p, prov->issuer.data, prov->issuer.len);

        if (p[-1] == '/') {
            p--;
        }

        p = ngx_cpymem(p, "/.well-known/openid-configuration",
                       sizeof("/.well-known/openid-configuration") - 1);
        prov->config_url.len = p - prov->config_url.data;
    }

    if (ngx_http_auth_oidc_target_parse(cf->pool, &prov->issuer,
                                        &prov->issuer_target, err,
                                        sizeof(err))
        != NGX_OK
        || ngx_http_auth_oidc_target_parse(cf->pool, &prov->config_url,
                                           &prov->discovery_target, err,
                                           sizeof(err))
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL in oidc_provider \"%V\": %s",
                           &prov->name, err);
        return NGX_CONF_ERROR;
    }

    /* who may frame a front-channel logout page: the provider's origin */
    prov->issuer_origin.len = sizeof("https://") - 1
                              + prov->issuer_target.host_header.len;
    p = ngx_pnalloc(cf->pool, prov->issuer_origin.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    prov->issuer_origin.data = p;
    p = ngx_cpymem(p, prov->issuer_target.ssl ? "https://" : "http://",
                   prov->issuer_target.ssl ? 8 : 7);
    p = ngx_cpymem(p, prov->issuer_target.host_header.data,
                   prov->issuer_target.host_header.len);
    prov->issuer_origin.len = p - prov->issuer_origin.data;

    if (prov->cookie_name.len == 0) {
        ngx_str_set(&prov->cookie_name, "NGX_OIDC_SESSION");
    }

    if (prov->user_claim.len == 0) {
        ngx_str_set(&prov->user_claim, "sub");
    }

    if (ngx_http_auth_oidc_provider_hosts(cf, prov) != NGX_OK
        || ngx_http_auth_oidc_client_auth_merge(cf, prov) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the login loop's counter: ours (never upstream), no started login's */
    prov->loop_cookie.len = prov->cookie_name.len
                            + sizeof("_login_loop") - 1;
    prov->loop_cookie.data = ngx_pnalloc(cf->pool, prov->loop_cookie.len);
    if (prov->loop_cookie.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(ngx_cpymem(prov->loop_cookie.data, prov->cookie_name.data,
                          prov->cookie_name.len),
               "_login_loop", sizeof("_login_loop") - 1);

    if (prov->redirect_uri.len == 0) {
        ngx_str_set(&prov->redirect_uri, "/oidc_callback");
    }

    if (prov->scope.len == 0) {
        ngx_str_set(&prov->scope, "openid");
    }

    ngx_conf_init_value(prov->logout_token_hint, 0);
    ngx_conf_init_value(prov->session_timeout, 8 * 60 * 60);
    ngx_conf_init_value(prov->userinfo, 0);
    ngx_conf_init_value(prov->session_idle_timeout, 0);
    ngx_conf_init_value(prov->refresh_margin, 30);
    ngx_conf_init_value(prov->revoke_tokens, 1);
    ngx_conf_init_uint_value(prov->session_tokens, 0);
    ngx_conf_init_uint_value(prov->session_claims, 0);
    ngx_conf_init_msec_value(prov->connect_timeout, 5000);
    ngx_conf_init_msec_value(prov->send_timeout, 10000);
    ngx_conf_init_msec_value(prov->read_timeout, 10000);
    ngx_conf_init_size_value(prov->max_response_size, 512 * 1024);
    ngx_conf_init_value(prov->metadata_refresh, 60 * 60);
    ngx_conf_init_value(prov->metadata_retry, 10);
    ngx_conf_init_value(prov->keys_refetch_interval, 30);
    ngx_conf_init_value(prov->login_timeout, 10 * 60);
    ngx_conf_init_value(prov->clock_skew, 60);
    ngx_conf_init_uint_value(prov->bearer_validation, AUTH_OIDC_BEARER_AUTO);
    ngx_conf_init_uint_value(prov->bearer_strict_type, 1);
    ngx_conf_init_value(prov->bearer_cache_valid, 5 * 60);
    ngx_conf_init_value(prov->bearer_cache_invalid, 10);

    /* cookie_secure stays NGX_CONF_UNSET: Secure when the request is https */

    if (ngx_http_auth_oidc_path_of(cf, prov, "redirect_uri",
                                   &prov->redirect_uri, &prov->redirect_path)
        != NGX_CONF_OK
        || ngx_http_auth_oidc_path_of(cf, prov, "logout_uri",
                                      &prov->logout_uri, &prov->logout_path)
           != NGX_CONF_OK
        || ngx_http_auth_oidc_path_of(cf, prov, "frontchannel_logout_uri",
                                      &prov->frontchannel_logout_uri,
                                      &prov->frontchannel_logout_path)
           != NGX_CONF_OK
        || ngx_http_auth_oidc_path_of(cf, prov, "backchannel_logout_uri",
                                      &prov->backchannel_logout_uri,
                                      &prov->backchannel_logout_path)
           != NGX_CONF_OK
        || ngx_http_auth_oidc_core_check(cf, prov, "scope", &prov->scope,
                                         auth_oidc_scope_check)
           != NGX_CONF_OK
        || ngx_http_auth_oidc_core_check(cf, prov, "extra_auth_args",
                                         &prov->extra_auth_args,
                                         auth_oidc_extra_args_check)
           != NGX_CONF_OK
        || ngx_http_auth_oidc_core_check(cf, prov, "id_token_algorithms",
                                         &prov->id_token_algorithms,
                                         auth_oidc_algorithms_check)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* pkce stays NGX_CONF_UNSET: the provider's metadata decides */

    if (prov->metadata_refresh == 0 || prov->metadata_retry == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"metadata_refresh\" and \"metadata_retry\" "
                           "must be at least 1s in oidc_provider \"%V\"",
                           &prov->name);
        return NGX_CONF_ERROR;
    }

    if (prov->max_response_size < 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"max_response_size\" must be at least 1k "
                           "in oidc_provider \"%V\"", &prov->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* The path that requests to a redirect_uri or logout_uri arrive at. */

static char *
ngx_http_auth_oidc_path_of(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *directive,
    ngx_str_t *uri, ngx_str_t *path)
{
    u_char                       *q;
    u_char                        err[NGX_MAX_CONF_ERRSTR];
    ngx_http_auth_oidc_target_t   t;

    if (uri->len == 0) {
        ngx_str_null(path);
        return NGX_CONF_OK;
    }

    if (uri->data[0] == '/') {
        *path = *uri;

    } else if (ngx_http_auth_oidc_target_parse(cf->pool, uri, &t, err,
                                               sizeof(err))
               == NGX_OK)
    {
        *path = t.uri;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s \"%V\" in oidc_provider \"%V\": %s",
                           directive, uri, &prov->name, err);
        return NGX_CONF_ERROR;
    }

    q = ngx_strlchr(path->data, path->data + path->len, '?');
    if (q) {
        path->len = q - path->data;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_oidc_core_check(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *directive,
    ngx_str_t *value,
    auth_oidc_status_t (*check)(auth_oidc_str_t, auth_oidc_error_t *))
{
    auth_oidc_str_t    v;
    auth_oidc_error_t  err;

    if (value->len == 0) {
        return NGX_CONF_OK;
    }

    v.data = value->data;
    v.len = value->len;

    if (check(v, &err) != AUTH_OIDC_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %s \"%V\" in oidc_provider \"%V\": %s",
                           directive, value, &prov->name, err.msg);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_http_auth_oidc_provider_conf_t *
ngx_http_auth_oidc_provider_find(ngx_http_auth_oidc_main_conf_t *amcf,
    ngx_str_t *name)
{
    ngx_uint_t                            i;
    ngx_http_auth_oidc_provider_conf_t  **prov;

    prov = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {
        if (prov[i]->name.len == name->len
            && ngx_strncmp(prov[i]->name.data, name->data, name->len) == 0)
        {
            return prov[i];
        }
    }

    return NULL;
}


/*
 * Called once the whole http{} block is known (the "resolver" directive may
 * come after the providers): picks the resolver, resolves names when there
 * is none, and creates the TLS contexts.
 */

ngx_int_t
ngx_http_auth_oidc_providers_init(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_uint_t                            i;
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_auth_oidc_provider_conf_t  **provs, *prov;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    provs = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {
        prov = provs[i];

        if (clcf->resolver && clcf->resolver->connections.nelts) {
            prov->resolver = clcf->resolver;
            prov->resolver_timeout = clcf->resolver_timeout
                                     == NGX_CONF_UNSET_MSEC
                                     ? 30000 : clcf->resolver_timeout;
        }

        if (ngx_http_auth_oidc_provider_resolve(cf, prov,
                                                &prov->discovery_target,
                                                "config_url")
            != NGX_OK
            || ngx_http_auth_oidc_provider_resolve(cf, prov,
                                                   &prov->issuer_target,
                                                   "issuer")
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_auth_oidc_provider_ssl(cf, prov) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ngx_http_auth_oidc_provider_keeps(cf, amcf, prov) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * What a provider's sessions keep, decided once: nothing the configuration
 * does not use, so that a record is a fraction of its size.
 *
 * "session_tokens auto": the ID token for logout_token_hint,
 * $oidc_id_token, claim paths (auth_oidc_claim_set, auth_oidc_claim_has)
 * and userinfo (a refresh without a new ID token rebuilds the claims from
 * it); the access token for $oidc_access_token, and for revoke_tokens in a
 * session without a refresh token (which is revoked instead).
 *
 * "session_claims auto": the claims of the $oidc_claim_* variables the
 * configuration names (and the few the core reads again itself).
 *
 * A variable counts as used when the configuration names it (nginx
 * indexed it); a script that reads one by name at run time needs "all".
 */

static ngx_int_t
ngx_http_auth_oidc_provider_keeps(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char                     *p;
    size_t                      len;
    ngx_uint_t                  i, id, access;
    ngx_http_variable_t        *v;
    ngx_http_core_main_conf_t  *cmcf;

    static ngx_str_t  claim = ngx_string("oidc_claim_");

    prov->drop_tokens = 0;
    ngx_str_null(&prov->keep_claims);

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    v = cmcf->variables.elts;

    if (prov->session_claims == 0) {
        prov->drop_tokens |= AUTH_OIDC_DROP_CLAIMS;

        /* $oidc_user's claim, and those of the $oidc_claim_* named */
        len = prov->user_claim.len;

        for (i = 0; i < cmcf->variables.nelts; i++) {
            if (ngx_http_auth_oidc_provider_names_claim(&v[i].name, prov)) {
                len += v[i].name.len - claim.len + 1;
            }
        }

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        prov->keep_claims.data = p;
        p = ngx_cpymem(p, prov->user_claim.data, prov->user_claim.len);

        for (i = 0; i < cmcf->variables.nelts; i++) {
            if (ngx_http_auth_oidc_provider_names_claim(&v[i].name, prov)) {
                *p++ = ' ';
                p = ngx_cpymem(p, v[i].name.data + claim.len,
                               v[i].name.len - claim.len);
            }
        }

        prov->keep_claims.len = p - prov->keep_claims.data;
    }

    if (prov->session_tokens == 1) {
        return NGX_OK;
    }

    id = prov->logout_token_hint == 1 || prov->userinfo == 1
         || amcf->claim_paths;
    access = 0;

    if (prov->revoke_tokens == 1) {
        /* revoked at logout when the session has no refresh token */
        prov->drop_tokens |= AUTH_OIDC_REVOKE_ACCESS_TOKEN;
    }

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].name.len == sizeof("oidc_id_token") - 1
            && ngx_strncmp(v[i].name.data, "oidc_id_token",
                           v[i].name.len) == 0)
        {
            id = 1;

        } else if (v[i].name.len == sizeof("oidc_access_token") - 1
                   && ngx_strncmp(v[i].name.data, "oidc_access_token",
                                  v[i].name.len) == 0)
        {
            access = 1;
        }
    }

    if (!id) {
        prov->drop_tokens |= AUTH_OIDC_DROP_ID_TOKEN;
    }

    if (!access) {
        prov->drop_tokens |= AUTH_OIDC_DROP_ACCESS_TOKEN;
    }

    return NGX_OK;
}


/* A $oidc_claim_* variable of a claim other than user_claim (kept anyway). */

static ngx_uint_t
ngx_http_auth_oidc_provider_names_claim(ngx_str_t *var,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    size_t  len;

    len = sizeof("oidc_claim_") - 1;

    return var->len > len
           && ngx_strncmp(var->data, "oidc_claim_", len) == 0
           && (var->len - len != prov->user_claim.len
               || ngx_strncmp(var->data + len, prov->user_claim.data,
                              prov->user_claim.len) != 0);
}


/*
 * user_claim NAME: the claim that names the user ($oidc_user, and
 * $remote_user with auth_oidc_remote_user): a top-level claim's name,
 * printable and without spaces (the list of claims a session keeps is
 * space-separated).
 */

static char *
ngx_http_auth_oidc_provider_user_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_uint_t   i;
    ngx_str_t   *value;

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "user_claim is empty");
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "user_claim \"%V\" is not a claim's name: "
                               "no spaces or control characters", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


/*
 * Without a resolver, names are looked up now, in the master, as proxy_pass
 * does: a worker never calls the blocking system resolver.
 */

static ngx_int_t
ngx_http_auth_oidc_provider_resolve(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_http_auth_oidc_target_t *t,
    const char *directive)
{
    ngx_url_t  u;

    if (t->addrs || prov->resolver) {
        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = t->host;
    u.host = t->host;
    u.port = t->port;

    if (ngx_inet_resolve_host(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "host not found in %s \"%V\" of oidc_provider \"%V\" "
                      "in %s:%ui", directive, &t->url, &prov->name,
                      prov->file, prov->line);
        return NGX_ERROR;
    }

    t->addrs = u.addrs;
    t->naddrs = u.naddrs;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_provider_ssl(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t            file;
    ngx_file_info_t      fi;

    file = prov->ssl_trusted_certificate;

    if (file.len == 0) {
        ngx_str_set(&file, NGX_HTTP_AUTH_OIDC_CA_BUNDLE);

        if (ngx_file_info(NGX_HTTP_AUTH_OIDC_CA_BUNDLE, &fi)
            == NGX_FILE_ERROR)
        {
            if (!prov->issuer_target.ssl && !prov->discovery_target.ssl) {
                /* a plain http provider: https endpoints will say why */
                return NGX_OK;
            }

            ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                          "no system CA bundle at \"%V\": set "
                          "\"ssl_trusted_certificate\" in oidc_provider "
                          "\"%V\" in %s:%ui", &file, &prov->name,
                          prov->file, prov->line);
            return NGX_ERROR;
        }
    }

    prov->ssl = ngx_http_auth_oidc_ssl_client(cf, &file);
    if (prov->ssl == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "cannot load ssl_trusted_certificate \"%V\" of "
                      "oidc_provider \"%V\" in %s:%ui", &file, &prov->name,
                      prov->file, prov->line);
        return NGX_ERROR;
    }

    if (ngx_ssl_crl(cf, prov->ssl, &prov->ssl_crl) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * cookie_domain: one login for the hosts under a domain (RFC 6265, 5.2.3),
 * which "__Host-" cookies refuse; redirect_hosts: where else a login may
 * come back to. Names only: a value that could end the Set-Cookie
 * attribute, or be read as a pattern, is refused here.
 */

static ngx_int_t
ngx_http_auth_oidc_provider_hosts(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char  *p, *last, *end;

    if (prov->cookie_domain.len) {
        if (!ngx_http_auth_oidc_host_name(prov->cookie_domain.data,
                                          prov->cookie_domain.len, 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": cookie_domain \"%V\" "
                               "is not a domain name", &prov->name,
                               &prov->cookie_domain);
            return NGX_ERROR;
        }

        if (ngx_http_auth_oidc_cookie_prefixed(&prov->cookie_name, "__Host-")) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": a \"__Host-\" "
                               "cookie_name cannot have a cookie_domain: "
                               "browsers refuse it; use \"__Secure-\"",
                               &prov->name);
            return NGX_ERROR;
        }
    }

    p = prov->redirect_hosts.data;
    last = p + prov->redirect_hosts.len;

    while (p < last) {
        end = ngx_strlchr(p, last, ' ');
        if (end == NULL) {
            end = last;
        }

        if (!ngx_http_auth_oidc_host_name(p, end - p, 1)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": redirect_hosts "
                               "takes host names, \"host:port\" or "
                               "\".domain\" for the names under it, not "
                               "\"%*s\"", &prov->name, end - p, p);
            return NGX_ERROR;
        }

        p = end + 1;
    }

    return NGX_OK;
}


/*
 * A host name: letters, digits, "-" and ".", never only dots; with port,
 * then an optional ":" and one to five digits.
 */

static ngx_uint_t
ngx_http_auth_oidc_host_name(u_char *p, size_t len, ngx_uint_t port)
{
    size_t      i;
    ngx_uint_t  name;

    name = 0;

    for (i = 0; i < len; i++) {
        if (((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z')
            || (p[i] >= '0' && p[i] <= '9') || p[i] == '-')
        {
            name = 1;

        } else if (p[i] == ':' && port) {
            break;

        } else if (p[i] != '.') {
            return 0;
        }
    }

    if (i == len) {
        return name;
    }

    if (len - i < 2 || len - i > 6) {
        return 0;
    }

    for (i++; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return name;
}
