
/*
 * Request handling: the access-phase check of protected locations, and the
 * server-level handler that answers each provider's callback and logout
 * paths in every server that uses the provider.
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"
#include "ngx_http_auth_oidc_store.h"
#include "ngx_http_auth_oidc_session_memo.h"


static ngx_http_auth_oidc_provider_conf_t *ngx_http_auth_oidc_provider(
    ngx_http_request_t *r, ngx_http_auth_oidc_loc_conf_t *alcf);
static ngx_int_t ngx_http_auth_oidc_find_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
static void ngx_http_auth_oidc_session_found(void *data, ngx_int_t rc,
    ngx_str_t *record);
static void ngx_http_auth_oidc_use_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_int_t rc, ngx_str_t *record);
static ngx_uint_t ngx_http_auth_oidc_path_is(ngx_http_request_t *r,
    ngx_str_t *path);
static ngx_int_t ngx_http_auth_oidc_login_start(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t **provs,
    ngx_uint_t n, ngx_str_t *name);
static ngx_int_t ngx_http_auth_oidc_endpoint_answer(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static ngx_uint_t ngx_http_auth_oidc_is_navigation(ngx_http_request_t *r);
static ngx_uint_t ngx_http_auth_oidc_is_form_post(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_oidc_form_post(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_loc_conf_t *alcf, ngx_uint_t mode);
static ngx_uint_t ngx_http_auth_oidc_is_lookup_key(ngx_str_t *t);
static ngx_http_auth_oidc_provider_conf_t *ngx_http_auth_oidc_named(
    ngx_http_request_t *r, ngx_http_auth_oidc_provider_conf_t **provs,
    ngx_uint_t n, ngx_str_t *name);
static ngx_int_t ngx_http_auth_oidc_unavailable(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_unauthorized(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_challenge(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
static void ngx_http_auth_oidc_metadata_arrived(ngx_http_request_t *r);
static void ngx_http_auth_oidc_cleanup(void *data);
static void ngx_http_auth_oidc_suspend(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static ngx_int_t ngx_http_auth_oidc_strip_elsewhere(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_oidc_bearer_access(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf);


/* The module's own endpoints, found by path. */
enum {
    NGX_HTTP_AUTH_OIDC_CALLBACK = 0,
    NGX_HTTP_AUTH_OIDC_LOGOUT,
    NGX_HTTP_AUTH_OIDC_BACKCHANNEL,
    NGX_HTTP_AUTH_OIDC_FRONTCHANNEL
};
static ngx_int_t ngx_http_auth_oidc_served_host(ngx_http_request_t *r,
    ngx_str_t *host, ngx_uint_t *https);
static ngx_uint_t ngx_http_auth_oidc_name_matches(ngx_http_server_name_t *sn,
    ngx_str_t *host);
static ngx_uint_t ngx_http_auth_oidc_address_matches(ngx_str_t *addr,
    ngx_str_t *host);


