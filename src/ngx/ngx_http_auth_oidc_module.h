
/*
 * nginx-auth-oidc: OpenID Connect login in front of any location.
 *
 * Configuration structures, per-worker provider state and the prototypes
 * shared between the module's C files.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_MODULE_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "auth_oidc_core.h"


#if !(NGX_HTTP_SSL)
#error ngx_http_auth_oidc_module needs nginx built --with-http_ssl_module
#endif


#define NGX_HTTP_AUTH_OIDC_VERSION  "0.1.0"


typedef struct ngx_http_auth_oidc_http_s  ngx_http_auth_oidc_http_t;
typedef struct ngx_http_auth_oidc_store_s  ngx_http_auth_oidc_store_t;


/* An outbound target: a parsed URL with the addresses to connect to. */
typedef struct {
    ngx_str_t                    url;
    ngx_str_t                    host;          /* without port */
    ngx_str_t                    host_header;   /* host[:port] */
    ngx_str_t                    uri;           /* path and query */
    in_port_t                    port;
    unsigned                     ssl:1;
    unsigned                     host_is_ip:1;
    ngx_addr_t                  *addrs;         /* NULL: resolve at run time */
    ngx_uint_t                   naddrs;
} ngx_http_auth_oidc_target_t;


/* The state of a provider's metadata, as shown by oidc_status. */
typedef enum {
    NGX_HTTP_AUTH_OIDC_PENDING = 0,
    NGX_HTTP_AUTH_OIDC_READY,
    NGX_HTTP_AUTH_OIDC_ERROR
} ngx_http_auth_oidc_state_e;


#define NGX_HTTP_AUTH_OIDC_ERRLEN  320

/* characters of the state in the name of the login's own cookie */
#define NGX_HTTP_AUTH_OIDC_STATE_PART  16

/* a cookie store's session: "<cookie_name>", "<cookie_name>_2" ... _9 */
#define NGX_HTTP_AUTH_OIDC_COOKIE_PARTS  9

/* random ids (state, nonce, sessions): 256 bits, 43 base64url characters */
#define NGX_HTTP_AUTH_OIDC_ID_BYTES  32

/* started logins a browser keeps at once, before they are cleared */
#define NGX_HTTP_AUTH_OIDC_LOGINS_MAX  4

/* a login loop: more than this many logins of one browser in the window */
#define NGX_HTTP_AUTH_OIDC_LOOP_LOGINS  4
#define NGX_HTTP_AUTH_OIDC_LOOP_WINDOW  60
#define NGX_HTTP_AUTH_OIDC_LOOP_DETECTED  508


/* Why a back-channel logout was refused, for oidc_status. */
typedef enum {
    NGX_HTTP_AUTH_OIDC_BCL_MALFORMED = 0,   /* not a POST form with a token */
    NGX_HTTP_AUTH_OIDC_BCL_SIGNATURE,       /* alg, kid, signature */
    NGX_HTTP_AUTH_OIDC_BCL_CLAIMS,          /* iss, aud, iat, exp, event... */
    NGX_HTTP_AUTH_OIDC_BCL_REPLAYED,        /* jti seen before */
    NGX_HTTP_AUTH_OIDC_BCL_UNAVAILABLE,     /* store or metadata down */
    NGX_HTTP_AUTH_OIDC_BCL_REASONS
} ngx_http_auth_oidc_bcl_reason_e;


/* Why a login failed, for oidc_metrics: the callback's answer, bounded. */
typedef enum {
    NGX_HTTP_AUTH_OIDC_LOGIN_PROVIDER_REFUSED = 0,  /* error= from the provider */
    NGX_HTTP_AUTH_OIDC_LOGIN_EXPIRED,         /* unknown, expired or used */
    NGX_HTTP_AUTH_OIDC_LOGIN_BAD_ANSWER,      /* malformed, another issuer */
    NGX_HTTP_AUTH_OIDC_LOGIN_REFUSED,         /* token endpoint or ID token */
    NGX_HTTP_AUTH_OIDC_LOGIN_UNREACHABLE,     /* the provider did not answer */
    NGX_HTTP_AUTH_OIDC_LOGIN_UNAVAILABLE,     /* metadata or store missing */
    NGX_HTTP_AUTH_OIDC_LOGIN_INTERNAL,
    NGX_HTTP_AUTH_OIDC_LOGIN_FAILURES
} ngx_http_auth_oidc_login_failure_e;


/*
 * A latency histogram in shared memory: counts per bucket (not cumulative;
 * the last one is +Inf), their sum in ms. Bounds: see metrics.c.
 */
