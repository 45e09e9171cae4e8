
/*
 * nginx-auth-oidc: directives, configuration and the module's life cycle.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"
#include "ngx_http_auth_oidc_session_memo.h"


static ngx_int_t ngx_http_auth_oidc_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_auth_oidc_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_auth_oidc_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_auth_oidc_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_auth_oidc_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_auth_oidc_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_auth_oidc_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_auth_oidc_init_process(ngx_cycle_t *cycle);
static void ngx_http_auth_oidc_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_auth_oidc(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_oidc_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static char *ngx_http_auth_oidc_post_max_check(ngx_conf_t *cf, void *post,
    void *data);


/* a kept form is sealed whole (its URI too) into at most 1 MiB */
#define NGX_HTTP_AUTH_OIDC_POST_MAX  (960 * 1024)

static ngx_conf_post_t  ngx_http_auth_oidc_post_max_bounds = {
    ngx_http_auth_oidc_post_max_check
};


static ngx_conf_enum_t  ngx_http_auth_oidc_unauth_modes[] = {
    { ngx_string("auto"), NGX_HTTP_AUTH_OIDC_UNAUTH_AUTO },
    { ngx_string("redirect"), NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT },
    { ngx_string("401"), NGX_HTTP_AUTH_OIDC_UNAUTH_401 },
    { ngx_string("pass"), NGX_HTTP_AUTH_OIDC_UNAUTH_PASS },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_auth_oidc_commands[] = {

    { ngx_string("oidc_provider"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_auth_oidc_provider_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_auth_oidc,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oidc_session_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_auth_oidc_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_unauth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, unauth),
      &ngx_http_auth_oidc_unauth_modes },

    { ngx_string("auth_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_auth_oidc_require_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_bearer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_auth_oidc_bearer_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_bearer_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_auth_oidc_bearer_scope_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_auth_oidc_claim_set,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_claim_has"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_auth_oidc_claim_has,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_forwarded_from"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_auth_oidc_forwarded_from,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oidc_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_auth_oidc_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_oidc_cors_preflight"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, cors_preflight),
      NULL },

    { ngx_string("auth_oidc_extra_auth_args"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, login_args),
      NULL },

    { ngx_string("auth_oidc_acr"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_auth_oidc_conf_set_words,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, acr_values),
      NULL },

    { ngx_string("auth_oidc_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, max_age),
      NULL },

    { ngx_string("auth_oidc_remote_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, remote_user),
      NULL },

    { ngx_string("auth_oidc_preserve_post"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, preserve_post),
      NULL },

    { ngx_string("auth_oidc_preserve_post_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_oidc_loc_conf_t, preserve_post_max_size),
      &ngx_http_auth_oidc_post_max_bounds },

    { ngx_string("oidc_session_info"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_auth_oidc_session_info,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oidc_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_auth_oidc_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_auth_oidc_module_ctx = {
    ngx_http_auth_oidc_preconfiguration,   /* preconfiguration */
    ngx_http_auth_oidc_postconfiguration,  /* postconfiguration */

    ngx_http_auth_oidc_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_auth_oidc_create_srv_conf,    /* create server configuration */
    ngx_http_auth_oidc_merge_srv_conf,     /* merge server configuration */

    ngx_http_auth_oidc_create_loc_conf,    /* create location configuration */
    ngx_http_auth_oidc_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_auth_oidc_module = {
    NGX_MODULE_V1,
    &ngx_http_auth_oidc_module_ctx,        /* module context */
    ngx_http_auth_oidc_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_auth_oidc_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_auth_oidc_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_http_auth_oidc_post_max_check(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    if (*size > NGX_HTTP_AUTH_OIDC_POST_MAX) {
        return "must be at most 960k: a kept form travels sealed through "
               "the browser";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_auth_oidc_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_auth_oidc_add_variables(cf);
}


static void *
ngx_http_auth_oidc_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_auth_oidc_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->meta_zone = NULL;
     */

    if (ngx_array_init(&amcf->providers, cf->pool, 4,
                       sizeof(ngx_http_auth_oidc_provider_conf_t *))
        != NGX_OK
        || ngx_array_init(&amcf->stores, cf->pool, 2,
                          sizeof(ngx_http_auth_oidc_store_t *))
           != NGX_OK)
    {
        return NULL;
    }

    return amcf;
}


static void *
ngx_http_auth_oidc_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_auth_oidc_srv_conf_t  *ascf;

    ascf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_srv_conf_t));
    if (ascf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ascf->providers = NULL;
     *     ascf->any_provider = 0;
     *     ascf->forwarded_from = NULL;
     */

    ascf->realip_index = NGX_CONF_UNSET;

    return ascf;
}


/*
 * The server's names, kept for run time: nginx builds its own server_names
 * in the configuration's temporary pool, gone once the configuration is
 * read. Our absolute URLs use the Host only when it is one of them.
 */

static char *
ngx_http_auth_oidc_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_auth_oidc_srv_conf_t *prev = parent;
    ngx_http_auth_oidc_srv_conf_t *conf = child;

    ngx_uint_t                 i;
    ngx_http_server_name_t    *sn, *copy;
    ngx_http_core_srv_conf_t  *cscf;

    if (conf->forwarded_from == NULL) {
        conf->forwarded_from = prev->forwarded_from;
        conf->realip_index = prev->realip_index;
    }

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    conf->server_names = ngx_array_create(cf->pool,
                                          ngx_max(cscf->server_names.nelts, 1),
                                          sizeof(ngx_http_server_name_t));
    if (conf->server_names == NULL) {
        return NGX_CONF_ERROR;
    }

    sn = cscf->server_names.elts;

    for (i = 0; i < cscf->server_names.nelts; i++) {
        copy = ngx_array_push(conf->server_names);
        if (copy == NULL) {
            return NGX_CONF_ERROR;
        }

        *copy = sn[i];
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_auth_oidc_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_auth_oidc_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->provider_name = NULL;
     *     alcf->require = NULL;
     *     alcf->provider = NULL;
     *     alcf->status = 0;
     *     alcf->file = NULL;
     *     alcf->bearer_provider = NULL;
     *     alcf->bearer_token = NULL;
     *     alcf->bearer_scopes = NULL;
     *     alcf->login_args = NULL;
     *     alcf->acr_values = { 0, NULL };
     */

    alcf->enable = NGX_CONF_UNSET;
    alcf->bearer = NGX_CONF_UNSET;
    alcf->unauth = NGX_CONF_UNSET_UINT;
    alcf->preserve_post = NGX_CONF_UNSET;
    alcf->cors_preflight = NGX_CONF_UNSET;
    alcf->remote_user = NGX_CONF_UNSET;
    alcf->max_age = NGX_CONF_UNSET;
    alcf->preserve_post_max_size = NGX_CONF_UNSET_SIZE;

    return alcf;
}


static char *
ngx_http_auth_oidc_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_auth_oidc_loc_conf_t *prev = parent;
    ngx_http_auth_oidc_loc_conf_t *conf = child;

    ngx_uint_t                            i;
    ngx_http_auth_oidc_srv_conf_t        *ascf;
    ngx_http_auth_oidc_main_conf_t       *amcf;
    ngx_http_auth_oidc_provider_conf_t  **p;

    ngx_conf_merge_uint_value(conf->unauth, prev->unauth,
                              NGX_HTTP_AUTH_OIDC_UNAUTH_AUTO);
    ngx_conf_merge_value(conf->preserve_post, prev->preserve_post, 0);
    ngx_conf_merge_value(conf->cors_preflight, prev->cors_preflight, 1);
    ngx_conf_merge_value(conf->remote_user, prev->remote_user, 0);
    ngx_conf_merge_sec_value(conf->max_age, prev->max_age, NGX_CONF_UNSET);

    if (conf->login_args == NULL) {
        conf->login_args = prev->login_args;
    }

    if (conf->acr_values.data == NULL) {
        conf->acr_values = prev->acr_values;
    }

    ngx_conf_merge_size_value(conf->preserve_post_max_size,
                              prev->preserve_post_max_size, 64 * 1024);

    if (conf->preserve_post) {
        /* what the callback takes back at most (preserve_post.c) */
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_auth_oidc_module);
        amcf->post_max = ngx_max(amcf->post_max,
                                 conf->preserve_post_max_size);
    }

    /* auth_require: a level with any replaces its parent's, all of them */
    if (conf->require == NULL) {
        conf->require = prev->require;
    }

    if (ngx_http_auth_oidc_bearer_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable = prev->enable;
        conf->provider_name = prev->provider_name;
        conf->provider = prev->provider;
        conf->file = prev->file;
        conf->line = prev->line;
    }

    ngx_conf_init_value(conf->enable, 0);

    if (conf->session_info && !conf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_info needs \"auth_oidc NAME\" in "
                           "its location: it answers the session auth_oidc "
                           "found");
        return NGX_CONF_ERROR;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    /* the server answers the callback and logout paths of its providers */
    ascf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_auth_oidc_module);

    if (conf->provider_name->lengths) {
        ascf->any_provider = 1;
        return NGX_CONF_OK;
    }

    if (conf->provider == NULL) {
        /* a static name: every oidc_provider{} block is known by now */
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_auth_oidc_module);

        conf->provider = ngx_http_auth_oidc_provider_find(amcf,
                                                &conf->provider_name->value);

        if (conf->provider == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown oidc_provider \"%V\" in auth_oidc in "
                          "%s:%ui", &conf->provider_name->value, conf->file,
                          conf->line);
            return NGX_CONF_ERROR;
        }
    }

    if (ascf->providers == NULL) {
        ascf->providers = ngx_array_create(cf->pool, 2,
                                 sizeof(ngx_http_auth_oidc_provider_conf_t *));
        if (ascf->providers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    p = ascf->providers->elts;

    for (i = 0; i < ascf->providers->nelts; i++) {
        if (p[i] == conf->provider) {
            return NGX_CONF_OK;
        }
    }

    p = ngx_array_push(ascf->providers);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    *p = conf->provider;

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_oidc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_oidc_loc_conf_t *alcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (alcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        alcf->enable = 0;
        return NGX_CONF_OK;
    }

    alcf->provider_name = ngx_palloc(cf->pool,
                                     sizeof(ngx_http_complex_value_t));
    if (alcf->provider_name == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = alcf->provider_name;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    alcf->enable = 1;
    alcf->file = cf->conf_file->file.name.data;
    alcf->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_oidc_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_oidc_loc_conf_t *alcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (alcf->status) {
        return "is duplicate";
    }

    alcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_auth_oidc_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_auth_oidc_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt             *h;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_array_t                     *handlers;
    ngx_http_auth_oidc_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_oidc_module);

    if (ngx_http_auth_oidc_providers_init(cf, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_metadata_zone_add(cf, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_store_init_conf(cf, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_remote_user_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* callback and logout paths, before any location is chosen */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_SERVER_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_auth_oidc_endpoint_handler;

    /*
     * Access: nginx runs a phase's handlers in the reverse order of their
     * registration. Ours go first in the array, so that they run last:
     * "allow" and the others answer before a login is asked for ("satisfy
     * any" lets an allowed address in without one), and auth_require runs
     * after auth_oidc has found the session its variables read.
     */
    handlers = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    if (ngx_array_push_n(handlers, 2) == NULL) {
        return NGX_ERROR;
    }

    h = handlers->elts;
    ngx_memmove(&h[2], &h[0], (handlers->nelts - 2) * sizeof(*h));

    h[0] = ngx_http_auth_oidc_require_handler;
    h[1] = ngx_http_auth_oidc_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_init_process(ngx_cycle_t *cycle)
{
    ngx_http_auth_oidc_main_conf_t  *amcf;

    /* cache manager and loader processes do not serve requests */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_auth_oidc_module);
    if (amcf == NULL) {
        return NGX_OK;
    }

    /*
     * The cached clock is the master's, as of before it read the whole
     * configuration (a second and more for a large one): timers armed on
     * it below, such as a Redis connect timeout, would expire as soon as
     * the worker's first event loop updates the clock.
     */
    ngx_time_update();

    if (ngx_http_auth_oidc_store_init_worker(cycle, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_auth_oidc_metadata_init_worker(cycle, amcf);
}


static void
ngx_http_auth_oidc_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_auth_oidc_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_auth_oidc_module);
    if (amcf == NULL) {
        return;
    }

    ngx_http_auth_oidc_metadata_exit_worker(amcf);
    ngx_http_auth_oidc_store_exit_worker(amcf);
    ngx_http_auth_oidc_session_memo_clear();
}


/*
 * The shared part of a zone of ours: the one a zone already has, or a new
 * zeroed one of size bytes, with the zone's name in the slab's log lines.
 * *fresh tells the caller to initialise it.
 */

void *
ngx_http_auth_oidc_shm_ctx(ngx_shm_zone_t *shm_zone, size_t size,
    const char *what, ngx_uint_t *fresh)
{
    void             *sh;
    size_t            len;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    *fresh = 0;

    if (shm_zone->shm.exists) {
        return shpool->data;
    }

    sh = ngx_slab_calloc(shpool, size);
    if (sh == NULL) {
        return NULL;
    }

    shpool->data = sh;

    len = sizeof(" in  \"\"") + ngx_strlen(what) + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NULL;
    }

    ngx_sprintf(shpool->log_ctx, " in %s \"%V\"%Z", what,
                &shm_zone->shm.name);

    /* a full zone is expected and handled by the caller */
    shpool->log_nomem = 0;

    *fresh = 1;

    return sh;
}


/*
 * A TLS client context (TLS 1.2 and 1.3) that trusts the CAs in file,
 * freed with the configuration: to the provider and to Redis alike.
 * NULL on failure, the cause already logged by nginx.
 */

ngx_ssl_t *
ngx_http_auth_oidc_ssl_client(ngx_conf_t *cf, ngx_str_t *file)
{
    ngx_ssl_t           *ssl;
    ngx_pool_cleanup_t  *cln;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NULL;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL) != NGX_OK) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NULL;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (ngx_ssl_trusted_certificate(cf, ssl, file, 9) != NGX_OK) {
        return NULL;
    }

    return ssl;
}
