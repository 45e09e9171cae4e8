#include "flow/refresh.h"

#include <algorithm>
#include <utility>

#include "common/text.h"
#include "flow/token.h"
#include "flow/userinfo.h"
#include "jwk/jwks.h"
#include "jwt/claims.h"
#include "jwt/id_token.h"
#include "session/claim_path.h"
#include "session/lifetime.h"

namespace auth_oidc {

namespace {

// Another handle on the same parsed claims (jansson counts references).
Result<Claims> sameClaims(const Claims &claims) {
    return Claims::fromObject(
        JsonPtr(json_incref(const_cast<json_t *>(claims.root()))));
}

// The claims of the session's own ID token.
Result<Claims> storedClaims(std::string_view idToken) {
    auto payload = storedIdTokenPayload(idToken);
    if (!payload) {
        return std::move(payload).error();
    }
    return Claims::fromObject(std::move(payload).value());
}

// The lock's values: a refresh under way, a refresh the provider failed.
constexpr std::string_view kRefreshing = "1";
constexpr std::string_view kFailed = "f";

}  // namespace

RefreshFlow::~RefreshFlow() = default;

Result<std::unique_ptr<RefreshFlow>> RefreshFlow::create(
    const RefreshConfig &config, std::string_view sessionId,
    std::string_view record, std::int64_t now) {
    if (sessionId.empty()) {
        return makeError(Status::InvalidArgument,
                         "a refresh needs a session id");
    }
    auto algs = parseAlgList(config.algorithms);
    if (!algs) {
        return std::move(algs).error();
    }
    std::unique_ptr<RefreshFlow> flow(new RefreshFlow());
    if (!flow->setRecord(record) || flow->fields_.refreshToken.empty()) {
        return makeError(Status::InvalidArgument,
                         "a refresh needs a session with a refresh token");
    }
    flow->algs_ = algs.value();
    flow->provider_ = config.provider;
    flow->issuer_ = config.issuer;
    flow->clientId_ = config.clientId;
    flow->clientSecret_ = config.clientSecret;
    flow->client_ = config.client;
    flow->leeway_ = config.leeway;
    flow->sessionTimeout_ = config.sessionTimeout;
    flow->idleTimeout_ = config.idleTimeout;
    flow->margin_ = config.margin;
    flow->userinfo_ = config.userinfo;
    flow->indexSessions_ = config.indexSessions;
    flow->keepIdToken_ = config.keepIdToken;
    flow->claimNames_ = std::string(config.claims.names);
    flow->claimSelection_.all = config.claims.all;
    flow->claimSelection_.names = flow->claimNames_;
    flow->keepAccessToken_ = config.keepAccessToken;
    flow->revokeAccessToken_ = config.revokeAccessToken;
    flow->lockSeconds_ = std::max<std::int64_t>(config.lockSeconds, 1);
    flow->retrySeconds_ = std::max<std::int64_t>(config.retrySeconds, 1);
    flow->pollMs_ = std::max<std::int64_t>(config.pollMs, 1);
    flow->maxPolls_ = static_cast<int>(
        std::clamp<std::int64_t>(config.waitMs / flow->pollMs_, 0, 100000));
    flow->sessionId_ = sessionId;
    flow->now_ = now;
    return Result<std::unique_ptr<RefreshFlow>>(std::move(flow));
}

bool RefreshFlow::setRecord(std::string_view record) {
    std::string copy(record);
    auto decoded = decodeSession(copy);
    if (!decoded) {
        return false;
    }
    // The views of the decoded fields point into the string they were
    // decoded from: keep that very string.
    record_ = std::move(copy);
    auto again = decodeSession(record_);
    if (!again) {
        return false;
    }
    fields_ = std::move(again).value();
    return true;
}

std::string RefreshFlow::storeDown() const {
    return "provider \"" + provider_ +
           "\": refresh: the session store did not answer";
}

std::string RefreshFlow::sessionKey() const {
    return provider_ + "\n" + sessionId_;
}

bool RefreshFlow::usable() const noexcept {
    return tokenState(fields_, now_, margin_) != TokenState::Expired;
}

const Step &RefreshFlow::storeStep(StoreOp op, RecordKind kind,
                                   std::string key) {
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = op;
    step_.record = kind;
    step_.key = std::move(key);
    return step_;
}

// The lock lives as long as a refresh may take, no longer: a worker that
// dies holding it delays the session's next refresh by that much at most.
const Step &RefreshFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    storeStep(StoreOp::Add, RecordKind::RefreshLock, sessionKey());
    step_.value = kRefreshing;
    step_.expires = now_ + lockSeconds_;
    state_ = State::Lock;
    return step_;
}

