#include "flow/pkce.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>

#include "common/base64url.h"
#include "common/url.h"

namespace auth_oidc {

bool isValidCodeVerifier(std::string_view verifier) noexcept {
    return verifier.size() >= kMinCodeVerifier &&
           verifier.size() <= kMaxCodeVerifier &&
           std::all_of(verifier.begin(), verifier.end(), isUnreserved);
}

std::optional<std::string> pkceS256(std::string_view verifier) {
    if (!isValidCodeVerifier(verifier)) {
        return std::nullopt;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLen = 0;
    if (EVP_Digest(verifier.data(), verifier.size(), digest, &digestLen,
                   EVP_sha256(), nullptr) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return encodeBase64Url(digest, digestLen);
}

}  // namespace auth_oidc
