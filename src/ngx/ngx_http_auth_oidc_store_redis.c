
/*
 * The Redis session store. Records are sealed by the core (AES-256-GCM under
 * a key derived from the operator's secret, the Redis key as associated
 * data) and stored under "<prefix><kind>:<HMAC of the id>", so that whoever
 * reads Redis learns no token, claim or session id, and can neither forge a
 * record nor move one to another key. Expiry is Redis's own TTL.
 *
 * After a secret rotation (secret_file= new, previous_secret_file= old), a
 * record not found under the current key is looked up under the previous
 * one; it was sealed with the previous secret, which the keyring still has.
 *
 * Expiry is always sent relative (EX, EXPIRE: the record's time less
 * ngx_time()), as a put does: a skew between an nginx host's clock and
 * Redis's then moves no record's end.
 *
 * A session index is a Redis set under "<prefix>i:<HMAC of the index key>"
 * whose members are its sessions' key names: a name is an HMAC, a session
 * key holds the session id, a cookie's secret. Its two operations are Lua
 * scripts, one command and one reply each: adding a member must also
 * extend the set's TTL only when that makes it longer, which a MULTI block
 * cannot say (EXPIRE GT takes a set without a TTL for one that never
 * expires, and never gives the new set one), and ending an index must
 * delete the members it reads in the same atomic step. The scripts touch
 * keys they are not given in KEYS (the members), which a single Redis
 * allows.
 *
 * Redis Cluster allows no command or script that spans two slots, and a
 * record's names under two secrets, or an index and its members, hash to
 * any slots: with a Cluster, every command names one key. A replace is
 * tried under the current name, then (after a rotation) where the record
 * still lives, under the previous name (sealed for that name: it moves at
 * the next login); a delete is one DEL per name; a full index lets go of
 * any members (it cannot see whether their sessions live); ending an
 * index takes its members in one script and deletes them, each on its
 * node, answering when all have answered.
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_store.h"


typedef struct {
    ngx_http_auth_oidc_store_caller_t  caller;
    ngx_http_auth_oidc_store_t        *store;
    ngx_http_auth_oidc_redis_cmd_t    *cmd;
    ngx_http_auth_oidc_redis_cluster_cmd_t  *cluster_cmd;
    struct ngx_http_auth_oidc_redis_batch_s  *batch;  /* index_end, Cluster */
    ngx_uint_t                         kind;
    ngx_str_t                          key;
    ngx_str_t                          rkey;        /* also the AAD */
    ngx_uint_t                         take;
    time_t                             touch;
    ngx_uint_t                         previous;
    uint64_t                           ticket;  /* of the worker's cache */

    /* a replace, sealed again for the previous name (Cluster) */
    ngx_uint_t                         replace;
    ngx_str_t                          value;
    time_t                             expires;
} ngx_http_auth_oidc_redis_op_t;


/* The commands that end an index on a Cluster, answered all at once. */
typedef struct ngx_http_auth_oidc_redis_batch_s {
    ngx_http_auth_oidc_redis_op_t     *op;        /* NULL: nobody waits */
    ngx_http_auth_oidc_store_t        *store;
    ngx_uint_t                         pending;   /* not answered yet */
    ngx_uint_t                         found;     /* an index was there */
    ngx_uint_t                         failed;
    ngx_uint_t                         ended;     /* sessions deleted */
} ngx_http_auth_oidc_redis_batch_t;


/*
 * The expiry of a session in the worker's cache, moved when it is due
 * (session_idle_timeout): ARGV[1] the PTTL (ms) below which it is moved,
 * ARGV[2] the new TTL (s). No reply is awaited: a plain GET follows on the
 * same connection, so that the key is tracked again after this write
 * (NOLOOP spares this connection the write's invalidation, and the write
 * ends the tracking of the key). A check that finds the expiry not due
 * writes nothing and invalidates no other worker's copy, as GETEX would.
 */
static char  ngx_http_auth_oidc_redis_touch_script[] =
    "local t = redis.call('PTTL', KEYS[1])\n"
    "if t > 0 and t < tonumber(ARGV[1]) then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return 0\n";


/*
 * Replace a record only while it exists (under KEYS[1], the current
 * secret's name, or KEYS[2], the previous one's; the same name twice
 * without a rotation): ARGV[1] the sealed record, ARGV[2] its TTL. 1, or
 * nil when it is gone.
 */
static char  ngx_http_auth_oidc_redis_replace_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0"
    " and redis.call('EXISTS', KEYS[2]) == 0 then return false end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "if KEYS[2] ~= KEYS[1] then redis.call('DEL', KEYS[2]) end\n"
    "return 1\n";


/*
 * KEYS[1] the index, ARGV[1] the session's key name, ARGV[2] the TTL the
 * index has at least from now on, ARGV[3] "1" where the members' keys can
 * be seen (not on a Cluster). A full index first lets go of members whose
 * session is gone, then of any (a set has no order). Returns the number of
 * members.
 */
static char  ngx_http_auth_oidc_redis_index_add_script[] =
    "local n = redis.call('SCARD', KEYS[1])\n"
    "if n >= " ngx_value(NGX_HTTP_AUTH_OIDC_INDEX_MAX)
    " and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then\n"
    "  for _, m in ipairs(ARGV[3] == '1'"
    " and redis.call('SMEMBERS', KEYS[1]) or {}) do\n"
    "    if n >= " ngx_value(NGX_HTTP_AUTH_OIDC_INDEX_MAX)
    " and redis.call('EXISTS', m) == 0 then\n"
    "      n = n - redis.call('SREM', KEYS[1], m)\n"
    "    end\n"
    "  end\n"
    "  if n >= " ngx_value(NGX_HTTP_AUTH_OIDC_INDEX_MAX) " then\n"
    "    redis.call('SPOP', KEYS[1], n - "
    ngx_value(NGX_HTTP_AUTH_OIDC_INDEX_MAX) " + 1)\n"
    "  end\n"
    "end\n"
    "redis.call('SADD', KEYS[1], ARGV[1])\n"
    "if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return redis.call('SCARD', KEYS[1])\n";


