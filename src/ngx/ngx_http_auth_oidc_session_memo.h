
/*
 * A worker's decoded sessions, so that a request with a session it has
 * seen costs no copy and no decoding: by store key, each with the version
 * of the stored record it was decoded from. The store says whether the
 * record still has that version (a get answers NGX_DONE, see the caller's
 * version in ngx_http_auth_oidc_store.h); any put gives a record a new
 * version, so a refresh, a logout or another worker's or host's write is
 * seen at the next request. The memo never answers by itself.
 *
 * Bounded: NGX_HTTP_AUTH_OIDC_SESSION_MEMO_BYTES of records per worker
 * (decoded, about twice that), the least recently used first.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_SESSION_MEMO_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_SESSION_MEMO_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"


#define NGX_HTTP_AUTH_OIDC_SESSION_MEMO_BYTES  (8 * 1024 * 1024)


/*
 * The session kept for key, a reference for the caller, and its version;
 * NULL and 0 if none.
 */
auth_oidc_session_t *ngx_http_auth_oidc_session_memo_get(ngx_str_t *key,
    uint64_t *version);
/* Keeps a reference to session, decoded from size bytes of version. */
void ngx_http_auth_oidc_session_memo_put(ngx_str_t *key, uint64_t version,
    size_t size, auth_oidc_session_t *session);
void ngx_http_auth_oidc_session_memo_drop(ngx_str_t *key);
/* A request answered with the memo's copy (the store said NGX_DONE). */
void ngx_http_auth_oidc_session_memo_used(void);
/* worker exit */
void ngx_http_auth_oidc_session_memo_clear(void);
/* for oidc_status: JSON of at most last - buf bytes; returns the end */
u_char *ngx_http_auth_oidc_session_memo_describe(u_char *buf, u_char *last);


#endif /* _NGX_HTTP_AUTH_OIDC_SESSION_MEMO_H_INCLUDED_ */
