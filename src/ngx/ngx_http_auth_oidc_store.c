
/*
 * Session stores. "oidc_session_store NAME [size=SIZE];" declares one in
 * shared memory, "oidc_session_store NAME redis=ADDR ...;" one in Redis;
 * providers name it with "session_store NAME". Without one, a provider uses
 * the default shared-memory store, created with 10m.
 *
 * The shared-memory store: a chained hash table over a hash of kind and
 * key, an LRU queue per kind, entries sized to their content, expired
 * entries dropped before allocating, and the least recently used evicted,
 * kind by kind in the order of ngx_http_auth_oidc_store_evict_order, when
 * the zone is full. Evicting a live session logs its users out: the first
 * one of an incident is a warning that says which size= to raise, with the
 * sessions the zone holds at their present size; oidc_status counts them
 * apart from the rest (started logins' used states, "jti"s, locks). A
 * session index is a record whose
 * value lists its sessions' keys, each as a length byte and the key.
 * Redis operations are in ngx_http_auth_oidc_store_redis.c.
 *
 * A session record does not take a slot that it would leave a quarter empty
 * (the slab allocator's sizes are powers of two, then whole pages): its
 * node is the slot below and the rest of the record follows in a chain of
 * chunks of the smaller sizes, so that a 3.2 KB record takes 3.2 KB of
 * zone, not 4 KiB, and a 370-byte one 384 bytes, not 512 (see
 * ngx_http_auth_oidc_store_alloc_record).
 *
 * A hash table, not the rbtree of limit_req's zones: a session is looked up
 * on every request, and with entries of 2 KiB each level of a tree is
 * another cache and TLB miss, so a tree's lookups grew slower with every
 * doubling of the sessions (measured: +6 us per request from 1,000 to
 * 100,000 sessions). The buckets are sized once, from the zone size (one per
 * NGX_HTTP_AUTH_OIDC_STORE_BYTES_PER_BUCKET bytes), since a zone never grows;
 * a lookup is then one bucket and a chain of about one entry at any fill.
 */


#include "ngx_http_auth_oidc_store.h"


#define NGX_HTTP_AUTH_OIDC_STORE_DEFAULT       "auth_oidc_sessions"
#define NGX_HTTP_AUTH_OIDC_STORE_DEFAULT_SIZE  (10 * 1024 * 1024)
#define NGX_HTTP_AUTH_OIDC_MAX_KEY             255

/* a session without tokens takes 256 bytes of zone, with all of them about
 * 3 KiB: a bucket per 512 bytes keeps chains short at either size */
#define NGX_HTTP_AUTH_OIDC_STORE_BYTES_PER_BUCKET  512

/* an incident of evicted sessions ends after this long without one */
#define NGX_HTTP_AUTH_OIDC_STORE_INCIDENT  60

/* a kind with a queue, and a key a node can hold */
#define ngx_http_auth_oidc_store_invalid(kind, key)                           \
    ((kind) == 0 || (kind) >= NGX_HTTP_AUTH_OIDC_RECORD_KINDS                 \
     || (key)->len == 0 || (key)->len > NGX_HTTP_AUTH_OIDC_MAX_KEY)


typedef struct ngx_http_auth_oidc_store_node_s
    ngx_http_auth_oidc_store_node_t;

typedef struct ngx_http_auth_oidc_store_chunk_s
    ngx_http_auth_oidc_store_chunk_t;

/* the rest of a session record whose node is smaller than it */
struct ngx_http_auth_oidc_store_chunk_s {
    ngx_http_auth_oidc_store_chunk_t *next;
    uint32_t                          len;      /* of data */
    u_char                            data[1];
};

struct ngx_http_auth_oidc_store_node_s {
    ngx_http_auth_oidc_store_node_t  *next;     /* in the same bucket */
    ngx_http_auth_oidc_store_chunk_t *chunks;   /* the value goes on */
    ngx_queue_t                       queue;    /* most recent first */
    uint64_t                          version;  /* new at every put */
    time_t                            expires;
    uint32_t                          hash;
    uint32_t                          value_len;
    u_char                            kind;
    u_char                            key_len;
    uint16_t                          head_size; /* the node's, when chunks follow */
    u_char                            data[1];  /* key, then value */
};


typedef struct {
    ngx_http_auth_oidc_store_node_t  **buckets;
    ngx_uint_t                         mask;    /* buckets - 1 */
    /* one LRU queue per kind: see ngx_http_auth_oidc_store_evict_order */
    ngx_queue_t                        queue[NGX_HTTP_AUTH_OIDC_RECORD_KINDS];
    ngx_uint_t                         entries;
    ngx_uint_t                         evicted;
    uint64_t                           version; /* the last one given */

    /* sizing: entries of each kind, the zone the sessions take (slab
     * slots), live sessions evicted and when the last one was */
    ngx_uint_t                         kinds[NGX_HTTP_AUTH_OIDC_RECORD_KINDS];
    size_t                             session_bytes;
    ngx_uint_t                         evicted_sessions;
    time_t                             session_evicted;
} ngx_http_auth_oidc_store_shctx_t;


/* What making room for a record evicted (live entries only). */
typedef struct {
    ngx_uint_t                         entries;   /* of any kind */
    ngx_uint_t                         sessions;
    ngx_uint_t                         warn;      /* an incident starts */
    ngx_uint_t                         held;      /* sessions then */
    size_t                             slot;      /* a session's bytes */
} ngx_http_auth_oidc_store_evictions_t;


typedef struct {
    ngx_http_auth_oidc_store_shctx_t  *sh;
    ngx_slab_pool_t                   *shpool;
    ngx_http_auth_oidc_store_t        *store;
} ngx_http_auth_oidc_store_zone_t;


static ngx_http_auth_oidc_store_t *ngx_http_auth_oidc_store_default(
    ngx_conf_t *cf, ngx_http_auth_oidc_main_conf_t *amcf);
static ngx_int_t ngx_http_auth_oidc_store_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_auth_oidc_store_node_t **ngx_http_auth_oidc_store_lookup(
    ngx_http_auth_oidc_store_zone_t *zone, ngx_uint_t kind, ngx_str_t *key,
    uint32_t hash);
static void ngx_http_auth_oidc_store_master_switched(void *data);
static ngx_int_t ngx_http_auth_oidc_shm_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_uint_t take, time_t touch,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *value);
static ngx_int_t ngx_http_auth_oidc_shm_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t nx, ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value,
    time_t expires, ngx_http_auth_oidc_store_caller_t *caller);
static void ngx_http_auth_oidc_shm_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key,
    ngx_http_auth_oidc_store_caller_t *caller);
