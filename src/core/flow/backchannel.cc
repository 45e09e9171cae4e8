#include "flow/backchannel.h"

#include <algorithm>
#include <utility>

#include "common/text.h"
#include "jwk/jwks.h"

namespace auth_oidc {

Result<std::unique_ptr<BackchannelFlow>> BackchannelFlow::create(
    const BackchannelConfig &config, std::string_view token,
    std::int64_t now) {
    auto algs = parseAlgList(config.algorithms);
    if (!algs) {
        return std::move(algs).error();
    }
    std::unique_ptr<BackchannelFlow> flow(new BackchannelFlow());
    flow->provider_ = config.provider;
    flow->issuer_ = config.issuer;
    flow->clientId_ = config.clientId;
    flow->clientSecret_ = config.clientSecret;
    flow->algs_ = algs.value();
    flow->leeway_ = config.leeway;
    flow->maxAge_ = config.maxAge;
    flow->token_ = token;
    flow->now_ = now;
    return Result<std::unique_ptr<BackchannelFlow>>(std::move(flow));
}

const Step &BackchannelFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    if (token_.empty()) {
        return refuse(LogoutRefusal::Malformed, "no logout_token");
    }
    step_ = Step();
    step_.kind = StepKind::Metadata;
    state_ = State::Metadata;
    return step_;
}

const Step &BackchannelFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::Metadata:
        if (result.discovery == nullptr) {
            return refuse(LogoutRefusal::Unavailable,
                          "the provider's keys are not available", 503);
        }
        return validate(result.jwks);
    case State::Keys:
        return validate(result.jwks);
    case State::Jti:
        return afterJti(result);
    case State::Forget:
        return refuse(LogoutRefusal::Unavailable,
                      "the session store did not answer", 503);
    case State::Sessions:
        if (result.store == StepResult::Store::Failed) {
            // The provider retries a 503: its jti must not be a replay then.
            step_ = Step();
            step_.kind = StepKind::Store;
            step_.op = StoreOp::Delete;
            step_.record = RecordKind::UsedJti;
            step_.key = usedJtiKey(provider_, claims_.jti);
            state_ = State::Forget;
            return step_;
        }
        step_ = Step();
        step_.kind = StepKind::Reply;
        step_.status = 200;
        step_.logLevel = LogLevel::Info;
        step_.log = "provider \"" + provider_ + "\": back-channel logout of " +
                    (claims_.sid.empty()
                         ? "every session of \"" +
                               printableForDetail(claims_.sub, 255) + "\""
                         : "sid \"" + printableForDetail(claims_.sid, 255) +
                               "\"") +
                    ": " +
                    (result.store == StepResult::Store::Done
                         ? std::string(result.value)
                         : std::string("0")) +
                    " sessions ended";
        state_ = State::Done;
        return step_;
    case State::Done:
        break;
    }
    return step_;
}

const Step &BackchannelFlow::validate(const Jwks *jwks) {
    LogoutTokenExpectations expect;
    expect.issuer = issuer_;
    expect.clientId = clientId_;
    expect.clientSecret = clientSecret_;
    expect.now = now_;
    expect.leeway = leeway_;
    expect.maxIatAge = maxAge_;
    expect.algs = algs_;
    auto claims = validateLogoutToken(token_, jwks, expect);
    if (!claims && claims.status() == Status::Kid && !keysRefetched_) {
        keysRefetched_ = true;
        step_ = keysRefetchStep();
        state_ = State::Keys;
        return step_;
    }
    if (!claims && claims.status() == Status::Kid && jwks == nullptr) {
        // No keys at all, even after a refetch: ours to fix, the provider
        // retries a 503 (a 400 it would not).
        return refuse(LogoutRefusal::Unavailable,
                      "the provider's keys are not available", 503);
    }
    if (!claims) {
        switch (claims.status()) {
        case Status::TooLarge:
        case Status::Token:
            return refuse(LogoutRefusal::Malformed, claims.error().detail);
        case Status::Alg:
        case Status::Kid:
        case Status::Signature:
            return refuse(LogoutRefusal::Signature, claims.error().detail);
        case Status::NoMemory:
        case Status::Internal:
        case Status::InvalidArgument:
            return refuse(LogoutRefusal::Unavailable, claims.error().detail,
                          500);
        default:
            return refuse(LogoutRefusal::Claims, claims.error().detail);
        }
    }
    claims_ = std::move(claims).value();

    // Section 2.6, step 10 (a jti seen before is a replay): remembered
    // as long as the token could be accepted.
    const std::int64_t until =
        std::max(claims_.exp, claims_.iat + maxAge_) + leeway_;
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Add;
    step_.record = RecordKind::UsedJti;
    step_.key = usedJtiKey(provider_, claims_.jti);
    step_.value = "1";
    step_.expires = std::max(until, now_ + 1);
    state_ = State::Jti;
    return step_;
}

const Step &BackchannelFlow::afterJti(const StepResult &result) {
    if (result.store == StepResult::Store::Absent) {
        return refuse(LogoutRefusal::Replayed,
                      "logout token replayed: its jti was seen before");
    }
    if (result.store == StepResult::Store::Failed) {
        return refuse(LogoutRefusal::Unavailable,
                      "the session store did not answer", 503);
    }
    // Section 2.7: a sid names one session at the provider (and its
    // sessions here); a sub alone, every session of the user.
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::IndexEnd;
    step_.record = RecordKind::SessionIndex;
    step_.key = claims_.sid.empty()
                    ? sessionIndexKey(provider_, "sub", claims_.sub)
                    : sessionIndexKey(provider_, "sid", claims_.sid);
    state_ = State::Sessions;
    return step_;
}

// Section 2.8: 400, with an OAuth error body; 503 (and 500) when the
// fault is ours, so that a provider that retries does.
const Step &BackchannelFlow::refuse(LogoutRefusal reason,
                                    std::string description, int status) {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = status;
    step_.title = status == 400 ? "invalid_request" : "temporarily_unavailable";
    step_.detail = printableForDetail(description, 200);
    step_.reason = static_cast<int>(reason);
    step_.logLevel = LogLevel::Error;
    step_.log = "provider \"" + provider_ + "\": back-channel logout refused: " +
                step_.detail;
    state_ = State::Done;
    return step_;
}

}  // namespace auth_oidc
