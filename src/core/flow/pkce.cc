#include "flow/pkce.h"

#include <algorithm>

#include "common/url.h"
#include "crypto/digest.h"

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
    return sha256Base64Url(verifier);
}

}  // namespace auth_oidc
