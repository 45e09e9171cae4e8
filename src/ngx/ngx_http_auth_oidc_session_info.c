
/*
 * oidc_session_info: the current session's facts that are not secret, as
 * JSON, for the page itself (e.g. to warn before the session ends):
 *
 *   {"authenticated":true,"provider":"idp","sub":"248289761001",
 *    "created_at":1700000000,"expires_at":1700003600,"expires_in":3598,
 *    "idle_timeout":900,"refresh":true,"tokens_expire_at":1700000300,
 *    "refresh_due":false}
 *
 * and {"authenticated":false} without one (under "auth_oidc_unauth
 * pass"; otherwise a script is answered 401 before). Never a token. The
 * location needs auth_oidc; asking does not count as activity: it moves
 * no idle timeout and starts no refresh, so a page that asks every minute
 * does not keep an idle session alive.
 */


#include "ngx_http_auth_oidc_module.h"


static ngx_int_t ngx_http_auth_oidc_session_info_handler(
    ngx_http_request_t *r);


char *
ngx_http_auth_oidc_session_info(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_loc_conf_t *alcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (alcf->session_info) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_auth_oidc_session_info_handler;

    alcf->session_info = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_auth_oidc_session_info_handler(ngx_http_request_t *r)
{
    u_char                              *p;
    size_t                               len;
    int64_t                              now, tokens;
    ngx_int_t                            rc;
    ngx_buf_t                           *b;
    ngx_chain_t                          out;
    ngx_http_auth_oidc_ctx_t            *ctx;
    const auth_oidc_session_fields_t    *f;
    ngx_http_auth_oidc_provider_conf_t  *prov;

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_auth_oidc_find_ctx(r);
    f = (ctx && ctx->session) ? auth_oidc_session_fields(ctx->session) : NULL;

    if (f == NULL) {
        len = sizeof("{\"authenticated\":false}" CRLF) - 1;

    } else {
        prov = ctx->provider;
        len = sizeof("{\"authenticated\":true,\"provider\":\"\",\"sub\":\"\","
                     "\"created_at\":,\"expires_at\":,\"expires_in\":,"
                     "\"idle_timeout\":,\"refresh\":false,"
                     "\"tokens_expire_at\":,\"refresh_due\":false}" CRLF) - 1
              + prov->name.len
              + ngx_escape_json(NULL, prov->name.data, prov->name.len)
              + f->sub.len
              + ngx_escape_json(NULL, (u_char *) f->sub.data, f->sub.len)
              + 6 * NGX_INT64_LEN;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (f == NULL) {
        b->last = ngx_cpymem(b->last, "{\"authenticated\":false}" CRLF,
                             sizeof("{\"authenticated\":false}" CRLF) - 1);

    } else {
        now = (int64_t) ngx_time();

        p = ngx_cpymem(b->last, "{\"authenticated\":true,\"provider\":\"",
                       sizeof("{\"authenticated\":true,\"provider\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, prov->name.data, prov->name.len);
        p = ngx_cpymem(p, "\",\"sub\":\"", sizeof("\",\"sub\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, (u_char *) f->sub.data, f->sub.len);
        p = ngx_sprintf(p, "\",\"created_at\":%L,\"expires_at\":%L,"
                        "\"expires_in\":%L,\"idle_timeout\":%T",
                        f->created, f->expires,
                        f->expires > now ? f->expires - now : 0,
                        prov->session_idle_timeout);

        if (f->refresh_token.len) {
            /* tokens expire at the earlier of the two, refreshed before */
            tokens = f->access_token_expires;

            if (f->id_token_expires
                && (tokens == 0 || f->id_token_expires < tokens))
            {
                tokens = f->id_token_expires;
            }

            p = ngx_sprintf(p, ",\"refresh\":true,\"tokens_expire_at\":%L,"
                            "\"refresh_due\":%s",
                            tokens,
                            auth_oidc_session_tokens(ctx->session, now,
                                         (int64_t) prov->refresh_margin)
                            == AUTH_OIDC_TOKENS_VALID ? "false" : "true");

        } else {
            p = ngx_cpymem(p, ",\"refresh\":false",
                           sizeof(",\"refresh\":false") - 1);
        }

        b->last = ngx_cpymem(p, "}" CRLF, sizeof("}" CRLF) - 1);
    }

    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_auth_oidc_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
