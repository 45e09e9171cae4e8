
/*
 * The cookie store ("oidc_session_store NAME cookie secret_file=..."): a
 * session record is sealed (AES-256-GCM, the store's keyring: the same
 * secret_file on every host, rotated as Redis records are) into the
 * browser's own cookies, so that hosts share logins without sharing a
 * store. The sealed value, base64url, is cut into parts under the
 * browsers' 4 KB cookie limit: "<name>" holds "<parts>." and the first,
 * "<name>_2" ... the others; the seal covers their concatenation, so a
 * part altered, missing or swapped with another opens nothing. What is
 * sealed: the session id (the store key's, which refresh locks and kept
 * forms use as with any store) and the record, bound to the provider and
 * its client_id.
 *
 * What a cookie cannot do alone, the store's shared memory does: the used
 * states of callbacks, refresh locks, and the sessions ended before their
 * cookies expire (kind REVOKED): a logout marks its session id, a
 * back-channel or front-channel logout its "sid" or "sub" with the time,
 * and a session older than such a mark is refused. Marks are this host's:
 * a logout clears the browser's cookies everywhere, but a copy of the
 * cookie replayed at another host is refused only where it was logged
 * out. Used by the handler (the session cookie read), and by the driver
 * for a flow's session steps (ngx_http_auth_oidc_cookie_session_step()).
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_store.h"


/* what one cookie carries of the sealed value */
#define NGX_HTTP_AUTH_OIDC_COOKIE_PART    3800

/* how long a refreshed record is kept for the browser's requests in flight */
#define NGX_HTTP_AUTH_OIDC_COOKIE_RECENT  60


static ngx_int_t ngx_http_auth_oidc_cookie_session_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *id);
static ngx_int_t ngx_http_auth_oidc_cookie_session_write(
    ngx_http_request_t *r, ngx_http_auth_oidc_ctx_t *ctx,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *key,
    ngx_str_t *record);
static ngx_int_t ngx_http_auth_oidc_cookie_session_end(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *key, ngx_uint_t clear);
static ngx_uint_t ngx_http_auth_oidc_cookie_session_marked(
    ngx_http_request_t *r, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *key, int64_t created);
static ngx_uint_t ngx_http_auth_oidc_cookie_session_index_marked(
    ngx_http_request_t *r, ngx_http_auth_oidc_provider_conf_t *prov,
    const char *kind, auth_oidc_str_t value, int64_t created);
static ngx_int_t ngx_http_auth_oidc_cookie_session_recent(
    ngx_http_request_t *r, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *key, ngx_str_t *record);