const Step &RefreshFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::Lock:
        return afterLock(result);
    case State::LockValue:
        return afterLockValue(result);
    case State::Waiting:
        storeStep(StoreOp::Get, RecordKind::RefreshLock, sessionKey());
        state_ = State::LockValue;
        return step_;
    case State::Polled:
        return afterPoll(result);
    case State::Recheck:
        return afterRecheck(result);
    case State::Metadata:
        return afterMetadata(result);
    case State::Token:
        return afterToken(result);
    case State::Keys:
        return validate(result.jwks);
    case State::Userinfo:
        return afterUserinfo(result);
    case State::Put:
        return afterPut(result);
    case State::IndexSid:
        if (!newSub_.empty()) {
            return indexStep(State::IndexSub, "sub", newSub_);
        }
        return release(Outcome::Session);
    case State::IndexSub:
        return release(Outcome::Session);
    case State::EndSession:
        return release(Outcome::Ended);
    case State::Release:
        return finish();
    case State::Done:
        break;
    }
    return step_;
}

const Step &RefreshFlow::afterLock(const StepResult &result) {
    switch (result.store) {
    case StepResult::Store::Done:
        // Another request may have refreshed the session between our read
        // and the lock: its refresh token may be spent already.
        locked_ = true;
        storeStep(StoreOp::Get, RecordKind::Session, sessionKey());
        state_ = State::Recheck;
        return step_;
    case StepResult::Store::Absent:
        // Being refreshed by another request, in this worker or elsewhere,
        // or the provider failed lately.
        if (usable()) {
            return release(Outcome::Keep);
        }
        storeStep(StoreOp::Get, RecordKind::RefreshLock, sessionKey());
        state_ = State::LockValue;
        return step_;
    case StepResult::Store::Failed:
        break;
    }
    return release(usable() ? Outcome::Keep : Outcome::Unavailable,
                   storeDown());
}

// What the lock another request holds says: still refreshing (wait), the
// provider failed (no wait), or gone (the refresh ended: the session).
const Step &RefreshFlow::afterLockValue(const StepResult &result) {
    switch (result.store) {
    case StepResult::Store::Done:
        if (result.value == kFailed) {
            return release(Outcome::Unavailable);
        }
        return wait();
    case StepResult::Store::Absent:
        storeStep(StoreOp::Get, RecordKind::Session, sessionKey());
        state_ = State::Polled;
        return step_;
    case StepResult::Store::Failed:
        break;
    }
    return release(Outcome::Unavailable, storeDown());
}

const Step &RefreshFlow::wait() {
    if (polls_ >= maxPolls_) {
        doneLevel_ = LogLevel::Warn;
        doneLog_ = "provider \"" + provider_ +
                   "\": waited in vain for another request's refresh of a "
                   "session of \"" + printableForDetail(fields_.sub, 255) +
                   "\"";
        return release(Outcome::Unavailable);
    }
    ++polls_;
    step_ = Step();
    step_.kind = StepKind::Wait;
    step_.waitMs = pollMs_;
    state_ = State::Waiting;
    return step_;
}

const Step &RefreshFlow::afterPoll(const StepResult &result) {
    if (result.store == StepResult::Store::Absent) {
        return release(Outcome::Ended);
    }
    if (result.store == StepResult::Store::Failed) {
        return release(Outcome::Unavailable, storeDown());
    }
    if (result.value != record_ && setRecord(result.value) &&
        tokenState(fields_, now_, 0) != TokenState::Expired) {
        newRecord_ = record_;
        newExpires_ = fields_.expires;
        return release(Outcome::Session);
    }
    // The lock went without a new session (it expired, or the refresh
    // ended otherwise): no refresh for this request.
    return release(Outcome::Unavailable);
}