static ngx_int_t ngx_http_auth_oidc_shm_index_add(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *index_key,
    ngx_str_t *session_key, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
static ngx_int_t ngx_http_auth_oidc_shm_index_end(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *index_key,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_uint_t *ended);
static ngx_http_auth_oidc_store_node_t *ngx_http_auth_oidc_store_alloc_record(
    ngx_http_auth_oidc_store_t *store, ngx_http_auth_oidc_store_zone_t *zone,
    ngx_uint_t kind, size_t size, size_t key_len, time_t now,
    ngx_http_auth_oidc_store_evictions_t *ev);
static size_t ngx_http_auth_oidc_store_piece(size_t need);
static void ngx_http_auth_oidc_store_free_chunks(
    ngx_http_auth_oidc_store_zone_t *zone,
    ngx_http_auth_oidc_store_node_t *sn);
static void ngx_http_auth_oidc_store_copy_value(
    ngx_http_auth_oidc_store_node_t *sn, u_char *p);
static size_t ngx_http_auth_oidc_store_node_bytes(
    ngx_http_auth_oidc_store_node_t *sn);
static void *ngx_http_auth_oidc_store_alloc(
    ngx_http_auth_oidc_store_t *store, ngx_http_auth_oidc_store_zone_t *zone,
    ngx_uint_t kind, size_t size, time_t now,
    ngx_http_auth_oidc_store_evictions_t *ev);
static void ngx_http_auth_oidc_store_insert(
    ngx_http_auth_oidc_store_zone_t *zone,
    ngx_http_auth_oidc_store_node_t *sn, ngx_uint_t kind, uint32_t hash,
    ngx_str_t *key, ngx_str_t *value, time_t expires);
static ngx_int_t ngx_http_auth_oidc_store_stored(
    ngx_http_auth_oidc_store_t *store, ngx_log_t *log, size_t size,
    ngx_http_auth_oidc_store_evictions_t *ev,
    ngx_http_auth_oidc_store_node_t *sn);
static size_t ngx_http_auth_oidc_store_slot(size_t size);
static ngx_uint_t ngx_http_auth_oidc_store_live(
    ngx_http_auth_oidc_store_zone_t *zone, ngx_str_t *key, time_t now);
static void ngx_http_auth_oidc_store_free_node(
    ngx_http_auth_oidc_store_zone_t *zone,
    ngx_http_auth_oidc_store_node_t *sn);
static ngx_uint_t ngx_http_auth_oidc_store_expire(
    ngx_http_auth_oidc_store_zone_t *zone, ngx_uint_t kind, time_t now,
    ngx_uint_t n);
static uint32_t ngx_http_auth_oidc_store_hash(ngx_uint_t kind,
    ngx_str_t *key);


/* The shared-memory store answers at once, under the zone's mutex. */
const ngx_http_auth_oidc_store_ops_t  ngx_http_auth_oidc_store_shm_ops = {
    ngx_http_auth_oidc_shm_get,
    ngx_http_auth_oidc_shm_put,
    ngx_http_auth_oidc_shm_delete,
    ngx_http_auth_oidc_shm_index_add,
    ngx_http_auth_oidc_shm_index_end
};


/*
 * Which kind gives way first when the zone is full. Started logins: anyone
 * can start one, so a flood of them displaces other started logins before
 * anything else. Used "jti"s and refresh locks next: short-lived, and
 * losing one costs at most a replayed logout token accepted again or two
 * refreshes at once. Then sessions (their users log in again), and session
 * indexes last: an index left without its sessions costs a few bytes, a
 * session left without its index could not be ended by a back-channel
 * logout.
 */
static ngx_uint_t  ngx_http_auth_oidc_store_evict_order[] = {
    NGX_HTTP_AUTH_OIDC_BEARER_TOKEN,
    NGX_HTTP_AUTH_OIDC_PENDING_LOGIN,
    NGX_HTTP_AUTH_OIDC_USED_JTI,
    NGX_HTTP_AUTH_OIDC_REFRESH_LOCK,
    NGX_HTTP_AUTH_OIDC_SESSION,
    NGX_HTTP_AUTH_OIDC_SESSION_INDEX
    /* never NGX_HTTP_AUTH_OIDC_REVOKED: an ended session whose mark went
     * would be valid again; a zone full of marks refuses new ones */
};


char *
ngx_http_auth_oidc_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_oidc_main_conf_t *amcf = conf;

    ssize_t                       size;
    ngx_str_t                    *value, v, name;
    ngx_uint_t                    i, sized, cached;
    ngx_http_auth_oidc_store_t   *store, **storep;

    value = cf->args->elts;

    if (ngx_http_auth_oidc_store_find(amcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate oidc_session_store \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_store_t));
    storep = ngx_array_push(&amcf->stores);
    if (store == NULL || storep == NULL) {
        return NGX_CONF_ERROR;
    }

    *storep = store;

    store->name = value[1];
    store->size = NGX_HTTP_AUTH_OIDC_STORE_DEFAULT_SIZE;
    store->file = cf->conf_file->file.name.data;
    store->line = cf->conf_file->line;

    store->redis_conf.db = 0;
    store->redis_conf.connect_timeout = 1000;
    store->redis_conf.timeout = 1000;
    store->redis_conf.cache_size = NGX_HTTP_AUTH_OIDC_REDIS_CACHE_SIZE;
    store->redis_conf.cache_max_age = NGX_HTTP_AUTH_OIDC_REDIS_CACHE_MAX_AGE;
    ngx_str_set(&store->prefix, "oidc:");

    sized = 0;
    cached = 0;

    for (i = 2; i < cf->args->nelts; i++) {

#define ngx_http_auth_oidc_param(name)                                        \
        (value[i].len > sizeof(name) - 1                                     \
         && ngx_strncmp(value[i].data, name, sizeof(name) - 1) == 0          \
         && (v.data = value[i].data + sizeof(name) - 1,                      \
             v.len = value[i].len - (sizeof(name) - 1), 1))

        if (value[i].len == 6 && ngx_strncmp(value[i].data, "cookie", 6) == 0)
        {
            if (store->type == NGX_HTTP_AUTH_OIDC_STORE_REDIS) {
                goto invalid;
            }

            store->type = NGX_HTTP_AUTH_OIDC_STORE_COOKIE;

        } else if (ngx_http_auth_oidc_param("size=")) {
            size = ngx_parse_size(&v);

            if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size \"%V\" of oidc_session_store"
                                   " \"%V\": at least %uzk is needed",
                                   &v, &value[1], 8 * ngx_pagesize / 1024);
                return NGX_CONF_ERROR;
            }

            store->size = size;
            sized = 1;

        } else if (ngx_http_auth_oidc_param("redis=")) {
            if (store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
                goto invalid;
            }

            store->type = NGX_HTTP_AUTH_OIDC_STORE_REDIS;

            if (ngx_http_auth_oidc_store_redis_addr(cf, store, &v) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_auth_oidc_param("user=")) {
            store->redis_conf.user = v;

        } else if (ngx_http_auth_oidc_param("password=")) {
            store->redis_conf.password = v;

        } else if (ngx_http_auth_oidc_param("db=")) {
            store->redis_conf.db = ngx_atoi(v.data, v.len);
            if (store->redis_conf.db == NGX_ERROR) {
                goto invalid;
            }

        } else if (ngx_http_auth_oidc_param("prefix=")) {
            store->prefix = v;

        } else if (ngx_http_auth_oidc_param("connect_timeout=")) {
            store->redis_conf.connect_timeout = ngx_parse_time(&v, 0);
            if (store->redis_conf.connect_timeout == (ngx_msec_t) NGX_ERROR
                || store->redis_conf.connect_timeout == 0)
            {
                goto invalid;
            }

        } else if (ngx_http_auth_oidc_param("timeout=")) {
            store->redis_conf.timeout = ngx_parse_time(&v, 0);
            if (store->redis_conf.timeout == (ngx_msec_t) NGX_ERROR
                || store->redis_conf.timeout == 0)
            {
                goto invalid;
            }

        } else if (ngx_http_auth_oidc_param("cache=")) {
            cached = 1;

            if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
                store->redis_conf.cache_size = 0;
                continue;
            }

            size = ngx_parse_size(&v);

            if (size == NGX_ERROR || size < 65536) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid cache size \"%V\" of "
                                   "oidc_session_store \"%V\": \"off\" or "
                                   "at least 64k", &v, &value[1]);
                return NGX_CONF_ERROR;
            }

            store->redis_conf.cache_size = size;

        } else if (ngx_http_auth_oidc_param("cache_max_age=")) {
            cached = 1;
            store->redis_conf.cache_max_age = ngx_parse_time(&v, 1);

            if (store->redis_conf.cache_max_age == (time_t) NGX_ERROR
                || store->redis_conf.cache_max_age == 0)
            {
                goto invalid;
            }

        } else if (ngx_http_auth_oidc_param("sentinel=")
                   || ngx_http_auth_oidc_param("cluster="))
        {
            if (store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
                goto invalid;
            }

            store->type = NGX_HTTP_AUTH_OIDC_STORE_REDIS;
            name.data = value[i].data;
            name.len = v.data - value[i].data;

            if (ngx_http_auth_oidc_store_redis_list(cf, store, &name, &v)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_auth_oidc_param("master_name=")) {
            store->redis_conf.master_name = v;

        } else if (ngx_http_auth_oidc_param("sentinel_password=")) {
            store->redis_conf.sentinel_password = v;

        } else if (ngx_http_auth_oidc_param("ssl_trusted_certificate=")) {
            store->redis_conf.ssl_trusted_certificate = v;

        } else if (ngx_http_auth_oidc_param("ssl_certificate=")) {
            store->redis_conf.ssl_certificate = v;

        } else if (ngx_http_auth_oidc_param("ssl_certificate_key=")) {
            store->redis_conf.ssl_certificate_key = v;

        } else if (ngx_http_auth_oidc_param("ssl_name=")) {
            store->redis_conf.ssl_name = v;

        } else if (ngx_http_auth_oidc_param("secret_file=")) {
            store->secret_file = v;

        } else if (ngx_http_auth_oidc_param("previous_secret_file=")) {
            store->previous_secret_file = v;

        } else {
            goto invalid;
        }

#undef ngx_http_auth_oidc_param
    }

    /* Redis and the cookie store: a rotation keeps the secret it replaces */
    if (store->previous_secret_file.len && store->secret_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": "
                           "\"previous_secret_file=\" needs "
                           "\"secret_file=\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (store->type != NGX_HTTP_AUTH_OIDC_STORE_REDIS) {
        if (store->redis_conf.password.len || store->redis_conf.user.len
            || (store->type == NGX_HTTP_AUTH_OIDC_STORE_SHM
                && (store->secret_file.len
                    || store->previous_secret_file.len))
            || store->redis_conf.ssl_trusted_certificate.len
            || store->redis_conf.ssl_certificate.len
            || store->redis_conf.ssl_certificate_key.len
            || store->redis_conf.ssl_name.len || cached)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_session_store \"%V\": Redis parameters "
                               "without \"redis=\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (sized) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": \"size=\" is for "
                           "shared memory, not Redis", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (store->redis_conf.user.len && store->redis_conf.password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": \"user=\" needs "
                           "\"password=\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_auth_oidc_store_redis_tls(cf, store) != NGX_OK) {
        return NGX_CONF_ERROR;
    }


    store->ops = &ngx_http_auth_oidc_store_redis_ops;

    return ngx_http_auth_oidc_store_keyring(cf, store);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" of oidc_session_store",
                       &value[i]);
    return NGX_CONF_ERROR;
}


