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
class Jwks;
class TokenResponse;

struct RefreshConfig {
    std::string_view provider;     // oidc_provider name
    std::string_view issuer;
    std::string_view clientId;
    std::string_view clientSecret;
    // How the client authenticates at the provider's endpoints (method,
    // key); the flow adds the token endpoint and the time.
    ClientProof client;
    std::string_view algorithms;   // id_token_algorithms
    std::int64_t leeway = 0;
    std::int64_t sessionTimeout = 0;
    std::int64_t idleTimeout = 0;  // 0: none
    std::int64_t margin = 0;       // refresh this long before expiry
    bool userinfo = false;
    // Sessions are listed by "sid" and "sub" for logout from the provider.
    bool indexSessions = false;
    bool keepIdToken = true;       // as CallbackConfig's
    bool keepAccessToken = true;
    bool revokeAccessToken = false;
    ClaimSelection claims;         // as CallbackConfig's
    // The longest a refresh may take (the provider's total timeout and
    // some): the lock's lifetime, so that a crashed refresher never blocks
    // the session for longer.
    std::int64_t lockSeconds = 0;
    // How long a request whose tokens expired waits for another request's
    // refresh of the same session, polled every pollMs.
    std::int64_t waitMs = 0;
    std::int64_t pollMs = 50;
    // After the provider failed to refresh a session, no request tries
    // again for this long: the lock stays, saying so ("f").
    std::int64_t retrySeconds = 10;
};

// One refresh of a session's tokens (OpenID Connect Core 1.0, section 12;
// RFC 6749, section 6) inside a request, as a state machine.
//
// One refresh per session at a time, across workers and hosts: the flow
// first adds a short-lived lock record (put-if-absent) for the session.
// The request that gets it reads the session again (another request may
// have refreshed it just before), refreshes, stores the new session once
// (so a rotated refresh token is never lost to a concurrent write), and
// drops the lock. A request that does not get it goes on with the tokens
// it has while they are valid, or, when they have expired, polls the lock
// until it is gone and then reads the new session (bounded by waitMs).
// A refresh the provider failed leaves the lock for retrySeconds, marked
// "f": meanwhile requests go on with tokens still valid and those whose
// tokens expired are unauthenticated at once, so that a provider that is
// down costs one timeout per session and retry period, not one per
// request.
//
// It ends with Done: Keep (the session as it was), Session (the refreshed
// record in value), Ended (invalid_grant, another subject, or the session
// is gone: unauthenticated from now on), or Unavailable (tokens expired,
// no refresh possible now: unauthenticated for this request, the session
// is kept). A Done for a provider that failed carries the reason in
// detail, for one log line per incident.
class RefreshFlow {
public:
    // Errors: InvalidArgument (empty session id, a record that does not
    // decode, an algorithm list that does not parse).
    static Result<std::unique_ptr<RefreshFlow>> create(
        const RefreshConfig &config, std::string_view sessionId,
        std::string_view record, std::int64_t now);

    ~RefreshFlow();
    RefreshFlow(const RefreshFlow &) = delete;
    RefreshFlow &operator=(const RefreshFlow &) = delete;

    const Step &start();
    const Step &resume(const StepResult &result);
    bool done() const noexcept { return state_ == State::Done; }

    // How many polls a waiting request made (for oidc_status).
    int polls() const noexcept { return polls_; }

private:
    enum class State {
        Start, Lock, LockValue, Waiting, Polled, Recheck, Metadata, Token, Keys,
        Userinfo, Put, IndexSid, IndexSub, EndSession, Release, Done
    };

    RefreshFlow() = default;

    bool usable() const noexcept;
    const Step &afterLock(const StepResult &result);
    const Step &afterLockValue(const StepResult &result);
    const Step &afterPoll(const StepResult &result);
    const Step &afterRecheck(const StepResult &result);
    const Step &afterMetadata(const StepResult &result);
    const Step &afterToken(const StepResult &result);
    const Step &validate(const Jwks *jwks);
    const Step &afterUserinfo(const StepResult &result);
    const Step &storeSession();
    const Step &afterPut(const StepResult &result);
    const Step &indexStep(State state, std::string_view kind,
                          std::string_view value);
    const Step &wait();
    const Step &storeStep(StoreOp op, RecordKind kind, std::string key);
    // Drops the lock, then Done with outcome.
    const Step &release(Outcome outcome, std::string detail = {});
    // The provider could not refresh: the tokens as they are, or none.
    const Step &providerFailed(std::string why);
    // The grant is gone: the session is deleted, then released.
    const Step &endSession(LogLevel level, std::string log);
    const Step &finish();

    bool setRecord(std::string_view record);
    std::string sessionKey() const;
    std::string storeDown() const;

    // Owned copies of the inputs.
    std::string provider_, issuer_, clientId_, clientSecret_;
    ClientProof client_;
    AlgSet algs_;
    std::int64_t leeway_ = 0, sessionTimeout_ = 0, idleTimeout_ = 0;
    std::int64_t margin_ = 0, lockSeconds_ = 0, retrySeconds_ = 0;
    int maxPolls_ = 0;
    std::int64_t pollMs_ = 50;
    bool userinfo_ = false, indexSessions_ = false;
    bool keepIdToken_ = true, keepAccessToken_ = true;
    ClaimSelection claimSelection_;
    std::string claimNames_;  // what claimSelection_.names views
    bool revokeAccessToken_ = false;
    bool userinfoEndpoint_ = false;
    std::string sessionId_;
    std::int64_t now_ = 0;

    // The session as last read, and its decoded fields (views into it).
    std::string record_;
    SessionFields fields_;

    std::unique_ptr<TokenResponse> tokens_;
    std::unique_ptr<Claims> claims_;   // the new ID token's, when one came
    std::string userinfoJson_;
    std::unique_ptr<Claims> userinfoClaims_;
    bool keysRefetched_ = false;
    bool locked_ = false;
    int polls_ = 0;

    // The new session, once built; the outcome after release.
    std::string newRecord_;
    std::int64_t newExpires_ = 0;
    std::string newSid_, newSub_;
    Outcome outcome_ = Outcome::Keep;
    std::string outcomeDetail_;
    LogLevel doneLevel_ = LogLevel::None;  // the Done step's log line
    std::string doneLog_;

    State state_ = State::Start;
    Step step_;
};

}  // namespace auth_oidc