const Step &RefreshFlow::afterRecheck(const StepResult &result) {
    if (result.store == StepResult::Store::Absent) {
        return release(Outcome::Ended);
    }
    if (result.store == StepResult::Store::Failed) {
        return release(usable() ? Outcome::Keep : Outcome::Unavailable,
                       storeDown());
    }
    if (result.value != record_) {
        if (!setRecord(result.value) || fields_.refreshToken.empty()) {
            return release(Outcome::Ended);
        }
        if (tokenState(fields_, now_, margin_) == TokenState::Valid) {
            newRecord_ = record_;
            newExpires_ = fields_.expires;
            return release(Outcome::Session);
        }
    }
    step_ = Step();
    step_.kind = StepKind::Metadata;
    // None to be had now: a provider failure (the tokens as they are),
    // never a 503 for a request whose tokens are still valid.
    step_.metadataOptional = true;
    state_ = State::Metadata;
    return step_;
}

const Step &RefreshFlow::afterMetadata(const StepResult &result) {
    if (result.discovery == nullptr) {
        return providerFailed("no provider metadata");
    }
    userinfoEndpoint_ =
        result.discovery->endpoint(Discovery::Endpoint::Userinfo).has_value();
    RefreshRequestParams params;
    params.clientId = clientId_;
    params.clientSecret = clientSecret_;
    params.refreshToken = fields_.refreshToken;
    params.proof = clientProof(client_, *result.discovery, now_);
    auto request = buildRefreshRequest(
        params,
        result.discovery->list(Discovery::List::TokenEndpointAuthMethods));
    if (!request) {
        return providerFailed("cannot build the refresh request: " +
                              request.error().detail);
    }
    step_ = formPost(Discovery::Endpoint::Token, std::move(request).value());
    state_ = State::Token;
    return step_;
}

const Step &RefreshFlow::afterToken(const StepResult &result) {
    if (result.transport != StepResult::Transport::Ok) {
        return providerFailed(
            std::string(result.transport == StepResult::Transport::TimedOut
                            ? "refresh timed out: "
                            : "refresh failed: ") +
            printableForDetail(result.transportError, 200));
    }
    auto parsed = TokenResponse::parse(result.body, false);
    if (!parsed && isProviderError(parsed.error(), "invalid_grant")) {
        // RFC 6749, 5.2: the refresh token is invalid, expired or revoked
        // (logout at the provider, an administrator, a reused token).
        return endSession(LogLevel::Info,
                          "provider \"" + provider_ +
                              "\": refresh refused, session of \"" +
                              printableForDetail(fields_.sub, 255) +
                              "\" ended: " + parsed.error().detail);
    }
    if (!parsed) {
        return providerFailed("refresh answer refused (HTTP status " +
                              std::to_string(result.httpStatus) +
                              "): " + parsed.error().detail);
    }
    if (result.httpStatus < 200 || result.httpStatus > 299) {
        return providerFailed("refresh answered HTTP status " +
                              std::to_string(result.httpStatus));
    }
    tokens_ = std::make_unique<TokenResponse>(std::move(parsed).value());
    return validate(result.jwks);
}

// OpenID Connect Core 1.0, 12.2: a new ID token is validated like the
// first, names the same subject, issuer and audience, and carries no other
// nonce and no other auth_time than the original.
const Step &RefreshFlow::validate(const Jwks *jwks) {
    if (tokens_->idToken().empty()) {
        claims_.reset();
    } else {
        IdTokenExpectations expect;
        expect.issuer = issuer_;
        expect.clientId = clientId_;
        expect.clientSecret = clientSecret_;
        expect.now = now_;
        expect.leeway = leeway_;
        expect.algs = algs_;
        auto claims = validateIdToken(tokens_->idToken(), jwks, expect);
        if (!claims && claims.status() == Status::Kid && !keysRefetched_) {
            keysRefetched_ = true;
            step_ = keysRefetchStep();
            state_ = State::Keys;
            return step_;
        }
        if (!claims && claims.status() == Status::Kid) {
            // Still no key for it after a refetch: the provider's keys are
            // not to be had now; the refresh token may live on.
            return providerFailed("refreshed ID token refused: " +
                                  claims.error().detail);
        }
        if (!claims) {
            return endSession(LogLevel::Error,
                              "provider \"" + provider_ +
                                  "\": refreshed ID token refused, session "
                                  "ended: " + claims.error().detail);
        }
        const Claims &c = claims.value();
        const auto sub = c.string("sub");
        const auto nonce = c.string("nonce");
        const auto oldNonce = findClaim(fields_.claimIndex, "nonce");
        const auto authTime = c.numericDate("auth_time");
        const auto oldAuthTime = findClaim(fields_.claimIndex, "auth_time");
        const char *problem =
            !sub || *sub != fields_.sub ? "another \"sub\""
            : nonce && (!oldNonce || *oldNonce != *nonce) ? "another \"nonce\""
            : authTime && oldAuthTime &&
                    std::to_string(*authTime) != *oldAuthTime
                ? "another \"auth_time\""
                : nullptr;
        if (problem != nullptr) {
            return endSession(LogLevel::Error,
                              "provider \"" + provider_ +
                                  "\": refreshed ID token refused, session "
                                  "of \"" + printableForDetail(fields_.sub, 255) +
                                  "\" ended: it names " + problem);
        }
        claims_ = std::make_unique<Claims>(std::move(claims).value());
    }
    if (userinfo_ && userinfoEndpoint_) {
        step_ = userinfoFetch(tokens_->accessToken());
        state_ = State::Userinfo;
        return step_;
    }
    return storeSession();
}

