
/*
 * libFuzzer entry point: the Cookie request headers, as the module reads
 * and rewrites them (ngx_http_auth_oidc_cookie.c, compiled as it is).
 *
 * The input is lines. The first names the cookie: "NAME" (empty: the
 * default NGX_OIDC_SESSION), or "NAME<tab>STATE" for the login cookie of
 * that state, named as the callback names it. Every other line is a
 * request header, "Key: value", or a Cookie header's value alone when it
 * has no ":". Each value is a malloc() block of its exact size.
 *
 * cookie_get() is checked against a plain reading of the pairs: one
 * non-empty value, however often repeated, is NGX_OK with that value; none,
 * or two different ones, NGX_DECLINED. cookie_strip() must leave every
 * header without the cookie as it was, and rewrite every Cookie header
 * with it into its other named pairs, in order, within the 2 * len bytes it
 * allocates; then cookie_get() finds nothing.
 */


#include <stdlib.h>

#include "ngx_http_auth_oidc_fuzz.h"


#define NGX_HTTP_AUTH_OIDC_FUZZ_PART  3


typedef struct {
    u_char      *name;
    size_t       name_len;
    u_char      *value;
    size_t       value_len;
    ngx_uint_t   eq;
} ngx_http_auth_oidc_fuzz_pair_t;


typedef struct {
    ngx_str_t    value;      /* as given to the module */
    ngx_uint_t   cookie;
    ngx_uint_t   has_name;   /* a pair strip removes */
} ngx_http_auth_oidc_fuzz_header_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ngx_int_t ngx_http_auth_oidc_fuzz_name(ngx_http_request_t *r,
    u_char *p, u_char *last, ngx_str_t *name);
static ngx_uint_t ngx_http_auth_oidc_fuzz_headers(ngx_http_request_t *r,
    u_char *p, u_char *last, ngx_http_auth_oidc_fuzz_header_t *hs);
static ngx_uint_t ngx_http_auth_oidc_fuzz_pairs(ngx_str_t *value,
    ngx_http_auth_oidc_fuzz_pair_t *pairs);
static ngx_uint_t ngx_http_auth_oidc_fuzz_named(
    ngx_http_auth_oidc_fuzz_pair_t *pair, ngx_str_t *name);
static void ngx_http_auth_oidc_fuzz_check_get(ngx_http_request_t *r,
    ngx_str_t *name, ngx_http_auth_oidc_fuzz_header_t *hs, ngx_uint_t n);
static void ngx_http_auth_oidc_fuzz_check_strip(ngx_str_t *name,
    ngx_http_auth_oidc_fuzz_header_t *hs, ngx_table_elt_t **elts,
    ngx_uint_t n);
static ngx_uint_t ngx_http_auth_oidc_fuzz_stripped(
    ngx_http_auth_oidc_fuzz_pair_t *pair, ngx_str_t *name);
static ngx_uint_t ngx_http_auth_oidc_fuzz_same(
    ngx_http_auth_oidc_fuzz_pair_t *a, ngx_http_auth_oidc_fuzz_pair_t *b);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                            *p, *last, *copy;
    ngx_log_t                          log;
    ngx_str_t                          name, value;
    ngx_uint_t                         i, j, n;
    ngx_pool_t                         pool;
    ngx_array_t                       *logins;
    ngx_list_part_t                   *part;
    ngx_table_elt_t                  **elts;
    ngx_connection_t                   c;
    ngx_http_request_t                 r;
    ngx_http_auth_oidc_fuzz_header_t  *hs;

    /* the harness's own copy: the module sees only the headers' blocks */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    ngx_memcpy(copy, data, size);
    p = copy;
    last = copy + size;

    ngx_memzero(&log, sizeof(ngx_log_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));
    ngx_memzero(&r, sizeof(ngx_http_request_t));

    log.log_level = NGX_LOG_DEBUG;
    c.log = &log;
    r.connection = &c;
    r.pool = &pool;

    /* at most one header per input byte, and the name's line */
    hs = malloc((size + 1) * sizeof(ngx_http_auth_oidc_fuzz_header_t));
    elts = malloc((size + 1) * sizeof(ngx_table_elt_t *));

    if (hs == NULL || elts == NULL) {
        goto done;
    }

    p = ngx_strlchr(copy, last, '\n');
    if (p == NULL) {
        p = last;
    }

    if (ngx_http_auth_oidc_fuzz_name(&r, copy, p, &name) != NGX_OK) {
        goto done;
    }

    n = ngx_http_auth_oidc_fuzz_headers(&r, p < last ? p + 1 : last, last,
                                        hs);

    /* where the module will find them: hs[i] is elts[i] as it was */
    i = 0;

    for (part = &r.headers_in.headers.part; part; part = part->next) {
        for (j = 0; j < part->nelts; j++) {
            elts[i++] = (ngx_table_elt_t *) part->elts + j;
        }
    }

    if (i != n) {
        __builtin_trap();
    }

    ngx_http_auth_oidc_fuzz_check_get(&r, &name, hs, n);

    logins = NULL;

    if (ngx_http_auth_oidc_cookie_strip(&r, &name, &logins) != NGX_OK) {
        __builtin_trap();
    }

    ngx_http_auth_oidc_fuzz_check_strip(&name, hs, elts, n);

    if (ngx_http_auth_oidc_cookie_get(&r, &name, &value) != NGX_DECLINED) {
        __builtin_trap();
    }