ngx_http_auth_oidc_store_t *
ngx_http_auth_oidc_store_find(ngx_http_auth_oidc_main_conf_t *amcf,
    ngx_str_t *name)
{
    ngx_uint_t                    i;
    ngx_http_auth_oidc_store_t  **stores;

    stores = amcf->stores.elts;

    for (i = 0; i < amcf->stores.nelts; i++) {
        if (stores[i]->name.len == name->len
            && ngx_strncmp(stores[i]->name.data, name->data, name->len) == 0)
        {
            return stores[i];
        }
    }

    return NULL;
}


/* The built-in shared-memory store, added on first use. */

static ngx_http_auth_oidc_store_t *
ngx_http_auth_oidc_store_default(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_str_t                     name;
    ngx_http_auth_oidc_store_t   *store, **storep;

    ngx_str_set(&name, NGX_HTTP_AUTH_OIDC_STORE_DEFAULT);

    store = ngx_http_auth_oidc_store_find(amcf, &name);
    if (store) {
        return store;
    }

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_store_t));
    storep = ngx_array_push(&amcf->stores);
    if (store == NULL || storep == NULL) {
        return NULL;
    }

    store->name = name;
    store->size = NGX_HTTP_AUTH_OIDC_STORE_DEFAULT_SIZE;
    *storep = store;

    return store;
}


/*
 * Links every provider to its store, adds the default store when a
 * provider names none, and declares a shared-memory zone per store.
 */

ngx_int_t
ngx_http_auth_oidc_store_init_conf(ngx_conf_t *cf,
    ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_uint_t                            i;
    ngx_http_auth_oidc_store_t           *store, **stores;
    ngx_http_auth_oidc_store_zone_t      *zone;
    ngx_http_auth_oidc_provider_conf_t  **provs;

    provs = amcf->providers.elts;

    for (i = 0; i < amcf->providers.nelts; i++) {

        if (provs[i]->session_store.len) {
            store = ngx_http_auth_oidc_store_find(amcf,
                                                  &provs[i]->session_store);
            if (store == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "unknown oidc_session_store \"%V\" in "
                              "oidc_provider \"%V\" in %s:%ui",
                              &provs[i]->session_store, &provs[i]->name,
                              provs[i]->file, provs[i]->line);
                return NGX_ERROR;
            }

            provs[i]->store = store;

            if (store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE
                && ngx_http_auth_oidc_cookie_store_prepare(cf, provs[i])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else {
            provs[i]->store = ngx_http_auth_oidc_store_default(cf, amcf);
            if (provs[i]->store == NULL) {
                return NGX_ERROR;
            }
        }

        /* bearer verifications are cached in shared memory: the session
         * store's, else the default store */
        if (provs[i]->bearer_used) {
            provs[i]->bearer_store =
                (provs[i]->store->type != NGX_HTTP_AUTH_OIDC_STORE_REDIS)
                ? provs[i]->store : ngx_http_auth_oidc_store_default(cf, amcf);
            if (provs[i]->bearer_store == NULL) {
                return NGX_ERROR;
            }
        }
    }

    stores = amcf->stores.elts;

    for (i = 0; i < amcf->stores.nelts; i++) {
        store = stores[i];

        /* a cookie store keeps all but its sessions in shared memory */
        if (store->type == NGX_HTTP_AUTH_OIDC_STORE_REDIS) {
            continue;
        }

        store->ops = &ngx_http_auth_oidc_store_shm_ops;

        /* started logins are sealed into their cookies with it */
        if (ngx_http_auth_oidc_store_keyring(cf, store) != NGX_CONF_OK) {
            return NGX_ERROR;
        }

        zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_oidc_store_zone_t));
        if (zone == NULL) {
            return NGX_ERROR;
        }

        zone->store = store;

        store->shm_zone = ngx_shared_memory_add(cf, &store->name, store->size,
                                                &ngx_http_auth_oidc_module);
        if (store->shm_zone == NULL) {
            return NGX_ERROR;
        }

        if (store->shm_zone->data) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "shared memory zone \"%V\" is already used",
                          &store->name);
            return NGX_ERROR;
        }

        store->shm_zone->init = ngx_http_auth_oidc_store_init_zone;
        store->shm_zone->data = zone;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_store_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_auth_oidc_store_zone_t  *ozone = data;

    size_t                            n;
    ngx_uint_t                        fresh, kind;
    ngx_http_auth_oidc_store_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        /* reload: the sessions live on */
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    zone->sh = ngx_http_auth_oidc_shm_ctx(shm_zone,
                                      sizeof(ngx_http_auth_oidc_store_shctx_t),
                                      "oidc_session_store", &fresh);
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    if (fresh) {
        /* a power of two, at least 64 */
        for (n = 64;
             n < shm_zone->shm.size / NGX_HTTP_AUTH_OIDC_STORE_BYTES_PER_BUCKET;
             n *= 2)
        {
            /* void */
        }

        zone->sh->buckets = ngx_slab_calloc(zone->shpool,
                                n * sizeof(ngx_http_auth_oidc_store_node_t *));
        if (zone->sh->buckets == NULL) {
            return NGX_ERROR;
        }

        zone->sh->mask = n - 1;

        for (kind = 0; kind < NGX_HTTP_AUTH_OIDC_RECORD_KINDS; kind++) {
            ngx_queue_init(&zone->sh->queue[kind]);
        }

        /* sizing said before it matters: a session that keeps no token
         * takes 256 bytes, one that keeps the three tokens of most
         * providers (1.5, 1.5 and 0.8 KB of text) about 3.2 KiB */
        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "auth_oidc: oidc_session_store \"%V\" holds about %uz "
                      "sessions that keep no token (256 bytes), or %uz that "
                      "keep an ID, access and refresh token (3.2 KiB); "
                      "oidc_status shows their size as they come",
                      &shm_zone->shm.name,
                      zone->shpool->pfree * ngx_pagesize / 256,
                      zone->shpool->pfree * ngx_pagesize / 3264);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_auth_oidc_store_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_str_t *value)
{
    return store->ops->get(store, kind, key, 0, 0, caller, value);
}


