
/*
 * Redis Cluster on nginx's event loop: see the header. The map is a byte
 * per slot naming one of at most 255 nodes; a slot nobody named yet goes
 * to any node, whose MOVED answer teaches the map. Nodes are never
 * forgotten (a worker's few connections): one the cluster no longer names
 * holds no slot and gets no command.
 */


#include "ngx_http_auth_oidc_redis_cluster.h"
#include "ngx_http_auth_oidc_redis_cache.h"


#define NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS       16384
#define NGX_HTTP_AUTH_OIDC_CLUSTER_NODES_MAX   255

/* a slot moved twice while a command was on its way is the most to expect */
#define NGX_HTTP_AUTH_OIDC_CLUSTER_REDIRECTS   5

/* the map is asked at most this often (ms), and again after a failure */
#define NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_MIN     100
#define NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_RETRY   1000

/*
 * An incident is over after this long (ms) without an error: the nodes
 * learn a failover one by one, and answer CLUSTERDOWN and values in turn
 */
#define NGX_HTTP_AUTH_OIDC_CLUSTER_CALM        1000


typedef struct {
    ngx_http_auth_oidc_redis_conf_t      conf;      /* the store's, here */
    ngx_sockaddr_t                       sockaddr;
    u_char                               text[NGX_SOCKADDR_STRLEN];
    ngx_http_auth_oidc_redis_t          *redis;
    ngx_http_auth_oidc_redis_watch_t     watch;
    ngx_http_auth_oidc_redis_cluster_t  *cluster;
    ngx_uint_t                           number;    /* in the map: 1, 2 .. */
    ngx_http_auth_oidc_redis_cache_link_t  *link;   /* or NULL */
} ngx_http_auth_oidc_cluster_node_t;


struct ngx_http_auth_oidc_redis_cluster_s {
    ngx_http_auth_oidc_redis_conf_t     *conf;
    ngx_str_t                            name;
    ngx_log_t                           *log;
    ngx_cycle_t                         *cycle;
    ngx_pool_t                          *pool;
    ngx_http_auth_oidc_redis_cache_t    *cache;     /* or NULL */

    ngx_http_auth_oidc_cluster_node_t   *nodes[NGX_HTTP_AUTH_OIDC_CLUSTER_NODES_MAX];
    ngx_uint_t                           nnodes;

    /* node index + 1 by slot; 0: not known */
    u_char                               slots[NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS];

    ngx_event_t                          map_timer;
    ngx_http_auth_oidc_cluster_node_t   *asked;     /* CLUSTER SLOTS */
    ngx_uint_t                           next;      /* node asked next */
    ngx_msec_t                           map_sent;
    unsigned                             map_wanted:1;

    ngx_uint_t                           maps;      /* answered */
    ngx_uint_t                           redirects;
    ngx_uint_t                           failing;
    ngx_msec_t                           failed;    /* the last error */
    size_t                               last_error_len;
    u_char                               last_error[NGX_HTTP_AUTH_OIDC_ERRLEN];
};


struct ngx_http_auth_oidc_redis_cluster_cmd_s {
    ngx_http_auth_oidc_redis_cluster_t  *cluster;
    ngx_http_auth_oidc_redis_cmd_t      *cmd;       /* on its way */
    ngx_http_auth_oidc_redis_handler_pt  handler;   /* NULL: nobody waits */
    void                                *data;
    ngx_uint_t                           slot;
    ngx_uint_t                           redirects;
    int                                  argc;
    const char                         **argv;      /* copies, below */
    size_t                              *argvlen;
};


static ngx_http_auth_oidc_cluster_node_t *ngx_http_auth_oidc_cluster_node(
    ngx_http_auth_oidc_redis_cluster_t *cluster, struct sockaddr *sockaddr,
    socklen_t socklen, ngx_str_t *addr);
static ngx_http_auth_oidc_cluster_node_t *ngx_http_auth_oidc_cluster_named(
    ngx_http_auth_oidc_redis_cluster_t *cluster, u_char *host, size_t len,
    ngx_int_t port, ngx_http_auth_oidc_cluster_node_t *answering);