done:

    ngx_http_auth_oidc_fuzz_pool_free();
    free(elts);
    free(hs);
    free(copy);

    return 0;
}


/* The cookie's name: no NUL byte, as nginx's configuration has none. */

static ngx_int_t
ngx_http_auth_oidc_fuzz_name(ngx_http_request_t *r, u_char *p, u_char *last,
    ngx_str_t *name)
{
    u_char                              *tab;
    ngx_str_t                            state;
    ngx_http_auth_oidc_provider_conf_t   prov;

    if (ngx_strlchr(p, last, '\0') != NULL) {
        return NGX_DECLINED;
    }

    ngx_memzero(&prov, sizeof(ngx_http_auth_oidc_provider_conf_t));

    tab = ngx_strlchr(p, last, '\t');

    prov.cookie_name.data = p;
    prov.cookie_name.len = (tab ? tab : last) - p;

    if (prov.cookie_name.len == 0) {
        ngx_str_set(&prov.cookie_name, "NGX_OIDC_SESSION");
    }

    if (tab == NULL) {
        *name = prov.cookie_name;
        return NGX_OK;
    }

    state.data = tab + 1;
    state.len = last - state.data;

    if (ngx_http_auth_oidc_login_cookie_name(r, &prov, &state, name)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (name->len != prov.cookie_name.len + sizeof("_login_") - 1
                     + NGX_HTTP_AUTH_OIDC_STATE_PART
        || ngx_memcmp(name->data, prov.cookie_name.data,
                      prov.cookie_name.len)
           != 0
        || ngx_memcmp(name->data + name->len - NGX_HTTP_AUTH_OIDC_STATE_PART,
                      state.data, NGX_HTTP_AUTH_OIDC_STATE_PART)
           != 0)
    {
        __builtin_trap();
    }

    return NGX_OK;
}


/*
 * r->headers_in.headers in parts of a few elements, as nginx's list grows;
 * every value in a block of its own. Returns how many.
 */

static ngx_uint_t
ngx_http_auth_oidc_fuzz_headers(ngx_http_request_t *r, u_char *p,
    u_char *last, ngx_http_auth_oidc_fuzz_header_t *hs)
{
    u_char            *eol, *colon, *v, *e;
    ngx_uint_t         n;
    ngx_list_t        *list;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;

    list = &r->headers_in.headers;
    list->size = sizeof(ngx_table_elt_t);
    list->nalloc = NGX_HTTP_AUTH_OIDC_FUZZ_PART;
    list->pool = r->pool;
    list->last = &list->part;

    part = &list->part;
    part->elts = ngx_pnalloc(r->pool, NGX_HTTP_AUTH_OIDC_FUZZ_PART
                                      * sizeof(ngx_table_elt_t));
    if (part->elts == NULL) {
        abort();
    }

    n = 0;

    while (p < last) {

        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if (part->nelts == NGX_HTTP_AUTH_OIDC_FUZZ_PART) {
            part->next = ngx_pnalloc(r->pool, sizeof(ngx_list_part_t));
            if (part->next == NULL) {
                abort();
            }

            part = part->next;
            ngx_memzero(part, sizeof(ngx_list_part_t));

            part->elts = ngx_pnalloc(r->pool, NGX_HTTP_AUTH_OIDC_FUZZ_PART
                                              * sizeof(ngx_table_elt_t));
            if (part->elts == NULL) {
                abort();
            }

            list->last = part;
        }

        h = (ngx_table_elt_t *) part->elts + part->nelts++;
        ngx_memzero(h, sizeof(ngx_table_elt_t));
        h->hash = 1;

        colon = ngx_strlchr(p, eol, ':');

        if (colon) {
            h->key.data = p;
            h->key.len = colon - p;
            v = colon + 1;

        } else {
            ngx_str_set(&h->key, "Cookie");
            v = p;
        }

        h->lowcase_key = h->key.data;

        /* nginx trims the value's white space */
        while (v < eol && (*v == ' ' || *v == '\t')) {
            v++;
        }

        e = eol;

        while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
            e--;
        }

        h->value.len = e - v;
        h->value.data = ngx_pnalloc(r->pool, h->value.len);
        if (h->value.data == NULL) {
            abort();
        }

        ngx_memcpy(h->value.data, v, h->value.len);

        hs[n].value = h->value;
        hs[n].cookie = (h->key.len == sizeof("Cookie") - 1
                        && ngx_strncasecmp(h->key.data, (u_char *) "cookie",
                                           sizeof("Cookie") - 1)
                           == 0);
        hs[n].has_name = 0;
        n++;

        p = eol + 1;
    }

    return n;
}