/*
 * Once per provider of a cookie store: the parts' names and what the seal
 * is bound to ("session\n" name "\n" client_id: a cookie of this provider
 * and client only); and what it cannot do refused.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_store_prepare(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char      *p;
    ngx_uint_t   i;

    /* an idle timeout moves the expiry on every request: a cookie
     * rewritten on every answer */
    if (prov->session_idle_timeout) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "oidc_provider \"%V\" in %s:%ui: session_idle_timeout "
                      "needs a shared-memory or Redis store, not the cookie "
                      "store \"%V\"", &prov->name, prov->file, prov->line,
                      &prov->store->name);
        return NGX_ERROR;
    }

    for (i = 2; i <= NGX_HTTP_AUTH_OIDC_COOKIE_PARTS; i++) {
        prov->cookie_parts[i].len = prov->cookie_name.len + 2;
        p = ngx_pnalloc(cf->pool, prov->cookie_parts[i].len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        prov->cookie_parts[i].data = p;
        p = ngx_cpymem(p, prov->cookie_name.data, prov->cookie_name.len);
        *p++ = '_';
        *p = (u_char) ('0' + i);
    }

    prov->cookie_aad.len = sizeof("session\n") - 1 + prov->name.len + 1
                           + prov->client_id.len;
    p = ngx_pnalloc(cf->pool, prov->cookie_aad.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    prov->cookie_aad.data = p;
    p = ngx_cpymem(p, "session\n", sizeof("session\n") - 1);
    p = ngx_cpymem(p, prov->name.data, prov->name.len);
    *p++ = '\n';
    ngx_memcpy(p, prov->client_id.data, prov->client_id.len);

    return NGX_OK;
}


/*
 * The session id the request's cookie names: NGX_OK, NGX_DECLINED when
 * there is none. For the cookie store, the id sealed in the cookie, whose
 * record is then ctx->cookie_record; a cookie that does not open (altered,
 * another secret, another provider or client) is NGX_ABORT, logged.
 */

ngx_int_t
ngx_http_auth_oidc_session_cookie(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *id)
{
    if (prov->store->type != NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
        return ngx_http_auth_oidc_cookie_get(r, &prov->cookie_name, id);
    }

    return ngx_http_auth_oidc_cookie_session_open(r, ctx, prov, id);
}


static ngx_int_t
ngx_http_auth_oidc_cookie_session_open(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *id)
{
    u_char             *p;
    ngx_str_t           first, part, text, sealed, plain;
    ngx_uint_t          parts, i;
    auth_oidc_error_t   err;

    if (ngx_http_auth_oidc_cookie_get(r, &prov->cookie_name, &first)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* "<parts>." and the first part */
    if (first.len < 3 || first.data[0] < '1' || first.data[0] > '9'
        || first.data[1] != '.')
    {
        goto unusable;
    }

    parts = first.data[0] - '0';

    text.len = (first.len - 2) + (parts - 1) * NGX_HTTP_AUTH_OIDC_COOKIE_PART;
    text.data = ngx_pnalloc(r->pool, text.len);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(text.data, first.data + 2, first.len - 2);

    for (i = 2; i <= parts; i++) {
        if (ngx_http_auth_oidc_cookie_get(r, &prov->cookie_parts[i], &part)
            != NGX_OK
            || part.len > NGX_HTTP_AUTH_OIDC_COOKIE_PART
            || (size_t) (text.data + text.len - p) < part.len)
        {
            goto unusable;
        }

        p = ngx_cpymem(p, part.data, part.len);
    }

    text.len = p - text.data;

    sealed.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(text.len));
    if (sealed.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&sealed, &text) != NGX_OK
        || sealed.len <= AUTH_OIDC_SEAL_OVERHEAD
                         + AUTH_OIDC_BASE64URL_LEN(NGX_HTTP_AUTH_OIDC_ID_BYTES))
    {
        goto unusable;
    }

    /* the plaintext's size is known: one opening, not a length query
     * that authenticates it first */
    plain.data = ngx_pnalloc(r->pool, sealed.len - AUTH_OIDC_SEAL_OVERHEAD);
    if (plain.data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_open(prov->store->keyring,
                       ngx_http_auth_oidc_view(&prov->cookie_aad),
                       ngx_http_auth_oidc_view(&sealed), plain.data,
                       sealed.len - AUTH_OIDC_SEAL_OVERHEAD, &plain.len, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": session cookie refused: "
                      "%s", &prov->name, err.msg);
        goto unusable;
    }

    /* the session id, then the record */
    id->data = plain.data;
    id->len = AUTH_OIDC_BASE64URL_LEN(NGX_HTTP_AUTH_OIDC_ID_BYTES);
    ctx->cookie_record.data = plain.data + id->len;
    ctx->cookie_record.len = plain.len - id->len;

    return NGX_OK;

unusable:

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth oidc: the session cookie does not open");

    return NGX_ABORT;
}


/*
 * Whether the session found in the cookie was ended here before it
 * expired: its id marked (a logout), or its "sid" or "sub" marked at or
 * after it was made (a provider's logout). Shared memory: at once.
 */

ngx_uint_t
ngx_http_auth_oidc_cookie_session_revoked(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx)
{
    int64_t                              created;
    auth_oidc_str_t                      sub, sid;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = ctx->provider;

    if (ngx_http_auth_oidc_cookie_session_marked(r, prov, &ctx->session_key,
                                                 INT64_MAX))
    {
        return 1;
    }

    auth_oidc_session_identity(ctx->session, &sub, &sid, &created);

    /*
     * A sid is one provider session: its mark may take the hosts' clock
     * skew (a later login has another sid). A sub's mark is exact, or a
     * login just after a logout of the user would be refused.
     */
    return (sid.len
            && ngx_http_auth_oidc_cookie_session_index_marked(r, prov, "sid",
                                              sid, created - prov->clock_skew))
           || ngx_http_auth_oidc_cookie_session_index_marked(r, prov, "sub",
                                                             sub, created);
}


/*
 * Whether a mark under key ends a session made at created: a mark made at
 * or after it (a session's own mark: INT64_MAX, any mark). A store that
 * fails, or a mark that does not read, is taken as a mark: never a session
 * taken on trust.
 */

static ngx_uint_t
ngx_http_auth_oidc_cookie_session_marked(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *key,
    int64_t created)
{
    ngx_int_t                           rc, at;
    ngx_str_t                           found;
    ngx_http_auth_oidc_store_caller_t   caller;

    ngx_http_auth_oidc_store_request(&caller, r, NULL);

    rc = ngx_http_auth_oidc_store_get(prov->store, NGX_HTTP_AUTH_OIDC_REVOKED,
                                      key, &caller, &found);

    if (rc == NGX_DECLINED) {
        return 0;
    }

    if (rc != NGX_OK || created == INT64_MAX) {
        return 1;
    }

    at = ngx_atoi(found.data, found.len);

    return at == NGX_ERROR || (int64_t) at >= created;
}


