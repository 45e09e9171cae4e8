
/*
 * The callback at redirect_uri (OpenID Connect Core 1.0, 3.1.2.5-3.1.3.7):
 * the one-time pending login is taken by its state, the code is exchanged
 * at the token endpoint on nginx's event loop, the ID token is validated,
 * and only then a new session is created and its cookie set.
 *
 * The request waits for the provider with an extra reference
 * (r->main->count) and resumes through the phases; the module's phase
 * handler then answers with what the callback decided (ctx->done).
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_http.h"
#include "ngx_http_auth_oidc_store.h"


static void ngx_http_auth_oidc_proceed(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static void ngx_http_auth_oidc_pending_used(ngx_http_request_t *r,
    ngx_int_t rc, ngx_str_t *value);
static void ngx_http_auth_oidc_login_expired(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static void ngx_http_auth_oidc_exchange(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_str_t *code);
static void ngx_http_auth_oidc_token_done(ngx_http_auth_oidc_http_t *h);
static void ngx_http_auth_oidc_validate(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static void ngx_http_auth_oidc_metadata_fetched(ngx_http_request_t *r);
static void ngx_http_auth_oidc_keys_fetched(ngx_http_request_t *r);
static void ngx_http_auth_oidc_create_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_claims_t *claims);
static void ngx_http_auth_oidc_session_stored(ngx_http_request_t *r,
    ngx_int_t rc, ngx_str_t *value);
static ngx_int_t ngx_http_auth_oidc_arg(ngx_http_request_t *r,
    const char *name, size_t len, ngx_str_t *value);
static void ngx_http_auth_oidc_redact_request_line(ngx_http_request_t *r);
static void ngx_http_auth_oidc_printable(ngx_str_t *s);


void
ngx_http_auth_oidc_callback(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_str_t                          state;
    const auth_oidc_pending_fields_t  *f;

    static ngx_str_t  used = ngx_string("1");

    ngx_http_auth_oidc_redact_request_line(r);

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed", NULL);
        return;
    }

    if (ngx_http_auth_oidc_arg(r, "state", 5, &state) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: login answer without a state");

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Login failed",
                                   "The login answer has no state.");
        return;
    }

    ctx->state = state;

    /* the login must have been started by this browser, for a provider of
     * this path: its sealed cookie says which */
    rc = ngx_http_auth_oidc_pending_find(r, ctx, &state);

    if (rc == NGX_DECLINED) {
        ngx_http_auth_oidc_login_expired(r, ctx);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed", NULL);
        return;
    }

    /* used once: the state is recorded until the login would expire */
    f = auth_oidc_pending_fields(ctx->pending);

    rc = ngx_http_auth_oidc_store_add(ctx->provider->store,
                                      NGX_HTTP_AUTH_OIDC_PENDING_LOGIN,
                                      &state, &used, (time_t) f->expires, r,
                                      ngx_http_auth_oidc_pending_used);
    if (rc != NGX_AGAIN) {
        ngx_http_auth_oidc_pending_used(r, rc, NULL);
    }
}


static void
ngx_http_auth_oidc_pending_used(ngx_http_request_t *r, ngx_int_t rc,
    ngx_str_t *value)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: login answer for a login already used");
        ngx_http_auth_oidc_login_expired(r, ctx);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "Login unavailable",
                                   "The session store is not available.");
        return;
    }

    ngx_http_auth_oidc_proceed(r, ctx);
}


static void
ngx_http_auth_oidc_login_expired(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                               "Login expired",
                               "This login is unknown, expired or was "
                               "already used. Please go back and try again.");
}


/* What the callback does once its pending login is in hand. */