const Step &RefreshFlow::afterUserinfo(const StepResult &result) {
    if (result.transport != StepResult::Transport::Ok) {
        // The tokens are good: the session goes on with the userinfo it had.
        step_ = Step();
        return storeSession();
    }
    UserinfoExpectations expect;
    expect.sub = fields_.sub;
    expect.issuer = issuer_;
    expect.clientId = clientId_;
    expect.clientSecret = clientSecret_;
    expect.algs = algs_;
    auto info = parseUserinfo(result.httpStatus, result.body, result.jwks,
                              expect);
    if (!info && info.status() == Status::Field) {
        return endSession(LogLevel::Error,
                          "provider \"" + provider_ +
                              "\": userinfo after refresh refused, session "
                              "ended: " + info.error().detail);
    }
    if (!info) {
        // The tokens are good: the session goes on with the userinfo it had.
        doneLevel_ = LogLevel::Warn;
        doneLog_ = "provider \"" + provider_ +
                   "\": userinfo after refresh refused, the previous one "
                   "kept: " + info.error().detail;
    } else {
        userinfoJson_ = std::move(info.value().json);
        userinfoClaims_ =
            std::make_unique<Claims>(std::move(info.value().claims));
    }
    return storeSession();
}

const Step &RefreshFlow::storeSession() {
    SessionFields session;
    session.sub = fields_.sub;
    const auto sid = claims_ ? claims_->string("sid") : std::nullopt;
    session.sid = sid ? *sid : fields_.sid;
    if (keepIdToken_) {
        session.idToken = claims_ ? std::string_view(tokens_->idToken())
                                  : fields_.idToken;
    }
    // Providers that rotate send a new refresh token; the others none.
    session.refreshToken = tokens_->refreshToken()
                               ? std::string_view(*tokens_->refreshToken())
                               : fields_.refreshToken;
    if (keepAccessToken_ ||
        (revokeAccessToken_ && session.refreshToken.empty())) {
        session.accessToken = tokens_->accessToken();
    }
    session.userinfo = userinfoClaims_ ? std::string_view(userinfoJson_)
                                       : fields_.userinfo;

    std::string table;
    if (claims_ || userinfoClaims_) {
        Result<Claims> base = claims_ ? sameClaims(*claims_)
                                      : storedClaims(fields_.idToken);
        if (base && !session.userinfo.empty()) {
            auto info = userinfoClaims_ ? sameClaims(*userinfoClaims_)
                                        : Claims::parse(session.userinfo);
            if (info) {
                base = mergeClaims(base.value(), info.value());
            }
        }
        auto encoded = base ? encodeClaimTable(base.value(), claimSelection_)
                            : Result<std::string>(std::move(base).error());
        if (!encoded) {
            return providerFailed("refreshed session not built: " +
                                  encoded.error().detail);
        }
        table = std::move(encoded).value();
        session.claimTable = table;
    } else {
        session.claimTable = fields_.claimTable;
    }

    session.created = fields_.created;
    session.refreshed = now_;
    session.idTokenExpires =
        claims_ ? claims_->numericDate("exp").value_or(0) : 0;
    const auto expiresIn = tokens_->expiresIn();
    session.accessTokenExpires = expiresIn ? now_ + *expiresIn : 0;
    session.expires =
        sessionExpiry(now_, sessionTimeout_, session.idTokenExpires,
                      !session.refreshToken.empty());

    auto record = encodeSession(session);
    if (!record) {
        return providerFailed("refreshed session not built: " +
                              record.error().detail);
    }
    newRecord_ = std::move(record).value();
    newSid_ = session.sid;
    newSub_ = session.sub;
    newExpires_ = session.expires;

    // Only while the session is there: a logout meanwhile (ours, or the
    // provider's back-channel one) is not undone by a late refresh.
    storeStep(StoreOp::Replace, RecordKind::Session, sessionKey());
    step_.value = newRecord_;
    step_.expires = idleTimeout_ > 0
                        ? std::min(newExpires_, now_ + idleTimeout_)
                        : newExpires_;
    state_ = State::Put;
    return step_;
}