ngx_int_t
ngx_http_auth_oidc_store_get_touch(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, time_t touch,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *value)
{
    return store->ops->get(store, kind, key, 0, touch, caller, value);
}


ngx_int_t
ngx_http_auth_oidc_store_take(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_str_t *value)
{
    return store->ops->get(store, kind, key, 1, 0, caller, value);
}


ngx_int_t
ngx_http_auth_oidc_store_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    return store->ops->put(store, 0, kind, key, value, expires, caller);
}


ngx_int_t
ngx_http_auth_oidc_store_add(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    return store->ops->put(store, NGX_HTTP_AUTH_OIDC_PUT_IF_ABSENT, kind, key,
                           value, expires, caller);
}


ngx_int_t
ngx_http_auth_oidc_store_replace(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    return store->ops->put(store, NGX_HTTP_AUTH_OIDC_PUT_IF_PRESENT, kind,
                           key, value, expires, caller);
}


void
ngx_http_auth_oidc_store_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller)
{
    store->ops->remove(store, kind, key, caller);
}


ngx_int_t
ngx_http_auth_oidc_store_index_add(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *index_key, ngx_str_t *session_key, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    return store->ops->index_add(store, index_key, session_key, expires,
                                 caller);
}


ngx_int_t
ngx_http_auth_oidc_store_index_end(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *index_key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_uint_t *ended)
{
    return store->ops->index_end(store, index_key, caller, ended);
}


/*
 * A shared-memory store's records and evictions (oidc_metrics): entries
 * and sessions, live entries evicted and, of them, sessions.
 */

void
ngx_http_auth_oidc_store_shm_counts(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t *counts)
{
    ngx_http_auth_oidc_store_zone_t  *zone;

    zone = store->shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);
    counts[0] = zone->sh->entries;
    counts[1] = zone->sh->kinds[NGX_HTTP_AUTH_OIDC_SESSION];
    counts[2] = zone->sh->evicted;
    counts[3] = zone->sh->evicted_sessions;
    ngx_shmtx_unlock(&zone->shpool->mutex);
}