#define NGX_HTTP_AUTH_OIDC_BUCKETS  12

typedef struct {
    ngx_atomic_t                 count[NGX_HTTP_AUTH_OIDC_BUCKETS];
    ngx_atomic_t                 sum_ms;
} ngx_http_auth_oidc_histogram_t;


/* A session store's counters, summed over workers (oidc_metrics). */
typedef struct {
    ngx_atomic_t                 commands;          /* to Redis */
    ngx_atomic_t                 errors;            /* timed out, lost */
    ngx_http_auth_oidc_histogram_t  latency;
    ngx_atomic_t                 cache_hits;
    ngx_atomic_t                 cache_misses;
} ngx_http_auth_oidc_store_counters_t;


/* A provider's session counters, summed over workers (oidc_status). */
typedef struct {
    ngx_atomic_t                 refreshes;         /* done */
    ngx_atomic_t                 refresh_failures;  /* provider failed */
    ngx_atomic_t                 refresh_waits;     /* waited for another's */
    ngx_atomic_t                 refresh_ended;     /* refused: ended */
    ngx_atomic_t                 refresh_incident;  /* failing now: 1 */
    ngx_atomic_t                 backchannel_logouts;
    ngx_atomic_t                 backchannel_refused[
                                     NGX_HTTP_AUTH_OIDC_BCL_REASONS];
    ngx_atomic_t                 frontchannel_logouts;
    ngx_atomic_t                 ended_timeout;     /* session_timeout */
    ngx_atomic_t                 revocations;       /* sent at logout */
    ngx_atomic_t                 bearer_verified;   /* verified, cached */
    ngx_atomic_t                 bearer_refused;    /* refused, cached */
    ngx_atomic_t                 bearer_unavailable;  /* 503: provider */
    ngx_atomic_t                 bearer_incident;   /* failing now: 1 */

    ngx_atomic_t                 logins_started;    /* sent to the provider */
    ngx_atomic_t                 logins_completed;  /* a session made */
    ngx_atomic_t                 logins_failed[
                                     NGX_HTTP_AUTH_OIDC_LOGIN_FAILURES];
    ngx_atomic_t                 request_errors;    /* no answer */
    ngx_http_auth_oidc_histogram_t  requests;       /* token, userinfo... */

    /* with the provider's node: the counters of the store of this name
     * (a node keyed "\nstore\n<name>", see metadata_store_counters()) */
    ngx_http_auth_oidc_store_counters_t  store;
} ngx_http_auth_oidc_counters_t;


/*
 * One provider's cached metadata in shared memory: every worker reads it,
 * one worker at a time refreshes it (the "lease").
 */
typedef struct {
    ngx_queue_t                  queue;
    ngx_str_t                    key;           /* name, config_url, issuer */
    ngx_atomic_t                 generation;    /* bumped on every change */

    ngx_pid_t                    lease_pid;
    time_t                       lease_until;
    time_t                       next_fetch;
    time_t                       keys_refetch_requested;
    time_t                       touched;

    ngx_uint_t                   state;         /* ngx_http_auth_oidc_state_e */
    time_t                       discovery_fetched;
    time_t                       jwks_fetched;
    time_t                       last_error_time;
    ngx_uint_t                   fetches;
    ngx_uint_t                   failures;

    u_char                      *discovery;     /* raw, validated documents */
    size_t                       discovery_len;
    u_char                      *jwks;
    size_t                       jwks_len;

    size_t                       last_error_len;
    u_char                       last_error[NGX_HTTP_AUTH_OIDC_ERRLEN];

    ngx_http_auth_oidc_counters_t  counters;
} ngx_http_auth_oidc_meta_node_t;


typedef struct {
    ngx_queue_t                  nodes;
} ngx_http_auth_oidc_meta_shctx_t;


typedef struct {
    ngx_http_auth_oidc_meta_shctx_t  *sh;
    ngx_slab_pool_t                  *shpool;

    /* rung when a fetch ends: every worker's waiting requests look at once
     * (an eventfd made before the workers fork; -1 where there is none) */
    ngx_fd_t                          bell;
    ngx_connection_t                 *bell_conn;    /* per worker */
} ngx_http_auth_oidc_meta_zone_t;


typedef struct ngx_http_auth_oidc_provider_conf_s
    ngx_http_auth_oidc_provider_conf_t;