/*
 * The pairs of a Cookie header, read independently of the module: split at
 * ";", the name before the first "=", both trimmed of spaces and tabs.
 * pairs has room for value->len + 1.
 */

static ngx_uint_t
ngx_http_auth_oidc_fuzz_pairs(ngx_str_t *value,
    ngx_http_auth_oidc_fuzz_pair_t *pairs)
{
    u_char      *p, *last, *end, *eq, *s, *e;
    ngx_uint_t   n;

    n = 0;
    p = value->data;
    last = p + value->len;

    for ( ;; ) {
        end = memchr(p, ';', last - p);
        if (end == NULL) {
            end = last;
        }

        eq = memchr(p, '=', end - p);

        s = p;
        e = eq ? eq : end;

        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }

        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        pairs[n].name = s;
        pairs[n].name_len = e - s;
        pairs[n].eq = (eq != NULL);
        pairs[n].value = NULL;
        pairs[n].value_len = 0;

        if (eq) {
            s = eq + 1;
            e = end;

            while (s < e && (*s == ' ' || *s == '\t')) {
                s++;
            }

            while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }

            pairs[n].value = s;
            pairs[n].value_len = e - s;
        }

        n++;

        if (end == last) {
            return n;
        }

        p = end + 1;
    }
}


static ngx_uint_t
ngx_http_auth_oidc_fuzz_named(ngx_http_auth_oidc_fuzz_pair_t *pair,
    ngx_str_t *name)
{
    return pair->name_len == name->len
           && (name->len == 0
               || ngx_memcmp(pair->name, name->data, name->len) == 0);
}


/* What strip removes: the cookie itself, its "<name>_login_..." ones, and
 * a cookie store's parts "<name>_2" to "<name>_9". */

static ngx_uint_t
ngx_http_auth_oidc_fuzz_stripped(ngx_http_auth_oidc_fuzz_pair_t *pair,
    ngx_str_t *name)
{
    if (ngx_http_auth_oidc_fuzz_named(pair, name)) {
        return 1;
    }

    if (pair->name_len < name->len
        || (name->len && ngx_memcmp(pair->name, name->data, name->len) != 0))
    {
        return 0;
    }

    /* a started login's, or a part of a cookie store's session (_2 .. _9) */
    return (pair->name_len > name->len + 7
            && ngx_memcmp(pair->name + name->len, "_login_", 7) == 0)
           || (pair->name_len == name->len + 2
               && pair->name[name->len] == '_'
               && pair->name[name->len + 1] >= '2'
               && pair->name[name->len + 1] <= '9');
}