static void ngx_http_auth_oidc_cluster_node_ready(void *data);
static void ngx_http_auth_oidc_cluster_node_lost(void *data);
static ngx_int_t ngx_http_auth_oidc_cluster_send(
    ngx_http_auth_oidc_redis_cluster_cmd_t *ccmd,
    ngx_http_auth_oidc_cluster_node_t *node, ngx_uint_t asking);
static void ngx_http_auth_oidc_cluster_answered(void *data, redisReply *reply,
    ngx_str_t *error);
static void ngx_http_auth_oidc_cluster_recovered(
    ngx_http_auth_oidc_redis_cluster_t *cluster);
static ngx_uint_t ngx_http_auth_oidc_redis_cluster_up(
    ngx_http_auth_oidc_redis_cluster_t *cluster);
static ngx_http_auth_oidc_cluster_node_t *ngx_http_auth_oidc_cluster_redirect(
    ngx_http_auth_oidc_redis_cluster_t *cluster, redisReply *reply,
    ngx_uint_t *asking);
static void ngx_http_auth_oidc_cluster_want_map(
    ngx_http_auth_oidc_redis_cluster_t *cluster);
static void ngx_http_auth_oidc_cluster_map_handler(ngx_event_t *ev);
static void ngx_http_auth_oidc_cluster_ask_map(
    ngx_http_auth_oidc_redis_cluster_t *cluster);
static void ngx_http_auth_oidc_cluster_map_answered(void *data,
    redisReply *reply, ngx_str_t *error);
static ngx_int_t ngx_http_auth_oidc_cluster_map_read(
    ngx_http_auth_oidc_redis_cluster_t *cluster, redisReply *reply,
    u_char *slots);


ngx_http_auth_oidc_redis_cluster_t *
ngx_http_auth_oidc_redis_cluster_create(ngx_http_auth_oidc_redis_conf_t *conf,
    ngx_str_t *name, ngx_http_auth_oidc_redis_cache_t *cache,
    ngx_cycle_t *cycle)
{
    ngx_uint_t                           i;
    ngx_addr_t                          *seed;
    ngx_http_auth_oidc_redis_cluster_t  *cluster;

    cluster = ngx_pcalloc(cycle->pool,
                          sizeof(ngx_http_auth_oidc_redis_cluster_t));
    if (cluster == NULL) {
        return NULL;
    }

    cluster->conf = conf;
    cluster->name = *name;
    cluster->log = cycle->log;
    cluster->cycle = cycle;
    cluster->pool = cycle->pool;
    cluster->cache = cache;

    cluster->map_timer.handler = ngx_http_auth_oidc_cluster_map_handler;
    cluster->map_timer.data = cluster;
    cluster->map_timer.log = cycle->log;
    cluster->map_timer.cancelable = 1;

    seed = conf->cluster->elts;

    for (i = 0; i < conf->cluster->nelts; i++) {
        if (ngx_http_auth_oidc_cluster_node(cluster, seed[i].sockaddr,
                                            seed[i].socklen, &seed[i].name)
            == NULL)
        {
            return NULL;
        }
    }

    /* queued behind the first seed's handshake */
    ngx_http_auth_oidc_cluster_ask_map(cluster);

    return cluster;
}


/* Worker exit: commands on their way get their callbacks with no reply. */

void
ngx_http_auth_oidc_redis_cluster_destroy(
    ngx_http_auth_oidc_redis_cluster_t *cluster)
{
    ngx_uint_t  i;

    if (cluster->map_timer.timer_set) {
        ngx_del_timer(&cluster->map_timer);
    }

    for (i = 0; i < cluster->nnodes; i++) {
        ngx_http_auth_oidc_redis_destroy(cluster->nodes[i]->redis);
    }

    cluster->nnodes = 0;
}


/*
 * The node at this address, a connection to it opened when it is new.
 * addr: how logs name it (NULL: its address).
 */

static ngx_http_auth_oidc_cluster_node_t *
ngx_http_auth_oidc_cluster_node(ngx_http_auth_oidc_redis_cluster_t *cluster,
    struct sockaddr *sockaddr, socklen_t socklen, ngx_str_t *addr)
{
    ngx_uint_t                          i;
    ngx_http_auth_oidc_cluster_node_t  *node;

