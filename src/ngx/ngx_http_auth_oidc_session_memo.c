
/*
 * A worker's decoded sessions: see ngx_http_auth_oidc_session_memo.h.
 */


#include "ngx_http_auth_oidc_session_memo.h"


typedef struct {
    ngx_str_node_t          sn;        /* key: the store key */
    ngx_queue_t             lru;
    uint64_t                version;
    size_t                  size;      /* counted against the bound */
    auth_oidc_session_t    *session;   /* one reference */
} ngx_http_auth_oidc_session_memo_entry_t;


typedef struct {
    ngx_rbtree_t            tree;
    ngx_rbtree_node_t       sentinel;
    ngx_queue_t             lru;       /* most recent first */
    size_t                  size;
    ngx_uint_t              entries;
    ngx_uint_t              hits;      /* requests answered with a copy */
    ngx_uint_t              decoded;   /* sessions kept after a decoding */
    ngx_uint_t              ready;     /* the tree and queue are set up */
} ngx_http_auth_oidc_session_memo_t;


static ngx_http_auth_oidc_session_memo_entry_t *
    ngx_http_auth_oidc_session_memo_lookup(ngx_str_t *key);
static void ngx_http_auth_oidc_session_memo_remove(
    ngx_http_auth_oidc_session_memo_entry_t *e);


/* one per worker process */
static ngx_http_auth_oidc_session_memo_t  ngx_http_auth_oidc_session_memo;


auth_oidc_session_t *
ngx_http_auth_oidc_session_memo_get(ngx_str_t *key, uint64_t *version)
{
    ngx_http_auth_oidc_session_memo_entry_t  *e;

    e = ngx_http_auth_oidc_session_memo_lookup(key);
    if (e == NULL) {
        *version = 0;
        return NULL;
    }

    ngx_queue_remove(&e->lru);
    ngx_queue_insert_head(&ngx_http_auth_oidc_session_memo.lru, &e->lru);

    *version = e->version;

    return auth_oidc_session_ref(e->session);
}


void
ngx_http_auth_oidc_session_memo_put(ngx_str_t *key, uint64_t version,
    size_t size, auth_oidc_session_t *session)
{
    ngx_queue_t                              *q;
    ngx_http_auth_oidc_session_memo_t        *memo;
    ngx_http_auth_oidc_session_memo_entry_t  *e;

    memo = &ngx_http_auth_oidc_session_memo;

    if (!memo->ready) {
        ngx_rbtree_init(&memo->tree, &memo->sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_queue_init(&memo->lru);
        memo->ready = 1;
    }

    size += sizeof(ngx_http_auth_oidc_session_memo_entry_t) + key->len;

    if (version == 0 || size > NGX_HTTP_AUTH_OIDC_SESSION_MEMO_BYTES / 64) {
        return;
    }

    ngx_http_auth_oidc_session_memo_drop(key);

    while (memo->size + size > NGX_HTTP_AUTH_OIDC_SESSION_MEMO_BYTES) {
        q = ngx_queue_last(&memo->lru);
        e = ngx_queue_data(q, ngx_http_auth_oidc_session_memo_entry_t, lru);
        ngx_http_auth_oidc_session_memo_remove(e);
    }

    e = ngx_alloc(sizeof(ngx_http_auth_oidc_session_memo_entry_t) + key->len,
                  ngx_cycle->log);
    if (e == NULL) {
        return;
    }

    e->sn.str.data = (u_char *) (e + 1);
    e->sn.str.len = key->len;
    e->sn.node.key = ngx_crc32_short(key->data, key->len);
    ngx_memcpy(e->sn.str.data, key->data, key->len);

    e->version = version;
    e->size = size;
    e->session = auth_oidc_session_ref(session);

    ngx_rbtree_insert(&memo->tree, &e->sn.node);
    ngx_queue_insert_head(&memo->lru, &e->lru);
    memo->size += size;
    memo->entries++;
    memo->decoded++;
}


void
ngx_http_auth_oidc_session_memo_used(void)
{
    ngx_http_auth_oidc_session_memo.hits++;
}


void
ngx_http_auth_oidc_session_memo_drop(ngx_str_t *key)
{
    ngx_http_auth_oidc_session_memo_entry_t  *e;

    e = ngx_http_auth_oidc_session_memo_lookup(key);
    if (e) {
        ngx_http_auth_oidc_session_memo_remove(e);
    }
}


void
ngx_http_auth_oidc_session_memo_clear(void)
{
    ngx_queue_t                              *q;
    ngx_http_auth_oidc_session_memo_entry_t  *e;

    if (!ngx_http_auth_oidc_session_memo.ready) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_auth_oidc_session_memo.lru)) {
        q = ngx_queue_head(&ngx_http_auth_oidc_session_memo.lru);
        e = ngx_queue_data(q, ngx_http_auth_oidc_session_memo_entry_t, lru);
        ngx_http_auth_oidc_session_memo_remove(e);
    }
}


static ngx_http_auth_oidc_session_memo_entry_t *
ngx_http_auth_oidc_session_memo_lookup(ngx_str_t *key)
{
    if (ngx_http_auth_oidc_session_memo.size == 0) {
        return NULL;
    }

    return (ngx_http_auth_oidc_session_memo_entry_t *)
               ngx_str_rbtree_lookup(&ngx_http_auth_oidc_session_memo.tree,
                                     key,
                                     ngx_crc32_short(key->data, key->len));
}


static void
ngx_http_auth_oidc_session_memo_remove(
    ngx_http_auth_oidc_session_memo_entry_t *e)
{
    ngx_rbtree_delete(&ngx_http_auth_oidc_session_memo.tree, &e->sn.node);
    ngx_queue_remove(&e->lru);
    ngx_http_auth_oidc_session_memo.size -= e->size;
    ngx_http_auth_oidc_session_memo.entries--;

    auth_oidc_session_free(e->session);
    ngx_free(e);
}


u_char *
ngx_http_auth_oidc_session_memo_describe(u_char *buf, u_char *last)
{
    ngx_http_auth_oidc_session_memo_t  *memo;

    memo = &ngx_http_auth_oidc_session_memo;

    return ngx_slprintf(buf, last, "{\"entries\":%ui,\"bytes\":%uz,"
                        "\"max_bytes\":%uz,\"hits\":%ui,\"decoded\":%ui}",
                        memo->entries, memo->size,
                        (size_t) NGX_HTTP_AUTH_OIDC_SESSION_MEMO_BYTES,
                        memo->hits, memo->decoded);
}
