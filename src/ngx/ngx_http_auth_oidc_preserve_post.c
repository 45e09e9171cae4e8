
/*
 * auth_oidc_preserve_post: a form a person posts after the session ended
 * is sent once the login is over, exactly once, byte for byte.
 *
 *  1. The POST (a top-level navigation from this site, a form's type, with
 *     a length of at most auth_oidc_preserve_post_max_size) is read, and
 *     its target (as the browser sent it: rewrites run again on the way
 *     back), type and body are sealed with the store's keyring under
 *     a name T derived from the login's state. The answer is a page whose
 *     script keeps the sealed form in the tab's sessionStorage and goes on
 *     to the provider. Nothing is kept on the server: a flood of posts
 *     fills no store.
 *  2. The login comes back to "<callback>?oidc_post=T&provider=NAME&back=
 *     PAGE": a page whose script takes the sealed form out of the tab (it
 *     is then gone there) and posts it to the same URL.
 *  3. That POST must come from this site, open under T with our keyring
 *     and be fresh; T is then marked used in the store (once, on every
 *     host that shares it), and the request goes on, by an internal
 *     redirect, to the form's URI with its own type and body: the app
 *     receives the original bytes, from a request of the new session.
 *
 * A cross-site post is never kept: another site cannot make a browser
 * send a form here by way of a login.
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"


/* the sealed form's own fields before its body: created, three lengths */
#define NGX_HTTP_AUTH_OIDC_POST_HEAD  (8 + 2 * 4)

/* the longest return path the login keeps (auth_oidc_safe_return_path()) */
#define NGX_HTTP_AUTH_OIDC_POST_RETURN_MAX  2048

/* how long a login may take, plus the time to post the form back */
#define NGX_HTTP_AUTH_OIDC_POST_GRACE  300


static ngx_uint_t ngx_http_auth_oidc_post_form_type(ngx_http_request_t *r);
static void ngx_http_auth_oidc_post_read(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_oidc_post_body(ngx_http_request_t *r,
    size_t max, ngx_str_t *body);
static ngx_int_t ngx_http_auth_oidc_post_aad(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *t, ngx_str_t *aad);
static ngx_int_t ngx_http_auth_oidc_post_send_page(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *t);
static ngx_int_t ngx_http_auth_oidc_post_element(ngx_http_request_t *r,
    ngx_str_t *t, const char *a, ngx_str_t *av, const char *b, ngx_str_t *bv,
    const char *why, ngx_str_t *href, ngx_str_t *label, ngx_str_t *html);
static ngx_int_t ngx_http_auth_oidc_post_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *t);
static void ngx_http_auth_oidc_post_marked(void *data, ngx_int_t rc,
    ngx_str_t *value);