    for (i = 0; i < cluster->nnodes; i++) {
        node = cluster->nodes[i];

        if (ngx_cmp_sockaddr(&node->sockaddr.sockaddr, node->conf.socklen,
                             sockaddr, socklen, 1)
            == NGX_OK)
        {
            return node;
        }
    }

    if (cluster->nnodes == NGX_HTTP_AUTH_OIDC_CLUSTER_NODES_MAX
        || socklen > sizeof(ngx_sockaddr_t))
    {
        ngx_http_auth_oidc_redis_cluster_incident(cluster, "Redis Cluster "
                                          "names more than %d nodes",
                                          NGX_HTTP_AUTH_OIDC_CLUSTER_NODES_MAX);
        return NULL;
    }

    node = ngx_pcalloc(cluster->pool,
                       sizeof(ngx_http_auth_oidc_cluster_node_t));
    if (node == NULL) {
        return NULL;
    }

    node->conf = *cluster->conf;
    node->conf.cluster = NULL;
    node->cluster = cluster;

    ngx_memcpy(&node->sockaddr, sockaddr, socklen);
    node->conf.sockaddr = &node->sockaddr.sockaddr;
    node->conf.socklen = socklen;

    if (addr) {
        node->conf.addr = *addr;

    } else {
        node->conf.addr.data = node->text;
        node->conf.addr.len = ngx_sock_ntop(sockaddr, socklen, node->text,
                                            NGX_SOCKADDR_STRLEN, 1);
    }

    /* a lost node may have failed over: the map is asked again */
    node->watch.ready = ngx_http_auth_oidc_cluster_node_ready;
    node->watch.lost = ngx_http_auth_oidc_cluster_node_lost;
    node->watch.data = node;

    node->redis = ngx_http_auth_oidc_redis_create(&node->conf, &cluster->name,
                                                  cluster->cycle);
    if (node->redis == NULL) {
        return NULL;
    }

    ngx_http_auth_oidc_redis_watch(node->redis, &node->watch, NGX_LOG_ERR);

    if (cluster->cache) {
        /* without a link its reads are simply not cached */
        node->link = ngx_http_auth_oidc_redis_cache_attach(cluster->cache,
                                                           node->redis,
                                                           &node->conf);
    }

    cluster->nodes[cluster->nnodes++] = node;
    node->number = cluster->nnodes;

    return node;
}


/*
 * A node as the cluster names it ("127.0.0.1", 7001): an IP address; an
 * empty host is the answering node's own (it does not know its address).
 */

static ngx_http_auth_oidc_cluster_node_t *
ngx_http_auth_oidc_cluster_named(ngx_http_auth_oidc_redis_cluster_t *cluster,
    u_char *host, size_t len, ngx_int_t port,
    ngx_http_auth_oidc_cluster_node_t *answering)
{
    u_char                text[NGX_INET6_ADDRSTRLEN + 1];
    socklen_t             socklen;
    ngx_sockaddr_t        sa;

    if (port <= 0 || port > 65535) {
        return NULL;
    }

    ngx_memzero(&sa, sizeof(ngx_sockaddr_t));

    if (len == 0 && answering) {
        socklen = answering->conf.socklen;
        ngx_memcpy(&sa, &answering->sockaddr, socklen);

    } else {
        /* an address only: a worker never waits for a resolver */
        if (len == 0 || len >= sizeof(text)) {
            return NULL;
        }

        (void) ngx_cpystrn(text, host, len + 1);

        if (inet_pton(AF_INET, (char *) text, &sa.sockaddr_in.sin_addr)
            == 1)
        {
            sa.sockaddr_in.sin_family = AF_INET;
            socklen = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
        } else if (inet_pton(AF_INET6, (char *) text,
                             &sa.sockaddr_in6.sin6_addr)
                   == 1)
        {
            sa.sockaddr_in6.sin6_family = AF_INET6;
            socklen = sizeof(struct sockaddr_in6);
#endif

        } else {
            return NULL;
        }
    }

    ngx_inet_set_port(&sa.sockaddr, (in_port_t) port);

    return ngx_http_auth_oidc_cluster_node(cluster, &sa.sockaddr, socklen,
                                           NULL);
}


