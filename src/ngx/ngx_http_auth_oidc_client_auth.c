
/*
 * How the client proves itself to the provider (OpenID Connect Core 1.0,
 * section 9): token_endpoint_auth picks the method (auto by default), a
 * secret comes from client_secret or client_secret_file, a private key for
 * private_key_jwt (RFC 7523) from client_key_file. Files are read at
 * configuration time, so that "nginx -t" checks them, and again in a
 * worker when they change (a rotated secret in a container): at most once
 * a second, when a request needs the client's credentials; a file that
 * cannot be read or is not usable keeps what was read before, logged.
 */


#include "ngx_http_auth_oidc_module.h"


/* a secret or a PEM key is a few KiB at most */
#define NGX_HTTP_AUTH_OIDC_CREDENTIAL_MAX  (64 * 1024)


static ngx_int_t ngx_http_auth_oidc_read_credential(ngx_str_t *path,
    ngx_file_info_t *fi, ngx_str_t *out, ngx_log_t *log, ngx_uint_t level);
static ngx_uint_t ngx_http_auth_oidc_file_changed(ngx_str_t *path,
    ngx_http_auth_oidc_credential_file_t *f, ngx_file_info_t *fi,
    ngx_log_t *log);
static void ngx_http_auth_oidc_file_seen(
    ngx_http_auth_oidc_credential_file_t *f, ngx_file_info_t *fi);
static void ngx_http_auth_oidc_client_key_cleanup(void *data);
static void ngx_http_auth_oidc_client_reread(ngx_log_t *log,
    ngx_http_auth_oidc_provider_conf_t *prov);


ngx_conf_enum_t  ngx_http_auth_oidc_client_auth_methods[] = {
    { ngx_string("auto"), AUTH_OIDC_CLIENT_AUTH_AUTO },
    { ngx_string("client_secret_basic"), AUTH_OIDC_CLIENT_AUTH_BASIC },
    { ngx_string("client_secret_post"), AUTH_OIDC_CLIENT_AUTH_POST },
    { ngx_string("client_secret_jwt"), AUTH_OIDC_CLIENT_AUTH_SECRET_JWT },
    { ngx_string("private_key_jwt"), AUTH_OIDC_CLIENT_AUTH_PRIVATE_KEY_JWT },
    { ngx_string("none"), AUTH_OIDC_CLIENT_AUTH_NONE },
    { ngx_null_string, 0 }
};


/* The provider block's checks and first reading of the files. */

