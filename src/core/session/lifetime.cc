#include "session/lifetime.h"

#include <algorithm>

namespace auth_oidc {

TokenState tokenState(const SessionFields &session, std::int64_t now,
                      std::int64_t margin) noexcept {
    return tokenState(!session.refreshToken.empty(),
                      session.accessTokenExpires, session.idTokenExpires,
                      session.refreshed, now, margin);
}

TokenState tokenState(bool hasRefreshToken, std::int64_t accessTokenExpires,
                      std::int64_t idTokenExpires, std::int64_t refreshed,
                      std::int64_t now, std::int64_t margin) noexcept {
    if (!hasRefreshToken) {
        return TokenState::Valid;
    }
    std::int64_t expires = 0;
    for (const std::int64_t t : {accessTokenExpires, idTokenExpires}) {
        if (t > 0 && (expires == 0 || t < expires)) {
            expires = t;
        }
    }
    if (expires == 0) {
        return TokenState::Valid;
    }
    if (now >= expires) {
        return TokenState::Expired;
    }
    const std::int64_t lifetime = expires - refreshed;
    if (lifetime > 0) {
        margin = std::min(margin, lifetime / 2);
    }
    return now >= expires - std::max<std::int64_t>(margin, 0)
               ? TokenState::Due
               : TokenState::Valid;
}

std::int64_t sessionExpiry(std::int64_t now, std::int64_t sessionTimeout,
                           std::int64_t idTokenExpires,
                           bool hasRefreshToken) noexcept {
    const std::int64_t expires = now + sessionTimeout;
    if (hasRefreshToken || idTokenExpires <= 0) {
        return expires;
    }
    return std::min(expires, idTokenExpires);
}

}  // namespace auth_oidc
