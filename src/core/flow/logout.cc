#include "flow/logout.h"

#include <utility>

#include "common/text.h"
#include "common/url.h"
#include "flow/token.h"
#include "session/record.h"

namespace auth_oidc {

std::unique_ptr<LogoutFlow> LogoutFlow::create(
    const LogoutConfig &config, std::optional<std::string_view> sessionId) {
    std::unique_ptr<LogoutFlow> flow(new LogoutFlow());
    flow->provider_ = config.provider;
    flow->clientId_ = config.clientId;
    flow->postLogoutUri_ = config.postLogoutUri;
    flow->idTokenHint_ = config.idTokenHint;
    flow->revokeTokens_ = config.revokeTokens;
    flow->clientSecret_ = config.clientSecret;
    flow->client_ = config.client;
    flow->revokeTimeoutMs_ = config.revokeTimeoutMs;
    if (sessionId && !sessionId->empty()) {
        flow->sessionId_.emplace(*sessionId);
    }
    return flow;
}

const Step &LogoutFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    if (!sessionId_) {
        return metadata();
    }
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Take;
    step_.record = RecordKind::Session;
    step_.key = provider_ + "\n" + *sessionId_;
    state_ = State::Session;
    return step_;
}

const Step &LogoutFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::Session:
        if (result.store == StepResult::Store::Failed) {
            // The session may live on in the store: say so, keep the cookie.
            step_ = Step();
            step_.kind = StepKind::Reply;
            step_.status = 503;
            step_.title = "Logout failed";
            step_.detail = "The session store is not available; please try again.";
            state_ = State::Done;
            return step_;
        }
        if (result.store == StepResult::Store::Done) {
            auto session = decodeSession(result.value);
            if (session) {
                if (idTokenHint_) {
                    idToken_ = session.value().idToken;
                }
                // Revoking the refresh token ends its grant's access
                // tokens too at most providers (RFC 7009, 2.1).
                if (!session.value().refreshToken.empty()) {
                    revokeToken_ = session.value().refreshToken;
                    revokeHint_ = "refresh_token";
                } else {
                    revokeToken_ = session.value().accessToken;
                    revokeHint_ = "access_token";
                }
                const std::string sub = printableForDetail(session.value().sub, 255);
                metadata();
                step_.logLevel = LogLevel::Info;
                step_.log = "provider \"" + provider_ + "\": logout of \"" + sub + "\"";
                return step_;
            }
        }
        return metadata();
    case State::Metadata:
        onward(result.discovery);
        if (revokeTokens_ && !revokeToken_.empty() && result.discovery) {
            return revoke(*result.discovery);
        }
        return step_;
    case State::Revoke:
        // Whatever the answer: the session is gone here already.
        step_ = std::move(reply_);
        if (result.transport != StepResult::Transport::Ok ||
            result.httpStatus != 200) {
            step_.logLevel = LogLevel::Warn;
            step_.log = "provider \"" + provider_ +
                        "\": token revocation at logout failed: " +
                        (result.transport != StepResult::Transport::Ok
                             ? printableForDetail(result.transportError, 200)
                             : "HTTP status " +
                                   std::to_string(result.httpStatus));
        }
        state_ = State::Done;
        return step_;
    case State::Done:
        break;
    }
    return step_;
}

const Step &LogoutFlow::metadata() {
    step_ = Step();
    step_.kind = StepKind::Metadata;
    step_.metadataOptional = true;
    state_ = State::Metadata;
    return step_;
}

const Step &LogoutFlow::onward(const Discovery *discovery) {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.clearSession = true;
    state_ = State::Done;

    const std::optional<std::string> *endpoint =
        discovery ? &discovery->endpoint(Discovery::Endpoint::EndSession) : nullptr;
    if (endpoint && *endpoint && !(*endpoint)->empty()) {
        step_.status = 302;
        step_.location = endSessionUrl(**endpoint, clientId_, postLogoutUri_, idToken_);
        return step_;
    }
    if (!postLogoutUri_.empty()) {
        step_.status = 302;
        step_.location = postLogoutUri_;
        return step_;
    }
    step_.status = 200;
    step_.title = "Logged out";
    return step_;
}

// RFC 7009: the answer the browser gets waits for the revocation, at most
// revokeTimeoutMs.
const Step &LogoutFlow::revoke(const Discovery &discovery) {
    if (!discovery.endpoint(Discovery::Endpoint::Revocation)) {
        return step_;
    }
    auto request = buildRevocationRequest(
        clientId_, clientSecret_, revokeToken_, revokeHint_,
        discovery.list(Discovery::List::TokenEndpointAuthMethods),
        clientProof(client_, discovery, client_.now));
    if (!request) {
        return step_;
    }
    reply_ = std::move(step_);
    step_ = formPost(Discovery::Endpoint::Revocation,
                     std::move(request).value());
    step_.timeoutMs = revokeTimeoutMs_;
    state_ = State::Revoke;
    return step_;
}

std::string LogoutFlow::endSessionUrl(std::string_view endpoint,
                                      std::string_view clientId,
                                      std::string_view postLogoutUri,
                                      std::string_view idTokenHint) {
    std::string url(endpoint);
    url += endpoint.find('?') == std::string_view::npos ? '?' : '&';
    url += "client_id=";
    appendPercentEncoded(url, clientId);
    if (!postLogoutUri.empty()) {
        url += "&post_logout_redirect_uri=";
        appendPercentEncoded(url, postLogoutUri);
    }
    if (!idTokenHint.empty()) {
        url += "&id_token_hint=";
        appendPercentEncoded(url, idTokenHint);
    }
    return url;
}

}  // namespace auth_oidc
