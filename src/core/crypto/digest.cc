#include "crypto/digest.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/base64url.h"

namespace auth_oidc {

std::optional<std::string> sha256Base64Url(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLen = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &digestLen, EVP_sha256(),
                   nullptr) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return encodeBase64Url(digest, digestLen);
}

}  // namespace auth_oidc
