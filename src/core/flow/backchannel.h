#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "flow/step.h"
#include "jwt/algorithm.h"
#include "jwt/logout_token.h"

namespace auth_oidc {

// Why a back-channel logout was refused (Step::reason of its Reply).
// Same values as the module's counters.
enum class LogoutRefusal {
    None = -1,
    Malformed = 0,  // no logout_token, or not a compact JWS
    Signature,      // alg, key or signature
    Claims,         // iss, aud, iat, exp, events, nonce, sub/sid, jti
    Replayed,       // its jti was seen before
    Unavailable,    // no metadata or keys, or the store did not answer
};

struct BackchannelConfig {
    std::string_view provider;     // oidc_provider name
    std::string_view issuer;
    std::string_view clientId;
    std::string_view clientSecret;
    std::string_view algorithms;   // id_token_algorithms
    std::int64_t leeway = 0;
    // A logout token issued longer ago than this is refused, and its jti
    // is remembered this long (plus leeway) when it has no "exp".
    std::int64_t maxAge = 600;
};

// OpenID Connect Back-Channel Logout 1.0, section 2.8: the provider POSTs
// a logout token; the flow waits for the provider's keys, validates it
// fully (refetching keys once for an unknown kid), remembers its jti
// (put-if-absent until it expires: a replay is refused), and ends every
// session of its "sid", or of its "sub" when it names no sid, on every
// host sharing the store. Answers 200, or 400 with an OAuth error body
// (title: the error code, detail: its description), never a page.
class BackchannelFlow {
public:
    // token: the logout_token form parameter, decoded (may be empty).
    static Result<std::unique_ptr<BackchannelFlow>> create(
        const BackchannelConfig &config, std::string_view token,
        std::int64_t now);

    const Step &start();
    const Step &resume(const StepResult &result);
    bool done() const noexcept { return state_ == State::Done; }

private:
    enum class State { Start, Metadata, Keys, Jti, Sessions, Forget, Done };

    BackchannelFlow() = default;

    const Step &validate(const Jwks *jwks);
    const Step &afterJti(const StepResult &result);
    const Step &refuse(LogoutRefusal reason, std::string description,
                       int status = 400);

    std::string provider_, issuer_, clientId_, clientSecret_, token_;
    AlgSet algs_;
    std::int64_t leeway_ = 0, maxAge_ = 0, now_ = 0;
    bool keysRefetched_ = false;
    LogoutTokenClaims claims_;

    State state_ = State::Start;
    Step step_;
};

}  // namespace auth_oidc