static void
ngx_http_auth_oidc_cluster_node_ready(void *data)
{
    ngx_http_auth_oidc_cluster_node_t *node = data;

    if (node->link) {
        ngx_http_auth_oidc_redis_cache_link_ready(node->link);
    }
}


static void
ngx_http_auth_oidc_cluster_node_lost(void *data)
{
    ngx_http_auth_oidc_cluster_node_t *node = data;

    if (node->link) {
        ngx_http_auth_oidc_redis_cache_link_lost(node->link);
    }

    ngx_http_auth_oidc_cluster_want_map(node->cluster);
}


ngx_http_auth_oidc_redis_cluster_cmd_t *
ngx_http_auth_oidc_redis_cluster_command(
    ngx_http_auth_oidc_redis_cluster_t *cluster, ngx_str_t *key,
    ngx_http_auth_oidc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    int                                      i;
    u_char                                  *p;
    size_t                                   size;
    ngx_uint_t                               n;
    ngx_http_auth_oidc_cluster_node_t       *node;
    ngx_http_auth_oidc_redis_cluster_cmd_t  *ccmd;

    /* kept whole until the answer: a redirect sends it again */
    size = sizeof(ngx_http_auth_oidc_redis_cluster_cmd_t)
           + argc * (sizeof(char *) + sizeof(size_t));

    for (i = 0; i < argc; i++) {
        size += argvlen[i];
    }

    ccmd = ngx_alloc(size, cluster->log);
    if (ccmd == NULL) {
        return NULL;
    }

    ccmd->cluster = cluster;
    ccmd->cmd = NULL;
    ccmd->handler = handler;
    ccmd->data = data;
    ccmd->slot = ngx_http_auth_oidc_redis_cluster_slot(key->data, key->len);
    ccmd->redirects = 0;
    ccmd->argc = argc;
    ccmd->argv = (const char **) (ccmd + 1);
    ccmd->argvlen = (size_t *) (ccmd->argv + argc);

    p = (u_char *) (ccmd->argvlen + argc);

    for (i = 0; i < argc; i++) {
        ccmd->argv[i] = (const char *) p;
        ccmd->argvlen[i] = argvlen[i];
        p = ngx_cpymem(p, argv[i], argvlen[i]);
    }

    n = cluster->slots[ccmd->slot];

    /* a slot not known yet: any node, whose MOVED says where it is */
    node = cluster->nodes[n ? n - 1 : 0];

    if (ngx_http_auth_oidc_cluster_send(ccmd, node, 0) != NGX_OK) {
        ngx_free(ccmd);
        return NULL;
    }

    return ccmd;
}


/* The cache link of the node key's slot is on, to take a ticket for. */

ngx_http_auth_oidc_redis_cache_link_t *
ngx_http_auth_oidc_redis_cluster_link(ngx_http_auth_oidc_redis_cluster_t *cluster,
    ngx_str_t *key)
{
    ngx_uint_t  n;

    n = cluster->slots[ngx_http_auth_oidc_redis_cluster_slot(key->data,
                                                             key->len)];

    return n ? cluster->nodes[n - 1]->link : NULL;
}


/* The requester is gone: the answer, when it comes, is dropped. */

void
ngx_http_auth_oidc_redis_cluster_cancel(
    ngx_http_auth_oidc_redis_cluster_cmd_t *ccmd)
{
    if (ccmd->cmd) {
        ngx_http_auth_oidc_redis_cancel(ccmd->cmd);
    }

    ngx_free(ccmd);
}


