
/*
 * oidc_status: a JSON view of every provider's metadata, for operators and
 * monitoring. It shows public metadata only: never a secret.
 */


#include "ngx_http_auth_oidc_module.h"
#include "ngx_http_auth_oidc_store.h"
#include "ngx_http_auth_oidc_session_memo.h"


static ngx_int_t ngx_http_auth_oidc_status_provider(ngx_http_request_t *r,
    ngx_chain_t ***last, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_uint_t first);
static ngx_int_t ngx_http_auth_oidc_status_claims(ngx_http_request_t *r,
    ngx_chain_t ***last, ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_status_counters(ngx_http_request_t *r,
    ngx_chain_t ***last, ngx_http_auth_oidc_provider_conf_t *prov);
static ngx_int_t ngx_http_auth_oidc_status_describe(ngx_http_request_t *r,
    ngx_chain_t ***last, const void *handle,
    size_t (*describe)(const void *handle, u_char *buf, size_t size));
static ngx_int_t ngx_http_auth_oidc_status_append(ngx_http_request_t *r,
    ngx_chain_t ***last, u_char *data, size_t len);
static ngx_int_t ngx_http_auth_oidc_status_string(ngx_http_request_t *r,
    ngx_chain_t ***last, u_char *data, size_t len);
static size_t ngx_http_auth_oidc_describe_discovery(const void *handle,
    u_char *buf, size_t size);
static size_t ngx_http_auth_oidc_describe_jwks(const void *handle,
    u_char *buf, size_t size);


static const char  *ngx_http_auth_oidc_states[] = {
    "pending", "ready", "error"
};


#define ngx_http_auth_oidc_status_literal(r, last, s)                        \
    ngx_http_auth_oidc_status_append(r, last, (u_char *) s, sizeof(s) - 1)


ngx_int_t
ngx_http_auth_oidc_status_handler(ngx_http_request_t *r)
{
    u_char                               *p;
    u_char                                buf[1024];
    ngx_int_t                             rc;
    ngx_uint_t                            i;
    ngx_chain_t                          *out, **last, *cl;
    ngx_http_auth_oidc_store_t          **stores;
    ngx_http_auth_oidc_main_conf_t       *amcf;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_oidc_module);

    out = NULL;
    last = &out;

    if (ngx_http_auth_oidc_status_literal(r, &last,
                   "{\"version\":\"" NGX_HTTP_AUTH_OIDC_VERSION "\","
                   "\"providers\":{")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    provs = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {
        if (ngx_http_auth_oidc_status_provider(r, &last, provs[i], i == 0)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_auth_oidc_status_literal(r, &last, "},\"stores\":{")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    stores = amcf->stores.elts;

    for (i = 0; i < amcf->stores.nelts; i++) {
        if ((i && ngx_http_auth_oidc_status_literal(r, &last, ",") != NGX_OK)
            || ngx_http_auth_oidc_status_string(r, &last, stores[i]->name.data,
                                                stores[i]->name.len)
               != NGX_OK
            || ngx_http_auth_oidc_status_literal(r, &last, ":") != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_http_auth_oidc_store_describe(stores[i], buf, sizeof(buf));

        if (ngx_http_auth_oidc_status_append(r, &last, buf, p - buf)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* this worker's decoded sessions */
    p = ngx_http_auth_oidc_session_memo_describe(
            ngx_cpymem(buf, "},\"session_memo\":",
                       sizeof("},\"session_memo\":") - 1),
            buf + sizeof(buf) - 2);
    *p++ = '}';
    *p++ = '\n';

    if (ngx_http_auth_oidc_status_append(r, &last, buf, p - buf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;

    for (cl = out; cl; cl = cl->next) {
        r->headers_out.content_length_n += cl->buf->last - cl->buf->pos;

        if (cl->next == NULL) {
            cl->buf->last_buf = (r == r->main) ? 1 : 0;
            cl->buf->last_in_chain = 1;
        }
    }

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    /* the state changes by the second: never cache it */
    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


/* What its sessions keep of the claims (session_claims): "all", or the
 * claims named in the configuration (as nginx spells variables) and those
 * the core reads again itself. */

static ngx_int_t
ngx_http_auth_oidc_status_claims(ngx_http_request_t *r, ngx_chain_t ***last,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char           *p;
    ngx_str_t         lists[2], name;
    ngx_uint_t        i, n;
    auth_oidc_str_t   always;

    if (!(prov->drop_tokens & AUTH_OIDC_DROP_CLAIMS)) {
        return ngx_http_auth_oidc_status_literal(r, last,
                                                 ",\"session_claims\":\"all\"");
    }

    always = auth_oidc_always_kept_claims();
    lists[0].data = (u_char *) always.data;
    lists[0].len = always.len;
    lists[1] = prov->keep_claims;

    if (ngx_http_auth_oidc_status_literal(r, last, ",\"session_claims\":[")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0, n = 0; i < 2; i++) {
        p = lists[i].data;

        while (ngx_http_auth_oidc_next_name(&p, lists[i].data + lists[i].len,
                                            &name))
        {
            if ((n++ && ngx_http_auth_oidc_status_literal(r, last, ",")
                        != NGX_OK)
                || ngx_http_auth_oidc_status_string(r, last, name.data,
                                                    name.len)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return ngx_http_auth_oidc_status_literal(r, last, "]");
}


static ngx_int_t
ngx_http_auth_oidc_status_provider(ngx_http_request_t *r, ngx_chain_t ***last,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_uint_t first)
{
    u_char                          *p;
    u_char                           buf[512];
    ngx_http_auth_oidc_runtime_t    *rt;
    ngx_http_auth_oidc_meta_node_t   snap;

    /* the state first: what a "ready" one published, the sync then has */
    ngx_http_auth_oidc_metadata_snapshot(prov, &snap);
    (void) ngx_http_auth_oidc_metadata_sync(prov, r->connection->log);

    rt = prov->runtime;

    if ((!first && ngx_http_auth_oidc_status_literal(r, last, ",") != NGX_OK)
        || ngx_http_auth_oidc_status_string(r, last, prov->name.data,
                                            prov->name.len)
           != NGX_OK
        || ngx_http_auth_oidc_status_literal(r, last, ":{\"issuer\":")
           != NGX_OK
        || ngx_http_auth_oidc_status_string(r, last, prov->issuer.data,
                                            prov->issuer.len)
           != NGX_OK
        || ngx_http_auth_oidc_status_literal(r, last, ",\"config_url\":")
           != NGX_OK
        || ngx_http_auth_oidc_status_string(r, last, prov->config_url.data,
                                            prov->config_url.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* what its sessions keep of the tokens (session_tokens) */
    p = ngx_snprintf(buf, sizeof(buf),
                     ",\"session_tokens\":[%s%s\"refresh_token\"]",
                     (prov->drop_tokens & AUTH_OIDC_DROP_ID_TOKEN)
                     ? "" : "\"id_token\",",
                     !(prov->drop_tokens & AUTH_OIDC_DROP_ACCESS_TOKEN)
                     ? "\"access_token\","
                     : (prov->drop_tokens & AUTH_OIDC_REVOKE_ACCESS_TOKEN)
                       ? "\"access_token_without_refresh_token\"," : "");

    if (ngx_http_auth_oidc_status_append(r, last, buf, p - buf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_status_claims(r, last, prov) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_snprintf(buf, sizeof(buf),
                     ",\"state\":\"%s\",\"discovery_fetched\":%T,"
                     "\"jwks_fetched\":%T,\"next_fetch\":%T,"
                     "\"fetches\":%ui,\"failures\":%ui,"
                     "\"last_error_time\":%T,\"last_error\":",
                     ngx_http_auth_oidc_states[snap.state],
                     snap.discovery_fetched, snap.jwks_fetched,
                     snap.next_fetch, snap.fetches, snap.failures,
                     snap.last_error_time);

    if (ngx_http_auth_oidc_status_append(r, last, buf, p - buf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (snap.last_error_len) {
        if (ngx_http_auth_oidc_status_string(r, last, snap.last_error,
                                             snap.last_error_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (ngx_http_auth_oidc_status_literal(r, last, "null") != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_auth_oidc_status_literal(r, last, ",\"metadata\":")
        != NGX_OK
        || ngx_http_auth_oidc_status_describe(r, last,
                                    rt ? rt->discovery : NULL,
                                    ngx_http_auth_oidc_describe_discovery)
           != NGX_OK
        || ngx_http_auth_oidc_status_literal(r, last, ",\"keys\":") != NGX_OK
        || ngx_http_auth_oidc_status_describe(r, last,
                                    rt ? rt->jwks : NULL,
                                    ngx_http_auth_oidc_describe_jwks)
           != NGX_OK
        || ngx_http_auth_oidc_status_counters(r, last, prov) != NGX_OK
        || ngx_http_auth_oidc_status_literal(r, last, "}") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The provider's session counters, summed over every worker. */

static ngx_int_t
ngx_http_auth_oidc_status_counters(ngx_http_request_t *r, ngx_chain_t ***last,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    u_char                         *p;
    u_char                          buf[768];
    ngx_http_auth_oidc_counters_t  *c;

    c = ngx_http_auth_oidc_counters(prov);

    if (c == NULL) {
        return NGX_OK;
    }

    p = ngx_snprintf(buf, sizeof(buf),
                     ",\"sessions\":{\"refreshes\":%uA,"
                     "\"refresh_failures\":%uA,\"refresh_waits\":%uA,"
                     "\"refresh_refused\":%uA,\"ended_by_timeout\":%uA,"
                     "\"backchannel_logouts\":%uA,"
                     "\"backchannel_refused\":{\"malformed\":%uA,"
                     "\"signature\":%uA,\"claims\":%uA,\"replayed\":%uA,"
                     "\"unavailable\":%uA},"
                     "\"frontchannel_logouts\":%uA,\"revocations\":%uA},"
                     "\"bearer\":{\"verified\":%uA,\"refused\":%uA,"
                     "\"unavailable\":%uA}",
                     c->refreshes, c->refresh_failures, c->refresh_waits,
                     c->refresh_ended, c->ended_timeout,
                     c->backchannel_logouts,
                     c->backchannel_refused[NGX_HTTP_AUTH_OIDC_BCL_MALFORMED],
                     c->backchannel_refused[NGX_HTTP_AUTH_OIDC_BCL_SIGNATURE],
                     c->backchannel_refused[NGX_HTTP_AUTH_OIDC_BCL_CLAIMS],
                     c->backchannel_refused[NGX_HTTP_AUTH_OIDC_BCL_REPLAYED],
                     c->backchannel_refused[NGX_HTTP_AUTH_OIDC_BCL_UNAVAILABLE],
                     c->frontchannel_logouts, c->revocations,
                     c->bearer_verified, c->bearer_refused,
                     c->bearer_unavailable);

    return ngx_http_auth_oidc_status_append(r, last, buf, p - buf);
}


/* The core writes the JSON; a first call tells how much room it needs. */

static ngx_int_t
ngx_http_auth_oidc_status_describe(ngx_http_request_t *r, ngx_chain_t ***last,
    const void *handle,
    size_t (*describe)(const void *handle, u_char *buf, size_t size))
{
    u_char  *buf;
    size_t   len;

    if (handle == NULL) {
        return ngx_http_auth_oidc_status_literal(r, last, "null");
    }

    len = describe(handle, NULL, 0);

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (describe(handle, buf, len) != len) {
        return NGX_ERROR;
    }

    return ngx_http_auth_oidc_status_append(r, last, buf, len);
}


static size_t
ngx_http_auth_oidc_describe_discovery(const void *handle, u_char *buf,
    size_t size)
{
    return auth_oidc_discovery_describe(handle, buf, size);
}


static size_t
ngx_http_auth_oidc_describe_jwks(const void *handle, u_char *buf, size_t size)
{
    return auth_oidc_jwks_describe(handle, buf, size);
}


static ngx_int_t
ngx_http_auth_oidc_status_append(ngx_http_request_t *r, ngx_chain_t ***last,
    u_char *data, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    cl = ngx_alloc_chain_link(r->pool);

    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, data, len);

    cl->buf = b;
    cl->next = NULL;

    **last = cl;
    *last = &cl->next;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_status_string(ngx_http_request_t *r, ngx_chain_t ***last,
    u_char *data, size_t len)
{
    u_char  *buf, *p;
    size_t   escaped;

    escaped = len + ngx_escape_json(NULL, data, len);

    buf = ngx_pnalloc(r->pool, escaped + 2);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    p = buf;
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, data, len);
    *p++ = '"';

    return ngx_http_auth_oidc_status_append(r, last, buf, p - buf);
}