const Step &RefreshFlow::afterPut(const StepResult &result) {
    if (result.store == StepResult::Store::Absent) {
        doneLevel_ = LogLevel::Info;
        doneLog_ = "provider \"" + provider_ + "\": a session of \"" +
                   printableForDetail(fields_.sub, 255) +
                   "\" ended while it was refreshed";
        return release(Outcome::Ended);
    }
    if (result.store != StepResult::Store::Done) {
        // The new tokens serve this request; with a provider that rotates
        // refresh tokens the next refresh will fail and end the session.
        doneLevel_ = LogLevel::Error;
        doneLog_ = "provider \"" + provider_ +
                   "\": refreshed session not stored: the session store did "
                   "not answer";
        return release(Outcome::Session);
    }
    if (indexSessions_ && !newSid_.empty()) {
        return indexStep(State::IndexSid, "sid", newSid_);
    }
    if (indexSessions_) {
        return indexStep(State::IndexSub, "sub", newSub_);
    }
    return release(Outcome::Session);
}

// The indexes outlive every session they list: each refresh extends them.
const Step &RefreshFlow::indexStep(State state, std::string_view kind,
                                   std::string_view value) {
    storeStep(StoreOp::IndexAdd, RecordKind::SessionIndex,
              sessionIndexKey(provider_, kind, value));
    step_.value = sessionKey();
    step_.expires = newExpires_;
    state_ = state;
    return step_;
}

// The lock stays retrySeconds, marked: no request of this session tries
// again before (the flow's Release state ends it like a Delete).
const Step &RefreshFlow::providerFailed(std::string why) {
    outcome_ = usable() ? Outcome::Keep : Outcome::Unavailable;
    outcomeDetail_ = "provider \"" + provider_ + "\": " + std::move(why);
    if (!locked_) {
        return finish();
    }
    locked_ = false;
    storeStep(StoreOp::Put, RecordKind::RefreshLock, sessionKey());
    step_.value = kFailed;
    step_.expires = now_ + retrySeconds_;
    state_ = State::Release;
    return step_;
}

const Step &RefreshFlow::endSession(LogLevel level, std::string log) {
    storeStep(StoreOp::Delete, RecordKind::Session, sessionKey());
    step_.logLevel = level;
    step_.log = std::move(log);
    state_ = State::EndSession;
    return step_;
}

const Step &RefreshFlow::release(Outcome outcome, std::string detail) {
    outcome_ = outcome;
    outcomeDetail_ = std::move(detail);
    if (!locked_) {
        return finish();
    }
    locked_ = false;
    storeStep(StoreOp::Delete, RecordKind::RefreshLock, sessionKey());
    state_ = State::Release;
    return step_;
}

const Step &RefreshFlow::finish() {
    step_ = Step();
    step_.kind = StepKind::Done;
    step_.outcome = outcome_;
    if (outcome_ == Outcome::Session) {
        step_.value = newRecord_;
        step_.expires = newExpires_;
    }
    step_.detail = outcomeDetail_;
    step_.logLevel = doneLevel_;
    step_.log = std::move(doneLog_);
    doneLevel_ = LogLevel::None;
    state_ = State::Done;
    return step_;
}

}  // namespace auth_oidc