static ngx_int_t
ngx_http_auth_oidc_cluster_send(ngx_http_auth_oidc_redis_cluster_cmd_t *ccmd,
    ngx_http_auth_oidc_cluster_node_t *node, ngx_uint_t asking)
{
    size_t        len;
    const char   *asking_argv;

    if (asking) {
        /* for the next command on this connection only */
        asking_argv = "ASKING";
        len = 6;

        if (ngx_http_auth_oidc_redis_command(node->redis, NULL, NULL, 1,
                                             &asking_argv, &len)
            == NULL)
        {
            ngx_http_auth_oidc_cluster_want_map(ccmd->cluster);
            return NGX_ERROR;
        }
    }

    ccmd->cmd = ngx_http_auth_oidc_redis_command(node->redis,
                                         ngx_http_auth_oidc_cluster_answered,
                                         ccmd, ccmd->argc, ccmd->argv,
                                         ccmd->argvlen);
    if (ccmd->cmd == NULL) {
        /* the node is down: it may have failed over */
        ngx_http_auth_oidc_cluster_want_map(ccmd->cluster);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_auth_oidc_cluster_answered(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cluster_cmd_t *ccmd = data;

    ngx_str_t                            failed;
    ngx_uint_t                           asking;
    ngx_http_auth_oidc_cluster_node_t   *node;
    ngx_http_auth_oidc_redis_cluster_t  *cluster;

    cluster = ccmd->cluster;
    ccmd->cmd = NULL;

    if (reply == NULL) {
        ngx_http_auth_oidc_cluster_want_map(cluster);

    } else if (reply->type != REDIS_REPLY_ERROR) {
        ngx_http_auth_oidc_cluster_recovered(cluster);

    } else if (reply->len >= 11
               && ngx_strncmp(reply->str, "CLUSTERDOWN", 11) == 0)
    {
        /* a failover under way: its end changes the map */
        ngx_http_auth_oidc_cluster_want_map(cluster);

    } else if (reply->type == REDIS_REPLY_ERROR
               && (node = ngx_http_auth_oidc_cluster_redirect(cluster, reply,
                                                              &asking)))
    {
        if (ccmd->redirects++ < NGX_HTTP_AUTH_OIDC_CLUSTER_REDIRECTS) {
            cluster->redirects++;

            if (cluster->cache) {
                /* answered by another connection than its ticket's */
                ngx_http_auth_oidc_redis_cache_redirected(cluster->cache);
            }

            if (!asking) {
                /* the slot lives there now; the others may have moved too */
                cluster->slots[ccmd->slot] = (u_char) node->number;
                ngx_http_auth_oidc_cluster_want_map(cluster);
            }

            if (ngx_http_auth_oidc_cluster_send(ccmd, node, asking)
                == NGX_OK)
            {
                return;
            }

            ngx_str_set(&failed, "the Redis Cluster node is down");

        } else {
            ngx_http_auth_oidc_redis_cluster_incident(cluster, "Redis "
                                          "Cluster redirected a command "
                                          "more than %d times (%*s)",
                                          NGX_HTTP_AUTH_OIDC_CLUSTER_REDIRECTS,
                                          (size_t) reply->len, reply->str);
            ngx_str_set(&failed, "too many Redis Cluster redirects");
        }

        reply = NULL;
        error = &failed;
    }

    if (ccmd->handler) {
        ccmd->handler(ccmd->data, reply, error);
    }

    ngx_free(ccmd);
}


/*
 * "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381": the node to
 * send the command to, and whether it is asked once (ASK). NULL for any
 * other error, which is the command's answer.
 */

static ngx_http_auth_oidc_cluster_node_t *
ngx_http_auth_oidc_cluster_redirect(ngx_http_auth_oidc_redis_cluster_t *cluster,
    redisReply *reply, ngx_uint_t *asking)
{
    u_char     *p, *last, *host, *colon;
    ngx_int_t   port;

    p = (u_char *) reply->str;
    last = p + reply->len;

    if (reply->len > 6 && ngx_strncmp(p, "MOVED ", 6) == 0) {
        *asking = 0;
        p += 6;

    } else if (reply->len > 4 && ngx_strncmp(p, "ASK ", 4) == 0) {
        *asking = 1;
        p += 4;

    } else {
        return NULL;
    }

    /* the slot, then "host:port" (the host may be an IPv6 address) */
    p = ngx_strlchr(p, last, ' ');
    if (p == NULL) {
        return NULL;
    }

    host = p + 1;

    for (colon = NULL, p = host; p < last; p++) {
        if (*p == ':') {
            colon = p;
        }
    }

    if (colon == NULL) {
        return NULL;
    }

    port = ngx_atoi(colon + 1, last - colon - 1);

    return ngx_http_auth_oidc_cluster_named(cluster, host, colon - host, port,
                                            NULL);
}


/* The map is asked again, at most every CLUSTER_MAP_MIN ms. */

static void
ngx_http_auth_oidc_cluster_want_map(
    ngx_http_auth_oidc_redis_cluster_t *cluster)
{
    ngx_msec_t  since;

    if (cluster->asked || cluster->map_timer.timer_set || ngx_exiting
        || ngx_terminate)
    {
        cluster->map_wanted = 1;
        return;
    }

    since = ngx_current_msec - cluster->map_sent;

    if (since < NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_MIN) {
        ngx_add_timer(&cluster->map_timer,
                      NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_MIN - since);
        return;
    }

    ngx_http_auth_oidc_cluster_ask_map(cluster);
}


static void
ngx_http_auth_oidc_cluster_map_handler(ngx_event_t *ev)
{
    ngx_http_auth_oidc_redis_cluster_t *cluster = ev->data;

    if (!cluster->asked) {
        ngx_http_auth_oidc_cluster_ask_map(cluster);
    }
}


/* CLUSTER SLOTS, of a node that is up if there is one, in turn. */

static void
ngx_http_auth_oidc_cluster_ask_map(ngx_http_auth_oidc_redis_cluster_t *cluster)
{
    size_t                              argvlen[2];
    ngx_uint_t                          i;
    const char                         *argv[2];
    ngx_http_auth_oidc_cluster_node_t  *node;

    cluster->map_wanted = 0;
    cluster->map_sent = ngx_current_msec;

    node = cluster->nodes[cluster->next++ % cluster->nnodes];

    for (i = 0; i < cluster->nnodes; i++) {
        if (ngx_http_auth_oidc_redis_ready(node->redis)) {
            break;
        }

        node = cluster->nodes[cluster->next++ % cluster->nnodes];
    }

    argv[0] = "CLUSTER";
    argvlen[0] = 7;
    argv[1] = "SLOTS";
    argvlen[1] = 5;

    if (ngx_http_auth_oidc_redis_command(node->redis,
                                        ngx_http_auth_oidc_cluster_map_answered,
                                        cluster, 2, argv, argvlen)
        == NULL)
    {
        /* not even connecting: a while later */
        if (!ngx_exiting && !ngx_terminate) {
            ngx_add_timer(&cluster->map_timer,
                          NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_RETRY);
        }

        return;
    }

    cluster->asked = node;
}


static void
ngx_http_auth_oidc_cluster_map_answered(void *data, redisReply *reply,
    ngx_str_t *error)
{
    ngx_http_auth_oidc_redis_cluster_t *cluster = data;

    u_char      slots[NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS];
    ngx_msec_t  again;

    /* asked for again meanwhile: soon */
    again = cluster->map_wanted ? NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_MIN : 0;

    if (reply && ngx_http_auth_oidc_cluster_map_read(cluster, reply, slots)
                 == NGX_OK)
    {
        ngx_memcpy(cluster->slots, slots, sizeof(slots));
        cluster->maps++;


    } else {
        if (reply) {
            ngx_http_auth_oidc_redis_cluster_incident(cluster, "Redis %V "
                                          "did not answer CLUSTER SLOTS with "
                                          "a map%s%*s",
                                          &cluster->asked->conf.addr,
                                          reply->type == REDIS_REPLY_ERROR
                                          ? ": " : "",
                                          reply->type == REDIS_REPLY_ERROR
                                          ? (size_t) reply->len : 0,
                                          reply->str);
        }

        /* no answer: the next node at once; a wrong one: later */
        again = reply ? NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_RETRY
                      : NGX_HTTP_AUTH_OIDC_CLUSTER_MAP_MIN;
    }

    cluster->asked = NULL;

    if (again && !ngx_exiting && !ngx_terminate
        && !cluster->map_timer.timer_set)
    {
        ngx_add_timer(&cluster->map_timer, again);
    }
}


/*
 * CLUSTER SLOTS: [[first, last, [host, port, id, ...], replicas...], ...];
 * the masters only (every command here writes, or reads what was just
 * written). Untrusted input: anything else is refused whole.
 */

static ngx_int_t
ngx_http_auth_oidc_cluster_map_read(ngx_http_auth_oidc_redis_cluster_t *cluster,
    redisReply *reply, u_char *slots)
{
    size_t                              i;
    long long                           first, last;
    redisReply                         *range, *master;
    ngx_http_auth_oidc_cluster_node_t  *node;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        return NGX_ERROR;
    }

    ngx_memzero(slots, NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS);

    for (i = 0; i < reply->elements; i++) {
        range = reply->element[i];

        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3
            || range->element[0]->type != REDIS_REPLY_INTEGER
            || range->element[1]->type != REDIS_REPLY_INTEGER
            || range->element[2]->type != REDIS_REPLY_ARRAY
            || range->element[2]->elements < 2
            || range->element[2]->element[0]->type != REDIS_REPLY_STRING
            || range->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        {
            return NGX_ERROR;
        }

        first = range->element[0]->integer;
        last = range->element[1]->integer;

        if (first < 0 || last < first
            || last >= NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS)
        {
            return NGX_ERROR;
        }

        master = range->element[2];

        node = ngx_http_auth_oidc_cluster_named(cluster,
                                          (u_char *) master->element[0]->str,
                                          master->element[0]->len,
                                          (ngx_int_t) master->element[1]->integer,
                                          cluster->asked);
        if (node == NULL) {
            ngx_http_auth_oidc_redis_cluster_incident(cluster, "Redis "
                                          "Cluster names a master at an "
                                          "unusable address \"%*s\" (an IP "
                                          "address is needed)",
                                          (size_t) master->element[0]->len,
                                          master->element[0]->str);
            return NGX_ERROR;
        }

        ngx_memset(slots + first, (u_char) node->number,
                   (size_t) (last - first + 1));
    }

    return NGX_OK;
}


/*
 * CRC16-CCITT (XMODEM) of the key, or of the text between its first "{"
 * and the next "}" when that is not empty: what the cluster computes. The
 * table is the polynomial 0x1021 applied to each byte value.
 */

static uint16_t  ngx_http_auth_oidc_crc16[256];

ngx_uint_t
ngx_http_auth_oidc_redis_cluster_slot(u_char *key, size_t len)
{
    u_char    *open, *close;
    size_t     i;
    uint16_t   crc;
    ngx_uint_t b, v;

    if (ngx_http_auth_oidc_crc16[1] == 0) {
        for (v = 0; v < 256; v++) {
            crc = (uint16_t) (v << 8);

            for (b = 0; b < 8; b++) {
                crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                     : (uint16_t) (crc << 1);
            }

            ngx_http_auth_oidc_crc16[v] = crc;
        }
    }

    open = ngx_strlchr(key, key + len, '{');

    if (open) {
        close = ngx_strlchr(open + 1, key + len, '}');

        if (close && close > open + 1) {
            key = open + 1;
            len = close - key;
        }
    }

    crc = 0;

    for (i = 0; i < len; i++) {
        crc = (uint16_t) ((crc << 8)
                          ^ ngx_http_auth_oidc_crc16[((crc >> 8) ^ key[i])
                                                     & 0xff]);
    }

    return crc & (NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS - 1);
}


/* Every master the map names has its connection ready. */

static ngx_uint_t
ngx_http_auth_oidc_redis_cluster_up(ngx_http_auth_oidc_redis_cluster_t *cluster)
{
    ngx_uint_t  s, n;
    u_char      seen[NGX_HTTP_AUTH_OIDC_CLUSTER_NODES_MAX + 1];

    ngx_memzero(seen, sizeof(seen));
    n = 0;

    for (s = 0; s < NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS; s++) {
        if (cluster->slots[s] == 0) {
            return 0;
        }

        if (!seen[cluster->slots[s]]) {
            seen[cluster->slots[s]] = 1;

            if (!ngx_http_auth_oidc_redis_ready(
                     cluster->nodes[cluster->slots[s] - 1]->redis))
            {
                return 0;
            }

            n++;
        }
    }

    return n > 0;
}


/* A command answered: the incident, if any, is over. */

static void
ngx_http_auth_oidc_cluster_recovered(
    ngx_http_auth_oidc_redis_cluster_t *cluster)
{
    if (!cluster->failing
        || ngx_current_msec - cluster->failed < NGX_HTTP_AUTH_OIDC_CLUSTER_CALM)
    {
        return;
    }

    cluster->failing = 0;

    ngx_log_error(NGX_LOG_NOTICE, cluster->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": Redis Cluster "
                  "answers again", &cluster->name);
}


/* Logged at "error" once per incident, as a connection's incidents are. */

void
ngx_http_auth_oidc_redis_cluster_incident(
    ngx_http_auth_oidc_redis_cluster_t *cluster, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(cluster->last_error,
                      cluster->last_error + NGX_HTTP_AUTH_OIDC_ERRLEN, fmt,
                      args);
    va_end(args);

    cluster->last_error_len = p - cluster->last_error;
    cluster->failed = ngx_current_msec;

    if (cluster->failing) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, cluster->log, 0,
                       "auth oidc redis cluster \"%V\": %*s", &cluster->name,
                       cluster->last_error_len, cluster->last_error);
        return;
    }

    cluster->failing = 1;

    ngx_log_error(NGX_LOG_ERR, cluster->log, 0,
                  "auth_oidc: oidc_session_store \"%V\": %*s", &cluster->name,
                  cluster->last_error_len, cluster->last_error);
}