static void
ngx_http_auth_oidc_proceed(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_int_t   rc, status;
    ngx_str_t   code, error, description, iss;

    /* RFC 9207: an answer that names another issuer is a mix-up attack */
    if (ngx_http_auth_oidc_arg(r, "iss", 3, &iss) == NGX_OK
        && (iss.len != ctx->provider->issuer.len
            || ngx_strncmp(iss.data, ctx->provider->issuer.data, iss.len)
               != 0))
    {
        ngx_http_auth_oidc_printable(&iss);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login answer from "
                      "another issuer \"%V\"", &ctx->provider->name, &iss);

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Login failed",
                                   "The login answer comes from another "
                                   "identity provider.");
        return;
    }

    if (ngx_http_auth_oidc_arg(r, "error", 5, &error) == NGX_OK) {
        if (ngx_http_auth_oidc_arg(r, "error_description", 17, &description)
            != NGX_OK)
        {
            ngx_str_null(&description);
        }

        /* the query is anybody's: nothing of it may forge a log line */
        ngx_http_auth_oidc_printable(&error);
        ngx_http_auth_oidc_printable(&description);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\" refused the login: "
                      "%V %V", &ctx->provider->name, &error, &description);

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_FORBIDDEN,
                                   "Login refused",
                                   "The identity provider refused the "
                                   "login: %V. %V", &error, &description);
        return;
    }

    if (ngx_http_auth_oidc_arg(r, "code", 4, &code) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login answer without a "
                      "code", &ctx->provider->name);

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Login failed",
                                   "The login answer has no code.");
        return;
    }

    /* a worker started since the login began may not have it yet */
    rc = ngx_http_auth_oidc_metadata_ready(r, ctx, ctx->provider,
                                          ngx_http_auth_oidc_metadata_fetched);
    if (rc == NGX_AGAIN) {
        return;
    }

    if (rc != NGX_OK) {
        status = ngx_http_auth_oidc_not_ready(r, ctx->provider);

        ngx_http_auth_oidc_outcome(r, ctx, status, "Login unavailable",
                                   "The identity provider's metadata is not "
                                   "available yet.");
        return;
    }

    ngx_http_auth_oidc_exchange(r, ctx, &code);
}


/* The wait for metadata is over: the answer is looked at again. */

static void
ngx_http_auth_oidc_metadata_fetched(ngx_http_request_t *r)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_http_auth_oidc_proceed(r, ctx);
}


static void
ngx_http_auth_oidc_exchange(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_str_t *code)
{
    u_char                              *p;
    u_char                               msg[NGX_HTTP_AUTH_OIDC_ERRLEN];
    ngx_str_t                            iss;
    auth_oidc_str_t                      auth, body;
    auth_oidc_error_t                    err;
    auth_oidc_token_params_t             params;
    auth_oidc_token_request_t           *treq;
    ngx_http_auth_oidc_target_t         *target;
    const auth_oidc_pending_fields_t    *f;
    ngx_http_auth_oidc_http_request_t    req;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = ctx->provider;
    f = auth_oidc_pending_fields(ctx->pending);

    /* RFC 9207, 2.4: a provider that says it sends "iss" always does */
    if (auth_oidc_discovery_iss_parameter(prov->runtime->discovery)
        && ngx_http_auth_oidc_arg(r, "iss", 3, &iss) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": login answer without "
                      "\"iss\", which the provider says it always sends",
                      &prov->name);

        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Login failed",
                                   "The login answer does not name its "
                                   "identity provider.");
        return;
    }

    if (ngx_http_auth_oidc_absolute_uri(r, &prov->redirect_uri,
                                        &ctx->redirect_uri)
        != NGX_OK)
    {
        goto internal;
    }

    ngx_memzero(&params, sizeof(auth_oidc_token_params_t));
    params.client_id.data = prov->client_id.data;
    params.client_id.len = prov->client_id.len;
    params.client_secret.data = prov->client_secret.data;
    params.client_secret.len = prov->client_secret.len;
    params.code.data = code->data;
    params.code.len = code->len;
    params.redirect_uri.data = ctx->redirect_uri.data;
    params.redirect_uri.len = ctx->redirect_uri.len;
    params.code_verifier = f->code_verifier;

    if (auth_oidc_token_request(prov->runtime->discovery, &params, &treq,
                                &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": cannot build the token "
                      "request: %s", &prov->name, err.msg);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed",
                                   "The token request cannot be made.");
        return;
    }

    target = ngx_palloc(r->pool, sizeof(ngx_http_auth_oidc_target_t));
    if (target == NULL) {
        auth_oidc_token_request_free(treq);
        goto internal;
    }

    if (ngx_http_auth_oidc_endpoint_target(r->pool, prov,
            auth_oidc_discovery_endpoint(prov->runtime->discovery,
                                         AUTH_OIDC_EP_TOKEN),
            "token_endpoint", target, msg, sizeof(msg))
        != NGX_OK)
    {
        auth_oidc_token_request_free(treq);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": %s", &prov->name, msg);
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                   "Login failed",
                                   "The identity provider cannot be "
                                   "reached.");
        return;
    }

    body = auth_oidc_token_request_body(treq);
    auth = auth_oidc_token_request_authorization(treq);

    ngx_memzero(&req, sizeof(ngx_http_auth_oidc_http_request_t));
    ngx_str_set(&req.method, "POST");

    req.body.data = ngx_pnalloc(r->pool, body.len);
    req.headers.len = sizeof("Content-Type: "
                             "application/x-www-form-urlencoded" CRLF) - 1
                      + (auth.len ? sizeof("Authorization: " CRLF) - 1
                                    + auth.len
                                  : 0);
    req.headers.data = ngx_pnalloc(r->pool, req.headers.len);

    if (req.body.data == NULL || req.headers.data == NULL) {
        auth_oidc_token_request_free(treq);
        goto internal;
    }

    req.body.len = body.len;
    ngx_memcpy(req.body.data, body.data, body.len);

    p = ngx_cpymem(req.headers.data,
                   "Content-Type: application/x-www-form-urlencoded" CRLF,
                   sizeof("Content-Type: application/x-www-form-urlencoded"
                          CRLF) - 1);

    if (auth.len) {
        p = ngx_cpymem(p, "Authorization: ", sizeof("Authorization: ") - 1);
        p = ngx_cpymem(p, auth.data, auth.len);
        *p++ = CR; *p++ = LF;
    }

    auth_oidc_token_request_free(treq);

    req.target = target;
    req.ssl = prov->ssl;
    req.resolver = prov->resolver;
    req.resolver_timeout = prov->resolver_timeout;
    req.connect_timeout = prov->connect_timeout;
    req.send_timeout = prov->send_timeout;
    req.read_timeout = prov->read_timeout;
    req.total_timeout = prov->resolver_timeout + prov->connect_timeout
                        + prov->send_timeout + prov->read_timeout;
    req.max_size = prov->max_response_size;
    req.handler = ngx_http_auth_oidc_token_done;
    req.data = r;

    ctx->http = ngx_http_auth_oidc_http_start(&req, r->connection->log);

    if (ctx->http != NULL) {
        /* the answer comes to ngx_http_auth_oidc_token_done() */
        return;
    }