/* The same for the sessions index key of a "sid" or "sub" (its hash). */

static ngx_uint_t
ngx_http_auth_oidc_cookie_session_index_marked(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *kind,
    auth_oidc_str_t value, int64_t created)
{
    ngx_str_t        key;
    auth_oidc_str_t  k;

    /* name "\n" kind "\n" BASE64URL(SHA-256(value)): made in one call */
    key.data = ngx_pnalloc(r->pool, prov->name.len + 64);
    if (key.data == NULL) {
        return 1;
    }

    k.data = (const unsigned char *) kind;
    k.len = ngx_strlen(kind);

    key.len = auth_oidc_session_index_key(ngx_http_auth_oidc_view(&prov->name),
                                          k, value, key.data,
                                          prov->name.len + 64);

    if (key.len == 0 || key.len > prov->name.len + 64) {
        return 1;
    }

    return ngx_http_auth_oidc_cookie_session_marked(r, prov, &key, created);
}


/*
 * A flow's step on a session (or a session index) of the cookie store,
 * in place of the store's: what to read is the request's cookie, what to
 * write goes into the answer's cookies, what ends is marked. NGX_OK,
 * NGX_DECLINED (no such session), NGX_ERROR; found as a store's answer.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_session_step(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_t *step, ngx_str_t *found)
{
    ngx_str_t                            key, value;
    ngx_http_auth_oidc_store_caller_t    caller;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    prov = ctx->provider;

    key.data = (u_char *) step->key.data;
    key.len = step->key.len;
    value.data = (u_char *) step->value.data;
    value.len = step->value.len;

    if (step->record == AUTH_OIDC_RECORD_SESSION_INDEX) {

        if (step->op == AUTH_OIDC_STORE_INDEX_END) {
            /* every session of the sid or sub made until now */
            ngx_str_set(found, "all");
            return ngx_http_auth_oidc_cookie_session_end(r, ctx, prov, &key,
                                                         0);
        }

        /* nothing to list: sessions are found by their marks */
        return NGX_OK;
    }

    switch (step->op) {

    case AUTH_OIDC_STORE_GET:
    case AUTH_OIDC_STORE_TAKE:
        if (ctx->cookie_record.len == 0
            || key.len != ctx->session_key.len
            || ngx_memcmp(key.data, ctx->session_key.data, key.len) != 0)
        {
            return NGX_DECLINED;
        }

        /* what a refresh by another request of this browser wrote, which
         * its old cookie does not have yet; else the cookie's */
        if (ngx_http_auth_oidc_cookie_session_recent(r, prov, &key, found)
            != NGX_OK)
        {
            *found = ctx->cookie_record;
        }

        if (step->op == AUTH_OIDC_STORE_TAKE) {
            return ngx_http_auth_oidc_cookie_session_end(r, ctx, prov, &key,
                                                         1);
        }

        return NGX_OK;

    case AUTH_OIDC_STORE_REPLACE:
        /* a refresh: the browser's other requests, sent with the old
         * cookie before this answer reaches it, find the new record here */
        ngx_http_auth_oidc_store_request(&caller, r, NULL);

        if (ngx_http_auth_oidc_store_put(prov->store,
                                         NGX_HTTP_AUTH_OIDC_SESSION, &key,
                                         &value,
                                         ngx_time()
                                         + NGX_HTTP_AUTH_OIDC_COOKIE_RECENT,
                                         &caller)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /*
         * the app's answer carries the sealed session: never kept by a
         * shared cache ("no-store" joins the app's Cache-Control, and the
         * strictest wins; the module's own answers say it already)
         */
        if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
            return NGX_ERROR;
        }

        /* fall through */

    case AUTH_OIDC_STORE_PUT:
    case AUTH_OIDC_STORE_ADD:
        return ngx_http_auth_oidc_cookie_session_write(r, ctx, prov, &key,
                                                       &value);

    default: /* AUTH_OIDC_STORE_DELETE */
        return ngx_http_auth_oidc_cookie_session_end(r, ctx, prov, &key, 1);
    }
}


/* NGX_OK and the record when a refresh of this host wrote one lately. */

static ngx_int_t
ngx_http_auth_oidc_cookie_session_recent(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *key,
    ngx_str_t *record)
{
    ngx_http_auth_oidc_store_caller_t  caller;

    ngx_http_auth_oidc_store_request(&caller, r, NULL);

    return ngx_http_auth_oidc_store_get(prov->store,
                                        NGX_HTTP_AUTH_OIDC_SESSION, key,
                                        &caller, record);
}


/*
 * The session a refresh left this request with, into the answer's cookies
 * when it is not the one the request came with (another request refreshed
 * it): the browser's old cookie is replaced here too.
 */