ngx_int_t
ngx_http_auth_oidc_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    ngx_uint_t                           mode;
    ngx_http_auth_oidc_ctx_t            *ctx;
    ngx_http_auth_oidc_loc_conf_t       *alcf;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_oidc_module);

    if (alcf->cors_preflight && (alcf->enable || alcf->bearer)
        && ngx_http_auth_oidc_is_preflight(r))
    {
        /*
         * The app's or nginx's CORS headers answer it, with empty identity
         * variables; a session cookie sent along anyway stays here.
         */
        rc = ngx_http_auth_oidc_strip_elsewhere(r);

        return rc == NGX_DECLINED ? NGX_OK : rc;
    }

    if (alcf->bearer) {
        rc = ngx_http_auth_oidc_bearer_access(r, alcf);

        if (rc != NGX_DECLINED || !alcf->enable) {
            return rc;
        }

        /* no token: the session decides */
    }

    if (!alcf->enable) {
        return ngx_http_auth_oidc_strip_elsewhere(r);
    }

    prov = ngx_http_auth_oidc_provider(r, alcf);

    if (prov == NULL) {
        return ngx_http_auth_oidc_strip_elsewhere(r);
    }

    if (prov == NGX_CONF_UNSET_PTR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_auth_oidc_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->suspended) {
        return NGX_AGAIN;
    }

    if (ctx->provider != prov) {
        /* another provider's location (after an internal redirect) */
        ctx->looked_up = 0;
        ctx->store_failed = 0;
        auth_oidc_flow_free(ctx->flow);
        ctx->flow = NULL;
        ctx->metadata_waited = 0;
        ctx->refresh_checked = 0;
        ctx->refreshing = 0;
        ctx->session_ended = 0;
        auth_oidc_session_free(ctx->session);
        ctx->session = NULL;
    }

    ctx->provider = prov;

    if (!ctx->looked_up) {
        rc = ngx_http_auth_oidc_find_session(r, ctx, prov);

        if (rc == NGX_AGAIN) {
            ngx_http_auth_oidc_suspend(r, ctx);
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->store_failed) {
        /* never a login loop, never a session taken on trust */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth oidc: session store failed");
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (ctx->refreshing) {
        /* the refresh flow ended in an error of its own (logged) */
        return ctx->status ? (ngx_int_t) ctx->status
                           : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* oidc_session_info only tells: it starts no refresh */
    if (ctx->session && !ctx->refresh_checked && !alcf->session_info) {
        rc = ngx_http_auth_oidc_refresh(r, ctx, prov);

        if (rc == NGX_AGAIN) {
            ngx_http_auth_oidc_suspend(r, ctx);
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* logged in, but not as the location asks: no identity here, and a
     * login that asks, below */
    if (ctx->session && !ngx_http_auth_oidc_step_up_met(r, ctx, alcf)) {
        auth_oidc_session_free(ctx->session);
        ctx->session = NULL;
    }

    if (ctx->session) {
        if (ngx_http_auth_oidc_login_loop_reset(r, ctx, prov) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /*
         * Authenticated. With auth_require, it decides whether that is
         * enough: "satisfy any" must not let a session in that auth_require
         * would refuse.
         */
        return alcf->require ? NGX_DECLINED : NGX_OK;
    }

    if (ctx->session_ended
        && ngx_http_auth_oidc_cookie_set(r, prov, NULL, 1) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mode = alcf->unauth;

    if (mode != NGX_HTTP_AUTH_OIDC_UNAUTH_PASS
        && ngx_http_auth_oidc_is_form_post(r))
    {
        /* a person sent a form: kept over a login, or told what happened */
        rc = ngx_http_auth_oidc_form_post(r, ctx, prov, alcf, mode);

        if (rc != NGX_OK) {
            return rc;
        }

        mode = NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT;
    }

    if (mode == NGX_HTTP_AUTH_OIDC_UNAUTH_AUTO) {
        mode = ngx_http_auth_oidc_is_navigation(r)
               ? NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT
               : NGX_HTTP_AUTH_OIDC_UNAUTH_401;
    }

    switch (mode) {

    case NGX_HTTP_AUTH_OIDC_UNAUTH_PASS:
        /* on, with empty identity variables (auth_require then decides) */
        return alcf->require ? NGX_DECLINED : NGX_OK;

    case NGX_HTTP_AUTH_OIDC_UNAUTH_401:
        /* an API that takes bearer tokens says so too */
        if (alcf->bearer
            && ngx_http_auth_oidc_bearer_challenge(r, alcf->bearer_provider,
                                                   NULL, NULL, NULL)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_auth_oidc_unauthorized(r, prov);

    default: /* NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT */

        rc = ngx_http_auth_oidc_metadata_ready(r, ctx, prov,
                                          ngx_http_auth_oidc_metadata_arrived);

        if (rc == NGX_AGAIN) {
            ngx_http_auth_oidc_suspend(r, ctx);
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return ngx_http_auth_oidc_unavailable(r, prov);
        }

        rc = ngx_http_auth_oidc_login(r, ctx, prov);

        if (rc == NGX_AGAIN) {
            ngx_http_auth_oidc_suspend(r, ctx);
        }

        if (rc == NGX_HTTP_MOVED_TEMPORARILY && ctx->post_kept) {
            /* the redirect, as a page that keeps the form first */
            return ngx_http_auth_oidc_post_kept_page(r, ctx);
        }

        return rc;
    }
}


/*
 * A form posted without a session: NGX_OK when the login goes on (the form
 * kept, or "auth_oidc_unauth redirect"); otherwise the access phase's
 * answer: the "Session ended" page (a 401, with its challenge), or a wait
 * for the body.
 */

static ngx_int_t
ngx_http_auth_oidc_form_post(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_loc_conf_t *alcf, ngx_uint_t mode)
{
    ngx_int_t  rc;

    ctx->post_why = "Your session has ended, so what you sent was not saved. "
                    "Sign in again, then send it once more.";

    if (alcf->preserve_post && mode != NGX_HTTP_AUTH_OIDC_UNAUTH_401) {
        rc = ngx_http_auth_oidc_post_keep(r, ctx, prov, alcf);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (mode == NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT) {
        /* "auth_oidc_unauth redirect" redirects whatever was sent */
        return NGX_OK;
    }

    if (ngx_http_auth_oidc_challenge(r, prov) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_auth_oidc_session_ended(r, ctx->post_why);
}


/* A provider without metadata: 503 with Retry-After, and a page. */

static ngx_int_t
ngx_http_auth_oidc_unavailable(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t  detail;

    ngx_str_set(&detail, "The sign-in service cannot be reached right now. "
                "Please try again in a minute.");

    return ngx_http_auth_oidc_phase_page(r,
                                         ngx_http_auth_oidc_not_ready(r, prov),
                                         "Login unavailable", &detail, NULL);
}


/*
 * A location with auth_oidc_bearer: NGX_DECLINED when the request has no
 * token and auth_oidc may still let it in with a session; otherwise the
 * access phase's answer.
 */

static ngx_int_t
ngx_http_auth_oidc_bearer_access(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf)
{
    ngx_int_t                  rc;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_auth_oidc_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->suspended) {
        return NGX_AGAIN;
    }

    rc = ngx_http_auth_oidc_bearer(r, ctx, alcf);

    if (rc == NGX_AGAIN) {
        ngx_http_auth_oidc_suspend(r, ctx);
        return NGX_AGAIN;
    }

    if (rc == NGX_OK) {
        /* as for a session: with auth_require, it decides */
        rc = ngx_http_auth_oidc_strip_elsewhere(r);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        return alcf->require ? NGX_DECLINED : NGX_OK;
    }

    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (alcf->enable) {
        return NGX_DECLINED;
    }

    rc = ngx_http_auth_oidc_strip_elsewhere(r);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* RFC 6750, section 3.1: no token, no error code */
    if (ngx_http_auth_oidc_bearer_challenge(r, alcf->bearer_provider, NULL,
                                            NULL, NULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_HTTP_UNAUTHORIZED;
}


/*
 * A location without authentication in a server that has some: the app
 * behind it must not get a session cookie either (it could replay it).
 */

static ngx_int_t
ngx_http_auth_oidc_strip_elsewhere(ngx_http_request_t *r)
{
    ngx_uint_t                            i;
    ngx_http_auth_oidc_srv_conf_t        *ascf;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_auth_oidc_module);

    if (ascf->providers == NULL || r->headers_in.cookies.nelts == 0) {
        return NGX_DECLINED;
    }

    provs = ascf->providers->elts;

    for (i = 0; i < ascf->providers->nelts; i++) {
        if (ngx_http_auth_oidc_cookie_strip(r, &provs[i]->cookie_name, NULL)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DECLINED;
}


/*
 * SERVER_REWRITE phase: the callback and logout paths are answered before
 * any location is chosen, so they need no location of their own.
 */

ngx_int_t
ngx_http_auth_oidc_endpoint_handler(ngx_http_request_t *r)
{
    ngx_int_t                             rc;
    ngx_str_t                             name, t;
    ngx_uint_t                            i, n, endpoint;
    ngx_http_auth_oidc_ctx_t             *ctx;
    ngx_http_auth_oidc_srv_conf_t        *ascf;
    ngx_http_auth_oidc_main_conf_t       *amcf;
    ngx_http_auth_oidc_provider_conf_t  **provs, *prov;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (ctx && (ctx->done || ctx->suspended)) {
        return ngx_http_auth_oidc_endpoint_answer(r, ctx);
    }

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_auth_oidc_module);

    if (ascf->any_provider) {
        amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_oidc_module);
        provs = amcf->providers.elts;
        n = amcf->providers.nelts;

    } else if (ascf->providers) {
        provs = ascf->providers->elts;
        n = ascf->providers->nelts;

    } else {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        prov = provs[i];

        if (ngx_http_auth_oidc_path_is(r, &prov->redirect_path)) {
            endpoint = NGX_HTTP_AUTH_OIDC_CALLBACK;

        } else if (ngx_http_auth_oidc_path_is(r, &prov->logout_path)) {
            endpoint = NGX_HTTP_AUTH_OIDC_LOGOUT;

        } else if (ngx_http_auth_oidc_path_is(r,
                                          &prov->backchannel_logout_path))
        {
            endpoint = NGX_HTTP_AUTH_OIDC_BACKCHANNEL;

        } else if (ngx_http_auth_oidc_path_is(r,
                                          &prov->frontchannel_logout_path))
        {
            endpoint = NGX_HTTP_AUTH_OIDC_FRONTCHANNEL;

        } else {
            continue;
        }

        ctx = ngx_http_auth_oidc_get_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->provider = prov;

        switch (endpoint) {

        case NGX_HTTP_AUTH_OIDC_CALLBACK:
            if (ngx_http_auth_oidc_arg(r, "oidc_login", 10, &name) == NGX_OK) {
                /* a script's "login" URL: see login_required.c */
                return ngx_http_auth_oidc_login_start(r, ctx, provs + i,
                                                      n - i, &name);
            }

            if (ngx_http_auth_oidc_arg(r, "oidc_post", 9, &t) == NGX_OK) {
                /* a form kept over the login: see preserve_post.c */
                if (ngx_http_auth_oidc_arg(r, "provider", 8, &name) != NGX_OK
                    || !ngx_http_auth_oidc_is_lookup_key(&t)
                    || (prov = ngx_http_auth_oidc_named(r, provs + i, n - i,
                                                        &name))
                       == NULL)
                {
                    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                               "Form not sent", NULL);
                    return ngx_http_auth_oidc_endpoint_answer(r, ctx);
                }

                ctx->provider = prov;
                rc = ngx_http_auth_oidc_post_replay(r, ctx, prov, &t);

                if (rc == NGX_DONE || rc == NGX_ERROR
                    || rc >= NGX_HTTP_SPECIAL_RESPONSE)
                {
                    return rc;
                }

                return ngx_http_auth_oidc_endpoint_answer(r, ctx);
            }

            /* the pending login says which provider it belongs to */
            ctx->candidates = provs + i;
            ctx->ncandidates = n - i;

            ngx_http_auth_oidc_callback(r, ctx);
            break;

        case NGX_HTTP_AUTH_OIDC_LOGOUT:
            ngx_http_auth_oidc_logout(r, ctx, prov);
            break;

        case NGX_HTTP_AUTH_OIDC_BACKCHANNEL:
            rc = ngx_http_auth_oidc_backchannel(r, ctx, prov);

            if (rc != NGX_OK) {
                /* the body is being read, or nginx answered */
                return rc;
            }

            break;

        default: /* NGX_HTTP_AUTH_OIDC_FRONTCHANNEL */
            ngx_http_auth_oidc_frontchannel(r, ctx, prov);
            break;
        }

        return ngx_http_auth_oidc_endpoint_answer(r, ctx);
    }

    return NGX_DECLINED;
}


/*
 * "<callback path>?oidc_login=NAME&return_to=PATH": a login with the
 * provider of that name (of those sharing the path), which comes back to
 * PATH (the login flow keeps only a local path). The answer is the
 * redirect to the provider, as for a page that needs a login.
 */

static ngx_int_t
ngx_http_auth_oidc_login_start(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t **provs,
    ngx_uint_t n, ngx_str_t *name)
{
    ngx_int_t                            rc;
    ngx_str_t                            to;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    prov = ngx_http_auth_oidc_named(r, provs, n, name);

    if (prov == NULL) {
        return ngx_http_auth_oidc_page(r, NGX_HTTP_BAD_REQUEST,
                                       "Login failed", NULL, NULL);
    }

    ctx->provider = prov;
    ngx_str_set(&ctx->return_to, "/");

    /* decoded once, by ngx_http_auth_oidc_arg(): "%25" stays a "%" */
    if (ngx_http_auth_oidc_arg(r, "return_to", 9, &to) == NGX_OK) {
        ctx->return_to = to;
    }

    if (prov->runtime == NULL || prov->runtime->discovery == NULL) {
        return ngx_http_auth_oidc_unavailable(r, prov);
    }

    rc = ngx_http_auth_oidc_login(r, ctx, prov);

    if (rc == NGX_AGAIN) {
        /* the flow waits (the store): the answer comes as an endpoint's */
        return ngx_http_auth_oidc_endpoint_answer(r, ctx);
    }

    return rc;
}


/* A name we made (base64url of 32 bytes): it goes into a page as it is. */

static ngx_uint_t
ngx_http_auth_oidc_is_lookup_key(ngx_str_t *t)
{
    u_char      c;
    ngx_uint_t  i;

    if (t->len != AUTH_OIDC_LOOKUP_KEY_LEN) {
        return 0;
    }

    for (i = 0; i < t->len; i++) {
        c = t->data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* The provider of that name, of those that answer this callback path. */

static ngx_http_auth_oidc_provider_conf_t *
ngx_http_auth_oidc_named(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t **provs, ngx_uint_t n, ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (provs[i]->name.len == name->len
            && ngx_strncmp(provs[i]->name.data, name->data, name->len) == 0
            && ngx_http_auth_oidc_path_is(r, &provs[i]->redirect_path))
        {
            return provs[i];
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_http_auth_oidc_path_is(ngx_http_request_t *r, ngx_str_t *path)
{
    return path->len != 0
           && r->uri.len == path->len
           && ngx_strncmp(r->uri.data, path->data, r->uri.len) == 0;
}


/*
 * The decided answer, or a wait: the request keeps an extra reference
 * while the store or the provider answers (ngx_http_auth_oidc_wake()).
 */

static ngx_int_t
ngx_http_auth_oidc_endpoint_answer(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    if (!ctx->done) {
        if (!ctx->suspended) {
            ngx_http_auth_oidc_suspend(r, ctx);
            ctx->counted = 1;
            r->main->count++;
        }

        return NGX_DONE;
    }

    if (ctx->status == NGX_HTTP_MOVED_TEMPORARILY) {
        return ctx->status;
    }

    if (ctx->oauth_answer) {
        return ngx_http_auth_oidc_oauth_answer(r, ctx->status, ctx->title,
                                         ctx->detail.len ? &ctx->detail : NULL);
    }

    if (ctx->framed) {
        return ngx_http_auth_oidc_framed_page(r, ctx->status, ctx->title,
                                         ctx->detail.len ? &ctx->detail : NULL,
                                         &ctx->provider->issuer_origin);
    }

    if (ctx->status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_auth_oidc_challenge(r, ctx->provider) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->script) {
        return ngx_http_auth_oidc_script_page(r, ctx->status, ctx->title,
                                         ctx->detail.len ? &ctx->detail : NULL,
                                         &ctx->html);
    }

    return ngx_http_auth_oidc_page(r, ctx->status, ctx->title,
                                   ctx->detail.len ? &ctx->detail : NULL,
                                   ctx->html.len ? &ctx->html : NULL);
}


/* Records the answer; a request that was waiting for it runs again. */

void
ngx_http_auth_oidc_outcome(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_uint_t status, const char *title,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    buf[NGX_HTTP_AUTH_OIDC_ERRLEN];

    if (fmt) {
        va_start(args, fmt);
        p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
        va_end(args);

        ctx->detail.data = ngx_pnalloc(r->pool, p - buf);
        if (ctx->detail.data) {
            ngx_memcpy(ctx->detail.data, buf, p - buf);
            ctx->detail.len = p - buf;
        }
    }

    ctx->done = 1;
    ctx->status = status;
    ctx->title = title;

    ngx_http_auth_oidc_wake(r, ctx);
}


/*
 * The request waits for the store, the provider or metadata: a client that
 * goes away meanwhile is noticed (499), and the request's pool cleanup
 * cancels whatever is in flight. A request body being discarded (a
 * logout's POST) keeps its own handler.
 */

static void
ngx_http_auth_oidc_suspend(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ctx->suspended = 1;

    if (r->read_event_handler == ngx_http_block_reading) {
        r->read_event_handler = ngx_http_test_reading;
    }
}


void
ngx_http_auth_oidc_wake(ngx_http_request_t *r, ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_connection_t  *c;

    if (!ctx->suspended) {
        /* answered at once: the phase handler is still running */
        return;
    }

    c = r->connection;

    ctx->suspended = 0;

    if (r->read_event_handler == ngx_http_test_reading) {
        r->read_event_handler = ngx_http_block_reading;
    }

    if (ctx->counted) {
        ctx->counted = 0;
        r->main->count--;
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/*
 * The request's context without making one: $oidc_* variables find the
 * session the access handler found, also after an internal redirect
 * (error_page, try_files) and in the access log.
 */

ngx_http_auth_oidc_ctx_t *
ngx_http_auth_oidc_find_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (ctx || !r->internal) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_auth_oidc_cleanup) {
            ctx = cln->data;

            if (ctx->done || ctx->suspended) {
                /* an endpoint's answer, not a session for the variables */
                return NULL;
            }

            ngx_http_set_ctx(r, ctx, ngx_http_auth_oidc_module);
            return ctx;
        }
    }

    return NULL;
}


ngx_http_auth_oidc_ctx_t *
ngx_http_auth_oidc_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (ctx) {
        return ctx;
    }

    /*
     * An internal redirect (index, try_files, error_page) wipes module
     * contexts but not the pool: the session found before is taken back,
     * as the realip module does, since its cookie was already stripped.
     */
    if (r->internal) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_auth_oidc_cleanup) {
                ctx = cln->data;

                ctx->done = 0;
                ctx->suspended = 0;
                ctx->counted = 0;

                /* a finished flow (e.g. a 503 sent to error_page): the new
                 * location starts afresh; nothing of it is in flight */
                auth_oidc_flow_free(ctx->flow);
                ctx->flow = NULL;
                ctx->refreshing = 0;

                /* a form kept for another location is not this one's (the
                 * form sent on is: it is never kept twice) */
                if (!ctx->post_replayed) {
                    ctx->post_requested = 0;
                    ctx->post_kept = 0;
                    ngx_str_null(&ctx->post_body);
                }

                ngx_http_set_ctx(r, ctx, ngx_http_auth_oidc_module);
                return ctx;
            }
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_auth_oidc_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_auth_oidc_ctx_t));

    cln->handler = ngx_http_auth_oidc_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_auth_oidc_module);

    return ctx;
}


/* Runs when the request ends, however it ends: nothing outlives it. */

static void
ngx_http_auth_oidc_cleanup(void *data)
{
    ngx_http_auth_oidc_ctx_t  *ctx = data;

    ngx_http_auth_oidc_store_caller_t  caller;

    if (ctx->http) {
        ngx_http_auth_oidc_http_cancel(ctx->http);
        ctx->http = NULL;
    }

    /* a client that went away while the request waited for metadata */
    ngx_http_auth_oidc_metadata_unwait(&ctx->waiter);

    if (ctx->pause.timer_set) {
        ngx_del_timer(&ctx->pause);
    }

    if (ctx->lock_key.len) {
        /* a refresh that will not finish: others need not wait for it */
        caller.pool = ctx->lock_pool;
        caller.log = ngx_cycle->log;
        caller.done = NULL;
        caller.data = NULL;
        caller.version = NULL;
        ngx_http_auth_oidc_store_delete(ctx->provider->store,
                                        NGX_HTTP_AUTH_OIDC_REFRESH_LOCK,
                                        &ctx->lock_key, &caller);
        ngx_str_null(&ctx->lock_key);
    }

    auth_oidc_session_free(ctx->session);
    auth_oidc_session_free(ctx->memo);
    auth_oidc_pending_free(ctx->pending);
    auth_oidc_flow_free(ctx->flow);

    ctx->session = NULL;
    ctx->memo = NULL;
    ctx->pending = NULL;
    ctx->flow = NULL;
}


/*
 * A session is found by the cookie's id under the provider's name: a
 * session of one provider is never accepted by another.
 */

static ngx_int_t
ngx_http_auth_oidc_find_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov)
{
    time_t                              touch;
    ngx_int_t                           rc;
    ngx_str_t                           id, key, record;
    ngx_http_auth_oidc_loc_conf_t      *alcf;
    ngx_http_auth_oidc_store_caller_t   caller;

    rc = ngx_http_auth_oidc_session_cookie(r, ctx, prov, &id);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /*
     * whatever happens, the app behind never sees a session cookie: not
     * one it is given, nor two refused ones ("auth_oidc_unauth pass")
     */
    if (ngx_http_auth_oidc_cookie_strip(r, &prov->cookie_name, &ctx->logins)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        /* a cookie store's cookie that does not open: a stale one */
        ctx->stale_cookie = (rc == NGX_ABORT);
        ctx->looked_up = 1;
        return NGX_DECLINED;
    }

    if (ngx_http_auth_oidc_session_key(r, prov, &id, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->session_id = id;
    ctx->session_key = key;

    if (prov->store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
        /* the record came with the request; the zone knows what ended */
        ngx_http_auth_oidc_use_session(r, ctx, NGX_OK, &ctx->cookie_record);

        if (ctx->session && ngx_http_auth_oidc_cookie_session_revoked(r, ctx))
        {
            auth_oidc_session_free(ctx->session);
            ctx->session = NULL;
            ctx->session_ended = 1;
        }

        return NGX_OK;
    }

    ngx_http_auth_oidc_store_request(&caller, r,
                                     ngx_http_auth_oidc_session_found);

    /* a session this worker decoded before: NGX_DONE if it is current */
    auth_oidc_session_free(ctx->memo);
    ctx->memo = ngx_http_auth_oidc_session_memo_get(&key,
                                                    &ctx->session_version);
    caller.version = &ctx->session_version;

    /* session_idle_timeout: every request pushes the store's expiry on,
     * in the same operation as the lookup; asking oidc_session_info is
     * not activity */
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_oidc_module);
    touch = (prov->session_idle_timeout && !alcf->session_info)
            ? ngx_time() + prov->session_idle_timeout : 0;

    rc = ngx_http_auth_oidc_store_get_touch(prov->store,
                                            NGX_HTTP_AUTH_OIDC_SESSION, &key,
                                            touch, &caller, &record);
    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    ngx_http_auth_oidc_use_session(r, ctx, rc, &record);

    return NGX_OK;
}


static void
ngx_http_auth_oidc_session_found(void *data, ngx_int_t rc, ngx_str_t *record)
{
    ngx_http_request_t *r = data;

    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_http_auth_oidc_use_session(r, ctx, rc, record);
    ngx_http_auth_oidc_wake(r, ctx);
}


static void
ngx_http_auth_oidc_use_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_int_t rc, ngx_str_t *record)
{
    ngx_str_t                          *key;
    auth_oidc_error_t                   err;
    auth_oidc_session_t                *session;
    ngx_http_auth_oidc_counters_t      *counters;
    ngx_http_auth_oidc_store_caller_t   caller;

    ctx->looked_up = 1;

    /* the memo's copy is the record (NGX_DONE), or is let go */
    session = ctx->memo;
    ctx->memo = NULL;

    if (rc == NGX_DONE && session) {
        ngx_http_auth_oidc_session_memo_used();
        goto found;
    }

    auth_oidc_session_free(session);

    if (rc == NGX_ERROR || rc == NGX_DONE) {
        ctx->store_failed = 1;
        return;
    }

    key = &ctx->session_key;

    if (rc != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth oidc: no session for the cookie");
        ctx->stale_cookie = 1;
        ngx_http_auth_oidc_session_memo_drop(key);
        return;
    }

    if (auth_oidc_session_decode(record->data, record->len, &session, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: stored session refused: %s", err.msg);

        ngx_http_auth_oidc_session_memo_drop(key);
        ngx_http_auth_oidc_store_request(&caller, r, NULL);
        ngx_http_auth_oidc_store_delete(ctx->provider->store,
                                        NGX_HTTP_AUTH_OIDC_SESSION, key,
                                        &caller);
        return;
    }

    if (ctx->provider->store->type != NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
        ngx_http_auth_oidc_session_memo_put(key, ctx->session_version,
                                            record->len, session);
    }

found:

    if (auth_oidc_session_expires(session) <= (int64_t) ngx_time()) {
        /* session_timeout passed without a refresh, or the ID token of a
         * session without a refresh token expired */
        counters = ngx_http_auth_oidc_counters(ctx->provider);
        if (counters) {
            (void) ngx_atomic_fetch_add(&counters->ended_timeout, 1);
        }

        ctx->session_ended = 1;
        auth_oidc_session_free(session);
        return;
    }

    auth_oidc_session_free(ctx->session);
    ctx->session = session;
}


/*
 * "auto": only a top-level page load is worth a redirect to a login page;
 * scripts and API clients get a 401 they can act upon.
 */

static ngx_uint_t
ngx_http_auth_oidc_is_navigation(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return 0;
    }

    rc = ngx_http_auth_oidc_header_is(r, "Sec-Fetch-Mode", "navigate");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    h = ngx_http_auth_oidc_header_in(r, "X-Requested-With",
                                  sizeof("X-Requested-With") - 1);
    if (h) {
        return 0;
    }

    h = ngx_http_auth_oidc_header_in(r, "Accept", sizeof("Accept") - 1);

    if (h == NULL
        || (h->value.len == 3 && ngx_strncmp(h->value.data, "*/*", 3) == 0))
    {
        return 1;
    }

    return ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) "text/html", sizeof("text/html") - 2)
           != NULL;
}


/*
 * A form a person sent: a POST the browser makes as a navigation (not a
 * script's fetch), or, from one that does not say, that takes a page.
 */

static ngx_uint_t
ngx_http_auth_oidc_is_form_post(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_POST) {
        return 0;
    }

    /* the page itself, not a frame in it */
    if (ngx_http_auth_oidc_header_is(r, "Sec-Fetch-Dest", "document") == 0) {
        return 0;
    }

    rc = ngx_http_auth_oidc_header_is(r, "Sec-Fetch-Mode", "navigate");
    if (rc != NGX_DECLINED) {
        return rc;
    }

    h = ngx_http_auth_oidc_header_in(r, "Accept", sizeof("Accept") - 1);

    return h && ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                                 (u_char *) "text/html",
                                 sizeof("text/html") - 2)
                != NULL;
}


static ngx_int_t
ngx_http_auth_oidc_unauthorized(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_int_t  rc;

    if (ngx_http_auth_oidc_challenge(r, prov) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a script's request: JSON that says where to log in */
    rc = ngx_http_auth_oidc_login_required(r, prov);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_UNAUTHORIZED;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* RFC 9110, 15.5.2: a 401 names how to authenticate. */

static ngx_int_t
ngx_http_auth_oidc_challenge(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    size_t            len;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = sizeof("OIDC realm=\"\"") - 1 + prov->name.len;

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "OIDC realm=\"%V\"",
                               &prov->name)
                   - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


/*
 * The provider's metadata, for a request that needs it: NGX_OK when this
 * worker has it; NGX_AGAIN when a fetch is under way or due, the request
 * then waits for it, once, and "handler" runs when it ended; NGX_DECLINED
 * when there is none to be had now (the fetch failed or took too long, or
 * the last one failed and the next is not due): a 503, not a wait of
 * metadata_retry.
 */

ngx_int_t
ngx_http_auth_oidc_metadata_ready(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_waiter_pt handler)
{
    ngx_int_t  rc;

    if (ngx_http_auth_oidc_metadata_sync(prov, r->connection->log) == NGX_OK)
    {
        return NGX_OK;
    }

    if (ctx->metadata_waited) {
        return NGX_DECLINED;
    }

    rc = ngx_http_auth_oidc_metadata_wait(prov, &ctx->waiter, r, handler);

    if (rc == NGX_AGAIN) {
        ctx->metadata_waited = 1;
        return NGX_AGAIN;
    }

    /* NGX_OK: a fetch ended since the worker last looked */
    if (rc == NGX_OK
        && ngx_http_auth_oidc_metadata_sync(prov, r->connection->log)
           == NGX_OK)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* The access handler's wait is over: the phases run again. */

static void
ngx_http_auth_oidc_metadata_arrived(ngx_http_request_t *r)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_http_auth_oidc_wake(r, ctx);
}


/*
 * A 503 for want of metadata says when to come back (RFC 9110, 10.2.3):
 * when the next fetch may have brought it.
 */

ngx_int_t
ngx_http_auth_oidc_not_ready(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    time_t            retry;
    ngx_table_elt_t  *h;

    retry = ngx_http_auth_oidc_metadata_retry_after(prov);

    /* said at most once a second per worker, not once per request */
    if (prov->not_ready_logged != ngx_time()) {
        prov->not_ready_logged = ngx_time();
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\" is not ready: its "
                      "metadata has not been fetched, next attempt in %T s",
                      &prov->name, retry);
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));
    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");

    h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "%T", retry) - h->value.data;

    return NGX_HTTP_SERVICE_UNAVAILABLE;
}