internal:

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                               "Login failed", NULL);
}


static void
ngx_http_auth_oidc_token_done(ngx_http_auth_oidc_http_t *h)
{
    ngx_http_request_t *r = h->data;

    ngx_uint_t                 status;
    auth_oidc_error_t          err;
    auth_oidc_status_t         rc;
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);
    ctx->http = NULL;

    if (h->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": token request failed: %V",
                      &ctx->provider->name, &h->error);

        status = h->timedout ? NGX_HTTP_GATEWAY_TIME_OUT
                             : NGX_HTTP_BAD_GATEWAY;
        ngx_http_auth_oidc_http_free(h);

        ngx_http_auth_oidc_outcome(r, ctx, status, "Login failed",
                                  "The identity provider did not answer in "
                                  "time or could not be reached.");
        return;
    }

    rc = auth_oidc_token_response_parse(h->body.data, h->body.len, 1,
                                        &ctx->tokens, &err);

    if (rc == AUTH_OIDC_OK && (h->status < 200 || h->status > 299)) {
        rc = AUTH_OIDC_EFIELD;
        ngx_snprintf((u_char *) err.msg, sizeof(err.msg),
                     "unexpected HTTP status %ui%Z", h->status);
    }

    if (rc != AUTH_OIDC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": token response refused "
                      "(HTTP status %ui): %s", &ctx->provider->name,
                      h->status, err.msg);

        ngx_http_auth_oidc_http_free(h);

        ngx_http_auth_oidc_outcome(r, ctx,
                                  rc == AUTH_OIDC_EPROVIDER
                                  ? NGX_HTTP_UNAUTHORIZED
                                  : NGX_HTTP_BAD_GATEWAY,
                                  "Login failed",
                                  "The identity provider did not accept "
                                  "the login.");
        return;
    }

    ngx_http_auth_oidc_http_free(h);

    ngx_http_auth_oidc_validate(r, ctx);
}