static void
ngx_http_auth_oidc_fuzz_check_get(ngx_http_request_t *r, ngx_str_t *name,
    ngx_http_auth_oidc_fuzz_header_t *hs, ngx_uint_t n)
{
    ngx_int_t                        rc;
    ngx_str_t                        value;
    ngx_uint_t                       i, j, np, inside, several;
    ngx_http_auth_oidc_fuzz_pair_t  *pairs, *found;

    found = NULL;
    several = 0;
    inside = 0;

    ngx_str_null(&value);

    rc = ngx_http_auth_oidc_cookie_get(r, name, &value);

    for (i = 0; i < n; i++) {
        if (!hs[i].cookie) {
            continue;
        }

        pairs = malloc((hs[i].value.len + 1)
                       * sizeof(ngx_http_auth_oidc_fuzz_pair_t));
        if (pairs == NULL) {
            abort();
        }

        np = ngx_http_auth_oidc_fuzz_pairs(&hs[i].value, pairs);

        for (j = 0; j < np; j++) {
            if (ngx_http_auth_oidc_fuzz_stripped(&pairs[j], name)) {
                /* strip rewrites this header */
                hs[i].has_name = 1;
            }

            if (!ngx_http_auth_oidc_fuzz_named(&pairs[j], name)) {
                continue;
            }

            if (pairs[j].value_len == 0) {
                continue;
            }

            if (found == NULL) {
                found = malloc(sizeof(ngx_http_auth_oidc_fuzz_pair_t));
                if (found == NULL) {
                    abort();
                }

                *found = pairs[j];

            } else if (found->value_len != pairs[j].value_len
                       || ngx_memcmp(found->value, pairs[j].value,
                                     found->value_len)
                          != 0)
            {
                several = 1;
            }
        }

        if (rc == NGX_OK
            && value.data >= hs[i].value.data
            && value.data + value.len <= hs[i].value.data + hs[i].value.len)
        {
            inside = 1;
        }

        free(pairs);
    }

    if (found == NULL || several) {
        if (rc != NGX_DECLINED) {
            __builtin_trap();
        }

    } else if (rc != NGX_OK
               || !inside
               || value.len != found->value_len
               || ngx_memcmp(value.data, found->value, value.len) != 0)
    {
        __builtin_trap();
    }

    free(found);
}


static void
ngx_http_auth_oidc_fuzz_check_strip(ngx_str_t *name,
    ngx_http_auth_oidc_fuzz_header_t *hs, ngx_table_elt_t **elts,
    ngx_uint_t n)
{
    ngx_uint_t                       i, j, k, nin, nout;
    ngx_table_elt_t                 *h;
    ngx_http_auth_oidc_fuzz_pair_t  *in, *out;

    for (i = 0; i < n; i++) {
        h = elts[i];

        if (!hs[i].has_name) {
            if (h->value.data != hs[i].value.data
                || h->value.len != hs[i].value.len)
            {
                __builtin_trap();
            }

            continue;
        }

        if (h->value.len > 2 * hs[i].value.len) {
            __builtin_trap();
        }

        in = malloc((hs[i].value.len + 1)
                    * sizeof(ngx_http_auth_oidc_fuzz_pair_t));
        out = malloc((h->value.len + 1)
                     * sizeof(ngx_http_auth_oidc_fuzz_pair_t));

        if (in == NULL || out == NULL) {
            abort();
        }

        nin = ngx_http_auth_oidc_fuzz_pairs(&hs[i].value, in);
        nout = ngx_http_auth_oidc_fuzz_pairs(&h->value, out);

        /* an empty header reads as one empty pair */
        if (h->value.len == 0) {
            nout = 0;
        }

        k = 0;

        for (j = 0; j < nin; j++) {
            if (in[j].name_len == 0
                || ngx_http_auth_oidc_fuzz_stripped(&in[j], name))
            {
                continue;
            }

            if (k == nout || !ngx_http_auth_oidc_fuzz_same(&in[j], &out[k])) {
                __builtin_trap();
            }

            k++;
        }

        if (k != nout) {
            __builtin_trap();
        }

        free(out);
        free(in);
    }
}


static ngx_uint_t
ngx_http_auth_oidc_fuzz_same(ngx_http_auth_oidc_fuzz_pair_t *a,
    ngx_http_auth_oidc_fuzz_pair_t *b)
{
    return a->name_len == b->name_len
           && (a->name_len == 0
               || ngx_memcmp(a->name, b->name, a->name_len) == 0)
           && a->eq == b->eq
           && a->value_len == b->value_len
           && (a->value_len == 0
               || ngx_memcmp(a->value, b->value, a->value_len) == 0);
}
