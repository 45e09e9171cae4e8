
/*
 * The keyring a session store seals with: Redis records, and every
 * store's started-login cookies. From secret_file= (and
 * previous_secret_file= during a rotation), or a random secret made once
 * per nginx and kept across reloads.
 */


#include <openssl/rand.h>

#include "ngx_http_auth_oidc_store.h"


static ngx_int_t ngx_http_auth_oidc_read_secret(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *file, ngx_str_t *secret);


/* Without secret_file, one random secret per nginx: kept across reloads. */
static u_char      ngx_http_auth_oidc_local_secret[32];
static ngx_uint_t  ngx_http_auth_oidc_local_secret_made;


char *
ngx_http_auth_oidc_store_keyring(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store)
{
    ngx_str_t             current, previous;
    auth_oidc_str_t       cur, prev;
    auth_oidc_error_t     err;
    ngx_pool_cleanup_t   *cln;

    ngx_str_null(&previous);

    if (store->secret_file.len) {
        if (ngx_http_auth_oidc_read_secret(cf, store, &store->secret_file,
                                           &current)
            != NGX_OK
            || (store->previous_secret_file.len
                && ngx_http_auth_oidc_read_secret(cf, store,
                                                  &store->previous_secret_file,
                                                  &previous)
                   != NGX_OK))
        {
            return NGX_CONF_ERROR;
        }

    } else {
        if (!ngx_http_auth_oidc_local_secret_made) {
            if (RAND_bytes(ngx_http_auth_oidc_local_secret,
                           sizeof(ngx_http_auth_oidc_local_secret))
                != 1)
            {
                return NGX_CONF_ERROR;
            }

            ngx_http_auth_oidc_local_secret_made = 1;
        }

        current.data = ngx_http_auth_oidc_local_secret;
        current.len = sizeof(ngx_http_auth_oidc_local_secret);

        /* a shared-memory store serves one host: nothing to share */
        if (store->type != NGX_HTTP_AUTH_OIDC_STORE_SHM) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "oidc_session_store \"%V\" has no secret_file=: "
                           "its sessions are sealed with a random secret, "
                           "so they end with a restart and other nginx hosts "
                           "cannot read them; give every host the same "
                           "secret_file=", &store->name);
        }
    }

    cur.data = current.data;
    cur.len = current.len;
    prev.data = previous.data;
    prev.len = previous.len;

    if (auth_oidc_keyring_new(cur, prev, &store->keyring, &err)
        != AUTH_OIDC_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_session_store \"%V\": %s", &store->name,
                           err.msg);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        auth_oidc_keyring_free(store->keyring);
        return NGX_CONF_ERROR;
    }

    cln->handler = (ngx_pool_cleanup_pt) auth_oidc_keyring_free;
    cln->data = store->keyring;

    if (current.data != ngx_http_auth_oidc_local_secret) {
        ngx_explicit_memzero(current.data, current.len);
    }

    if (previous.len) {
        ngx_explicit_memzero(previous.data, previous.len);
    }

    return NGX_CONF_OK;
}


/* The whole file, less trailing white space; never logged. */

static ngx_int_t
ngx_http_auth_oidc_read_secret(ngx_conf_t *cf,
    ngx_http_auth_oidc_store_t *store, ngx_str_t *name, ngx_str_t *secret)
{
    u_char           *p;
    ssize_t           n;
    ngx_str_t         path;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    path = *name;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open the secret file \"%V\" of "
                           "oidc_session_store \"%V\"", &path, &store->name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the secret file \"%V\" is unreadable or larger "
                           "than 4k", &path);
        (void) ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, (size_t) ngx_file_size(&fi) + 1);
    if (p == NULL) {
        (void) ngx_close_file(file.fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&file, p, (size_t) ngx_file_size(&fi), 0);
    (void) ngx_close_file(file.fd);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'
                     || p[n - 1] == ' ' || p[n - 1] == '\t'))
    {
        n--;
    }

    if (n < AUTH_OIDC_SECRET_MIN_LEN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the secret file \"%V\" of oidc_session_store "
                           "\"%V\" holds less than %d bytes", &path,
                           &store->name, AUTH_OIDC_SECRET_MIN_LEN);
        return NGX_ERROR;
    }

    secret->data = p;
    secret->len = n;

    return NGX_OK;
}