char *
ngx_http_auth_oidc_client_auth_merge(ngx_conf_t *cf,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t            pem;
    ngx_file_info_t      fi;
    auth_oidc_error_t    err;
    auth_oidc_status_t   rc;
    ngx_pool_cleanup_t  *cln;

    ngx_conf_init_uint_value(prov->client_auth, AUTH_OIDC_CLIENT_AUTH_AUTO);

    if (prov->client_secret.len && prov->client_secret_file.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_provider \"%V\": \"client_secret\" and "
                           "\"client_secret_file\" are both set: keep one",
                           &prov->name);
        return NGX_CONF_ERROR;
    }

    if (prov->client_secret_file.len) {
        if (ngx_conf_full_name(cf->cycle, &prov->client_secret_file, 1)
            != NGX_OK
            || ngx_http_auth_oidc_read_credential(&prov->client_secret_file,
                                                  &fi, &pem, cf->log,
                                                  NGX_LOG_EMERG)
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /* the configuration's memory; a worker's later reading its own */
        prov->client_secret.len = pem.len;
        prov->client_secret.data = ngx_pstrdup(cf->pool, &pem);

        ngx_explicit_memzero(pem.data, pem.len);
        ngx_free(pem.data);

        if (prov->client_secret.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_http_auth_oidc_file_seen(&prov->secret_file, &fi);
    }

    if (prov->client_key_id.len && prov->client_key_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "oidc_provider \"%V\": \"client_key_id\" names "
                           "the key of \"client_key_file\", which is not set",
                           &prov->name);
        return NGX_CONF_ERROR;
    }

    if (prov->client_key_file.len) {
        if (ngx_conf_full_name(cf->cycle, &prov->client_key_file, 1) != NGX_OK
            || ngx_http_auth_oidc_read_credential(&prov->client_key_file, &fi,
                                                  &pem, cf->log,
                                                  NGX_LOG_EMERG)
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        rc = auth_oidc_client_key_new(ngx_http_auth_oidc_view(&pem),
                                  ngx_http_auth_oidc_view(&prov->client_key_id),
                                  &prov->client_key, &err);

        ngx_explicit_memzero(pem.data, pem.len);
        ngx_free(pem.data);

        if (rc != AUTH_OIDC_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": client_key_file "
                               "\"%V\": %s", &prov->name,
                               &prov->client_key_file, err.msg);
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_auth_oidc_client_key_cleanup;
        cln->data = prov;

        ngx_http_auth_oidc_file_seen(&prov->key_file, &fi);
    }

    switch (prov->client_auth) {

    case AUTH_OIDC_CLIENT_AUTH_PRIVATE_KEY_JWT:
        if (prov->client_key == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": private_key_jwt needs "
                               "\"client_key_file\"", &prov->name);
            return NGX_CONF_ERROR;
        }
        break;

    case AUTH_OIDC_CLIENT_AUTH_BASIC:
    case AUTH_OIDC_CLIENT_AUTH_POST:
    case AUTH_OIDC_CLIENT_AUTH_SECRET_JWT:
        /* a key these methods would never use */
        if (prov->client_key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": \"client_key_file\" "
                               "is used by token_endpoint_auth private_key_jwt "
                               "(or auto) only", &prov->name);
            return NGX_CONF_ERROR;
        }

        if (prov->client_secret.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": this token_endpoint_auth "
                               "needs \"client_secret\" or "
                               "\"client_secret_file\"", &prov->name);
            return NGX_CONF_ERROR;
        }
        break;

    case AUTH_OIDC_CLIENT_AUTH_NONE:
        if (prov->client_secret.len || prov->client_key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "oidc_provider \"%V\": token_endpoint_auth "
                               "none with a client secret or key set",
                               &prov->name);
            return NGX_CONF_ERROR;
        }
        break;
    }

    return NGX_CONF_OK;
}


/*
 * The client's secret and proof for a flow that authenticates it (or
 * checks an HS* signature with the secret): as the files are now.
 */

void
ngx_http_auth_oidc_client_credentials(ngx_log_t *log,
    ngx_http_auth_oidc_provider_conf_t *prov, auth_oidc_str_t *secret,
    auth_oidc_client_proof_t *proof)
{
    if ((prov->client_secret_file.len || prov->client_key_file.len)
        && prov->credentials_checked != ngx_time())
    {
        prov->credentials_checked = ngx_time();
        ngx_http_auth_oidc_client_reread(log, prov);
    }

    *secret = ngx_http_auth_oidc_view(&prov->client_secret);

    if (proof) {
        proof->method = (int) prov->client_auth;
        proof->key = prov->client_key;
    }
}


static void
ngx_http_auth_oidc_client_reread(ngx_log_t *log,
    ngx_http_auth_oidc_provider_conf_t *prov)
{
    ngx_str_t                text;
    ngx_file_info_t          fi;
    auth_oidc_error_t        err;
    auth_oidc_client_key_t  *key;

    if (prov->client_secret_file.len
        && ngx_http_auth_oidc_file_changed(&prov->client_secret_file,
                                           &prov->secret_file, &fi, log)
        && ngx_http_auth_oidc_read_credential(&prov->client_secret_file, &fi,
                                              &text, log, NGX_LOG_ERR)
           == NGX_OK)
    {
        if (prov->secret_file.owned) {
            ngx_explicit_memzero(prov->client_secret.data,
                                 prov->client_secret.len);
            ngx_free(prov->client_secret.data);
        }

        prov->client_secret = text;
        prov->secret_file.owned = 1;

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "auth_oidc: provider \"%V\": client_secret_file \"%V\" "
                      "changed: the new secret is used", &prov->name,
                      &prov->client_secret_file);
    }

    if (prov->client_key_file.len
        && ngx_http_auth_oidc_file_changed(&prov->client_key_file,
                                           &prov->key_file, &fi, log)
        && ngx_http_auth_oidc_read_credential(&prov->client_key_file, &fi,
                                              &text, log, NGX_LOG_ERR)
           == NGX_OK)
    {
        if (auth_oidc_client_key_new(ngx_http_auth_oidc_view(&text),
                                  ngx_http_auth_oidc_view(&prov->client_key_id),
                                  &key, &err)
            != AUTH_OIDC_OK)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "auth_oidc: provider \"%V\": client_key_file "
                          "\"%V\" changed but is refused, the previous key "
                          "stays: %s", &prov->name, &prov->client_key_file,
                          err.msg);

        } else {
            /* flows under way keep the old key: the core shares it */
            if (prov->key_file.owned) {
                auth_oidc_client_key_free(prov->client_key);
            }

            prov->client_key = key;
            prov->key_file.owned = 1;

            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "auth_oidc: provider \"%V\": client_key_file "
                          "\"%V\" changed: the new key is used",
                          &prov->name, &prov->client_key_file);
        }

        ngx_explicit_memzero(text.data, text.len);
        ngx_free(text.data);
    }
}