static ngx_int_t ngx_http_auth_oidc_post_go(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
static size_t ngx_http_auth_oidc_post_max(ngx_http_request_t *r);
static u_char *ngx_http_auth_oidc_post_put32(u_char *p, size_t n);
static size_t ngx_http_auth_oidc_post_get32(u_char *p);


/*
 * A form posted without a session: NGX_OK when it is kept (the login goes
 * on, see ngx_http_auth_oidc_post_seal()), NGX_DONE while its body is
 * read (the access phase runs again then), NGX_DECLINED when it cannot be
 * kept (ctx->post_why says why, for the "Session ended" page), or an
 * error status.
 */

ngx_int_t
ngx_http_auth_oidc_post_keep(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_loc_conf_t *alcf)
{
    ngx_int_t  rc;

    if (ctx->post_kept) {
        return NGX_OK;
    }

    if (ctx->post_requested) {
        /* the body is in: a chunked one was not measured before */
        rc = ngx_http_auth_oidc_post_body(r, alcf->preserve_post_max_size,
                                          &ctx->post_body);

        if (rc == NGX_DECLINED) {
            goto too_large;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (NGX_HTTP_AUTH_OIDC_POST_HEAD + r->unparsed_uri.len
            + r->headers_in.content_type->value.len + ctx->post_body.len
            > AUTH_OIDC_SEAL_MAX)
        {
            /* a long target as well: more than one sealed record holds */
            goto too_large;
        }

        ctx->post_kept = 1;
        return NGX_OK;
    }

    if (ctx->post_replayed || prov->redirect_path.len == 0
        || !ngx_http_auth_oidc_same_origin(r, prov)
        || !ngx_http_auth_oidc_post_form_type(r))
    {
        /* never kept twice, nor from another site, nor what a form does
         * not send */
        return NGX_DECLINED;
    }

    if (r->headers_in.content_length_n
        > (off_t) alcf->preserve_post_max_size)
    {
        goto too_large;
    }

    ctx->post_requested = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_auth_oidc_post_read);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* the reference the body reading took is the request's hold now */
    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;

too_large:

    ctx->post_why = "Your session has ended, and what you sent was too large "
                    "to keep while you sign in. Sign in again, then send it "
                    "once more.";
    return NGX_DECLINED;
}


static void
ngx_http_auth_oidc_post_read(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/* What an HTML form sends: urlencoded fields, or multipart with files. */

static ngx_uint_t
ngx_http_auth_oidc_post_form_type(ngx_http_request_t *r)
{
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    type = &r->headers_in.content_type->value;

    return (type->len >= sizeof("application/x-www-form-urlencoded") - 1
            && ngx_strncasecmp(type->data,
                               (u_char *) "application/x-www-form-urlencoded",
                               sizeof("application/x-www-form-urlencoded") - 1)
               == 0)
           || (type->len >= sizeof("multipart/form-data") - 1
               && ngx_strncasecmp(type->data, (u_char *) "multipart/form-data",
                                  sizeof("multipart/form-data") - 1)
                  == 0);
}


/*
 * Called by the login with its fresh state: the login will come back to
 * the page that posts the form again, and the form is sealed for it.
 */

ngx_int_t
ngx_http_auth_oidc_post_seal(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *state)
{
    u_char                  *p;
    size_t                   len, needed;
    ngx_str_t                t, aad, plain, sealed, back, *type;
    uintptr_t                escape;
    auth_oidc_str_t          kind;
    auth_oidc_error_t        err;
    const auth_oidc_keyring_t  *kr;
    u_char                   nonce[AUTH_OIDC_SEAL_NONCE_LEN];
    u_char                   tbuf[AUTH_OIDC_LOOKUP_KEY_LEN];

    kr = prov->store->keyring;
    kind.data = (u_char *) "post";
    kind.len = 4;

    if (auth_oidc_keyring_lookup_key(kr, kind,
                                     ngx_http_auth_oidc_view(state), 0,
                                     tbuf, sizeof(tbuf))
        != AUTH_OIDC_LOOKUP_KEY_LEN)
    {
        return NGX_ERROR;
    }

    t.len = AUTH_OIDC_LOOKUP_KEY_LEN;
    t.data = ngx_pnalloc(r->pool, t.len);
    if (t.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(t.data, tbuf, t.len);
    ctx->post_key = t;

    /* the form: created, target (path and query, raw), type, body */
    type = &r->headers_in.content_type->value;
    plain.len = NGX_HTTP_AUTH_OIDC_POST_HEAD + r->unparsed_uri.len
                + type->len + ctx->post_body.len;

    plain.data = ngx_pnalloc(r->pool, plain.len);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    p = plain.data;

    for (len = 0; len < 8; len++) {
        *p++ = (u_char) ((uint64_t) ngx_time() >> (56 - 8 * len));
    }

    p = ngx_http_auth_oidc_post_put32(p, r->unparsed_uri.len);
    p = ngx_cpymem(p, r->unparsed_uri.data, r->unparsed_uri.len);
    p = ngx_http_auth_oidc_post_put32(p, type->len);
    p = ngx_cpymem(p, type->data, type->len);

    if (ctx->post_body.len) {
        ngx_memcpy(p, ctx->post_body.data, ctx->post_body.len);
    }

    if (ngx_http_auth_oidc_post_aad(r, prov, &t, &aad) != NGX_OK
        || RAND_bytes(nonce, sizeof(nonce)) != 1)
    {
        return NGX_ERROR;
    }

    sealed.len = plain.len + AUTH_OIDC_SEAL_OVERHEAD;
    sealed.data = ngx_pnalloc(r->pool, sealed.len);
    if (sealed.data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_seal(kr, ngx_http_auth_oidc_view(&aad),
                       ngx_http_auth_oidc_view(&plain), nonce, sealed.data,
                       sealed.len, &needed, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: the posted form cannot be kept: %s",
                      err.msg);
        return NGX_ERROR;
    }

    ctx->post_blob.len = ngx_base64_encoded_length(sealed.len);
    ctx->post_blob.data = ngx_pnalloc(r->pool, ctx->post_blob.len);
    if (ctx->post_blob.data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64url(&ctx->post_blob, &sealed);

    /* where the login comes back: the page that posts the form again,
     * which goes back to the form's page if the tab lost the form */
    if (ngx_http_auth_oidc_referer_page(r, prov, &back) != NGX_OK) {
        return NGX_ERROR;
    }

    escape = ngx_escape_uri(NULL, prov->name.data, prov->name.len,
                            NGX_ESCAPE_ARGS)
             + ngx_escape_uri(NULL, back.data, back.len, NGX_ESCAPE_ARGS);

    len = prov->redirect_path.len
          + sizeof("?oidc_post=&provider=&back=") - 1 + t.len
          + prov->name.len + back.len + 2 * escape;

    if (len > NGX_HTTP_AUTH_OIDC_POST_RETURN_MAX) {
        /* a return path the login would not keep: the form would be lost */
        ngx_str_set(&back, "/");
        len = NGX_HTTP_AUTH_OIDC_POST_RETURN_MAX;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->return_to.data = p;
    p = ngx_cpymem(p, prov->redirect_path.data, prov->redirect_path.len);
    p = ngx_cpymem(p, "?oidc_post=", sizeof("?oidc_post=") - 1);
    p = ngx_cpymem(p, t.data, t.len);
    p = ngx_cpymem(p, "&provider=", sizeof("&provider=") - 1);
    p = (u_char *) ngx_escape_uri(p, prov->name.data, prov->name.len,
                                  NGX_ESCAPE_ARGS);
    p = ngx_cpymem(p, "&back=", sizeof("&back=") - 1);
    p = (u_char *) ngx_escape_uri(p, back.data, back.len, NGX_ESCAPE_ARGS);
    ctx->return_to.len = p - ctx->return_to.data;

    return NGX_OK;
}


/*
 * The login's redirect to the provider, as a page that first keeps the
 * sealed form in the tab. A phase handler's answer (NGX_DONE or a status).
 */

ngx_int_t
ngx_http_auth_oidc_post_kept_page(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    ngx_int_t         rc;
    ngx_str_t         go, html, detail, label;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (r->headers_out.location == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    go = r->headers_out.location->value;
    ngx_http_clear_location(r);

    /* the page says "no-store" itself */
    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Cache-Control") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                               h[i].key.len) == 0)
        {
            h[i].hash = 0;
        }
    }

    ngx_str_set(&label, "Sign in");

    if (ngx_http_auth_oidc_post_element(r, &ctx->post_key, "blob",
                                        &ctx->post_blob, "go", &go,
                                        "what you sent cannot be kept while "
                                        "you sign in", &go, &label, &html)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* shown for a blink, or for good without JavaScript (see noscript) */
    ngx_str_set(&detail, "Your session has ended, so you are taken to sign "
                "in again.");

    rc = ngx_http_auth_oidc_script_page(r, NGX_HTTP_OK, "Signing you in",
                                        &detail, &html);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * "<callback>?oidc_post=T&provider=NAME[&back=PAGE]", an endpoint's
 * answer: GET, the page that posts the kept form; POST, the form sent on.
 */

ngx_int_t
ngx_http_auth_oidc_post_replay(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *t)
{
    ngx_int_t                           rc;
    ngx_str_t                           aad, key, one;
    ngx_http_auth_oidc_store_caller_t   caller;

    if (ctx->post_marked) {
        return ngx_http_auth_oidc_post_go(r, ctx);
    }

    if (r->method == NGX_HTTP_GET || r->method == NGX_HTTP_HEAD) {
        return ngx_http_auth_oidc_post_send_page(r, ctx, prov, t);
    }

    if (r->method != NGX_HTTP_POST) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_ALLOWED,
                                   "Method not allowed", NULL);
        return NGX_OK;
    }

    if (!ctx->body_requested) {
        if (ngx_http_auth_oidc_post_max(r) == 0) {
            /* no location keeps forms: nothing to send */
            (void) ngx_http_discard_request_body(r);
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_NOT_FOUND,
                                       "Form not sent", NULL);
            return NGX_OK;
        }

        if (!ngx_http_auth_oidc_same_origin(r, prov)) {
            (void) ngx_http_discard_request_body(r);
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "auth_oidc: a kept form posted from another site "
                          "was refused");
            ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_FORBIDDEN,
                                       "Form not sent",
                                       "A form is only sent on from a page "
                                       "of this site.");
            return NGX_OK;
        }

        /* base64url of the sealed form, "blob=", with a length: a page
         * of ours posts it, never chunked (its body's own framing must not
         * reach the app with the form's length) */
        if (r->headers_in.chunked
            || r->headers_in.content_length_n
               > (off_t) ngx_http_auth_oidc_post_max(r))
        {
            r->keepalive = 0;
            ngx_http_auth_oidc_outcome(r, ctx,
                                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "Form not sent", NULL);
            return NGX_OK;
        }

        ctx->body_requested = 1;

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_auth_oidc_post_read);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        ngx_http_finalize_request(r, NGX_DONE);

        return NGX_DONE;
    }

    if (ctx->post_marking) {
        /* the store's answer came: see post_marked() */
        ctx->post_marking = 0;

        if (ctx->post_mark_rc == NGX_OK) {
            ctx->post_marked = 1;
            return ngx_http_auth_oidc_post_go(r, ctx);
        }

        goto mark_failed;
    }

    rc = ngx_http_auth_oidc_post_open(r, ctx, prov, t);

    if (rc != NGX_OK) {
        return rc == NGX_ERROR ? NGX_HTTP_INTERNAL_SERVER_ERROR : NGX_OK;
    }

    /* once: T marked used where every host sees it */
    if (ngx_http_auth_oidc_post_aad(r, prov, t, &aad) != NGX_OK
        || ngx_http_auth_oidc_session_key(r, prov, &aad, &key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&one, "1");
    ngx_http_auth_oidc_store_request(&caller, r,
                                     ngx_http_auth_oidc_post_marked);

    rc = ngx_http_auth_oidc_store_add(prov->store,
                                      NGX_HTTP_AUTH_OIDC_PENDING_LOGIN, &key,
                                      &one, ctx->post_expires, &caller);

    if (rc == NGX_AGAIN) {
        ctx->post_marking = 1;
        return NGX_AGAIN;
    }

    ctx->post_mark_rc = rc;

    if (rc == NGX_OK) {
        ctx->post_marked = 1;
        return ngx_http_auth_oidc_post_go(r, ctx);
    }

mark_failed:

    if (ctx->post_mark_rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "auth_oidc: a kept form was posted again and refused");
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_CONFLICT,
                                   "Form already sent",
                                   "This form was already sent once after "
                                   "you signed in. It is not sent again.");
    } else {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "Form not sent",
                                   "The form could not be sent now. Please "
                                   "try again in a moment.");
    }

    return NGX_OK;
}