/*
 * The redirect_uri (or another path of ours) as the provider must see it:
 * absolute, on the host the browser used when this server serves that
 * host, else on the server's own name. A Host the server does not serve
 * (a request that fell to the default server) must not mint authorization
 * requests that send codes to somebody else's host. Behind a proxy that
 * ends TLS, the scheme and host it forwards (auth_oidc_forwarded_from), or
 * an absolute redirect_uri.
 */

ngx_int_t
ngx_http_auth_oidc_absolute_uri(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *out)
{
    u_char      *p;
    ngx_str_t    host;
    ngx_uint_t   tls;

    if (uri->len == 0 || uri->data[0] != '/') {
        *out = *uri;
        return NGX_OK;
    }

    if (ngx_http_auth_oidc_served_host(r, &host, &tls) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("https://") - 1 + host.len + uri->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    if (tls) {
        p = ngx_cpymem(p, "https://", sizeof("https://") - 1);

    } else {
        p = ngx_cpymem(p, "http://", sizeof("http://") - 1);
    }

    p = ngx_cpymem(p, host.data, host.len);
    p = ngx_cpymem(p, uri->data, uri->len);

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * host[:port] for our absolute URLs, and whether the browser speaks https.
 * The host is nginx's validated one (r->headers_in.server: from the
 * request line or Host, checked) when it names this server (one of its
 * server_name entries, or the address the connection came to), else the
 * server's first name, else that address. The port is the Host header's
 * only when that header is exactly this host and a port of digits;
 * otherwise the local port (none when it is the scheme's default). The
 * raw Host header is never copied: nginx does not check what follows its
 * colon, nor the Host of a request whose request line carries an absolute
 * URI. A trusted proxy's forwarded scheme, and host when this server
 * serves it (with its port, else the scheme's default), come first.
 */

static ngx_int_t
ngx_http_auth_oidc_served_host(ngx_http_request_t *r, ngx_str_t *host,
    ngx_uint_t *https)
{
    u_char                         *p;
    in_port_t                       port;
    ngx_str_t                       name, addr, given;
    ngx_uint_t                      i, tls, served, forwarded;
    ngx_http_server_name_t         *sn;
    ngx_http_core_srv_conf_t       *cscf;
    ngx_http_auth_oidc_srv_conf_t  *ascf;
    ngx_http_auth_oidc_forwarded_t  fwd;
    u_char                          text[NGX_SOCKADDR_STRLEN];

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    ascf = ngx_http_get_module_srv_conf(r, ngx_http_auth_oidc_module);
    name = r->headers_in.server;
    served = 0;

    addr.data = text;
    addr.len = sizeof(text);

    if (ngx_connection_local_sockaddr(r->connection, &addr, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    forwarded = 0;

    if (ngx_http_auth_oidc_forwarded(r, &fwd) == NGX_OK && fwd.host.len) {
        /* a name the proxy forwards is used only if it is ours */
        sn = ascf->server_names->elts;

        for (i = 0; i < ascf->server_names->nelts && !forwarded; i++) {
            forwarded = ngx_http_auth_oidc_name_matches(&sn[i], &fwd.host);
        }

        if (forwarded) {
            name = fwd.host;
            served = 1;
        }
    }

    if (name.len && !forwarded) {
        sn = ascf->server_names->elts;

        for (i = 0; i < ascf->server_names->nelts && !served; i++) {
            served = ngx_http_auth_oidc_name_matches(&sn[i], &name);
        }

        if (!served) {
            served = ngx_http_auth_oidc_address_matches(&addr, &name);
        }
    }

    if (!served) {
        name = cscf->server_name;

        if (name.len == 0 || ngx_strlchr(name.data, name.data + name.len, '*')
            || name.data[0] == '.' || name.data[0] == '~')
        {
            /* no usable name: the address the connection came to */
            name = addr;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth oidc: Host \"%V\" not served here, using "
                       "\"%V\"", &r->headers_in.server, &name);
    }

    tls = 0;

#if (NGX_HTTP_SSL)
    tls = (r->connection->ssl != NULL);
#endif

    if (fwd.https != -1) {
        tls = fwd.https;
    }

    *https = tls;

    port = ngx_inet_get_port(r->connection->local_sockaddr);
    ngx_str_null(&given);

    if (forwarded) {
        /* the browser's port is not ours: the forwarded one, or none */
        given = fwd.port;
        port = tls ? 443 : 80;

    } else if (fwd.https != -1) {
        /* the scheme changed at the proxy, and so did the port: the one
         * in Host if any (the proxy passed the browser's Host on) */
        port = tls ? 443 : 80;

        if (served && r->headers_in.host) {
            given = r->headers_in.host->value;

            if (given.len > name.len + 1 && given.len <= name.len + 6
                && given.data[name.len] == ':'
                && ngx_strncasecmp(given.data, name.data, name.len) == 0
                && ngx_atoi(given.data + name.len + 1,
                            given.len - name.len - 1) > 0)
            {
                given.data += name.len + 1;
                given.len -= name.len + 1;

            } else {
                ngx_str_null(&given);
            }
        }

    } else if (served && r->headers_in.host) {
        given = r->headers_in.host->value;

        if (given.len > name.len + 1 && given.len <= name.len + 6
            && given.data[name.len] == ':'
            && ngx_strncasecmp(given.data, name.data, name.len) == 0
            && ngx_atoi(given.data + name.len + 1, given.len - name.len - 1)
               > 0)
        {
            /* the port as the browser named it: a proxy may map ports */
            given.data += name.len + 1;
            given.len -= name.len + 1;

        } else {
            ngx_str_null(&given);

            if (r->headers_in.host->value.len == name.len) {
                /* no port in Host: the scheme's default */
                port = tls ? 443 : 80;
            }
        }
    }

    /* an IPv6 address in brackets, as in a URL */
    i = (ngx_strlchr(name.data, name.data + name.len, ':') != NULL
         && name.data[0] != '[');

    p = ngx_pnalloc(r->pool, name.len + 2 + sizeof(":65535") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    host->data = p;

    if (i) {
        *p++ = '[';
    }

    p = ngx_cpymem(p, name.data, name.len);

    if (i) {
        *p++ = ']';
    }

    if (given.len) {
        *p++ = ':';
        p = ngx_cpymem(p, given.data, given.len);

    } else if (port != (tls ? 443 : 80)) {
        p = ngx_sprintf(p, ":%d", (int) port);
    }

    host->len = p - host->data;

    return NGX_OK;
}


/* server_name's forms: exact, "*.example.com", ".example.com",
 * "www.example.*", "~regex" (case-insensitively, as nginx matches) */

static ngx_uint_t
ngx_http_auth_oidc_name_matches(ngx_http_server_name_t *sn, ngx_str_t *host)
{
    size_t      len;
    ngx_str_t  *name;

#if (NGX_PCRE)
    if (sn->regex) {
        return ngx_regex_exec(sn->regex->regex, host, NULL, 0) >= 0;
    }
#endif

    name = &sn->name;

    if (name->len == 0) {
        return 0;
    }

    if (name->len > 2 && name->data[0] == '*' && name->data[1] == '.') {
        len = name->len - 1;
        return host->len > len
               && ngx_strncasecmp(host->data + host->len - len,
                                  name->data + 1, len) == 0;
    }

    if (name->data[0] == '.') {
        len = name->len - 1;
        return (host->len == len
                && ngx_strncasecmp(host->data, name->data + 1, len) == 0)
               || (host->len > name->len
                   && ngx_strncasecmp(host->data + host->len - name->len,
                                      name->data, name->len) == 0);
    }

    if (name->len > 2 && name->data[name->len - 1] == '*'
        && name->data[name->len - 2] == '.')
    {
        len = name->len - 1;
        return host->len > len
               && ngx_strncasecmp(host->data, name->data, len) == 0;
    }

    return host->len == name->len
           && ngx_strncasecmp(host->data, name->data, name->len) == 0;
}


/* the local address as text, "[::1]" for IPv6 as a Host names it */

static ngx_uint_t
ngx_http_auth_oidc_address_matches(ngx_str_t *addr, ngx_str_t *host)
{
    if (host->len == addr->len + 2 && host->data[0] == '['
        && host->data[host->len - 1] == ']')
    {
        return ngx_strncasecmp(host->data + 1, addr->data, addr->len) == 0;
    }

    return host->len == addr->len
           && ngx_strncasecmp(host->data, addr->data, addr->len) == 0;
}


ngx_int_t
ngx_http_auth_oidc_session_key(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *id, ngx_str_t *key)
{
    u_char  *p;

    key->len = prov->name.len + 1 + id->len;

    p = ngx_pnalloc(r->pool, key->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_cpymem(p, prov->name.data, prov->name.len);
    *p++ = '\n';
    ngx_memcpy(p, id->data, id->len);

    return NGX_OK;
}


/* 256 bits from OpenSSL's CSPRNG, base64url: state, nonce, ids. */

ngx_int_t
ngx_http_auth_oidc_random_id(ngx_pool_t *pool, ngx_str_t *id)
{
    u_char  bytes[NGX_HTTP_AUTH_OIDC_ID_BYTES];

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return NGX_ERROR;
    }

    id->len = AUTH_OIDC_BASE64URL_LEN(sizeof(bytes));
    id->data = ngx_pnalloc(pool, id->len);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_base64url_encode(bytes, sizeof(bytes), id->data, id->len)
        != id->len)
    {
        return NGX_ERROR;
    }

    ngx_explicit_memzero(bytes, sizeof(bytes));

    return NGX_OK;
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
