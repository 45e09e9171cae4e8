#pragma once

#include <cstdint>

#include "session/record.h"

namespace auth_oidc {

// What a session's tokens need at a request. Same values as
// auth_oidc_tokens_t.
enum class TokenState {
    Valid = 0,  // nothing to do
    Due,        // within the margin of expiry: refresh, usable meanwhile
    Expired,    // expired: refresh before the session is used again
};

// The tokens expire at the earlier of the access token's and the ID
// token's expiry (each when known). Only a session with a refresh token is
// ever Due or Expired: without one, the session itself ends with its ID
// token (sessionExpiry()). margin is capped at half the tokens' lifetime
// as issued, so that a token of a few seconds is not refreshed at every
// request.
TokenState tokenState(const SessionFields &session, std::int64_t now,
                      std::int64_t margin) noexcept;
// The same from the facts it needs (a session whose tokens are packed).
TokenState tokenState(bool hasRefreshToken, std::int64_t accessTokenExpires,
                      std::int64_t idTokenExpires, std::int64_t refreshed,
                      std::int64_t now, std::int64_t margin) noexcept;

// When a session obtained (or refreshed) at now ends unless refreshed:
// session_timeout later ("deleted unless refreshed", as NGINX Plus
// defines it), and never after its ID token's expiry when there is no
// refresh token to renew it with (idTokenExpires 0: unknown).
std::int64_t sessionExpiry(std::int64_t now, std::int64_t sessionTimeout,
                           std::int64_t idTokenExpires,
                           bool hasRefreshToken) noexcept;

}  // namespace auth_oidc