static void
ngx_http_auth_oidc_post_marked(void *data, ngx_int_t rc, ngx_str_t *value)
{
    ngx_http_request_t *r = data;

    ngx_http_auth_oidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_oidc_module);

    ctx->post_mark_rc = rc;
    ngx_http_auth_oidc_wake(r, ctx);
}


/*
 * The page the login comes back to: its script posts the kept form from
 * the tab to this URL, or goes back to the form's page when the tab has
 * none (another tab, JavaScript off before, sent already).
 */

static ngx_int_t
ngx_http_auth_oidc_post_send_page(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *t)
{
    u_char     *p;
    ngx_str_t   back, action, label;
    u_char      safe[2048];

    ngx_str_set(&back, "/");

    if (ngx_http_auth_oidc_arg(r, "back", 4, &back) == NGX_OK) {
        back.len = auth_oidc_safe_return_path(ngx_http_auth_oidc_view(&back),
                                              safe, sizeof(safe));
        back.data = safe;

        if (back.len == 0 || back.len > sizeof(safe)) {
            ngx_str_set(&back, "/");
        }
    }

    /* this URL: the path as configured (a request may name it otherwise,
     * "//..." with merge_slashes), then the query */
    action.len = prov->redirect_path.len + 1 + r->args.len;
    action.data = ngx_pnalloc(r->pool, action.len);
    if (action.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(action.data, prov->redirect_path.data,
                   prov->redirect_path.len);
    *p++ = '?';
    ngx_memcpy(p, r->args.data, r->args.len);

    ngx_str_set(&label, "Back to the page");

    if (ngx_http_auth_oidc_post_element(r, t, "action", &action, "back",
                                        &back, "what you sent cannot be sent "
                                        "on", &back, &label, &ctx->html)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->script = 1;
    ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_OK, "Sending your form",
                               "You are signed in. What you sent before is "
                               "being sent now.");
    return NGX_OK;
}


/*
 * What the pages' script reads, and what a browser without JavaScript
 * shows instead, every value HTML-escaped:
 *
 *   <div id="oidc-post" hidden data-key="auth_oidc_post:T" data-A="a"
 *   data-B="b"></div><noscript><p>JavaScript is off in this browser, so
 *   WHY.</p><nav><a href="HREF">LABEL</a></nav></noscript>
 */

static ngx_int_t
ngx_http_auth_oidc_post_element(ngx_http_request_t *r, ngx_str_t *t,
    const char *a, ngx_str_t *av, const char *b, ngx_str_t *bv,
    const char *why, ngx_str_t *href, ngx_str_t *label, ngx_str_t *html)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *v[3];
    ngx_uint_t   i;

    v[0] = av;
    v[1] = bv;
    v[2] = href;

    len = sizeof("<div id=\"oidc-post\" hidden data-key=\"auth_oidc_post:\" "
                 "data-=\"\" data-=\"\"></div>" CRLF "<noscript><p>"
                 "JavaScript is off in this browser, so .</p><nav><a href=\"\">"
                 "</a></nav></noscript>" CRLF) - 1
          + t->len + ngx_strlen(a) + ngx_strlen(b) + ngx_strlen(why)
          + label->len;

    for (i = 0; i < 3; i++) {
        len += v[i]->len + ngx_escape_html(NULL, v[i]->data, v[i]->len);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    html->data = p;
    p = ngx_sprintf(p, "<div id=\"oidc-post\" hidden "
                    "data-key=\"auth_oidc_post:%V\" data-%s=\"", t, a);
    p = (u_char *) ngx_escape_html(p, av->data, av->len);
    p = ngx_sprintf(p, "\" data-%s=\"", b);
    p = (u_char *) ngx_escape_html(p, bv->data, bv->len);
    p = ngx_sprintf(p, "\"></div>" CRLF "<noscript><p>JavaScript is off in "
                    "this browser, so %s.</p><nav><a href=\"", why);
    p = (u_char *) ngx_escape_html(p, href->data, href->len);
    p = ngx_sprintf(p, "\">%V</a></nav></noscript>" CRLF, label);
    html->len = p - html->data;

    return NGX_OK;
}


/*
 * The posted "blob": opened under T, fresh. NGX_OK with ctx->post_* set;
 * NGX_DECLINED with the answer decided (logged); NGX_ERROR.
 */

static ngx_int_t
ngx_http_auth_oidc_post_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *t)
{
    u_char             *p, *end;
    size_t              n, needed;
    int64_t             created;
    ngx_str_t           form, blob, sealed, aad, plain;
    ngx_uint_t          i;
    auth_oidc_error_t   err;

    ngx_str_null(&blob);

    if (ngx_http_auth_oidc_post_body(r, ngx_http_auth_oidc_post_max(r), &form)
        == NGX_ERROR
        || ngx_http_auth_oidc_form_value(r->pool, &form, "blob", 4, &blob)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    sealed.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(blob.len)
                                       + 1);
    if (sealed.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_post_aad(r, prov, t, &aad) != NGX_OK) {
        return NGX_ERROR;
    }

    if (blob.len == 0 || ngx_decode_base64url(&sealed, &blob) != NGX_OK
        || auth_oidc_open(prov->store->keyring, ngx_http_auth_oidc_view(&aad),
                          ngx_http_auth_oidc_view(&sealed), NULL, 0, &needed,
                          &err)
           != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "auth_oidc: a kept form was refused: it is not one "
                      "this login kept");
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Form not sent",
                                   "This form is not the one kept for your "
                                   "login, or it was altered.");
        return NGX_DECLINED;
    }

    plain.len = needed;
    plain.data = ngx_pnalloc(r->pool, needed + 1);
    if (plain.data == NULL
        || auth_oidc_open(prov->store->keyring, ngx_http_auth_oidc_view(&aad),
                          ngx_http_auth_oidc_view(&sealed), plain.data,
                          needed + 1, &needed, &err)
           != AUTH_OIDC_OK
        || plain.len < NGX_HTTP_AUTH_OIDC_POST_HEAD)
    {
        return NGX_ERROR;
    }

    p = plain.data;
    end = plain.data + plain.len;

    created = 0;

    for (i = 0; i < 8; i++) {
        created = (created << 8) | *p++;
    }

    ctx->post_expires = (time_t) created + prov->login_timeout
                        + NGX_HTTP_AUTH_OIDC_POST_GRACE;

    if (ctx->post_expires < ngx_time()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: a kept form came back too late");
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Form not sent",
                                   "What you sent was kept too long ago to "
                                   "be sent now.");
        return NGX_DECLINED;
    }

    /* sealed by us: the lengths are ours, but still checked */
    n = ngx_http_auth_oidc_post_get32(p);
    p += 4;
    if ((size_t) (end - p) < n || n == 0 || p[0] != '/') {
        return NGX_ERROR;
    }

    ctx->post_uri.data = p;
    ctx->post_uri.len = n;
    p += n;

    if (end - p < 4) {
        return NGX_ERROR;
    }

    n = ngx_http_auth_oidc_post_get32(p);
    p += 4;
    if ((size_t) (end - p) < n) {
        return NGX_ERROR;
    }

    ctx->post_type.data = p;
    ctx->post_type.len = n;
    p += n;

    ctx->post_body.data = p;
    ctx->post_body.len = end - p;

    return NGX_OK;
}


