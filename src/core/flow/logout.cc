#include "flow/logout.h"

#include <utility>

#include "common/text.h"
#include "common/url.h"
#include "session/record.h"

namespace auth_oidc {

std::unique_ptr<LogoutFlow> LogoutFlow::create(
    const LogoutConfig &config, std::optional<std::string_view> sessionId) {
    std::unique_ptr<LogoutFlow> flow(new LogoutFlow());
    flow->provider_ = config.provider;
    flow->clientId_ = config.clientId;
    flow->postLogoutUri_ = config.postLogoutUri;
    flow->idTokenHint_ = config.idTokenHint;
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
                const std::string sub = printableForDetail(session.value().sub, 255);
                metadata();
                step_.logLevel = LogLevel::Info;
                step_.log = "provider \"" + provider_ + "\": logout of \"" + sub + "\"";
                return step_;
            }
        }
        return metadata();
    case State::Metadata:
        return onward(result.discovery);
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