/* A worker's own view of one provider: parsed copies and the refresh. */
typedef struct {
    ngx_http_auth_oidc_provider_conf_t  *conf;
    ngx_http_auth_oidc_meta_node_t      *node;
    ngx_atomic_uint_t                    generation;

    auth_oidc_discovery_t               *discovery;
    auth_oidc_jwks_t                    *jwks;

    /* the refresh in progress, when this worker holds the lease */
    auth_oidc_discovery_t               *pending_discovery;
    ngx_event_t                          tick;
    ngx_http_auth_oidc_http_t           *fetch;
    ngx_pool_t                          *fetch_pool;
    ngx_http_auth_oidc_target_t          jwks_target;
    ngx_str_t                            discovery_doc;

    /* requests waiting for a fetch to end, and the timer that watches */
    ngx_queue_t                          waiters;
    ngx_event_t                          watch;
} ngx_http_auth_oidc_runtime_t;


typedef void (*ngx_http_auth_oidc_waiter_pt)(ngx_http_request_t *r);


/*
 * A request waiting for the end of a provider's fetch (published or
 * failed, in whichever worker): see ngx_http_auth_oidc_metadata_wait().
 */
typedef struct {
    ngx_queue_t                          queue;     /* in rt->waiters */
    ngx_http_auth_oidc_runtime_t        *rt;        /* NULL: not waiting */
    ngx_http_request_t                  *request;
    ngx_http_auth_oidc_waiter_pt         handler;
    ngx_uint_t                           fetches;   /* node->fetches then */
    ngx_msec_t                           deadline;
} ngx_http_auth_oidc_waiter_t;


/* A credential file as last read (ngx_http_auth_oidc_client_auth.c). */
typedef struct {
    time_t                       mtime;
    off_t                        size;
    ngx_file_uniq_t              uniq;
    unsigned                     owned:1;    /* a worker's, not the pool's */
    unsigned                     missing:1;  /* said once */
} ngx_http_auth_oidc_credential_file_t;


struct ngx_http_auth_oidc_provider_conf_s {
    ngx_str_t                    name;

    ngx_str_t                    issuer;
    ngx_str_t                    client_id;
    ngx_str_t                    client_secret;  /* as last read */

    /* how the client proves itself (ngx_http_auth_oidc_client_auth.c) */
    ngx_uint_t                   client_auth;    /* auth_oidc_client_auth_t */
    ngx_str_t                    client_secret_file;
    ngx_str_t                    client_key_file;
    ngx_str_t                    client_key_id;
    auth_oidc_client_key_t      *client_key;     /* as last read */
    ngx_http_auth_oidc_credential_file_t  secret_file;
    ngx_http_auth_oidc_credential_file_t  key_file;
    time_t                       credentials_checked;

    ngx_str_t                    config_url;
    ngx_str_t                    cookie_name;
    ngx_str_t                    loop_cookie;      /* <cookie_name>_login_loop */
    ngx_str_t                    cookie_domain;    /* "; Domain=" of ours */
    /* a cookie store's: "<cookie_name>_<n>" (2 to 9), and what its seal
     * is bound to (ngx_http_auth_oidc_store_cookie.c) */
    ngx_str_t                    cookie_parts[NGX_HTTP_AUTH_OIDC_COOKIE_PARTS
                                              + 1];
    ngx_str_t                    cookie_aad;
    ngx_str_t                    redirect_hosts;   /* space-separated */
    ngx_str_t                    user_claim;       /* $oidc_user */
    ngx_str_t                    extra_auth_args;
    ngx_str_t                    redirect_uri;
    ngx_str_t                    logout_uri;
    ngx_str_t                    post_logout_uri;
    ngx_flag_t                   logout_token_hint;
    ngx_str_t                    scope;
    ngx_flag_t                   pkce;          /* unset: follow provider */
    ngx_str_t                    session_store;
    time_t                       session_timeout;
    ngx_flag_t                   userinfo;
    ngx_str_t                    frontchannel_logout_uri;
    ngx_str_t                    backchannel_logout_uri;
    time_t                       session_idle_timeout;   /* 0: none */
    time_t                       refresh_margin;
    ngx_flag_t                   revoke_tokens;
    ngx_uint_t                   session_tokens;   /* auto 0, all 1 */
    ngx_uint_t                   session_claims;   /* auto 0, all 1 */
    ngx_uint_t                   drop_tokens;      /* AUTH_OIDC_DROP_* */
    ngx_str_t                    keep_claims;      /* AUTH_OIDC_DROP_CLAIMS */
    ngx_uint_t                   drop_logged;      /* said, per worker */
    ngx_uint_t                   loop_logged;      /* said, per worker */
    ngx_str_t                    ssl_trusted_certificate;
    ngx_str_t                    ssl_crl;