/*
 * As ngx_http_auth_oidc_redis_stats() for the whole cluster: connected when
 * every master of the map is, the counts summed over the nodes, the
 * latest error of the cluster or else of a node.
 */

void
ngx_http_auth_oidc_redis_cluster_stats(
    ngx_http_auth_oidc_redis_cluster_t *cluster, ngx_uint_t *connected,
    ngx_uint_t *commands, ngx_uint_t *errors, ngx_msec_t *latency,
    ngx_str_t *last_error)
{
    ngx_str_t   node_error;
    ngx_uint_t  i, node_connected, node_commands, node_errors;
    ngx_msec_t  node_latency;

    *connected = ngx_http_auth_oidc_redis_cluster_up(cluster);
    *commands = 0;
    *errors = 0;
    *latency = 0;
    last_error->data = cluster->last_error;
    last_error->len = cluster->last_error_len;

    for (i = 0; i < cluster->nnodes; i++) {
        ngx_http_auth_oidc_redis_stats(cluster->nodes[i]->redis,
                                       &node_connected, &node_commands,
                                       &node_errors, &node_latency,
                                       &node_error);
        *commands += node_commands;
        *errors += node_errors;
        *latency = ngx_max(*latency, node_latency);

        if (last_error->len == 0) {
            *last_error = node_error;
        }
    }
}


