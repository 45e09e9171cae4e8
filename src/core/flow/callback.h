#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "flow/step.h"
#include "flow/token.h"
#include "jwt/algorithm.h"
#include "session/record.h"

namespace auth_oidc {

class Claims;
class TokenResponse;

struct CallbackConfig {
    std::string_view provider;     // oidc_provider name
    std::string_view issuer;
    std::string_view clientId;
    std::string_view clientSecret;
    // How the client authenticates at the provider's endpoints (method,
    // key); the flow adds the token endpoint and the time.
    ClientProof client;
    // Absolute, exactly as the authorization request sent it.
    std::string_view redirectUri;
    // id_token_algorithms, space-separated.
    std::string_view algorithms;
    std::int64_t leeway = 0;
    std::int64_t sessionTimeout = 0;
    std::int64_t idleTimeout = 0;  // 0: none
    // userinfo on: claims from userinfo_endpoint join the ID token's.
    bool userinfo = false;
    // Sessions are listed by "sid" and "sub" for logout from the provider.
    bool indexSessions = false;
    // What the session keeps of the tokens (Issue 15): the ID token for
    // id_token_hint, $oidc_id_token, claim paths and userinfo merges; the
    // access token for $oidc_access_token and revocation. The refresh
    // token is always kept: it is what refreshes.
    bool keepIdToken = true;
    bool keepAccessToken = true;
    // ... and, not kept otherwise, kept when it is what a logout revokes
    // (the session has no refresh token)
    bool revokeAccessToken = false;
    // The claims the session keeps ("session_claims").
    ClaimSelection claims;
};

// One callback: its query (percent-decoded; std::nullopt when absent or
// empty), the started login its cookie held, a fresh session id, the clock.
struct CallbackRequest {
    std::string_view state;
    std::optional<std::string_view> code;
    std::optional<std::string_view> error;
    std::optional<std::string_view> errorDescription;
    std::optional<std::string_view> iss;
    PendingLoginFields pending;
    std::string_view sessionId;
    std::int64_t now = 0;
};

// The callback at redirect_uri (OpenID Connect Core 1.0, 3.1.2.5-3.1.3.7;
// RFC 9207) as a state machine: record the state as used (once), check the
// answer, wait for metadata, exchange the code, validate the ID token
// (once more after a keys refetch for an unknown key id), store the new
// session, then send the browser back. Every step it asks for is plain
// data; the driver feeds back how it went. No session exists before every
// check passed.
class CallbackFlow {
public:
    // Errors: InvalidArgument (empty state, session id or nonce; an
    // algorithm list that does not parse).
    static Result<std::unique_ptr<CallbackFlow>> create(
        const CallbackConfig &config, const CallbackRequest &request);

    ~CallbackFlow();
    CallbackFlow(const CallbackFlow &) = delete;
    CallbackFlow &operator=(const CallbackFlow &) = delete;

    // The first step.
    const Step &start();
    // The next step after the last one went as result says. After a Reply
    // the flow is over: resume() keeps answering that Reply.
    const Step &resume(const StepResult &result);

    bool done() const noexcept { return state_ == State::Done; }

private:
    enum class State {
        Start, UsedState, Metadata, Token, Keys, Userinfo, Session, IndexSid,
        IndexSub, Done
    };

    CallbackFlow() = default;

    const Step &afterUsedState(const StepResult &result);
    const Step &afterMetadata(const StepResult &result);
    const Step &afterToken(const StepResult &result);
    const Step &validate(const Jwks *jwks);
    const Step &afterUserinfo(const StepResult &result);
    const Step &storeSession(const Claims &claims);
    const Step &indexStep(State state, std::string_view kind,
                          std::string_view value);
    const Step &loggedIn();

    struct TokenRefusal {
        std::string page;  // for the person in the browser
        std::string fix;   // for the operator, after the log line
    };
    TokenRefusal explainTokenRefusal(const Error &error, unsigned httpStatus);

    const Step &reply(int status, std::string title, std::string detail,
                      LogLevel level = LogLevel::None, std::string log = {});
    const Step &loginExpired(std::string log);

    // Owned copies of the inputs.
    std::string provider_, issuer_, clientId_, clientSecret_, redirectUri_;
    ClientProof client_;
    AlgSet algs_;
    std::int64_t leeway_ = 0;
    std::int64_t sessionTimeout_ = 0;
    std::int64_t idleTimeout_ = 0;
    bool userinfo_ = false, indexSessions_ = false;
    bool keepIdToken_ = true, keepAccessToken_ = true;
    ClaimSelection claimSelection_;
    std::string claimNames_;  // what claimSelection_.names views
    bool revokeAccessToken_ = false;
    bool userinfoEndpoint_ = false;
    std::string state_value_, sessionId_, nonce_, codeVerifier_, returnPath_;
    std::optional<std::string> code_, error_, errorDescription_, iss_;
    std::int64_t pendingExpires_ = 0;
    std::string acrValues_;       // the step-up the login asked for
    std::int64_t maxAge_ = -1;
    std::int64_t now_ = 0;

    std::unique_ptr<TokenResponse> tokens_;
    std::unique_ptr<Claims> claims_;    // the ID token's, once valid
    std::string userinfoJson_;
    std::string sid_, sub_;
    std::int64_t expires_ = 0;
    bool keysRefetched_ = false;

    State state_ = State::Start;
    Step step_;
};

}  // namespace auth_oidc
