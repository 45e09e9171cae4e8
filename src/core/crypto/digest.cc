#include "crypto/digest.h"

#include <openssl/sha.h>

#include "common/base64url.h"

namespace auth_oidc {

// SHA256() rather than EVP_Digest(): no provider fetch per call, which
// costs more than hashing a bearer token (one per API request).
std::optional<std::string> sha256Base64Url(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    if (SHA256(reinterpret_cast<const unsigned char *>(data.data()),
               data.size(), digest) == nullptr) {
        return std::nullopt;
    }
    return encodeBase64Url(digest, sizeof(digest));
}

}  // namespace auth_oidc