    ngx_msec_t                   connect_timeout;
    ngx_msec_t                   send_timeout;
    ngx_msec_t                   read_timeout;
    size_t                       max_response_size;
    time_t                       metadata_refresh;
    time_t                       metadata_retry;
    time_t                       keys_refetch_interval;

    ngx_flag_t                   cookie_secure;  /* unset: auto */
    time_t                       login_timeout;
    time_t                       clock_skew;
    ngx_str_t                    id_token_algorithms;

    /* bearer tokens on APIs (auth_oidc_bearer) */
    ngx_str_t                    bearer_audience;   /* space-separated */
    ngx_uint_t                   bearer_validation; /* auth_oidc_bearer_.. */
    ngx_uint_t                   bearer_strict_type;
    time_t                       bearer_cache_valid;
    time_t                       bearer_cache_invalid;
    ngx_flag_t                   bearer_used;       /* by a location */
    ngx_http_auth_oidc_store_t  *bearer_store;      /* shared memory */

    ngx_str_t                    redirect_path;  /* path of redirect_uri */
    ngx_str_t                    logout_path;
    ngx_str_t                    frontchannel_logout_path;
    ngx_str_t                    backchannel_logout_path;
    ngx_http_auth_oidc_store_t  *store;

    ngx_http_auth_oidc_target_t  discovery_target;
    ngx_http_auth_oidc_target_t  issuer_target;
    ngx_str_t                    issuer_origin;  /* scheme://host[:port] */
    ngx_ssl_t                   *ssl;
    ngx_resolver_t              *resolver;
    ngx_msec_t                   resolver_timeout;

    ngx_http_auth_oidc_runtime_t *runtime;      /* per worker */
    time_t                       not_ready_logged;

    u_char                      *file;
    ngx_uint_t                   line;
};


typedef struct {
    ngx_array_t                  providers;     /* provider_conf_t * */
    ngx_array_t                  stores;        /* store_t * */
    ngx_shm_zone_t              *meta_zone;
    ngx_flag_t                   claim_paths;   /* auth_oidc_claim_set|has */
    size_t                       post_max;      /* largest form kept, or 0 */
} ngx_http_auth_oidc_main_conf_t;


/* Walks the request headers of one name: see header_next(). */
typedef struct {
    ngx_list_part_t             *part;
    ngx_uint_t                   i;
} ngx_http_auth_oidc_header_iter_t;


/* The providers whose callback and logout paths this server answers. */
typedef struct {
    ngx_array_t                 *providers;     /* provider_conf_t * */
    ngx_flag_t                   any_provider;  /* auth_oidc $variable */
    ngx_array_t                 *server_names;  /* ngx_http_server_name_t */

    /* auth_oidc_forwarded_from: proxies whose X-Forwarded-* are believed */
    ngx_array_t                 *forwarded_from; /* ngx_cidr_t */
    ngx_int_t                    realip_index;   /* $realip_remote_addr */
} ngx_http_auth_oidc_srv_conf_t;


/* What a trusted proxy says the browser used (ngx_http_auth_oidc_forwarded.c). */
typedef struct {
    ngx_int_t                    https;         /* 1, 0, or -1: not said */
    ngx_str_t                    host;          /* empty: not said */
    ngx_str_t                    port;          /* digits, or empty */
} ngx_http_auth_oidc_forwarded_t;


typedef enum {
    NGX_HTTP_AUTH_OIDC_UNAUTH_AUTO = 0,
    NGX_HTTP_AUTH_OIDC_UNAUTH_REDIRECT,
    NGX_HTTP_AUTH_OIDC_UNAUTH_401,
    NGX_HTTP_AUTH_OIDC_UNAUTH_PASS
} ngx_http_auth_oidc_unauth_e;