static void
ngx_http_auth_oidc_validate(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    auth_oidc_error_t                    err;
    auth_oidc_status_t                   rc;
    auth_oidc_claims_t                  *claims;
    ngx_http_auth_oidc_runtime_t        *rt;
    auth_oidc_id_token_expect_t          expect;
    const auth_oidc_pending_fields_t    *f;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = ctx->provider;
    rt = prov->runtime;
    f = auth_oidc_pending_fields(ctx->pending);

    (void) ngx_http_auth_oidc_metadata_sync(prov, r->connection->log);

    ngx_memzero(&expect, sizeof(auth_oidc_id_token_expect_t));
    expect.issuer.data = prov->issuer.data;
    expect.issuer.len = prov->issuer.len;
    expect.client_id.data = prov->client_id.data;
    expect.client_id.len = prov->client_id.len;
    expect.nonce = f->nonce;
    expect.algorithms.data = prov->id_token_algorithms.data;
    expect.algorithms.len = prov->id_token_algorithms.len;
    expect.client_secret.data = prov->client_secret.data;
    expect.client_secret.len = prov->client_secret.len;
    expect.now = ngx_time();
    expect.leeway = prov->clock_skew;

    rc = auth_oidc_id_token_validate(
             auth_oidc_token_response_id_token(ctx->tokens), rt->jwks,
             &expect, &claims, &err);

    if (rc == AUTH_OIDC_EKID && !ctx->keys_refetched) {
        /* the provider may have rotated its keys: wait for one fetch */
        ctx->keys_refetched = 1;
        ngx_http_auth_oidc_metadata_refetch_keys(prov, r->connection->log);

        switch (ngx_http_auth_oidc_metadata_wait(prov, &ctx->waiter, r,
                                            ngx_http_auth_oidc_keys_fetched))
        {
        case NGX_AGAIN:
            return;

        case NGX_OK:
            /* keys published meanwhile by another worker */
            ngx_http_auth_oidc_validate(r, ctx);
            return;

        default:
            /*
             * no refetch asked for (one was, within keys_refetch_interval)
             * nor under way: the key is unknown, no need to wait
             */
            break;
        }
    }

    if (rc != AUTH_OIDC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": ID token refused: %s",
                      &prov->name, err.msg);

        ngx_http_auth_oidc_outcome(r, ctx,
                                  (rc == AUTH_OIDC_ENOMEM
                                   || rc == AUTH_OIDC_EINTERNAL)
                                  ? NGX_HTTP_INTERNAL_SERVER_ERROR
                                  : NGX_HTTP_UNAUTHORIZED,
                                  "Login failed",
                                  "The identity token is not valid (%s).",
                                  auth_oidc_status_string(rc));
        return;
    }

    ngx_http_auth_oidc_create_session(r, ctx, claims);
    auth_oidc_claims_free(claims);
}


/*
 * The keys refetch ended (published or failed) or took too long: the token
 * is checked again, with whatever keys there are now.
 */

static void
ngx_http_auth_oidc_keys_fetched(ngx_http_request_t *r)
{
    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ngx_http_auth_oidc_validate(r, ctx);
}


static void
ngx_http_auth_oidc_create_session(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_claims_t *claims)
{
    size_t                               len;
    time_t                               now;
    int64_t                              expires_in;
    ngx_int_t                            rc;
    ngx_str_t                            key, record;
    auth_oidc_error_t                    err;
    auth_oidc_session_fields_t           s;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = ctx->provider;
    now = ngx_time();

    /* a new id for every login: a session id is never carried over */
    if (ngx_http_auth_oidc_random_id(r->pool, &ctx->session_id) != NGX_OK
        || ngx_http_auth_oidc_session_key(r, prov, &ctx->session_id, &key)
           != NGX_OK)
    {
        goto failed;
    }

    ngx_memzero(&s, sizeof(auth_oidc_session_fields_t));
    s.sub = auth_oidc_claims_sub(claims);
    s.sid = auth_oidc_claims_sid(claims);
    s.id_token = auth_oidc_token_response_id_token(ctx->tokens);
    s.access_token = auth_oidc_token_response_access_token(ctx->tokens);
    s.refresh_token = auth_oidc_token_response_refresh_token(ctx->tokens);
    s.created = now;
    s.expires = now + prov->session_timeout;

    expires_in = auth_oidc_token_response_expires_in(ctx->tokens);
    s.access_token_expires = expires_in >= 0 ? now + expires_in : 0;

    /* the claims go into the record as the table $oidc_claim_* reads */
    if (auth_oidc_claims_table(claims, &s.claim_table, &err) != AUTH_OIDC_OK
        || auth_oidc_session_encode(&s, NULL, 0, &len, &err) != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: session refused: %s", err.msg);
        goto failed;
    }

    record.data = ngx_pnalloc(r->pool, len);
    if (record.data == NULL
        || auth_oidc_session_encode(&s, record.data, len, &record.len, &err)
           != AUTH_OIDC_OK)
    {
        goto failed;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "auth_oidc: provider \"%V\": login of \"%*s\"",
                  &prov->name, s.sub.len, s.sub.data);

    rc = ngx_http_auth_oidc_store_put(prov->store, NGX_HTTP_AUTH_OIDC_SESSION,
                                      &key, &record, s.expires, r,
                                      ngx_http_auth_oidc_session_stored);
    if (rc != NGX_AGAIN) {
        ngx_http_auth_oidc_session_stored(r, rc, NULL);
    }

    return;

failed:

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                               "Login failed",
                               "The session could not be created.");
}


