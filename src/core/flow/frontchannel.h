#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "flow/step.h"

namespace auth_oidc {

struct FrontchannelConfig {
    std::string_view provider;   // oidc_provider name
    std::string_view issuer;
};

// OpenID Connect Front-Channel Logout 1.0, section 2: the provider's page
// loads frontchannel_logout_uri in an iframe, with "iss" and "sid" when it
// sends them. With both, every session of that sid ends (the iframe is
// cross-site: a SameSite cookie is not sent along); with neither, the
// session of the cookie, when there is one. "iss" must be the provider's.
// The answer is a small page, with the session cookie cleared.
class FrontchannelFlow {
public:
    static std::unique_ptr<FrontchannelFlow> create(
        const FrontchannelConfig &config, std::optional<std::string_view> iss,
        std::optional<std::string_view> sid,
        std::optional<std::string_view> sessionId);

    const Step &start();
    const Step &resume(const StepResult &result);
    bool done() const noexcept { return state_ == State::Done; }

private:
    enum class State { Start, Ending, Done };

    FrontchannelFlow() = default;

    const Step &reply(int status, std::string title, std::string detail);

    std::string provider_, issuer_;
    std::optional<std::string> iss_, sid_, sessionId_;

    State state_ = State::Start;
    Step step_;
};

}  // namespace auth_oidc
