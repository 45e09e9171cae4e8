#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "flow/step.h"
#include "flow/token.h"

namespace auth_oidc {

struct LogoutConfig {
    std::string_view provider;       // oidc_provider name
    std::string_view clientId;
    // post_logout_uri, absolute (empty: none).
    std::string_view postLogoutUri;
    // logout_token_hint on: id_token_hint goes to end_session_endpoint.
    bool idTokenHint = false;
    // revoke_tokens on: the session's refresh token (else its access
    // token) is revoked at revocation_endpoint (RFC 7009), bounded by
    // revokeTimeoutMs, before the browser goes on.
    bool revokeTokens = false;
    std::string_view clientSecret;
    // How the client authenticates at the provider's endpoints (method,
    // key); the flow adds the token endpoint and the time.
    ClientProof client;
    std::int64_t revokeTimeoutMs = 2000;
};

// logout_uri, once the request is known to be a same-origin POST: the
// session ends server-side (taken from the store, so that a second logout
// finds nothing), its cookie is cleared, and the browser goes to the
// provider's end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0,
// section 2), to post_logout_uri, or sees a "Logged out" page. Without
// provider metadata the local logout is all there is: never a 503.
class LogoutFlow {
public:
    // sessionId: the session cookie's value, std::nullopt without one.
    static std::unique_ptr<LogoutFlow> create(
        const LogoutConfig &config, std::optional<std::string_view> sessionId);

    const Step &start();
    const Step &resume(const StepResult &result);
    bool done() const noexcept { return state_ == State::Done; }

    // end_session_endpoint?client_id=...[&post_logout_redirect_uri=...]
    // [&id_token_hint=...], each value percent-encoded (RFC 3986).
    static std::string endSessionUrl(std::string_view endpoint,
                                     std::string_view clientId,
                                     std::string_view postLogoutUri,
                                     std::string_view idTokenHint);

private:
    enum class State { Start, Session, Metadata, Revoke, Done };

    LogoutFlow() = default;

    const Step &metadata();
    const Step &onward(const Discovery *discovery);
    const Step &revoke(const Discovery &discovery);

    std::string provider_, clientId_, clientSecret_, postLogoutUri_;
    ClientProof client_;
    bool idTokenHint_ = false;
    bool revokeTokens_ = false;
    std::int64_t revokeTimeoutMs_ = 0;
    // what revocation_endpoint is told, and the answer given after it
    std::string revokeToken_, revokeHint_;
    Step reply_;
    std::optional<std::string> sessionId_;
    std::string idToken_;

    State state_ = State::Start;
    Step step_;
};

}  // namespace auth_oidc