/*
 * The request becomes the form's own: its URI, type and body; the
 * location there sees a request of the new session.
 */

static ngx_int_t
ngx_http_auth_oidc_post_go(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    u_char                   *p;
    ngx_str_t                 uri, args;
    ngx_uint_t                flags;
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_http_request_body_t  *rb;

    rb = r->request_body;

    /* a page of ours posted it with a Content-Length (chunked is refused) */
    if (rb == NULL || r->headers_in.content_type == NULL
        || r->headers_in.content_length == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the target as the browser sent it, decoded and checked as nginx
     * checks an X-Accel-Redirect */
    uri = ctx->post_uri;
    ngx_str_null(&args);
    flags = NGX_HTTP_LOG_UNSAFE;

    if (ngx_http_parse_unsafe_uri(r, &uri, &args, &flags) != NGX_OK) {
        ngx_http_auth_oidc_outcome(r, ctx, NGX_HTTP_BAD_REQUEST,
                                   "Form not sent", NULL);
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);

    if (b == NULL || cl == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = ctx->post_body.data;
    b->last = ctx->post_body.data + ctx->post_body.len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    rb->temp_file = NULL;

    r->headers_in.content_type->value = ctx->post_type;
    r->headers_in.content_length_n = ctx->post_body.len;
    r->headers_in.content_length->value.data = p;
    r->headers_in.content_length->value.len =
                           ngx_sprintf(p, "%O", (off_t) ctx->post_body.len) - p;
    ctx->post_replayed = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "auth_oidc: a form kept over a login is sent on to \"%V\"",
                  &uri);

    (void) ngx_http_internal_redirect(r, &uri, &args);
    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


/* The sealed form's name: "post\n<provider>\n<T>", under no other key. */

static ngx_int_t
ngx_http_auth_oidc_post_aad(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *t, ngx_str_t *aad)
{
    u_char  *p;

    aad->len = sizeof("post\n\n") - 1 + prov->name.len + t->len;
    aad->data = ngx_pnalloc(r->pool, aad->len);
    if (aad->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(aad->data, "post\n", 5);
    p = ngx_cpymem(p, prov->name.data, prov->name.len);
    *p++ = '\n';
    ngx_memcpy(p, t->data, t->len);

    return NGX_OK;
}


/*
 * The body read, in one string: from memory, or read back from nginx's
 * temporary file (a body over client_body_buffer_size). NGX_DECLINED when
 * it is over max bytes.
 */

static ngx_int_t
ngx_http_auth_oidc_post_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body)
{
    u_char       *p;
    size_t        len, n;
    ssize_t       got;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += cl->buf->in_file ? (size_t) (cl->buf->file_last
                                            - cl->buf->file_pos)
                                : (size_t) ngx_buf_size(cl->buf);
    }

    if (len > max) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            n = cl->buf->file_last - cl->buf->file_pos;
            got = ngx_read_file(cl->buf->file, p, n, cl->buf->file_pos);

            if (got != (ssize_t) n) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "auth_oidc: the posted form cannot be read "
                              "back from \"%V\"", &cl->buf->file->name);
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * The largest body the callback takes back: "blob=" and the base64url of
 * the largest form a location keeps, sealed with its fields and a target
 * of up to 64 KiB; 0 when no location keeps forms.
 */

static size_t
ngx_http_auth_oidc_post_max(ngx_http_request_t *r)
{
    ngx_http_auth_oidc_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_oidc_module);

    if (amcf->post_max == 0) {
        return 0;
    }

    return sizeof("blob=") - 1
           + ngx_base64_encoded_length(amcf->post_max
                                       + NGX_HTTP_AUTH_OIDC_POST_HEAD
                                       + AUTH_OIDC_SEAL_OVERHEAD
                                       + 64 * 1024);
}


static u_char *
ngx_http_auth_oidc_post_put32(u_char *p, size_t n)
{
    *p++ = (u_char) (n >> 24);
    *p++ = (u_char) (n >> 16);
    *p++ = (u_char) (n >> 8);
    *p++ = (u_char) n;

    return p;
}


static size_t
ngx_http_auth_oidc_post_get32(u_char *p)
{
    return ((size_t) p[0] << 24) | ((size_t) p[1] << 16)
           | ((size_t) p[2] << 8) | p[3];
}