ngx_int_t
ngx_http_auth_oidc_store_init_worker(ngx_cycle_t *cycle,
    ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_uint_t                    i;
    ngx_http_auth_oidc_store_t  **stores;

    stores = amcf->stores.elts;

    for (i = 0; i < amcf->stores.nelts; i++) {
        if (stores[i]->type != NGX_HTTP_AUTH_OIDC_STORE_REDIS) {
            continue;
        }

        /* before any connection: their counters for oidc_metrics */
        stores[i]->redis_conf.counters =
            ngx_http_auth_oidc_metadata_store_counters(cycle, amcf,
                                                       &stores[i]->name);

        if (stores[i]->redis_conf.cluster) {
            /* first: each master's connection is attached to it */
            if (stores[i]->redis_conf.cache_size) {
                stores[i]->cache = ngx_http_auth_oidc_redis_cache_create(
                                       &stores[i]->redis_conf,
                                       &stores[i]->name, NULL, cycle);
                if (stores[i]->cache == NULL) {
                    return NGX_ERROR;
                }
            }

            stores[i]->cluster = ngx_http_auth_oidc_redis_cluster_create(
                                     &stores[i]->redis_conf, &stores[i]->name,
                                     stores[i]->cache, cycle);
            if (stores[i]->cluster == NULL) {
                return NGX_ERROR;
            }

            continue;
        }

        stores[i]->redis = ngx_http_auth_oidc_redis_create(
                               &stores[i]->redis_conf, &stores[i]->name,
                               cycle);
        if (stores[i]->redis == NULL) {
            return NGX_ERROR;
        }

        if (stores[i]->redis_conf.cache_size) {
            stores[i]->cache = ngx_http_auth_oidc_redis_cache_create(
                                   &stores[i]->redis_conf, &stores[i]->name,
                                   stores[i]->redis, cycle);
            if (stores[i]->cache == NULL) {
                return NGX_ERROR;
            }
        }

        if (stores[i]->redis_conf.sentinels) {
            stores[i]->sentinel_watch =
                ngx_http_auth_oidc_sentinel_watch_create(
                    &stores[i]->redis_conf, &stores[i]->name,
                    ngx_http_auth_oidc_store_master_switched, stores[i],
                    cycle);
            if (stores[i]->sentinel_watch == NULL) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


void
ngx_http_auth_oidc_store_exit_worker(ngx_http_auth_oidc_main_conf_t *amcf)
{
    ngx_uint_t                    i;
    ngx_http_auth_oidc_store_t  **stores;

    stores = amcf->stores.elts;

    for (i = 0; i < amcf->stores.nelts; i++) {
        if (stores[i]->sentinel_watch) {
            ngx_http_auth_oidc_sentinel_watch_destroy(
                                                  stores[i]->sentinel_watch);
            stores[i]->sentinel_watch = NULL;
        }

        if (stores[i]->cache) {
            ngx_http_auth_oidc_redis_cache_destroy(stores[i]->cache);
            stores[i]->cache = NULL;
        }

        if (stores[i]->redis) {
            ngx_http_auth_oidc_redis_destroy(stores[i]->redis);
            stores[i]->redis = NULL;
        }

        if (stores[i]->cluster) {
            ngx_http_auth_oidc_redis_cluster_destroy(stores[i]->cluster);
            stores[i]->cluster = NULL;
        }
    }
}


/* "+switch-master": the store's connections find the new master. */

static void
ngx_http_auth_oidc_store_master_switched(void *data)
{
    ngx_http_auth_oidc_store_t *store = data;

    if (store->cache) {
        ngx_http_auth_oidc_redis_cache_moved(store->cache);
    }

    ngx_http_auth_oidc_redis_close(store->redis, "the sentinels switched "
                                   "the master");
}


static ngx_int_t
ngx_http_auth_oidc_shm_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_uint_t take, time_t touch,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *value)
{
    u_char                           *p;
    uint32_t                          hash;
    ngx_int_t                         rc;
    ngx_http_auth_oidc_store_node_t  *sn;
    ngx_http_auth_oidc_store_zone_t  *zone;

    if (ngx_http_auth_oidc_store_invalid(kind, key)) {
        return NGX_DECLINED;
    }

    zone = store->shm_zone->data;
    hash = ngx_http_auth_oidc_store_hash(kind, key);
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    sn = *ngx_http_auth_oidc_store_lookup(zone, kind, key, hash);

    if (sn && sn->expires <= ngx_time()) {
        ngx_http_auth_oidc_store_free_node(zone, sn);
        sn = NULL;
    }

    if (sn && !take && caller->version && *caller->version == sn->version) {
        /* the caller's decoded copy is this record: nothing to copy */
        if (touch) {
            sn->expires = touch;
        }

        ngx_queue_remove(&sn->queue);
        ngx_queue_insert_head(&zone->sh->queue[kind], &sn->queue);

        ngx_shmtx_unlock(&zone->shpool->mutex);

        return NGX_DONE;
    }

    if (sn) {
        if (caller->version) {
            *caller->version = sn->version;
        }

        p = ngx_pnalloc(caller->pool, sn->value_len ? sn->value_len : 1);

        if (p == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_http_auth_oidc_store_copy_value(sn, p);
            value->data = p;
            value->len = sn->value_len;
            rc = NGX_OK;

            if (take) {
                ngx_http_auth_oidc_store_free_node(zone, sn);

            } else {
                if (touch) {
                    sn->expires = touch;
                }

                ngx_queue_remove(&sn->queue);
                ngx_queue_insert_head(&zone->sh->queue[kind], &sn->queue);
            }
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


static ngx_int_t
ngx_http_auth_oidc_shm_put(ngx_http_auth_oidc_store_t *store, ngx_uint_t nx,
    ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    size_t                                 size;
    time_t                                 now;
    uint32_t                               hash;
    ngx_http_auth_oidc_store_node_t       *sn;
    ngx_http_auth_oidc_store_zone_t       *zone;
    ngx_http_auth_oidc_store_evictions_t   ev;

    if (ngx_http_auth_oidc_store_invalid(kind, key)) {
        return NGX_ERROR;
    }

    zone = store->shm_zone->data;
    hash = ngx_http_auth_oidc_store_hash(kind, key);
    now = ngx_time();
    ngx_memzero(&ev, sizeof(ngx_http_auth_oidc_store_evictions_t));

    size = offsetof(ngx_http_auth_oidc_store_node_t, data)
           + key->len + value->len;

    ngx_shmtx_lock(&zone->shpool->mutex);

    sn = *ngx_http_auth_oidc_store_lookup(zone, kind, key, hash);
    if (sn) {
        if (nx == NGX_HTTP_AUTH_OIDC_PUT_IF_ABSENT && sn->expires > now) {
            /* put-if-absent: the key is taken already */
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return NGX_DECLINED;
        }

        if (nx == NGX_HTTP_AUTH_OIDC_PUT_IF_PRESENT && sn->expires <= now) {
            sn = NULL;

        } else {
            ngx_http_auth_oidc_store_free_node(zone, sn);
        }
    }

    if (sn == NULL && nx == NGX_HTTP_AUTH_OIDC_PUT_IF_PRESENT) {
        /* replace: the record is gone (a logout meanwhile) */
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_DECLINED;
    }

    sn = ngx_http_auth_oidc_store_alloc_record(store, zone, kind, size,
                                               key->len, now, &ev);
    if (sn) {
        ngx_http_auth_oidc_store_insert(zone, sn, kind, hash, key, value,
                                        expires);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return ngx_http_auth_oidc_store_stored(store, caller->log, size, &ev, sn);
}


static void
ngx_http_auth_oidc_shm_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller)
{
    ngx_http_auth_oidc_store_node_t  *sn;
    ngx_http_auth_oidc_store_zone_t  *zone;

    if (ngx_http_auth_oidc_store_invalid(kind, key)) {
        return;
    }

    zone = store->shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    sn = *ngx_http_auth_oidc_store_lookup(zone, kind, key,
                                     ngx_http_auth_oidc_store_hash(kind, key));
    if (sn) {
        ngx_http_auth_oidc_store_free_node(zone, sn);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * The session index: one hold of the mutex reads the members, adds
 * session_key unless listed (a full index first lets go of members whose
 * session is gone, then of the oldest) and puts the index anew, its expiry
 * the later of the two. The old index stays out of the LRU queue while the
 * new one is allocated, so that an eviction cannot take it: when nothing
 * fits, the index is left as it was.
 */

static ngx_int_t
ngx_http_auth_oidc_shm_index_add(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *index_key, ngx_str_t *session_key, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    u_char                           *p, *last, *b, *start;
    size_t                            size;
    time_t                            now;
    uint32_t                          hash;
    ngx_str_t                         member, value;
    ngx_uint_t                        n;
    ngx_http_auth_oidc_store_node_t  *sn, *old;
    ngx_http_auth_oidc_store_zone_t  *zone;
    ngx_http_auth_oidc_store_evictions_t   ev;

    if (ngx_http_auth_oidc_store_invalid(NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                         index_key)
        || ngx_http_auth_oidc_store_invalid(NGX_HTTP_AUTH_OIDC_SESSION,
                                            session_key))
    {
        return NGX_ERROR;
    }

    zone = store->shm_zone->data;
    hash = ngx_http_auth_oidc_store_hash(NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                         index_key);
    now = ngx_time();
    ngx_memzero(&ev, sizeof(ngx_http_auth_oidc_store_evictions_t));
    n = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    old = *ngx_http_auth_oidc_store_lookup(zone,
                                           NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                           index_key, hash);

    if (old && old->expires <= now) {
        ngx_http_auth_oidc_store_free_node(zone, old);
        old = NULL;
    }

    if (old) {
        p = old->data + old->key_len;
        last = p + old->value_len;

        for ( /* void */ ; p < last && p + 1 + *p <= last; p += 1 + *p) {

            if (*p == session_key->len
                && ngx_memcmp(p + 1, session_key->data, *p) == 0)
            {
                /* listed already: the index may only live longer */
                if (old->expires < expires) {
                    old->expires = expires;
                }

                ngx_queue_remove(&old->queue);
                ngx_queue_insert_head(
                    &zone->sh->queue[NGX_HTTP_AUTH_OIDC_SESSION_INDEX],
                    &old->queue);

                ngx_shmtx_unlock(&zone->shpool->mutex);
                return NGX_OK;
            }

            n++;
        }

        if (old->expires > expires) {
            expires = old->expires;
        }
    }

    start = ngx_pnalloc(caller->pool,
                        (old ? old->value_len : 0) + 1 + session_key->len);
    if (start == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_ERROR;
    }

    b = start;

    if (old) {
        p = old->data + old->key_len;

        while (p < last && p + 1 + *p <= last) {
            member.data = p + 1;
            member.len = *p;
            p += 1 + member.len;

            if (n >= NGX_HTTP_AUTH_OIDC_INDEX_MAX
                && !ngx_http_auth_oidc_store_live(zone, &member, now))
            {
                n--;
                continue;
            }

            *b++ = (u_char) member.len;
            b = ngx_cpymem(b, member.data, member.len);
        }
    }

    /* still full: the oldest members go */
    for ( /* void */ ; n >= NGX_HTTP_AUTH_OIDC_INDEX_MAX; n--) {
        start += 1 + *start;
    }

    *b++ = (u_char) session_key->len;
    b = ngx_cpymem(b, session_key->data, session_key->len);

    value.data = start;
    value.len = b - start;

    size = offsetof(ngx_http_auth_oidc_store_node_t, data)
           + index_key->len + value.len;

    if (old) {
        ngx_queue_remove(&old->queue);
    }

    sn = ngx_http_auth_oidc_store_alloc_record(store, zone,
                                        NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                        size, index_key->len, now, &ev);

    if (old) {
        ngx_queue_insert_head(
                     &zone->sh->queue[NGX_HTTP_AUTH_OIDC_SESSION_INDEX],
                     &old->queue);

        if (sn) {
            ngx_http_auth_oidc_store_free_node(zone, old);
        }
    }

    if (sn) {
        ngx_http_auth_oidc_store_insert(zone, sn,
                                        NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                        hash, index_key, &value, expires);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return ngx_http_auth_oidc_store_stored(store, caller->log, size, &ev, sn);
}


static ngx_int_t
ngx_http_auth_oidc_shm_index_end(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *index_key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_uint_t *ended)
{
    u_char                           *p, *last;
    time_t                            now;
    ngx_str_t                         member;
    ngx_uint_t                        n;
    ngx_http_auth_oidc_store_node_t  *sn, *session;
    ngx_http_auth_oidc_store_zone_t  *zone;

    if (ngx_http_auth_oidc_store_invalid(NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                         index_key))
    {
        return NGX_DECLINED;
    }

    zone = store->shm_zone->data;
    now = ngx_time();
    n = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    sn = *ngx_http_auth_oidc_store_lookup(zone,
                               NGX_HTTP_AUTH_OIDC_SESSION_INDEX, index_key,
                               ngx_http_auth_oidc_store_hash(
                                   NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                   index_key));

    if (sn && sn->expires <= now) {
        ngx_http_auth_oidc_store_free_node(zone, sn);
        sn = NULL;
    }

    if (sn == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_DECLINED;
    }

    p = sn->data + sn->key_len;
    last = p + sn->value_len;

    for ( /* void */ ; p < last && p + 1 + *p <= last; p += 1 + *p) {
        member.data = p + 1;
        member.len = *p;

        session = *ngx_http_auth_oidc_store_lookup(zone,
                                 NGX_HTTP_AUTH_OIDC_SESSION, &member,
                                 ngx_http_auth_oidc_store_hash(
                                     NGX_HTTP_AUTH_OIDC_SESSION, &member));
        if (session == NULL) {
            continue;
        }

        if (session->expires > now) {
            n++;
        }

        ngx_http_auth_oidc_store_free_node(zone, session);
    }

    ngx_http_auth_oidc_store_free_node(zone, sn);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    *ended = n;

    return NGX_OK;
}


/* Whether the session of key is there and not expired; mutex held. */

static ngx_uint_t
ngx_http_auth_oidc_store_live(ngx_http_auth_oidc_store_zone_t *zone,
    ngx_str_t *key, time_t now)
{
    ngx_http_auth_oidc_store_node_t  *sn;

    sn = *ngx_http_auth_oidc_store_lookup(zone, NGX_HTTP_AUTH_OIDC_SESSION,
                              key, ngx_http_auth_oidc_store_hash(
                                       NGX_HTTP_AUTH_OIDC_SESSION, key));

    return sn != NULL && sn->expires > now;
}


/*
 * A node for a record of size bytes (node, key and value) of kind, not yet
 * filled; mutex held. A session that would leave more than a quarter of
 * its slot empty (or is over half a page) gets a node of the slot below
 * (at most half a page) and chunks for the rest of its value. NULL when
 * nothing fits.
 */

static ngx_http_auth_oidc_store_node_t *
ngx_http_auth_oidc_store_alloc_record(ngx_http_auth_oidc_store_t *store,
    ngx_http_auth_oidc_store_zone_t *zone, ngx_uint_t kind, size_t size,
    size_t key_len, time_t now, ngx_http_auth_oidc_store_evictions_t *ev)
{
    size_t                              rest, len, head, hdr;
    ngx_http_auth_oidc_store_node_t    *sn;
    ngx_http_auth_oidc_store_chunk_t   *chunk, **link;

    /* a record that could never fit must not empty the store first */
    if (size > store->size / 4) {
        return NULL;
    }

    head = ngx_http_auth_oidc_store_piece(size);

    if (kind != NGX_HTTP_AUTH_OIDC_SESSION || head == size
        || head <= offsetof(ngx_http_auth_oidc_store_node_t, data) + key_len)
    {
        sn = ngx_http_auth_oidc_store_alloc(store, zone, kind, size, now, ev);
        if (sn) {
            sn->chunks = NULL;
            sn->head_size = 0;
        }

        return sn;
    }

    sn = ngx_http_auth_oidc_store_alloc(store, zone, kind, head, now, ev);
    if (sn == NULL) {
        return NULL;
    }

    sn->chunks = NULL;
    sn->head_size = (uint16_t) head;
    link = &sn->chunks;
    hdr = offsetof(ngx_http_auth_oidc_store_chunk_t, data);

    for (rest = size - head; rest; rest -= len) {
        len = ngx_http_auth_oidc_store_piece(hdr + rest) - hdr;

        chunk = ngx_http_auth_oidc_store_alloc(store, zone, kind, hdr + len,
                                               now, ev);
        if (chunk == NULL) {
            ngx_http_auth_oidc_store_free_chunks(zone, sn);
            ngx_slab_free_locked(zone->shpool, sn);
            return NULL;
        }

        chunk->next = NULL;
        chunk->len = (uint32_t) len;
        *link = chunk;
        link = &chunk->next;
    }

    return sn;
}


/*
 * What one slab slot takes of need bytes (a node's or chunk's header
 * included): all of them when they fill their slot at least three
 * quarters (or the slot is small) and it is at most half a page; else the
 * slot below, at most half a page, the rest going on in chunks. A 1,150
 * bytes rest is then a 1 KiB and a 128-byte chunk, not a 2 KiB one.
 */

static size_t
ngx_http_auth_oidc_store_piece(size_t need)
{
    size_t  slot;

    slot = ngx_http_auth_oidc_store_slot(need);

    if (need <= ngx_pagesize / 2 && (slot <= 128 || slot - need <= slot / 4)) {
        return need;
    }

    return ngx_min(slot / 2, ngx_pagesize / 2);
}


static void
ngx_http_auth_oidc_store_free_chunks(ngx_http_auth_oidc_store_zone_t *zone,
    ngx_http_auth_oidc_store_node_t *sn)
{
    ngx_http_auth_oidc_store_chunk_t  *chunk;

    while (sn->chunks) {
        chunk = sn->chunks;
        sn->chunks = chunk->next;
        ngx_slab_free_locked(zone->shpool, chunk);
    }
}


/* The value's bytes in the node itself: all, unless chunks follow (the
 * node is then head_size bytes). */

#define ngx_http_auth_oidc_store_head_len(sn)                                \
    ((sn)->chunks == NULL ? (sn)->value_len                                  \
     : (sn)->head_size - offsetof(ngx_http_auth_oidc_store_node_t, data)      \
       - (sn)->key_len)


static void
ngx_http_auth_oidc_store_copy_value(ngx_http_auth_oidc_store_node_t *sn,
    u_char *p)
{
    ngx_http_auth_oidc_store_chunk_t  *chunk;

    p = ngx_cpymem(p, sn->data + sn->key_len,
                   ngx_http_auth_oidc_store_head_len(sn));

    for (chunk = sn->chunks; chunk; chunk = chunk->next) {
        p = ngx_cpymem(p, chunk->data, chunk->len);
    }
}


/* What a node and its chunks take of the zone (slab slots). */

static size_t
ngx_http_auth_oidc_store_node_bytes(ngx_http_auth_oidc_store_node_t *sn)
{
    size_t                             bytes;
    ngx_http_auth_oidc_store_chunk_t  *chunk;

    if (sn->chunks == NULL) {
        return ngx_http_auth_oidc_store_slot(
                     offsetof(ngx_http_auth_oidc_store_node_t, data)
                     + sn->key_len + sn->value_len);
    }

    bytes = sn->head_size;

    for (chunk = sn->chunks; chunk; chunk = chunk->next) {
        bytes += ngx_http_auth_oidc_store_slot(
                     offsetof(ngx_http_auth_oidc_store_chunk_t, data)
                     + chunk->len);
    }

    return bytes;
}


/*
 * size bytes for a record of kind; mutex held. Expired entries of kind go
 * first, and when the zone is full expired entries of any kind, then the
 * least recently used, kind by kind in the eviction order; NULL when
 * nothing fits. ev counts the live entries evicted.
 */

static void *
ngx_http_auth_oidc_store_alloc(ngx_http_auth_oidc_store_t *store,
    ngx_http_auth_oidc_store_zone_t *zone, ngx_uint_t kind, size_t size,
    time_t now, ngx_http_auth_oidc_store_evictions_t *ev)
{
    void                             *sn;
    ngx_uint_t                        i, n;
    ngx_queue_t                      *q;
    ngx_http_auth_oidc_store_node_t  *victim;

    (void) ngx_http_auth_oidc_store_expire(zone, kind, now, 2);

    n = sizeof(ngx_http_auth_oidc_store_evict_order) / sizeof(ngx_uint_t);

    for ( ;; ) {
        sn = ngx_slab_alloc_locked(zone->shpool, size);
        if (sn) {
            return sn;
        }

        for (i = 0; i < n; i++) {
            if (ngx_http_auth_oidc_store_expire(zone,
                                       ngx_http_auth_oidc_store_evict_order[i],
                                       now, 16))
            {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        for (i = 0; i < n; i++) {
            q = &zone->sh->queue[ngx_http_auth_oidc_store_evict_order[i]];

            if (!ngx_queue_empty(q)) {
                break;
            }
        }

        if (i == n) {
            return NULL;
        }

        victim = ngx_queue_data(ngx_queue_last(q),
                                ngx_http_auth_oidc_store_node_t, queue);

        /* a cached verification costs one more verification, no more:
         * not worth a word (a flood of bad tokens would make many) */
        if (victim->kind != NGX_HTTP_AUTH_OIDC_BEARER_TOKEN) {
            ev->entries++;
            zone->sh->evicted++;
        }

        if (victim->kind == NGX_HTTP_AUTH_OIDC_SESSION) {
            /* its user is logged out: an incident, said once */
            ev->sessions++;
            zone->sh->evicted_sessions++;

            if (now - zone->sh->session_evicted
                >= NGX_HTTP_AUTH_OIDC_STORE_INCIDENT)
            {
                ev->warn = 1;
            }

            zone->sh->session_evicted = now;
        }

        ngx_http_auth_oidc_store_free_node(zone, victim);

        if (ev->warn && ev->held == 0) {
            ev->held = zone->sh->kinds[NGX_HTTP_AUTH_OIDC_SESSION];
            ev->slot = ev->held ? zone->sh->session_bytes / ev->held : 0;
        }
    }
}


static void
ngx_http_auth_oidc_store_insert(ngx_http_auth_oidc_store_zone_t *zone,
    ngx_http_auth_oidc_store_node_t *sn, ngx_uint_t kind, uint32_t hash,
    ngx_str_t *key, ngx_str_t *value, time_t expires)
{
    u_char                             *p;
    ngx_http_auth_oidc_store_node_t   **bucket;
    ngx_http_auth_oidc_store_chunk_t   *chunk;

    sn->hash = hash;
    sn->version = ++zone->sh->version;
    sn->expires = expires;
    sn->kind = (u_char) kind;
    sn->key_len = (u_char) key->len;
    sn->value_len = (uint32_t) value->len;
    ngx_memcpy(sn->data, key->data, key->len);

    /* p: what the node's value did not take */
    p = value->data + ngx_http_auth_oidc_store_head_len(sn);
    ngx_memcpy(sn->data + key->len, value->data, p - value->data);

    for (chunk = sn->chunks; chunk; chunk = chunk->next) {
        ngx_memcpy(chunk->data, p, chunk->len);
        p += chunk->len;
    }

    bucket = &zone->sh->buckets[hash & zone->sh->mask];
    sn->next = *bucket;
    *bucket = sn;

    ngx_queue_insert_head(&zone->sh->queue[kind], &sn->queue);
    zone->sh->entries++;
    zone->sh->kinds[kind]++;

    if (kind == NGX_HTTP_AUTH_OIDC_SESSION) {
        zone->sh->session_bytes += ngx_http_auth_oidc_store_node_bytes(sn);
    }
}


/* What the slab allocator takes for size bytes: a power of two up to half
 * a page (8 at least), else whole pages. */

static size_t
ngx_http_auth_oidc_store_slot(size_t size)
{
    size_t  slot;

    if (size > ngx_pagesize / 2) {
        return (size + ngx_pagesize - 1) & ~((size_t) ngx_pagesize - 1);
    }

    for (slot = 8; slot < size; slot <<= 1) { /* void */ }

    return slot;
}


/* What a store of a record comes to, logged after the mutex is let go. */

static ngx_int_t
ngx_http_auth_oidc_store_stored(ngx_http_auth_oidc_store_t *store,
    ngx_log_t *log, size_t size, ngx_http_auth_oidc_store_evictions_t *ev,
    ngx_http_auth_oidc_store_node_t *sn)
{
    if (ev->warn) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "auth_oidc: oidc_session_store \"%V\" is full: live "
                      "sessions are evicted, their users must log in again; "
                      "raise its size= (now %uz bytes, holding %ui sessions "
                      "of %uz bytes each)",
                      &store->name, store->size, ev->held, ev->slot);

    } else if (ev->entries) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "auth_oidc: oidc_session_store \"%V\" is full: "
                      "%ui least recently used entries evicted, %ui of them "
                      "sessions", &store->name, ev->entries, ev->sessions);
    }

    if (sn == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "auth_oidc: a record of %uz bytes does not fit in "
                      "oidc_session_store \"%V\"", size, &store->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The link that points to the entry of kind and key in its bucket's chain
 * (*link is NULL when there is none): what unlinking it needs too.
 */

static ngx_http_auth_oidc_store_node_t **
ngx_http_auth_oidc_store_lookup(ngx_http_auth_oidc_store_zone_t *zone,
    ngx_uint_t kind, ngx_str_t *key, uint32_t hash)
{
    ngx_http_auth_oidc_store_node_t  **link, *sn;

    for (link = &zone->sh->buckets[hash & zone->sh->mask];
         (sn = *link) != NULL;
         link = &sn->next)
    {
        if (sn->hash == hash
            && sn->kind == kind
            && sn->key_len == key->len
            && ngx_memcmp(sn->data, key->data, key->len) == 0)
        {
            break;
        }
    }

    return link;
}


static void
ngx_http_auth_oidc_store_free_node(ngx_http_auth_oidc_store_zone_t *zone,
    ngx_http_auth_oidc_store_node_t *sn)
{
    ngx_http_auth_oidc_store_node_t  **link;

    for (link = &zone->sh->buckets[sn->hash & zone->sh->mask];
         *link != sn;
         link = &(*link)->next)
    {
        /* void */
    }

    *link = sn->next;

    ngx_queue_remove(&sn->queue);
    zone->sh->entries--;
    zone->sh->kinds[sn->kind]--;

    if (sn->kind == NGX_HTTP_AUTH_OIDC_SESSION) {
        zone->sh->session_bytes -= ngx_http_auth_oidc_store_node_bytes(sn);
    }

    ngx_http_auth_oidc_store_free_chunks(zone, sn);

    ngx_slab_free_locked(zone->shpool, sn);
}


/* Frees up to n expired entries from the LRU tail; returns how many. */

static ngx_uint_t
ngx_http_auth_oidc_store_expire(ngx_http_auth_oidc_store_zone_t *zone,
    ngx_uint_t kind, time_t now, ngx_uint_t n)
{
    ngx_uint_t                        freed;
    ngx_queue_t                      *q;
    ngx_http_auth_oidc_store_node_t  *sn;

    freed = 0;

    while (freed < n && !ngx_queue_empty(&zone->sh->queue[kind])) {
        q = ngx_queue_last(&zone->sh->queue[kind]);
        sn = ngx_queue_data(q, ngx_http_auth_oidc_store_node_t, queue);

        if (sn->expires > now) {
            break;
        }

        ngx_http_auth_oidc_store_free_node(zone, sn);
        freed++;
    }

    return freed;
}


static uint32_t
ngx_http_auth_oidc_store_hash(ngx_uint_t kind, ngx_str_t *key)
{
    u_char    k;
    uint32_t  hash;

    k = (u_char) kind;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, &k, 1);
    ngx_crc32_update(&hash, key->data, key->len);
    ngx_crc32_final(hash);

    return hash;
}


/* One JSON object for oidc_status: what an operator watches of a store. */

u_char *
ngx_http_auth_oidc_store_describe(ngx_http_auth_oidc_store_t *store,
    u_char *buf, size_t size)
{
    u_char                           *last;
    ngx_str_t                         error;
    ngx_msec_t                        latency;
    size_t                            slot, free, capacity;
    ngx_uint_t                        entries, evicted, connected, commands;
    ngx_uint_t                        errors, sessions, logins, revoked;
    ngx_uint_t                        evicted_sessions;
    ngx_http_auth_oidc_store_zone_t  *zone;

    last = buf + size;

    if (store->type != NGX_HTTP_AUTH_OIDC_STORE_REDIS) {
        zone = store->shm_zone->data;

        ngx_shmtx_lock(&zone->shpool->mutex);
        entries = zone->sh->entries;
        evicted = zone->sh->evicted;
        revoked = zone->sh->kinds[NGX_HTTP_AUTH_OIDC_REVOKED];
        sessions = zone->sh->kinds[NGX_HTTP_AUTH_OIDC_SESSION];
        logins = zone->sh->kinds[NGX_HTTP_AUTH_OIDC_PENDING_LOGIN];
        evicted_sessions = zone->sh->evicted_sessions;
        slot = sessions ? zone->sh->session_bytes / sessions : 0;
        free = zone->shpool->pfree * ngx_pagesize;
        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (store->type == NGX_HTTP_AUTH_OIDC_STORE_COOKIE) {
            /* the sessions are the browsers'; the zone holds what ended
             * them */
            return ngx_slprintf(buf, last, "{\"type\":\"cookie\","
                                "\"size\":%uz,\"entries\":%ui,"
                                "\"evicted\":%ui,\"revoked\":%ui,"
                                "\"free_bytes\":%uz}",
                                store->size, entries, evicted, revoked, free);
        }

        /* what fits: the sessions there are and, in the free pages, more of
         * their size (2 KiB each while there are none) */
        capacity = sessions + free / (slot ? slot : 2048);

        return ngx_slprintf(buf, last, "{\"type\":\"shm\",\"size\":%uz,"
                            "\"entries\":%ui,\"evicted\":%ui,"
                            "\"sessions\":%ui,\"session_bytes\":%uz,"
                            "\"capacity\":%uz,\"free_bytes\":%uz,"
                            "\"logins\":%ui,\"evicted_sessions\":%ui}",
                            store->size, entries, evicted, sessions, slot,
                            capacity, free, logins, evicted_sessions);
    }

    if (store->cluster) {
        ngx_http_auth_oidc_redis_cluster_stats(store->cluster, &connected,
                                               &commands, &errors, &latency,
                                               &error);

    } else if (store->redis) {
        ngx_http_auth_oidc_redis_stats(store->redis, &connected, &commands,
                                       &errors, &latency, &error);

    } else {
        return ngx_slprintf(buf, last, "{\"type\":\"redis\"}");
    }

    buf = ngx_slprintf(buf, last, "{\"type\":\"redis\",\"connected\":%s,"
                       "\"commands\":%ui,\"errors\":%ui,"
                       "\"latency_ms\":%M,\"session_bytes\":%uz,"
                       "\"last_error\":",
                       connected ? "true" : "false", commands, errors,
                       latency,
                       store->session_puts
                       ? store->session_put_bytes / store->session_puts : 0);

    if (error.len == 0
        || buf + 2 + error.len + ngx_escape_json(NULL, error.data, error.len)
           > last)
    {
        buf = ngx_slprintf(buf, last, "null");

    } else {
        *buf++ = '"';
        buf = (u_char *) ngx_escape_json(buf, error.data, error.len);
        *buf++ = '"';
    }

    if (store->cluster) {
        buf = ngx_http_auth_oidc_redis_cluster_describe(store->cluster, buf,
                                                        last);
    }

    buf = ngx_slprintf(buf, last, ",\"cache\":");

    if (store->cache) {
        buf = ngx_http_auth_oidc_redis_cache_describe(store->cache, buf, last);

    } else {
        buf = ngx_slprintf(buf, last, "null");
    }

    return ngx_slprintf(buf, last, "}");
}
