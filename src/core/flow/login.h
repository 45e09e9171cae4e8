#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "flow/step.h"

namespace auth_oidc {

class Keyring;

struct LoginConfig {
    std::string_view provider;       // oidc_provider name
    std::string_view clientId;
    // Absolute: the callback as the provider must see it.
    std::string_view redirectUri;
    std::string_view scope;
    std::string_view extraArgs;
    // pkce: 1 on, 0 off, -1 as the provider advertises (on unless it lists
    // methods without S256).
    int pkce = -1;
    std::int64_t loginTimeout = 600;
    // Ask the store first whether it answers (Redis): nobody is sent to
    // type a password for a login whose callback could not be recorded.
    bool probeStore = false;
    // Seals the started login into its cookie.
    const Keyring *keyring = nullptr;
    // Hosts besides the request's own a login may come back to
    // (space-separated; see returnTarget()).
    std::string_view returnHosts;
};

struct LoginRequest {
    const Discovery *discovery = nullptr;
    // Where to come back: the request's URI as sent, or an absolute URL on
    // the request's own host or one of returnHosts (see returnTarget()).
    std::string_view uri;
    // The request's "http(s)://host[:port]"; empty: local paths only.
    std::string_view origin;
    // The callback is on another host than the request (an absolute
    // redirect_uri): a local path comes back on origin.
    bool absoluteReturn = false;
    // The location's own authorization arguments ("a=b&c=d", checked as
    // extra_auth_args), after the provider's.
    std::string_view extraArgs;
    // Step-up: acr values to ask for (space-separated) and the longest age
    // of the authentication in seconds (-1: not asked); the callback then
    // checks the ID token's "acr" and "auth_time" against them.
    std::string_view acrValues;
    std::int64_t maxAge = -1;
    // Fresh random values (base64url of 32 random bytes each).
    std::string_view state;
    std::string_view nonce;
    std::string_view verifier;
    // kGcmNonceLength random bytes for sealing.
    std::string_view sealNonce;
    std::int64_t now = 0;
};

// The start of a login (OpenID Connect Core 1.0, 3.1.2.1; RFC 7636): the
// started login (nonce, verifier, return path, provider, expiry) sealed for
// the browser's own cookie, bound to the state and the provider, and the
// redirect to the authorization endpoint. Nothing is stored server-side.
class LoginFlow {
public:
    // Errors: InvalidArgument (no metadata, no keyring, a state, nonce or
    // verifier that is not base64url of 32 bytes, a seal nonce of the wrong
    // length).
    static Result<std::unique_ptr<LoginFlow>> create(const LoginConfig &config,
                                                     const LoginRequest &request);

    const Step &start();
    const Step &resume(const StepResult &result);
    bool done() const noexcept { return state_ == State::Done; }

private:
    enum class State { Start, Probe, Done };

    LoginFlow() = default;

    const Step &redirect();
    const Step &fail(std::string what, std::string detail);

    // Owned copies: a step may be taken after the caller's views are gone.
    const Keyring *keyring_ = nullptr;
    std::int64_t loginTimeout_ = 0;
    bool probeStore_ = false;
    std::string provider_, clientId_, redirectUri_, scope_, extraArgs_;
    std::string endpoint_;
    bool pkce_ = true;
    std::string uri_, stateValue_, nonce_, verifier_, sealNonce_;
    std::string origin_, returnHosts_, acrValues_;
    bool absoluteReturn_ = false;
    std::int64_t maxAge_ = -1;
    std::int64_t now_ = 0;

    State state_ = State::Start;
    Step step_;
};

// The started login's cookie, both ways: base64url of the record sealed
// under the keyring with "login" LF provider LF state as associated data,
// so it opens for that state and provider only.
Result<std::string> sealStartedLogin(const Keyring &keyring,
                                     std::string_view provider,
                                     std::string_view state,
                                     std::string_view record,
                                     const unsigned char *nonce);
// The record; errors: Decode (not base64url, unknown key id), Auth (altered,
// another state or provider, another secret).
Result<std::string> openStartedLogin(const Keyring &keyring,
                                     std::string_view provider,
                                     std::string_view state,
                                     std::string_view cookie);

}  // namespace auth_oidc
