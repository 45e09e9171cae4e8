
/*
 * What the fuzz targets of src/ngx need around the module's C files: the
 * few nginx functions those files call, without nginx's .c files.
 */


#ifndef _NGX_HTTP_AUTH_OIDC_FUZZ_H_INCLUDED_
#define _NGX_HTTP_AUTH_OIDC_FUZZ_H_INCLUDED_


#include "ngx_http_auth_oidc_module.h"


/* Frees every block ngx_pnalloc() gave since the last call. */
void ngx_http_auth_oidc_fuzz_pool_free(void);


#endif /* _NGX_HTTP_AUTH_OIDC_FUZZ_H_INCLUDED_ */