/* The cluster's own part of oidc_status: the map and its nodes. */

u_char *
ngx_http_auth_oidc_redis_cluster_describe(
    ngx_http_auth_oidc_redis_cluster_t *cluster, u_char *buf, u_char *last)
{
    ngx_uint_t  i, s, masters, ready, covered;
    u_char      holds[NGX_HTTP_AUTH_OIDC_CLUSTER_NODES_MAX + 1];

    ngx_memzero(holds, sizeof(holds));
    covered = 0;

    for (s = 0; s < NGX_HTTP_AUTH_OIDC_CLUSTER_SLOTS; s++) {
        if (cluster->slots[s]) {
            holds[cluster->slots[s]] = 1;
            covered++;
        }
    }

    masters = 0;
    ready = 0;

    for (i = 0; i < cluster->nnodes; i++) {
        if (holds[cluster->nodes[i]->number]) {
            masters++;
            ready += ngx_http_auth_oidc_redis_ready(cluster->nodes[i]->redis);
        }
    }

    return ngx_slprintf(buf, last, ",\"cluster\":{\"nodes\":%ui,"
                        "\"masters\":%ui,\"masters_connected\":%ui,"
                        "\"slots\":%ui,\"maps\":%ui,\"redirects\":%ui}",
                        cluster->nnodes, masters, ready, covered,
                        cluster->maps, cluster->redirects);
}