/*
 * Whether the file is another than the one read (its inode, size or time
 * differ); fi is then its information. A file that is gone is no change:
 * what was read stays (and an error says it once).
 */

static ngx_uint_t
ngx_http_auth_oidc_file_changed(ngx_str_t *path,
    ngx_http_auth_oidc_credential_file_t *f, ngx_file_info_t *fi,
    ngx_log_t *log)
{
    if (ngx_file_info(path->data, fi) == NGX_FILE_ERROR) {
        if (!f->missing) {
            f->missing = 1;
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          ngx_file_info_n " \"%V\" failed: the credentials "
                          "read before stay in use", path);
        }

        return 0;
    }

    f->missing = 0;

    if (ngx_file_mtime(fi) == f->mtime && ngx_file_size(fi) == f->size
        && ngx_file_uniq(fi) == f->uniq)
    {
        return 0;
    }

    /* a file unusable as it is now is not read again until it changes */
    ngx_http_auth_oidc_file_seen(f, fi);

    return 1;
}


static void
ngx_http_auth_oidc_file_seen(ngx_http_auth_oidc_credential_file_t *f,
    ngx_file_info_t *fi)
{
    f->mtime = ngx_file_mtime(fi);
    f->size = ngx_file_size(fi);
    f->uniq = ngx_file_uniq(fi);
}


/*
 * The file's text, without trailing white space (an editor's newline), in
 * memory of its own (ngx_alloc: a worker replaces it). Small local files:
 * nginx reads its configuration, certificates and static files the same
 * way.
 */

static ngx_int_t
ngx_http_auth_oidc_read_credential(ngx_str_t *path, ngx_file_info_t *fi,
    ngx_str_t *out, ngx_log_t *log, ngx_uint_t level)
{
    u_char    *p;
    size_t     size;
    ssize_t    n;
    ngx_fd_t   fd;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(level, log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", path);
        return NGX_ERROR;
    }

    p = NULL;

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        ngx_log_error(level, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", path);
        goto failed;
    }

    size = (size_t) ngx_file_size(fi);

    if (size == 0 || size > NGX_HTTP_AUTH_OIDC_CREDENTIAL_MAX) {
        ngx_log_error(level, log, 0,
                      "\"%V\" is %s", path,
                      size ? "larger than 64 KiB" : "empty");
        goto failed;
    }

    p = ngx_alloc(size, log);
    if (p == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, p, size);

    if (n != (ssize_t) size) {
        ngx_log_error(level, log, n == -1 ? ngx_errno : 0,
                      ngx_read_fd_n " \"%V\" read %z of %uz bytes", path, n,
                      size);
        goto failed;
    }

    while (size && (p[size - 1] == '\n' || p[size - 1] == '\r'
                    || p[size - 1] == ' ' || p[size - 1] == '\t'))
    {
        size--;
    }

    if (size == 0) {
        ngx_log_error(level, log, 0, "\"%V\" is empty", path);
        goto failed;
    }

    (void) ngx_close_file(fd);

    out->data = p;
    out->len = size;

    return NGX_OK;

failed:

    if (p) {
        ngx_free(p);
    }

    (void) ngx_close_file(fd);

    return NGX_ERROR;
}


static void
ngx_http_auth_oidc_client_key_cleanup(void *data)
{
    ngx_http_auth_oidc_provider_conf_t  *prov = data;

    auth_oidc_client_key_free(prov->client_key);
    prov->client_key = NULL;
}