typedef struct {
    ngx_flag_t                   enable;        /* "auth_oidc off" is 0 */
    ngx_http_complex_value_t    *provider_name;
    ngx_http_auth_oidc_provider_conf_t  *provider;  /* static name */
    ngx_flag_t                   status;
    ngx_uint_t                   unauth;        /* unauth_e */
    ngx_array_t                 *require;       /* auth_require rules */
    ngx_flag_t                   preserve_post;
    ngx_flag_t                   cors_preflight;  /* auth_oidc_cors_preflight */
    ngx_flag_t                   remote_user;     /* auth_oidc_remote_user */
    size_t                       preserve_post_max_size;
    ngx_flag_t                   session_info;  /* oidc_session_info */

    /* what a login from here asks (ngx_http_auth_oidc_step_up.c) */
    ngx_http_complex_value_t    *login_args;    /* auth_oidc_extra_auth_args */
    ngx_str_t                    acr_values;    /* auth_oidc_acr */
    time_t                       max_age;       /* auth_oidc_max_age */

    /* auth_oidc_bearer NAME [token=$var] | off; auth_oidc_bearer_scope */
    ngx_flag_t                   bearer;
    ngx_str_t                    bearer_name;
    ngx_http_auth_oidc_provider_conf_t  *bearer_provider;
    ngx_http_complex_value_t    *bearer_token;  /* NULL: Authorization */
    ngx_array_t                 *bearer_scopes; /* ngx_str_t */
    u_char                      *bearer_scopes_file; /* set in a location */
    ngx_uint_t                   bearer_scopes_line;

    u_char                      *file;
    ngx_uint_t                   line;
} ngx_http_auth_oidc_loc_conf_t;


typedef struct ngx_http_auth_oidc_ctx_s  ngx_http_auth_oidc_ctx_t;

/* What a flow that ends without an answer (DONE) leaves the request with. */
typedef void (*ngx_http_auth_oidc_finish_pt)(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);


/*
 * Per request. Core handles are freed by the request pool's cleanup.
 *
 * A request may wait (for the session store, the provider, or refetched
 * keys): its phase handler then returns and is run again when the answer
 * is in; every step records its result here, so a second run goes on
 * where the first stopped.
 */
struct ngx_http_auth_oidc_ctx_s {
    ngx_http_auth_oidc_provider_conf_t  *provider;
    auth_oidc_session_t                 *session;
    ngx_str_t                            session_id;
    ngx_str_t                            session_key;  /* in the store */
    ngx_str_t                            cookie_record;  /* cookie store */
    uint64_t                             session_version; /* see memo */
    auth_oidc_session_t                 *memo;  /* its copy, until used */

    /* a flow in progress (ngx_http_auth_oidc_driver.c) */
    auth_oidc_flow_t                    *flow;
    auth_oidc_step_t                     step;      /* views into flow */
    ngx_http_auth_oidc_http_t           *http;
    ngx_msec_t                           fetch_started;    /* metrics */
    ngx_str_t                            return_to;   /* a script's page */
    ngx_http_auth_oidc_waiter_t          waiter;    /* metadata or keys */
    ngx_event_t                          pause;     /* a WAIT step */
    ngx_http_auth_oidc_finish_pt         finish;    /* a DONE step */
    ngx_str_t                            lock_key;  /* a refresh lock held */
    ngx_pool_t                          *lock_pool; /* the request's */

    /* the callback: providers sharing its path, the login it answers */
    ngx_http_auth_oidc_provider_conf_t **candidates;
    ngx_uint_t                           ncandidates;
    auth_oidc_pending_t                 *pending;
    ngx_str_t                            redirect_uri;
    ngx_array_t                         *logins;    /* ngx_keyval_t: login
                                                        cookies seen */

    /* the answer of the callback or logout, once decided */
    ngx_int_t                            status;
    const char                          *title;
    ngx_str_t                            detail;
    ngx_str_t                            html;

    /* a form kept over a login (ngx_http_auth_oidc_preserve_post.c) */
    const char                          *post_why;   /* why not kept */
    ngx_str_t                            post_body;
    ngx_str_t                            post_key;   /* T */
    ngx_str_t                            post_blob;  /* sealed, base64url */
    ngx_str_t                            post_uri;   /* as sent, raw */
    ngx_str_t                            post_type;
    time_t                               post_expires;
    ngx_int_t                            post_mark_rc;

    unsigned                             done:1;
    unsigned                             suspended:1;
    unsigned                             counted:1;   /* r->main->count++ */
    unsigned                             looked_up:1;
    unsigned                             store_failed:1;
    unsigned                             metadata_waited:1;
    unsigned                             refresh_checked:1;
    unsigned                             refreshing:1;
    unsigned                             paused:1;    /* a WAIT was taken */
    unsigned                             session_ended:1;
    unsigned                             stale_cookie:1; /* no such session */
    unsigned                             body_requested:1;
    unsigned                             locking:1;   /* a lock being added */
    unsigned                             oauth_answer:1;  /* JSON, no page */
    unsigned                             login_flow:1;     /* metrics */
    unsigned                             callback_flow:1;
    unsigned                             framed:1;  /* in the provider's
                                                       iframe */
    unsigned                             bearer_checked:1;
    unsigned                             script:1;  /* the page's script */
    unsigned                             post_requested:1;
    unsigned                             post_kept:1;
    unsigned                             post_marking:1;
    unsigned                             post_marked:1;
    unsigned                             post_replayed:1;
};


