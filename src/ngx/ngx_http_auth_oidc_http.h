
/*
 * Outbound HTTP/1.1 client on nginx's own event loop: resolver, peer
 * connection, TLS with verification, timeouts, a response size cap, and
 * content-length, chunked or read-until-close bodies.
 *
 * One ngx_http_auth_oidc_http_t per request, with its own pool. The handler
 * is always called exactly once, from the event loop, unless the request is
 * cancelled first. After the handler the caller frees the request.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_HTTP_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_HTTP_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"


typedef void (*ngx_http_auth_oidc_http_handler_pt)(
    ngx_http_auth_oidc_http_t *h);


typedef struct {
    ngx_http_auth_oidc_target_t        *target;
    ngx_str_t                           method;      /* default GET */
    ngx_str_t                           headers;     /* extra, CRLF each */
    ngx_str_t                           body;

    ngx_ssl_t                          *ssl;
    ngx_resolver_t                     *resolver;
    ngx_msec_t                          resolver_timeout;
    ngx_msec_t                          connect_timeout;
    ngx_msec_t                          send_timeout;
    ngx_msec_t                          read_timeout;
    ngx_msec_t                          total_timeout;  /* 0: none */
    size_t                              max_size;
    ngx_uint_t                          cancelable;  /* no client waits */

    ngx_http_auth_oidc_http_handler_pt  handler;
    void                               *data;
} ngx_http_auth_oidc_http_request_t;


struct ngx_http_auth_oidc_http_s {
    ngx_pool_t                         *pool;
    ngx_log_t                          *log;
    void                               *data;

    /* results, valid in the handler */
    ngx_int_t                           rc;          /* NGX_OK, NGX_ERROR */
    ngx_uint_t                          status;
    ngx_str_t                           content_type;
    ngx_str_t                           body;
    ngx_str_t                           error;       /* when rc != NGX_OK */
    unsigned                            timedout:1;  /* the error's cause */
};


/* ngx_http_auth_oidc_target.c: a request to prov, its TLS, resolver,
 * timeouts, total deadline and size cap (target and handler left to set) */
void ngx_http_auth_oidc_provider_http_request(
    ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_http_request_t *req);
ngx_msec_t ngx_http_auth_oidc_provider_total_timeout(
    ngx_http_auth_oidc_provider_conf_t *prov);

ngx_http_auth_oidc_http_t *ngx_http_auth_oidc_http_start(
    ngx_http_auth_oidc_http_request_t *req, ngx_log_t *log);
void ngx_http_auth_oidc_http_cancel(ngx_http_auth_oidc_http_t *h);
void ngx_http_auth_oidc_http_free(ngx_http_auth_oidc_http_t *h);


#endif /* _NGX_HTTP_AUTH_OIDC_HTTP_H_INCLUDED_ */