/* Only a stored session gets its cookie, and the browser its page. */

static void
ngx_http_auth_oidc_session_stored(ngx_http_request_t *r, ngx_int_t rc,
    ngx_str_t *value)
{
    ngx_str_t                          location;
    ngx_http_auth_oidc_ctx_t          *ctx;
    const auth_oidc_pending_fields_t  *f;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    if (rc != NGX_OK) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "Login unavailable",
                                   "The session store is not available.");
        return;
    }

    f = auth_oidc_pending_fields(ctx->pending);

    location.len = f->return_path.len;
    location.data = ngx_pnalloc(r->pool, location.len);

    if (location.data == NULL
        || ngx_http_auth_oidc_cookie_set(r, ctx->provider, &ctx->session_id,
                                         0)
           != NGX_OK)
    {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   "Login failed", NULL);
        return;
    }

    ngx_memcpy(location.data, f->return_path.data, location.len);

    (void) ngx_http_auth_oidc_redirect(r, &location);

    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_MOVED_TEMPORARILY, NULL,
                               NULL);
}


/* A decoded query argument; NGX_DECLINED when absent or empty. */

static ngx_int_t
ngx_http_auth_oidc_arg(ngx_http_request_t *r, const char *name, size_t len,
    ngx_str_t *value)
{
    u_char      *dst, *src, *plus;
    ngx_str_t    raw;
    ngx_uint_t   i;

    if (ngx_http_arg(r, (u_char *) name, len, &raw) != NGX_OK
        || raw.len == 0)
    {
        return NGX_DECLINED;
    }

    /* '+' is a space in a query (application/x-www-form-urlencoded) */
    plus = ngx_pnalloc(r->pool, raw.len);
    dst = ngx_pnalloc(r->pool, raw.len);
    if (plus == NULL || dst == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < raw.len; i++) {
        plus[i] = (raw.data[i] == '+') ? ' ' : raw.data[i];
    }

    value->data = dst;
    src = plus;

    ngx_unescape_uri(&dst, &src, raw.len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}


/*
 * nginx adds the request line to every log line about a request, and the
 * access log writes it too: the callback's code and state are taken out.
 */

static void
ngx_http_auth_oidc_redact_request_line(ngx_http_request_t *r)
{
    u_char     *q, *proto, *end, *d;
    ngx_str_t   line;

    line = r->request_line;
    end = line.data + line.len;

    q = ngx_strlchr(line.data, end, '?');
    if (q == NULL) {
        return;
    }

    /* " HTTP/1.1" after the URI, when the request line has one */
    proto = end;

    if (r->http_protocol.len
        && r->http_protocol.data > q
        && r->http_protocol.data <= end)
    {
        proto = r->http_protocol.data - 1;
    }

    d = ngx_pnalloc(r->pool, (q - line.data) + sizeof("?...") - 1
                             + (end - proto));
    if (d == NULL) {
        return;
    }

    r->request_line.data = d;
    d = ngx_cpymem(d, line.data, q - line.data);
    d = ngx_cpymem(d, "?...", sizeof("?...") - 1);
    d = ngx_cpymem(d, proto, end - proto);
    r->request_line.len = d - r->request_line.data;
}


/* Printable ASCII only, at most 128 bytes: safe in a log line. */

static void
ngx_http_auth_oidc_printable(ngx_str_t *s)
{
    size_t  i;

    s->len = ngx_min(s->len, 128);

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < 0x20 || s->data[i] > 0x7e) {
            s->data[i] = '?';
        }
    }
}