/* An nginx string as the core's view of it (no copy). */
static ngx_inline auth_oidc_str_t
ngx_http_auth_oidc_view(ngx_str_t *s)
{
    auth_oidc_str_t  v;

    v.data = s->data;
    v.len = s->len;

    return v;
}


/*
 * The next name of a space-separated list (keep_claims) from *p on, which
 * it then moves past: 0 when there is none left.
 */
static ngx_inline ngx_uint_t
ngx_http_auth_oidc_next_name(u_char **p, u_char *last, ngx_str_t *name)
{
    u_char  *end;

    if (*p >= last) {
        return 0;
    }

    end = ngx_strlchr(*p, last, ' ');
    end = end ? end : last;

    name->data = *p;
    name->len = end - *p;
    *p = end + 1;

    return 1;
}


/* Sessions are indexed by sid and sub when the provider can end them. */
static ngx_inline ngx_uint_t
ngx_http_auth_oidc_index_sessions(ngx_http_auth_oidc_provider_conf_t *prov)
{
    return prov->backchannel_logout_path.len
           || prov->frontchannel_logout_path.len;
}


/* The provider's counters in shared memory, NULL if it has no room there. */
static ngx_inline ngx_http_auth_oidc_counters_t *
ngx_http_auth_oidc_counters(ngx_http_auth_oidc_provider_conf_t *prov)
{
    if (prov->runtime == NULL || prov->runtime->node == NULL) {
        return NULL;
    }

    return &prov->runtime->node->counters;
}


/* ngx_http_auth_oidc_module.c */
void *ngx_http_auth_oidc_shm_ctx(ngx_shm_zone_t *shm_zone, size_t size,
    const char *what, ngx_uint_t *fresh);
ngx_ssl_t *ngx_http_auth_oidc_ssl_client(ngx_conf_t *cf, ngx_str_t *file);

/* ngx_http_auth_oidc_client_auth.c */
extern ngx_conf_enum_t  ngx_http_auth_oidc_client_auth_methods[];
char *ngx_http_auth_oidc_client_auth_merge(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov);
void ngx_http_auth_oidc_client_credentials(ngx_log_t *log,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_str_t *secret,
    auth_oidc_client_proof_t *proof);