ngx_int_t
ngx_http_auth_oidc_cookie_session_keep(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_str_t *record)
{
    if (ctx->provider->store->type != NGX_HTTP_AUTH_OIDC_STORE_COOKIE
        || (record->len == ctx->cookie_record.len
            && ngx_memcmp(record->data, ctx->cookie_record.data, record->len)
               == 0))
    {
        return NGX_OK;
    }

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_auth_oidc_cookie_session_write(r, ctx, ctx->provider,
                                                   &ctx->session_key, record);
}


/*
 * The session record sealed into the answer's cookies, under the id its
 * key ends with. A record too large for NGX_HTTP_AUTH_OIDC_COOKIE_PARTS
 * cookies is an error, logged with the fix.
 */

static ngx_int_t
ngx_http_auth_oidc_cookie_session_write(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *key, ngx_str_t *record)
{
    u_char             *id;
    size_t              idlen, needed;
    ngx_str_t           plain, sealed, text;
    auth_oidc_error_t   err;
    u_char              nonce[AUTH_OIDC_SEAL_NONCE_LEN];

    idlen = AUTH_OIDC_BASE64URL_LEN(NGX_HTTP_AUTH_OIDC_ID_BYTES);

    if (key->len != prov->name.len + 1 + idlen) {
        return NGX_ERROR;
    }

    id = key->data + prov->name.len + 1;

    plain.len = idlen + record->len;
    plain.data = ngx_pnalloc(r->pool, plain.len);
    if (plain.data == NULL || RAND_bytes(nonce, sizeof(nonce)) != 1)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(plain.data, id, idlen), record->data, record->len);

    needed = plain.len + AUTH_OIDC_SEAL_OVERHEAD;
    sealed.data = ngx_pnalloc(r->pool, needed);
    if (sealed.data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_seal(prov->store->keyring,
                       ngx_http_auth_oidc_view(&prov->cookie_aad),
                       ngx_http_auth_oidc_view(&plain), nonce, sealed.data,
                       needed, &sealed.len, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": cannot seal the session: "
                      "%s", &prov->name, err.msg);
        return NGX_ERROR;
    }

    text.data = ngx_pnalloc(r->pool, ngx_base64_encoded_length(sealed.len));
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64url(&text, &sealed);

    if (text.len > NGX_HTTP_AUTH_OIDC_COOKIE_PART
                   * NGX_HTTP_AUTH_OIDC_COOKIE_PARTS - 2)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": the session takes %uz "
                      "bytes, more than %d cookies hold; fix: keep fewer "
                      "tokens and claims in sessions (session_tokens auto, "
                      "session_claims auto, userinfo off), or use a "
                      "shared-memory or Redis store", &prov->name, text.len,
                      NGX_HTTP_AUTH_OIDC_COOKIE_PARTS);
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_cookie_parts_set(r, prov, &text,
                                            NGX_HTTP_AUTH_OIDC_COOKIE_PART)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a later step of this request reads what it wrote */
    ctx->cookie_record.len = record->len;
    ctx->cookie_record.data = ngx_pstrdup(r->pool, record);
    if (ctx->cookie_record.data == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A session ended before its cookie expires: marked in shared memory
 * until no cookie of it can be valid any more (session_timeout on: a
 * session is not refreshed past its mark), under key (a session's, marked
 * as such; an index's, marked with the time, for every session of its
 * sid or sub made until now). clear: this request's cookies go too.
 */

static ngx_int_t
ngx_http_auth_oidc_cookie_session_end(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *key, ngx_uint_t clear)
{
    ngx_int_t                           rc;
    ngx_str_t                           mark;
    ngx_http_auth_oidc_store_caller_t   caller;

    mark.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (mark.data == NULL) {
        return NGX_ERROR;
    }

    mark.len = ngx_sprintf(mark.data, "%T", ngx_time()) - mark.data;

    ngx_http_auth_oidc_store_request(&caller, r, NULL);

    rc = ngx_http_auth_oidc_store_put(prov->store, NGX_HTTP_AUTH_OIDC_REVOKED,
                                      key, &mark,
                                      ngx_time() + prov->session_timeout
                                      + prov->clock_skew,
                                      &caller);
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_oidc: provider \"%V\": cannot mark a session "
                      "ended in oidc_session_store \"%V\" (marks are never "
                      "evicted: raise its size=); %s", &prov->name,
                      &prov->store->name,
                      clear ? "the browser's cookies are cleared, a copy of "
                              "them stays valid until it expires"
                            : "the provider is told the logout failed");
    }

    /* the browser logs out in any case */
    if (clear) {
        ctx->cookie_record.len = 0;
        return ngx_http_auth_oidc_cookie_set(r, prov, NULL, 1);
    }

    return rc == NGX_OK ? NGX_OK : NGX_ERROR;
}
