#include "flow/frontchannel.h"

#include <utility>

#include "common/text.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

std::optional<std::string> copy(const std::optional<std::string_view> &v) {
    if (!v || v->empty()) {
        return std::nullopt;
    }
    return std::string(*v);
}

}  // namespace

std::unique_ptr<FrontchannelFlow> FrontchannelFlow::create(
    const FrontchannelConfig &config, std::optional<std::string_view> iss,
    std::optional<std::string_view> sid,
    std::optional<std::string_view> sessionId) {
    std::unique_ptr<FrontchannelFlow> flow(new FrontchannelFlow());
    flow->provider_ = config.provider;
    flow->issuer_ = config.issuer;
    flow->iss_ = copy(iss);
    flow->sid_ = copy(sid);
    flow->sessionId_ = copy(sessionId);
    return flow;
}

const Step &FrontchannelFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    if (iss_.has_value() != sid_.has_value()) {
        // Section 2: "iss" and "sid" go together.
        return reply(400, "Logout failed",
                     "The logout request names an issuer or a session, not "
                     "both.");
    }
    if (iss_ && !issuerMatches(issuer_, *iss_)) {
        reply(400, "Logout failed",
              "The logout request comes from another identity provider.");
        step_.logLevel = LogLevel::Error;
        step_.log = "provider \"" + provider_ +
                    "\": front-channel logout from another issuer \"" +
                    printableForDetail(*iss_, 128) + "\"";
        return step_;
    }
    step_ = Step();
    step_.kind = StepKind::Store;
    if (sid_) {
        step_.op = StoreOp::IndexEnd;
        step_.record = RecordKind::SessionIndex;
        step_.key = sessionIndexKey(provider_, "sid", *sid_);
        step_.logLevel = LogLevel::Info;
        step_.log = "provider \"" + provider_ + "\": front-channel logout of "
                    "sid \"" + printableForDetail(*sid_, 255) + "\"";
    } else if (sessionId_) {
        step_.op = StoreOp::Delete;
        step_.record = RecordKind::Session;
        step_.key = provider_ + "\n" + *sessionId_;
        step_.logLevel = LogLevel::Info;
        step_.log = "provider \"" + provider_ +
                    "\": front-channel logout of the cookie's session";
    } else {
        return reply(200, "Logged out", "You have been signed out.");
    }
    state_ = State::Ending;
    return step_;
}

const Step &FrontchannelFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::Ending:
        if (result.store == StepResult::Store::Failed) {
            reply(503, "Logout unavailable",
                  "The session store is not available.");
            step_.logLevel = LogLevel::Error;
            step_.log = "provider \"" + provider_ +
                        "\": front-channel logout: the session store did not "
                        "answer";
            return step_;
        }
        return reply(200, "Logged out", "You have been signed out.");
    case State::Done:
        break;
    }
    return step_;
}

const Step &FrontchannelFlow::reply(int status, std::string title,
                                    std::string detail) {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = status;
    step_.title = std::move(title);
    step_.detail = std::move(detail);
    step_.clearSession = status == 200;
    state_ = State::Done;
    return step_;
}

}  // namespace auth_oidc