/*
 * KEYS[1] the index, KEYS[2] (after a rotation) its name under the
 * previous secret. Deletes the members and the index; returns how many
 * sessions were deleted, or nil when there was no index.
 */
static char  ngx_http_auth_oidc_redis_index_end_script[] =
    "local n, found = 0, false\n"
    "for i = 1, #KEYS do\n"
    "  for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do\n"
    "    n = n + redis.call('DEL', m)\n"
    "  end\n"
    "  if redis.call('DEL', KEYS[i]) == 1 then\n"
    "    found = true\n"
    "  end\n"
    "end\n"
    "if found then\n"
    "  return n\n"
    "end\n"
    "return false\n";

/*
 * Ending an index on a Cluster: KEYS[1] the index (one name). Its members,
 * the index deleted; nil when there was none.
 */
static char  ngx_http_auth_oidc_redis_index_take_script[] =
    "local m = redis.call('SMEMBERS', KEYS[1])\n"
    "if redis.call('DEL', KEYS[1]) == 0 then\n"
    "  return false\n"
    "end\n"
    "return m\n";

/* the kinds' letters in key names, by ngx_http_auth_oidc_record_e */
static u_char  ngx_http_auth_oidc_redis_kinds[] = "-pslijbr";


static ngx_int_t ngx_http_auth_oidc_store_redis_get(
    ngx_http_auth_oidc_store_t *store, ngx_uint_t kind, ngx_str_t *key,
    ngx_uint_t take, time_t touch, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_str_t *value);