/* ngx_http_auth_oidc_store_cookie.c */
ngx_int_t ngx_http_auth_oidc_cookie_store_prepare(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_session_cookie(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *id);
ngx_uint_t ngx_http_auth_oidc_cookie_session_revoked(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
ngx_int_t ngx_http_auth_oidc_cookie_session_step(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, auth_oidc_step_t *step, ngx_str_t *found);
ngx_int_t ngx_http_auth_oidc_cookie_session_keep(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_str_t *record);

/* ngx_http_auth_oidc_step_up.c */
ngx_uint_t ngx_http_auth_oidc_step_up_met(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_loc_conf_t *alcf);
ngx_int_t ngx_http_auth_oidc_step_up_params(ngx_http_request_t *r,
    ngx_http_auth_oidc_loc_conf_t *alcf, auth_oidc_login_params_t *params);

/* ngx_http_auth_oidc_provider.c */
char *ngx_http_auth_oidc_provider_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_auth_oidc_providers_init(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf);
ngx_http_auth_oidc_provider_conf_t *ngx_http_auth_oidc_provider_find(
    ngx_http_auth_oidc_main_conf_t *amcf, ngx_str_t *name);
char *ngx_http_auth_oidc_conf_set_words(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_auth_oidc_target.c */
ngx_int_t ngx_http_auth_oidc_target_parse(ngx_pool_t *pool, ngx_str_t *url,
    ngx_http_auth_oidc_target_t *t, u_char *err, size_t err_len);
ngx_int_t ngx_http_auth_oidc_endpoint_target(ngx_pool_t *pool,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_str_t uri,
    const char *what, ngx_http_auth_oidc_target_t *t, u_char *err,
    size_t err_len);

/* ngx_http_auth_oidc_metadata.c */
ngx_int_t ngx_http_auth_oidc_metadata_zone_add(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf);
ngx_int_t ngx_http_auth_oidc_metadata_init_worker(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_main_conf_t *amcf);
void ngx_http_auth_oidc_metadata_exit_worker(
    ngx_http_auth_oidc_main_conf_t *amcf);
ngx_int_t ngx_http_auth_oidc_metadata_sync(
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_log_t *log);
void ngx_http_auth_oidc_metadata_refetch_keys(
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_log_t *log);
ngx_int_t ngx_http_auth_oidc_metadata_wait(
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_http_auth_oidc_waiter_t *w,
    ngx_http_request_t *r, ngx_http_auth_oidc_waiter_pt handler);
void ngx_http_auth_oidc_metadata_unwait(ngx_http_auth_oidc_waiter_t *w);
time_t ngx_http_auth_oidc_metadata_retry_after(
    ngx_http_auth_oidc_provider_conf_t *prov);
void ngx_http_auth_oidc_metadata_snapshot(
    ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_meta_node_t *out);

/* ngx_http_auth_oidc_status.c */
ngx_int_t ngx_http_auth_oidc_status_handler(ngx_http_request_t *r);

/* ngx_http_auth_oidc_handler.c */
ngx_int_t ngx_http_auth_oidc_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_auth_oidc_endpoint_handler(ngx_http_request_t *r);
ngx_http_auth_oidc_ctx_t *ngx_http_auth_oidc_get_ctx(ngx_http_request_t *r);
ngx_http_auth_oidc_ctx_t *ngx_http_auth_oidc_find_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_auth_oidc_absolute_uri(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_str_t *out);
ngx_int_t ngx_http_auth_oidc_metadata_ready(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_waiter_pt handler);
ngx_int_t ngx_http_auth_oidc_not_ready(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_session_key(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *id, ngx_str_t *key);
ngx_int_t ngx_http_auth_oidc_random_id(ngx_pool_t *pool, ngx_str_t *id);
ngx_table_elt_t *ngx_http_auth_oidc_header_in(ngx_http_request_t *r,
    const char *name, size_t len);
ngx_int_t ngx_http_auth_oidc_header_is(ngx_http_request_t *r,
    const char *name, const char *value);
ngx_table_elt_t *ngx_http_auth_oidc_header_next(ngx_http_request_t *r,
    ngx_http_auth_oidc_header_iter_t *it, const char *name, size_t len);

/* ngx_http_auth_oidc_login_required.c */
ngx_int_t ngx_http_auth_oidc_login_required(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_login_url(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *page, ngx_str_t *url);
ngx_int_t ngx_http_auth_oidc_referer_page(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *path);
ngx_int_t ngx_http_auth_oidc_session_ended(ngx_http_request_t *r,
    const char *why);

/* ngx_http_auth_oidc_origin.c */
ngx_uint_t ngx_http_auth_oidc_is_preflight(ngx_http_request_t *r);
ngx_uint_t ngx_http_auth_oidc_same_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_own_origin(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *origin);

/* ngx_http_auth_oidc_session_info.c */
char *ngx_http_auth_oidc_session_info(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_auth_oidc_preserve_post.c */
ngx_int_t ngx_http_auth_oidc_post_keep(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_http_auth_oidc_loc_conf_t *alcf);
ngx_int_t ngx_http_auth_oidc_post_seal(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *state);
ngx_int_t ngx_http_auth_oidc_post_kept_page(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);
ngx_int_t ngx_http_auth_oidc_post_replay(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov,
    ngx_str_t *t);

/* ngx_http_auth_oidc_metrics.c */
char *ngx_http_auth_oidc_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_auth_oidc_metrics_observe(ngx_http_auth_oidc_histogram_t *h,
    ngx_msec_t ms);
void ngx_http_auth_oidc_metrics_login(ngx_http_auth_oidc_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *title, ngx_uint_t session);
ngx_http_auth_oidc_store_counters_t *ngx_http_auth_oidc_metadata_store_counters(
    ngx_cycle_t *cycle, ngx_http_auth_oidc_main_conf_t *amcf, ngx_str_t *name);

/* ngx_http_auth_oidc_forwarded.c */
char *ngx_http_auth_oidc_forwarded_from(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_auth_oidc_forwarded(ngx_http_request_t *r,
    ngx_http_auth_oidc_forwarded_t *fwd);
void ngx_http_auth_oidc_outcome(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_uint_t status, const char *title,
    const char *fmt, ...);
void ngx_http_auth_oidc_wake(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);

/* ngx_http_auth_oidc_login.c */
ngx_int_t ngx_http_auth_oidc_login(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);

/* ngx_http_auth_oidc_driver.c */
void ngx_http_auth_oidc_drive(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);

/* ngx_http_auth_oidc_refresh.c */
ngx_int_t ngx_http_auth_oidc_refresh(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);

/* ngx_http_auth_oidc_bearer.c */
char *ngx_http_auth_oidc_bearer_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_auth_oidc_bearer_scope_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_auth_oidc_bearer_merge(ngx_conf_t *cf,
    ngx_http_auth_oidc_loc_conf_t *prev, ngx_http_auth_oidc_loc_conf_t *conf);
ngx_int_t ngx_http_auth_oidc_bearer(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_loc_conf_t *alcf);
ngx_int_t ngx_http_auth_oidc_bearer_challenge(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, const char *error,
    ngx_str_t *description, ngx_array_t *scopes);

/* ngx_http_auth_oidc_claim_set.c */
char *ngx_http_auth_oidc_claim_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_auth_oidc_claim_has(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_auth_oidc_require.c */
char *ngx_http_auth_oidc_require_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_auth_oidc_require_handler(ngx_http_request_t *r);

/* ngx_http_auth_oidc_form.c */
ngx_int_t ngx_http_auth_oidc_arg(ngx_http_request_t *r, const char *name,
    size_t len, ngx_str_t *value);
ngx_int_t ngx_http_auth_oidc_form_value(ngx_pool_t *pool, ngx_str_t *form,
    const char *name, size_t len, ngx_str_t *value);

/* ngx_http_auth_oidc_provider_logout.c */
ngx_int_t ngx_http_auth_oidc_backchannel(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
void ngx_http_auth_oidc_frontchannel(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
void ngx_http_auth_oidc_provider_logout_count(ngx_http_auth_oidc_ctx_t *ctx,
    auth_oidc_step_t *step);

/* ngx_http_auth_oidc_callback.c */
void ngx_http_auth_oidc_callback(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx);

/* ngx_http_auth_oidc_logout.c */
void ngx_http_auth_oidc_logout(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);

/* ngx_http_auth_oidc_cookie.c */
ngx_int_t ngx_http_auth_oidc_cookie_get(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);
ngx_int_t ngx_http_auth_oidc_cookie_strip(ngx_http_request_t *r,
    ngx_str_t *name, ngx_array_t **logins);
ngx_int_t ngx_http_auth_oidc_cookie_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *value,
    ngx_uint_t clear);
ngx_int_t ngx_http_auth_oidc_cookie_parts_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *text, size_t part);
ngx_int_t ngx_http_auth_oidc_login_cookie_name(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *name);
ngx_int_t ngx_http_auth_oidc_login_cookie_set(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *state,
    ngx_str_t *value);
ngx_uint_t ngx_http_auth_oidc_cookie_prefixed(ngx_str_t *name,
    const char *prefix);
ngx_int_t ngx_http_auth_oidc_login_loop_cookie(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_str_t *value);
ngx_int_t ngx_http_auth_oidc_login_loop(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_login_loop_count(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_login_loop_reset(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_http_auth_oidc_provider_conf_t *prov);
ngx_int_t ngx_http_auth_oidc_login_cookies_prune(ngx_http_request_t *r,
    ngx_http_auth_oidc_provider_conf_t *prov, ngx_array_t *logins,
    ngx_uint_t max);

/* ngx_http_auth_oidc_pending.c */
ngx_int_t ngx_http_auth_oidc_pending_find(ngx_http_request_t *r,
    ngx_http_auth_oidc_ctx_t *ctx, ngx_str_t *state);

/* ngx_http_auth_oidc_page.c */
ngx_int_t ngx_http_auth_oidc_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *detail, ngx_str_t *html);
ngx_int_t ngx_http_auth_oidc_redirect(ngx_http_request_t *r,
    ngx_str_t *location);
ngx_int_t ngx_http_auth_oidc_no_store(ngx_http_request_t *r);
ngx_int_t ngx_http_auth_oidc_script_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *detail, ngx_str_t *html);
ngx_int_t ngx_http_auth_oidc_phase_page(ngx_http_request_t *r,
    ngx_int_t status, const char *title, ngx_str_t *detail, ngx_str_t *html);
ngx_uint_t ngx_http_auth_oidc_error_page_set(ngx_http_request_t *r,
    ngx_uint_t status);
ngx_int_t ngx_http_auth_oidc_framed_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *detail,
    ngx_str_t *ancestors);
ngx_int_t ngx_http_auth_oidc_oauth_answer(ngx_http_request_t *r,
    ngx_uint_t status, const char *error, ngx_str_t *description);

/* ngx_http_auth_oidc_variables.c */
ngx_int_t ngx_http_auth_oidc_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_auth_oidc_remote_user_init(ngx_conf_t *cf);


extern ngx_module_t  ngx_http_auth_oidc_module;


#endif /* _NGX_HTTP_AUTH_OIDC_MODULE_H_INCLUDED_ */