static ngx_int_t ngx_http_auth_oidc_store_redis_put(
    ngx_http_auth_oidc_store_t *store, ngx_uint_t nx, ngx_uint_t kind,
    ngx_str_t *key, ngx_str_t *value, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
static void ngx_http_auth_oidc_store_redis_delete(
    ngx_http_auth_oidc_store_t *store, ngx_uint_t kind, ngx_str_t *key,
    ngx_http_auth_oidc_store_caller_t *caller);
static ngx_int_t ngx_http_auth_oidc_store_redis_index_add(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *index_key,
    ngx_str_t *session_key, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller);
static ngx_int_t ngx_http_auth_oidc_store_redis_index_end(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *index_key,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_uint_t *ended);
static ngx_int_t ngx_http_auth_oidc_redis_replace(
    ngx_http_auth_oidc_redis_op_t *op);
static ngx_int_t ngx_http_auth_oidc_redis_seal(ngx_http_auth_oidc_redis_op_t *op,
    ngx_str_t *sealed);
static ngx_int_t ngx_http_auth_oidc_redis_end_on_cluster(
    ngx_http_auth_oidc_redis_op_t *op, ngx_str_t *previous);
static void ngx_http_auth_oidc_redis_index_taken(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_member_deleted(void *data,
    redisReply *reply, ngx_str_t *error);
static void ngx_http_auth_oidc_redis_batch_done(
    ngx_http_auth_oidc_redis_batch_t *batch);
static void ngx_http_auth_oidc_redis_ended_count(
    ngx_http_auth_oidc_redis_op_t *op, ngx_uint_t ended);
static ngx_int_t ngx_http_auth_oidc_redis_send(
    ngx_http_auth_oidc_redis_op_t *op, ngx_str_t *rkey,
    ngx_http_auth_oidc_redis_handler_pt handler, int argc, const char **argv,
    const size_t *argvlen);
static ngx_int_t ngx_http_auth_oidc_redis_post(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *rkey, int argc,
    const char **argv, const size_t *argvlen);
static ngx_http_auth_oidc_redis_op_t *ngx_http_auth_oidc_redis_op(
    ngx_http_auth_oidc_store_t *store, ngx_uint_t kind, ngx_str_t *key,
    ngx_http_auth_oidc_store_caller_t *caller);
static void ngx_http_auth_oidc_redis_op_cleanup(void *data);
static ngx_int_t ngx_http_auth_oidc_redis_key(ngx_pool_t *pool,
    ngx_http_auth_oidc_store_t *store, ngx_uint_t kind, ngx_str_t *key,
    ngx_uint_t previous, ngx_str_t *rkey);
static ngx_int_t ngx_http_auth_oidc_redis_cached(
    ngx_http_auth_oidc_store_t *store, ngx_str_t *key, ngx_uint_t take,
    time_t touch, ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *rkey,
    uint64_t *ticket, ngx_str_t *value);
static void ngx_http_auth_oidc_redis_uncache(
    ngx_http_auth_oidc_redis_op_t *op);
static ngx_msec_t ngx_http_auth_oidc_redis_touch_interval(time_t touch);
static ngx_int_t ngx_http_auth_oidc_redis_send_get(
    ngx_http_auth_oidc_redis_op_t *op);
static void ngx_http_auth_oidc_redis_got(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_stored(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_indexed(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_redis_ended(void *data, redisReply *reply,
    ngx_str_t *error);
static u_char *ngx_http_auth_oidc_redis_ttl(u_char *buf, time_t expires);
static void ngx_http_auth_oidc_store_redis_error(
    ngx_http_auth_oidc_store_t *store, redisReply *reply);


/* Redis answers later: every operation but a delete waits for its reply. */
const ngx_http_auth_oidc_store_ops_t  ngx_http_auth_oidc_store_redis_ops = {
    ngx_http_auth_oidc_store_redis_get,
    ngx_http_auth_oidc_store_redis_put,
    ngx_http_auth_oidc_store_redis_delete,
    ngx_http_auth_oidc_store_redis_index_add,
    ngx_http_auth_oidc_store_redis_index_end
};


static ngx_int_t
ngx_http_auth_oidc_store_redis_get(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_uint_t take, time_t touch,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *value)
{
    uint64_t                        ticket;
    ngx_int_t                       rc;
    ngx_str_t                       rkey;
    ngx_http_auth_oidc_redis_op_t  *op;

    ticket = 0;
    ngx_str_null(&rkey);

    if (caller->version && !(store->cache && !take
                             && kind == NGX_HTTP_AUTH_OIDC_SESSION))
    {
        /* no version without the worker's cache */
        *caller->version = 0;
    }

    /*
     * The cache answers a request's lookup of its session (a version is
     * asked for); a flow's read (a refresh under its lock) goes to Redis,
     * whose order is the lock's
     */
    if (store->cache && kind == NGX_HTTP_AUTH_OIDC_SESSION
        && (take || caller->version))
    {
        rc = ngx_http_auth_oidc_redis_cached(store, key, take, touch, caller,
                                             &rkey, &ticket, value);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    op = ngx_http_auth_oidc_redis_op(store, kind, key, caller);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->take = take;
    op->touch = touch;
    op->rkey = rkey;
    op->ticket = ticket;

    return ngx_http_auth_oidc_redis_send_get(op);
}


/*
 * The worker's cache answers a session read at once (NGX_OK), unless the
 * record's expiry is due to move (session_idle_timeout): this worker then
 * checks it in Redis every touch interval (1/16 of the timeout, at most
 * 30 s), which moves it when less than the timeout less one interval is
 * left: an active session stays alive, an idle one ends within two
 * intervals before its timeout. NGX_DECLINED: ask Redis, under rkey, and
 * cache the answer if ticket allows.
 */

static ngx_int_t
ngx_http_auth_oidc_redis_cached(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *key, ngx_uint_t take, time_t touch,
    ngx_http_auth_oidc_store_caller_t *caller, ngx_str_t *rkey,
    uint64_t *ticket, ngx_str_t *value)
{
    uint64_t     version;
    ngx_str_t    cached;
    ngx_msec_t  *touched;

    if (!take
        && ngx_http_auth_oidc_redis_cache_get(store->cache, key, &cached,
                                              &version, &touched)
           == NGX_OK)
    {
        if (touch
            && ngx_current_msec - *touched
               >= ngx_http_auth_oidc_redis_touch_interval(touch))
        {
            /* one check in flight at a time, not one per request */
            *touched = ngx_current_msec;
            goto redis;
        }

        if (caller->version) {
            if (*caller->version == version) {
                /* the caller's decoded copy is this record */
                return NGX_DONE;
            }

            *caller->version = version;
        }

        value->data = ngx_pnalloc(caller->pool, cached.len);
        if (value->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(value->data, cached.data, cached.len);
        value->len = cached.len;

        return NGX_OK;
    }

redis:

    if (ngx_http_auth_oidc_redis_key(caller->pool, store,
                                     NGX_HTTP_AUTH_OIDC_SESSION, key, 0, rkey)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (take) {
        ngx_http_auth_oidc_redis_cache_forget(store->cache, rkey);
        return NGX_DECLINED;
    }

    /* the connection the read goes out on must be tracked */
    *ticket = ngx_http_auth_oidc_redis_cache_ticket(store->cache,
                  store->cluster
                  ? ngx_http_auth_oidc_redis_cluster_link(store->cluster, rkey)
                  : NULL);

    return NGX_DECLINED;
}


/*
 * Redis has no such session (any more): the worker's copy goes too. Its own
 * read may have found the key expired, and NOLOOP spares this connection
 * that invalidation.
 */

static void
ngx_http_auth_oidc_redis_uncache(ngx_http_auth_oidc_redis_op_t *op)
{
    ngx_str_t  current;

    if (op->store->cache == NULL || op->kind != NGX_HTTP_AUTH_OIDC_SESSION) {
        return;
    }

    if (op->previous) {
        /* the current name was asked first, and answered nil as well */
        if (ngx_http_auth_oidc_redis_key(op->caller.pool, op->store,
                                         op->kind, &op->key, 0, &current)
            == NGX_OK)
        {
            ngx_http_auth_oidc_redis_cache_forget(op->store->cache,
                                                  &current);
        }

        return;
    }

    ngx_http_auth_oidc_redis_cache_forget(op->store->cache, &op->rkey);
}


static ngx_msec_t
ngx_http_auth_oidc_redis_touch_interval(time_t touch)
{
    ngx_msec_t  idle;

    idle = (ngx_msec_t) ngx_max(touch - ngx_time(), 1) * 1000;

    return ngx_min(idle / 16, 30000);
}


static ngx_int_t
ngx_http_auth_oidc_redis_send_get(ngx_http_auth_oidc_redis_op_t *op)
{
    int          argc;
    size_t       argvlen[6];
    u_char       ttl[NGX_TIME_T_LEN], below[NGX_INT_T_LEN];
    const char  *argv[6];

    if ((op->rkey.len == 0 || op->previous)
        && ngx_http_auth_oidc_redis_key(op->caller.pool, op->store, op->kind,
                                        &op->key, op->previous, &op->rkey)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[1] = (char *) op->rkey.data;
    argvlen[1] = op->rkey.len;

    if (op->ticket && op->touch && !op->previous) {
        /* for the cache: EVAL script 1 key below-ttl ttl, then GET */
        argv[0] = "EVAL";
        argvlen[0] = 4;
        argv[1] = ngx_http_auth_oidc_redis_touch_script;
        argvlen[1] = sizeof(ngx_http_auth_oidc_redis_touch_script) - 1;
        argv[2] = "1";
        argvlen[2] = 1;
        argv[3] = (char *) op->rkey.data;
        argvlen[3] = op->rkey.len;
        argv[4] = (char *) below;
        argvlen[4] = ngx_sprintf(below, "%M",
                                 (ngx_msec_t) ngx_max(op->touch - ngx_time(),
                                                      1) * 1000
                                 - ngx_http_auth_oidc_redis_touch_interval(
                                       op->touch))
                     - below;
        argv[5] = (char *) ttl;
        argvlen[5] = ngx_http_auth_oidc_redis_ttl(ttl, op->touch) - ttl;

        if (ngx_http_auth_oidc_redis_post(op->store, &op->rkey, 6, argv,
                                          argvlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        argv[0] = "GET";
        argvlen[0] = 3;
        argv[1] = (char *) op->rkey.data;
        argvlen[1] = op->rkey.len;
        argc = 2;

    } else if (op->take) {
        /* GETDEL (Redis 6.2): a pending login is taken atomically, once */
        argv[0] = "GETDEL";
        argvlen[0] = 6;
        argc = 2;

    } else if (op->touch) {
        /* GETEX (Redis 6.2): read, and the expiry moved, in one command */
        argv[0] = "GETEX";
        argvlen[0] = 5;
        argv[2] = "EX";
        argvlen[2] = 2;
        argv[3] = (char *) ttl;
        argvlen[3] = ngx_http_auth_oidc_redis_ttl(ttl, op->touch) - ttl;
        argc = 4;

    } else {
        argv[0] = "GET";
        argvlen[0] = 3;
        argc = 2;
    }

    return ngx_http_auth_oidc_redis_send(op, &op->rkey,
                                         ngx_http_auth_oidc_redis_got, argc,
                                         argv, argvlen);
}


static void
ngx_http_auth_oidc_redis_got(void *data, redisReply *reply, ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_op_t *op = data;

    uint64_t                            version;
    ngx_int_t                           rc;
    ngx_str_t                           value;
    auth_oidc_error_t                   err;
    ngx_http_auth_oidc_store_caller_t  *c;

    c = &op->caller;
    op->cmd = NULL;
    op->cluster_cmd = NULL;

    if (reply == NULL) {
        c->done(c->data, NGX_ERROR, NULL);
        return;
    }

    rc = ngx_http_auth_oidc_store_redis_open(op->store->keyring, &op->rkey,
                                             reply, c->pool, &value, &err);

    if (rc == NGX_DECLINED) {

        if (!op->previous
            && auth_oidc_keyring_rotated(op->store->keyring))
        {
            op->previous = 1;

            if (ngx_http_auth_oidc_redis_send_get(op) == NGX_AGAIN) {
                return;
            }

            c->done(c->data, NGX_ERROR, NULL);
            return;
        }

        ngx_http_auth_oidc_redis_uncache(op);
        c->done(c->data, NGX_DECLINED, NULL);
        return;
    }

    if (rc == NGX_BUSY) {
        /* an outage (NOAUTH, LOADING, ...), said once, not per request */
        ngx_http_auth_oidc_store_redis_error(op->store, reply);
        c->done(c->data, NGX_ERROR, NULL);
        return;
    }

    if (rc == NGX_ABORT) {
        /* a record we did not write, or written under another secret */
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "auth_oidc: oidc_session_store \"%V\": record "
                      "refused: %s", &op->store->name, err.msg);
        ngx_http_auth_oidc_redis_uncache(op);
        c->done(c->data, NGX_DECLINED, NULL);
        return;
    }

    if (rc != NGX_OK) {
        c->done(c->data, NGX_ERROR, NULL);
        return;
    }

    version = 0;

    if (op->ticket && !op->previous) {
        version = ngx_http_auth_oidc_redis_cache_fill(op->store->cache,
                                                      op->ticket, &op->key,
                                                      &op->rkey, &value);
    }

    if (c->version) {
        *c->version = version;
    }

    c->done(c->data, NGX_OK, &value);
}


/*
 * What a GET or GETDEL answered, rkey being the record's key name (its
 * aad): NGX_OK with the plaintext in value (pool memory), NGX_DECLINED for
 * no record, NGX_ABORT for a record that does not open (err says why),
 * NGX_BUSY for an error reply or a reply of another type, NGX_ERROR when
 * out of memory. Free of requests: src/ngx/fuzz runs replies through it.
 */

ngx_int_t
ngx_http_auth_oidc_store_redis_open(const auth_oidc_keyring_t *keyring,
    ngx_str_t *rkey, redisReply *reply, ngx_pool_t *pool, ngx_str_t *value,
    auth_oidc_error_t *err)
{
    size_t           len;
    auth_oidc_str_t  aad, sealed;

    if (reply->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        return NGX_BUSY;
    }

    aad.data = rkey->data;
    aad.len = rkey->len;
    sealed.data = (u_char *) reply->str;
    sealed.len = reply->len;

    /* the plaintext is the record less its fixed overhead: one pass */
    len = sealed.len > AUTH_OIDC_SEAL_OVERHEAD
          ? sealed.len - AUTH_OIDC_SEAL_OVERHEAD : 0;

    value->data = ngx_pnalloc(pool, len ? len : 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_open(keyring, aad, sealed, value->data, len, &value->len,
                       err)
        != AUTH_OIDC_OK)
    {
        return NGX_ABORT;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_oidc_store_redis_put(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t nx, ngx_uint_t kind, ngx_str_t *key, ngx_str_t *value,
    time_t expires, ngx_http_auth_oidc_store_caller_t *caller)
{
    int                             argc;
    size_t                          argvlen[6];
    u_char                          ttl_text[NGX_TIME_T_LEN];
    ngx_str_t                       sealed;
    const char                     *argv[6];
    ngx_http_auth_oidc_redis_op_t  *op;

    op = ngx_http_auth_oidc_redis_op(store, kind, key, caller);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->value = *value;
    op->expires = expires;

    if (nx == NGX_HTTP_AUTH_OIDC_PUT_IF_PRESENT) {
        op->replace = 1;
        return ngx_http_auth_oidc_redis_replace(op);
    }

    if (ngx_http_auth_oidc_redis_key(caller->pool, store, kind, key, 0,
                                     &op->rkey)
        != NGX_OK
        || ngx_http_auth_oidc_redis_seal(op, &sealed) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (store->cache && kind == NGX_HTTP_AUTH_OIDC_SESSION) {
        ngx_http_auth_oidc_redis_cache_forget(store->cache, &op->rkey);
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (char *) op->rkey.data;
    argvlen[1] = op->rkey.len;
    argv[2] = (char *) sealed.data;
    argvlen[2] = sealed.len;
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = (char *) ttl_text;
    argvlen[4] = ngx_http_auth_oidc_redis_ttl(ttl_text, expires) - ttl_text;
    argc = 5;

    if (nx == NGX_HTTP_AUTH_OIDC_PUT_IF_ABSENT) {
        /* put-if-absent: a nil reply says the key was taken already */
        argv[argc] = "NX";
        argvlen[argc++] = 2;
    }

    return ngx_http_auth_oidc_redis_send(op, &op->rkey,
                                         ngx_http_auth_oidc_redis_stored,
                                         argc, argv, argvlen);
}


/*
 * Replace: only while the record is there, under either secret's name (a
 * session sealed before a rotation moves to the current one); a nil reply
 * says it is gone (a logout meanwhile). On a Cluster the two names are in
 * two slots: the current name first, then (op->previous) the previous one,
 * the record sealed for it.
 */

static ngx_int_t
ngx_http_auth_oidc_redis_replace(ngx_http_auth_oidc_redis_op_t *op)
{
    size_t                       argvlen[7];
    u_char                       ttl_text[NGX_TIME_T_LEN];
    ngx_str_t                    sealed, previous;
    const char                  *argv[7];
    ngx_http_auth_oidc_store_t  *store;

    store = op->store;

    if (ngx_http_auth_oidc_redis_key(op->caller.pool, store, op->kind,
                                     &op->key, op->previous, &op->rkey)
        != NGX_OK
        || ngx_http_auth_oidc_redis_seal(op, &sealed) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (store->cache && op->kind == NGX_HTTP_AUTH_OIDC_SESSION) {
        ngx_http_auth_oidc_redis_cache_forget(store->cache, &op->rkey);
    }

    previous = op->rkey;

    if (store->cluster == NULL && auth_oidc_keyring_rotated(store->keyring)
        && ngx_http_auth_oidc_redis_key(op->caller.pool, store, op->kind,
                                        &op->key, 1, &previous)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_auth_oidc_redis_replace_script;
    argvlen[1] = sizeof(ngx_http_auth_oidc_redis_replace_script) - 1;
    argv[2] = "2";
    argvlen[2] = 1;
    argv[3] = (char *) op->rkey.data;
    argvlen[3] = op->rkey.len;
    argv[4] = (char *) previous.data;
    argvlen[4] = previous.len;
    argv[5] = (char *) sealed.data;
    argvlen[5] = sealed.len;
    argv[6] = (char *) ttl_text;
    argvlen[6] = ngx_http_auth_oidc_redis_ttl(ttl_text, op->expires)
                 - ttl_text;

    return ngx_http_auth_oidc_redis_send(op, &op->rkey,
                                         ngx_http_auth_oidc_redis_stored, 7,
                                         argv, argvlen);
}


/* op->value sealed with the current secret for the name op->rkey. */

static ngx_int_t
ngx_http_auth_oidc_redis_seal(ngx_http_auth_oidc_redis_op_t *op,
    ngx_str_t *sealed)
{
    size_t             len;
    auth_oidc_str_t    aad, plain;
    auth_oidc_error_t  err;
    u_char             nonce[AUTH_OIDC_SEAL_NONCE_LEN];

    if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
        return NGX_ERROR;
    }

    aad.data = op->rkey.data;
    aad.len = op->rkey.len;
    plain.data = op->value.data;
    plain.len = op->value.len;

    len = plain.len + AUTH_OIDC_SEAL_OVERHEAD;

    sealed->data = ngx_pnalloc(op->caller.pool, len);
    if (sealed->data == NULL) {
        return NGX_ERROR;
    }

    if (auth_oidc_seal(op->store->keyring, aad, plain, nonce, sealed->data,
                       len, &sealed->len, &err)
        != AUTH_OIDC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, op->caller.log, 0,
                      "auth_oidc: oidc_session_store \"%V\": %s",
                      &op->store->name, err.msg);
        return NGX_ERROR;
    }

    if (op->kind == NGX_HTTP_AUTH_OIDC_SESSION) {
        /* what Redis holds per session, its own overhead aside */
        op->store->session_puts++;
        op->store->session_put_bytes += op->rkey.len + sealed->len;
    }

    return NGX_OK;
}


static void
ngx_http_auth_oidc_redis_stored(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_op_t *op = data;

    op->cmd = NULL;
    op->cluster_cmd = NULL;

    if (reply && reply->type == REDIS_REPLY_NIL) {

        if (op->replace && op->store->cluster && !op->previous
            && auth_oidc_keyring_rotated(op->store->keyring))
        {
            /* not under the current name: maybe under the previous one */
            op->previous = 1;

            if (ngx_http_auth_oidc_redis_replace(op) == NGX_AGAIN) {
                return;
            }

            op->caller.done(op->caller.data, NGX_ERROR, NULL);
            return;
        }

        op->caller.done(op->caller.data, NGX_DECLINED, NULL);
        return;
    }

    if (reply == NULL
        || (reply->type != REDIS_REPLY_STATUS
            && reply->type != REDIS_REPLY_INTEGER))
    {
        if (reply) {
            ngx_http_auth_oidc_store_redis_error(op->store, reply);
        }

        op->caller.done(op->caller.data, NGX_ERROR, NULL);
        return;
    }

    op->caller.done(op->caller.data, NGX_OK, NULL);
}


static void
ngx_http_auth_oidc_store_redis_delete(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller)
{
    int          argc;
    size_t       argvlen[3];
    ngx_str_t    current, previous;
    const char  *argv[3];

    if (ngx_http_auth_oidc_redis_key(caller->pool, store, kind, key, 0,
                                     &current)
        != NGX_OK)
    {
        return;
    }

    if (store->cache && kind == NGX_HTTP_AUTH_OIDC_SESSION) {
        ngx_http_auth_oidc_redis_cache_forget(store->cache, &current);
    }

    argc = 0;
    argv[argc] = "DEL";
    argvlen[argc++] = 3;
    argv[argc] = (char *) current.data;
    argvlen[argc++] = current.len;

    if (auth_oidc_keyring_rotated(store->keyring)
        && ngx_http_auth_oidc_redis_key(caller->pool, store, kind, key, 1,
                                        &previous)
           == NGX_OK)
    {
        if (store->cluster) {
            /* another slot: a command of its own */
            argv[1] = (char *) previous.data;
            argvlen[1] = previous.len;

            (void) ngx_http_auth_oidc_redis_post(store, &previous, 2, argv,
                                                 argvlen);

            argv[1] = (char *) current.data;
            argvlen[1] = current.len;

        } else {
            argv[argc] = (char *) previous.data;
            argvlen[argc++] = previous.len;
        }
    }

    /* nobody waits for the answer: a failure was logged by the link */
    (void) ngx_http_auth_oidc_redis_post(store, &current, argc, argv,
                                         argvlen);
}


static ngx_int_t
ngx_http_auth_oidc_store_redis_index_add(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *index_key, ngx_str_t *session_key, time_t expires,
    ngx_http_auth_oidc_store_caller_t *caller)
{
    size_t                          argvlen[7];
    u_char                          ttl[NGX_TIME_T_LEN];
    ngx_str_t                       member;
    const char                     *argv[7];
    ngx_http_auth_oidc_redis_op_t  *op;

    op = ngx_http_auth_oidc_redis_op(store, NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                     index_key, caller);
    if (op == NULL
        || ngx_http_auth_oidc_redis_key(caller->pool, store,
                                        NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                        index_key, 0, &op->rkey)
           != NGX_OK
        || ngx_http_auth_oidc_redis_key(caller->pool, store,
                                        NGX_HTTP_AUTH_OIDC_SESSION,
                                        session_key, 0, &member)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_auth_oidc_redis_index_add_script;
    argvlen[1] = sizeof(ngx_http_auth_oidc_redis_index_add_script) - 1;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (char *) op->rkey.data;
    argvlen[3] = op->rkey.len;
    argv[4] = (char *) member.data;
    argvlen[4] = member.len;
    argv[5] = (char *) ttl;
    argvlen[5] = ngx_http_auth_oidc_redis_ttl(ttl, expires) - ttl;
    argv[6] = store->cluster ? "0" : "1";
    argvlen[6] = 1;

    return ngx_http_auth_oidc_redis_send(op, &op->rkey,
                                         ngx_http_auth_oidc_redis_indexed, 7,
                                         argv, argvlen);
}


static void
ngx_http_auth_oidc_redis_indexed(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_op_t *op = data;

    op->cmd = NULL;
    op->cluster_cmd = NULL;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        if (reply) {
            ngx_http_auth_oidc_store_redis_error(op->store, reply);
        }

        op->caller.done(op->caller.data, NGX_ERROR, NULL);
        return;
    }

    op->caller.done(op->caller.data, NGX_OK, NULL);
}


/* One script for the index under the current secret and the previous. */

static ngx_int_t
ngx_http_auth_oidc_store_redis_index_end(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *index_key, ngx_http_auth_oidc_store_caller_t *caller,
    ngx_uint_t *ended)
{
    int                             argc;
    size_t                          argvlen[5];
    ngx_str_t                       previous;
    const char                     *argv[5];
    ngx_http_auth_oidc_redis_op_t  *op;

    op = ngx_http_auth_oidc_redis_op(store, NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                     index_key, caller);
    if (op == NULL
        || ngx_http_auth_oidc_redis_key(caller->pool, store,
                                        NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                        index_key, 0, &op->rkey)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_null(&previous);

    if (auth_oidc_keyring_rotated(store->keyring)
        && ngx_http_auth_oidc_redis_key(caller->pool, store,
                                        NGX_HTTP_AUTH_OIDC_SESSION_INDEX,
                                        index_key, 1, &previous)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (store->cluster) {
        return ngx_http_auth_oidc_redis_end_on_cluster(op, &previous);
    }

    if (store->cache) {
        /* its sessions are deleted by a script: this worker cannot name
         * them, and forgets every session it has */
        ngx_http_auth_oidc_redis_cache_forget(store->cache, NULL);
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_auth_oidc_redis_index_end_script;
    argvlen[1] = sizeof(ngx_http_auth_oidc_redis_index_end_script) - 1;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (char *) op->rkey.data;
    argvlen[3] = op->rkey.len;
    argc = 4;

    if (previous.len) {
        argv[2] = "2";
        argv[argc] = (char *) previous.data;
        argvlen[argc++] = previous.len;
    }

    return ngx_http_auth_oidc_redis_send(op, &op->rkey,
                                         ngx_http_auth_oidc_redis_ended, argc,
                                         argv, argvlen);
}


static void
ngx_http_auth_oidc_redis_ended(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_op_t *op = data;

    op->cmd = NULL;
    op->cluster_cmd = NULL;

    if (reply && reply->type == REDIS_REPLY_NIL) {
        op->caller.done(op->caller.data, NGX_DECLINED, NULL);
        return;
    }

    if (reply == NULL
        || reply->type != REDIS_REPLY_INTEGER
        || reply->integer < 0)
    {
        if (reply) {
            ngx_http_auth_oidc_store_redis_error(op->store, reply);
        }

        op->caller.done(op->caller.data, NGX_ERROR, NULL);
        return;
    }

    ngx_http_auth_oidc_redis_ended_count(op, (ngx_uint_t) reply->integer);
}


/* The caller hears how many sessions ended, as text. */

static void
ngx_http_auth_oidc_redis_ended_count(ngx_http_auth_oidc_redis_op_t *op,
    ngx_uint_t ended)
{
    ngx_str_t                           value;
    ngx_http_auth_oidc_store_caller_t  *c;

    c = &op->caller;

    value.data = ngx_pnalloc(c->pool, NGX_INT_T_LEN);
    if (value.data == NULL) {
        c->done(c->data, NGX_ERROR, NULL);
        return;
    }

    value.len = ngx_sprintf(value.data, "%ui", ended) - value.data;

    c->done(c->data, NGX_OK, &value);
}


/*
 * On a Cluster: each index name's members taken by a script on its node,
 * then each member deleted on its own; the caller hears it when every
 * command was answered. The batch outlives a requester that goes away:
 * the sessions are ended all the same.
 */

static ngx_int_t
ngx_http_auth_oidc_redis_end_on_cluster(ngx_http_auth_oidc_redis_op_t *op,
    ngx_str_t *previous)
{
    size_t                             argvlen[4];
    ngx_str_t                         *name;
    ngx_uint_t                         i;
    const char                        *argv[4];
    ngx_http_auth_oidc_redis_batch_t  *batch;

    batch = ngx_calloc(sizeof(ngx_http_auth_oidc_redis_batch_t),
                       op->caller.log);
    if (batch == NULL) {
        return NGX_ERROR;
    }

    batch->op = op;
    batch->store = op->store;

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_http_auth_oidc_redis_index_take_script;
    argvlen[1] = sizeof(ngx_http_auth_oidc_redis_index_take_script) - 1;
    argv[2] = "1";
    argvlen[2] = 1;

    for (i = 0; i < 2; i++) {
        name = (i == 0) ? &op->rkey : previous;

        if (name->len == 0) {
            continue;
        }

        argv[3] = (char *) name->data;
        argvlen[3] = name->len;

        if (ngx_http_auth_oidc_redis_cluster_command(op->store->cluster,
                                          name,
                                          ngx_http_auth_oidc_redis_index_taken,
                                          batch, 4, argv, argvlen)
            == NULL)
        {
            batch->failed = 1;
            continue;
        }

        batch->pending++;
    }

    if (batch->pending == 0) {
        ngx_free(batch);
        return NGX_ERROR;
    }

    op->batch = batch;

    return NGX_AGAIN;
}


static void
ngx_http_auth_oidc_redis_index_taken(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_batch_t *batch = data;

    size_t        i, argvlen[2];
    ngx_str_t     member;
    redisReply   *m;
    const char   *argv[2];

    batch->pending--;

    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        batch->found = 1;

        argv[0] = "DEL";
        argvlen[0] = 3;

        for (i = 0; i < reply->elements; i++) {
            m = reply->element[i];

            if (m->type != REDIS_REPLY_STRING) {
                continue;
            }

            member.data = (u_char *) m->str;
            member.len = m->len;
            argv[1] = m->str;
            argvlen[1] = m->len;

            if (batch->store->cache) {
                /* NOLOOP: this worker hears no invalidation of its DEL */
                ngx_http_auth_oidc_redis_cache_forget(batch->store->cache,
                                                      &member);
            }

            if (ngx_http_auth_oidc_redis_cluster_command(
                                     batch->store->cluster, &member,
                                     ngx_http_auth_oidc_redis_member_deleted,
                                     batch, 2, argv, argvlen)
                == NULL)
            {
                batch->failed = 1;
                continue;
            }

            batch->pending++;
        }

    } else if (reply == NULL || reply->type != REDIS_REPLY_NIL) {
        if (reply) {
            ngx_http_auth_oidc_store_redis_error(batch->store, reply);
        }

        batch->failed = 1;
    }

    ngx_http_auth_oidc_redis_batch_done(batch);
}


static void
ngx_http_auth_oidc_redis_member_deleted(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_batch_t *batch = data;

    batch->pending--;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0) {
        batch->ended += (ngx_uint_t) reply->integer;

    } else {
        if (reply) {
            ngx_http_auth_oidc_store_redis_error(batch->store, reply);
        }

        /* a session may live on: the logout is not done */
        batch->failed = 1;
    }

    ngx_http_auth_oidc_redis_batch_done(batch);
}


static void
ngx_http_auth_oidc_redis_batch_done(ngx_http_auth_oidc_redis_batch_t *batch)
{
    ngx_http_auth_oidc_redis_op_t      *op;
    ngx_http_auth_oidc_store_caller_t  *c;

    if (batch->pending) {
        return;
    }

    op = batch->op;

    if (op) {
        op->batch = NULL;
        c = &op->caller;

        if (batch->failed) {
            c->done(c->data, NGX_ERROR, NULL);

        } else if (!batch->found) {
            c->done(c->data, NGX_DECLINED, NULL);

        } else {
            ngx_http_auth_oidc_redis_ended_count(op, batch->ended);
        }
    }

    ngx_free(batch);
}


/*
 * A command about rkey: to the one Redis (or Sentinel's master), or to the
 * Cluster node of rkey's slot. NGX_AGAIN: handler hears the answer.
 */

static ngx_int_t
ngx_http_auth_oidc_redis_send(ngx_http_auth_oidc_redis_op_t *op,
    ngx_str_t *rkey, ngx_http_auth_oidc_redis_handler_pt handler, int argc,
    const char **argv, const size_t *argvlen)
{
    if (op->store->cluster) {
        op->cluster_cmd = ngx_http_auth_oidc_redis_cluster_command(
                                        op->store->cluster, rkey, handler, op,
                                        argc, argv, argvlen);

        return op->cluster_cmd ? NGX_AGAIN : NGX_ERROR;
    }

    op->cmd = ngx_http_auth_oidc_redis_command(op->store->redis, handler, op,
                                               argc, argv, argvlen);

    return op->cmd ? NGX_AGAIN : NGX_ERROR;
}


/* As _send(), but nobody waits for the answer. */

static ngx_int_t
ngx_http_auth_oidc_redis_post(ngx_http_auth_oidc_store_t *store,
    ngx_str_t *rkey, int argc, const char **argv, const size_t *argvlen)
{
    if (store->cluster) {
        return ngx_http_auth_oidc_redis_cluster_command(store->cluster, rkey,
                                                        NULL, NULL, argc,
                                                        argv, argvlen)
               ? NGX_OK : NGX_ERROR;
    }

    return ngx_http_auth_oidc_redis_command(store->redis, NULL, NULL, argc,
                                            argv, argvlen)
           ? NGX_OK : NGX_ERROR;
}


/* The seconds until expires, at least 1, as Redis's EX and EXPIRE take. */

static u_char *
ngx_http_auth_oidc_redis_ttl(u_char *buf, time_t expires)
{
    time_t  ttl;

    ttl = expires - ngx_time();
    if (ttl < 1) {
        ttl = 1;
    }

    return ngx_sprintf(buf, "%T", ttl);
}


static ngx_http_auth_oidc_redis_op_t *
ngx_http_auth_oidc_redis_op(ngx_http_auth_oidc_store_t *store,
    ngx_uint_t kind, ngx_str_t *key, ngx_http_auth_oidc_store_caller_t *caller)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_auth_oidc_redis_op_t  *op;

    if (store->redis == NULL && store->cluster == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(caller->pool,
                               sizeof(ngx_http_auth_oidc_redis_op_t));
    if (cln == NULL) {
        return NULL;
    }

    op = cln->data;
    ngx_memzero(op, sizeof(ngx_http_auth_oidc_redis_op_t));

    cln->handler = ngx_http_auth_oidc_redis_op_cleanup;

    op->caller = *caller;
    op->store = store;
    op->kind = kind;

    op->key.data = ngx_pstrdup(caller->pool, key);
    if (op->key.data == NULL) {
        return NULL;
    }

    op->key.len = key->len;

    return op;
}


/* The caller's pool went first: the answer must not reach freed memory. */

static void
ngx_http_auth_oidc_redis_op_cleanup(void *data)
{
    ngx_http_auth_oidc_redis_op_t *op = data;

    if (op->cmd) {
        ngx_http_auth_oidc_redis_cancel(op->cmd);
    }

    if (op->cluster_cmd) {
        ngx_http_auth_oidc_redis_cluster_cancel(op->cluster_cmd);
    }

    op->cmd = NULL;
    op->cluster_cmd = NULL;

    if (op->batch) {
        /* its commands still end the sessions; nobody hears it */
        op->batch->op = NULL;
        op->batch = NULL;
    }
}


/*
 * "<prefix><kind>:<43 characters of keyed hash>", kind a letter of
 * ngx_http_auth_oidc_redis_kinds; the id never in clear.
 */

static ngx_int_t
ngx_http_auth_oidc_redis_key(ngx_pool_t *pool,
    ngx_http_auth_oidc_store_t *store, ngx_uint_t kind, ngx_str_t *key,
    ngx_uint_t previous, ngx_str_t *rkey)
{
    u_char           *p;
    auth_oidc_str_t   k, id;

    if (kind == 0 || kind >= NGX_HTTP_AUTH_OIDC_RECORD_KINDS) {
        return NGX_ERROR;
    }

    k.data = &ngx_http_auth_oidc_redis_kinds[kind];
    k.len = 1;
    id.data = key->data;
    id.len = key->len;

    /* one keyed hash per name: its length is fixed */
    p = ngx_pnalloc(pool, store->prefix.len + 2 + AUTH_OIDC_LOOKUP_KEY_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    rkey->data = p;
    p = ngx_cpymem(p, store->prefix.data, store->prefix.len);
    *p++ = k.data[0];
    *p++ = ':';

    if (auth_oidc_keyring_lookup_key(store->keyring, k, id, previous, p,
                                     AUTH_OIDC_LOOKUP_KEY_LEN)
        != AUTH_OIDC_LOOKUP_KEY_LEN)
    {
        return NGX_ERROR;
    }

    rkey->len = store->prefix.len + 2 + AUTH_OIDC_LOOKUP_KEY_LEN;

    return NGX_OK;
}


/*
 * An error reply, or one of a type the command never answers: said once
 * per incident, by the link it came from (on a Cluster, by the cluster:
 * the node is not known here).
 */

static void
ngx_http_auth_oidc_store_redis_error(ngx_http_auth_oidc_store_t *store,
    redisReply *reply)
{
    u_char  *p;
    u_char   text[NGX_HTTP_AUTH_OIDC_ERRLEN];

    if (reply->type == REDIS_REPLY_ERROR && store->cluster == NULL
        && ((reply->len > 6 && ngx_strncmp(reply->str, "MOVED ", 6) == 0)
            || (reply->len > 4 && ngx_strncmp(reply->str, "ASK ", 4) == 0)
            || (reply->len >= 11
                && ngx_strncmp(reply->str, "CLUSTERDOWN", 11) == 0)))
    {
        /* what an operator needs to know, rather than a key's slot */
        p = ngx_snprintf(text, sizeof(text), "Redis %V is a node of a Redis "
                         "Cluster (%*s): name its nodes with \"cluster=\", "
                         "not \"redis=\"", &store->redis_conf.addr,
                         (size_t) reply->len, reply->str);

    } else if (reply->type == REDIS_REPLY_ERROR) {
        p = ngx_snprintf(text, sizeof(text), "Redis %V answered an error: "
                         "%*s", &store->redis_conf.addr, (size_t) reply->len,
                         reply->str);

    } else {
        p = ngx_snprintf(text, sizeof(text), "Redis %V answered a reply of "
                         "unexpected type %d", &store->redis_conf.addr,
                         reply->type);
    }

    if (store->cluster) {
        ngx_http_auth_oidc_redis_cluster_incident(store->cluster, "%*s",
                                                  p - text, text);
        return;
    }

    ngx_http_auth_oidc_redis_incident(store->redis, "%*s", p - text, text);
}
