#include "flow/callback.h"

#include <utility>

#include "common/text.h"
#include "flow/step_up.h"
#include "flow/token.h"
#include "flow/userinfo.h"
#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/claims.h"
#include "jwt/id_token.h"
#include "session/lifetime.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

// What of the query reaches a log line or a page: anybody can write it.
constexpr std::size_t kQueryTextMax = 128;

std::string fromQuery(std::string_view text) {
    return printableForDetail(text, kQueryTextMax);
}

std::optional<std::string> copy(const std::optional<std::string_view> &v) {
    if (!v || v->empty()) {
        return std::nullopt;
    }
    return std::string(*v);
}

}  // namespace

CallbackFlow::~CallbackFlow() = default;

Result<std::unique_ptr<CallbackFlow>> CallbackFlow::create(
    const CallbackConfig &config, const CallbackRequest &request) {
    if (request.state.empty() || request.sessionId.empty() ||
        request.pending.nonce.empty()) {
        return makeError(Status::InvalidArgument,
                         "a callback needs a state, a nonce and a session id");
    }
    auto algs = parseAlgList(config.algorithms);
    if (!algs) {
        return std::move(algs).error();
    }
    std::unique_ptr<CallbackFlow> flow(new CallbackFlow());
    flow->algs_ = algs.value();
    flow->provider_ = config.provider;
    flow->issuer_ = config.issuer;
    flow->clientId_ = config.clientId;
    flow->clientSecret_ = config.clientSecret;
    flow->client_ = config.client;
    flow->redirectUri_ = config.redirectUri;
    flow->leeway_ = config.leeway;
    flow->sessionTimeout_ = config.sessionTimeout;
    flow->idleTimeout_ = config.idleTimeout;
    flow->userinfo_ = config.userinfo;
    flow->indexSessions_ = config.indexSessions;
    flow->keepIdToken_ = config.keepIdToken;
    flow->claimNames_ = std::string(config.claims.names);
    flow->claimSelection_.all = config.claims.all;
    flow->claimSelection_.names = flow->claimNames_;
    flow->keepAccessToken_ = config.keepAccessToken;
    flow->revokeAccessToken_ = config.revokeAccessToken;
    flow->state_value_ = request.state;
    flow->sessionId_ = request.sessionId;
    flow->nonce_ = request.pending.nonce;
    flow->codeVerifier_ = request.pending.codeVerifier;
    flow->returnPath_ = request.pending.returnPath;
    flow->pendingExpires_ = request.pending.expires;
    flow->acrValues_ = request.pending.acrValues;
    flow->maxAge_ = request.pending.maxAge;
    flow->code_ = copy(request.code);
    flow->error_ = copy(request.error);
    flow->errorDescription_ = copy(request.errorDescription);
    flow->iss_ = copy(request.iss);
    flow->now_ = request.now;
    return Result<std::unique_ptr<CallbackFlow>>(std::move(flow));
}

// A state works once: it is added (put-if-absent) for the rest of the
// login's lifetime before anything else is done with the answer.
const Step &CallbackFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Add;
    step_.record = RecordKind::UsedState;
    step_.key = state_value_;
    step_.value = "1";
    step_.expires = pendingExpires_;
    state_ = State::UsedState;
    return step_;
}

const Step &CallbackFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::UsedState:
        return afterUsedState(result);
    case State::Metadata:
        return afterMetadata(result);
    case State::Token:
        return afterToken(result);
    case State::Keys:
        return validate(result.jwks);
    case State::Userinfo:
        return afterUserinfo(result);
    case State::Session:
    case State::IndexSid:
    case State::IndexSub:
        if (result.store != StepResult::Store::Done) {
            return reply(503, "Login unavailable",
                         "The session store is not available.");
        }
        if (state_ == State::Session && indexSessions_ && !sid_.empty()) {
            return indexStep(State::IndexSid, "sid", sid_);
        }
        if (state_ != State::IndexSub && indexSessions_) {
            return indexStep(State::IndexSub, "sub", sub_);
        }
        return loggedIn();
    case State::Done:
        break;
    }
    return step_;
}

const Step &CallbackFlow::afterUsedState(const StepResult &result) {
    if (result.store == StepResult::Store::Absent) {
        return loginExpired("login answer for a login already used");
    }
    if (result.store != StepResult::Store::Done) {
        return reply(503, "Login unavailable",
                     "The session store is not available.");
    }

    step_ = Step();
    step_.kind = StepKind::Metadata;
    state_ = State::Metadata;
    return step_;
}

const Step &CallbackFlow::afterMetadata(const StepResult &result) {
    if (result.discovery == nullptr) {
        return reply(503, "Login unavailable",
                     "The identity provider's metadata is not available.");
    }
    // Only read here: the worker's metadata may be replaced after this step.
    const Discovery &discovery = *result.discovery;
    userinfoEndpoint_ =
        discovery.endpoint(Discovery::Endpoint::Userinfo).has_value();

    // RFC 9207: an answer that names another issuer is a mix-up attack,
    // and a provider that says it sends "iss" always does (2.4), also in
    // an error response.
    const auto promised =
        discovery.flag(Discovery::Flag::AuthorizationResponseIss);
    if (promised && *promised && !iss_) {
        return reply(400, "Login failed",
                     "The login answer does not name its identity provider.",
                     LogLevel::Error,
                     "provider \"" + provider_ +
                         "\": login answer without \"iss\", which the "
                         "provider says it always sends");
    }
    if (iss_ && !issuerMatches(issuer_, *iss_)) {
        return reply(400, "Login failed",
                     "The login answer comes from another identity provider.",
                     LogLevel::Error,
                     "provider \"" + provider_ +
                         "\": login answer from another issuer \"" +
                         fromQuery(*iss_) + "\"");
    }

    if (error_) {
        const std::string error = fromQuery(*error_);
        const std::string description =
            errorDescription_ ? fromQuery(*errorDescription_) : std::string();
        return reply(403, "Login refused",
                     "The identity provider refused the login: " + error +
                         ". " + description,
                     LogLevel::Error,
                     "provider \"" + provider_ + "\" refused the login: " +
                         error + " " + description);
    }

    if (!code_) {
        return reply(400, "Login failed", "The login answer has no code.",
                     LogLevel::Error,
                     "provider \"" + provider_ +
                         "\": login answer without a code");
    }

    TokenRequestParams params;
    params.clientId = clientId_;
    params.clientSecret = clientSecret_;
    params.code = *code_;
    params.redirectUri = redirectUri_;
    params.codeVerifier = codeVerifier_;
    params.proof = clientProof(client_, discovery, now_);
    auto request = buildTokenRequest(
        params, discovery.list(Discovery::List::TokenEndpointAuthMethods));
    if (!request) {
        return reply(500, "Login failed", "The token request cannot be made.",
                     LogLevel::Error,
                     "provider \"" + provider_ +
                         "\": cannot build the token request: " +
                         request.error().detail);
    }

    step_ = formPost(Discovery::Endpoint::Token, std::move(request).value());
    state_ = State::Token;
    return step_;
}

// A token endpoint's refusal that a configuration causes: a sentence for
// the page (empty: the generic one) and the fix for the log line.
CallbackFlow::TokenRefusal CallbackFlow::explainTokenRefusal(
    const Error &error, unsigned httpStatus) {
    if (isProviderError(error, "invalid_client") || httpStatus == 401) {
        return {"The identity provider did not accept this site's client "
                "credentials: its administrator must check client_id and "
                "client_secret.",
                "; fix: client_id and client_secret must be those of the "
                "client registered at the provider, whose token endpoint "
                "authentication method must be one the provider allows"};
    }
    if (isProviderError(error, "unauthorized_client")) {
        return {"This site's client is not allowed to log users in at the "
                "identity provider: its administrator must allow the "
                "authorization code grant.",
                "; fix: allow the authorization code grant in the client's "
                "registration at the provider"};
    }
    if (isProviderError(error, "invalid_grant") &&
        error.detail.find("redirect_uri") != std::string::npos) {
        return {"The identity provider did not accept this site's callback "
                "address: its administrator must register it.",
                "; fix: register the redirect_uri \"" +
                    printableForDetail(redirectUri_, 200) +
                    "\" exactly at the provider, or set redirect_uri to the "
                    "one registered"};
    }
    return {};
}

const Step &CallbackFlow::afterToken(const StepResult &result) {
    if (result.transport != StepResult::Transport::Ok) {
        return reply(result.transport == StepResult::Transport::TimedOut ? 504
                                                                         : 502,
                     "Login failed",
                     "The identity provider did not answer in time or could "
                     "not be reached.",
                     LogLevel::Error,
                     "provider \"" + provider_ + "\": token request failed: " +
                         printableForDetail(result.transportError, 200));
    }

    auto parsed = TokenResponse::parse(result.body, true);
    Status status = parsed ? Status::Ok : parsed.status();
    std::string detail = parsed ? std::string() : parsed.error().detail;
    if (parsed && (result.httpStatus < 200 || result.httpStatus > 299)) {
        status = Status::Field;
        detail = "unexpected HTTP status " + std::to_string(result.httpStatus);
    }
    if (status != Status::Ok) {
        const TokenRefusal why =
            status == Status::Provider
                ? explainTokenRefusal(parsed.error(), result.httpStatus)
                : TokenRefusal{};
        return reply(status == Status::Provider ? 401 : 502, "Login failed",
                     why.page.empty()
                         ? std::string("The identity provider did not accept "
                                       "the login.")
                         : why.page,
                     LogLevel::Error,
                     "provider \"" + provider_ +
                         "\": token response refused (HTTP status " +
                         std::to_string(result.httpStatus) + "): " + detail +
                         why.fix);
    }
    tokens_ = std::make_unique<TokenResponse>(std::move(parsed).value());
    return validate(result.jwks);
}

const Step &CallbackFlow::validate(const Jwks *jwks) {
    IdTokenExpectations expect;
    expect.issuer = issuer_;
    expect.clientId = clientId_;
    expect.nonce = nonce_;
    expect.clientSecret = clientSecret_;
    expect.now = now_;
    expect.leeway = leeway_;
    expect.algs = algs_;

    auto claims = validateIdToken(tokens_->idToken(), jwks, expect);
    if (!claims && claims.status() == Status::Kid && !keysRefetched_) {
        // The provider may have rotated its keys: one refetch.
        keysRefetched_ = true;
        step_ = keysRefetchStep();
        state_ = State::Keys;
        return step_;
    }
    if (!claims) {
        const Status status = claims.status();
        const bool clock = status == Status::Expired || status == Status::NotYet;
        // a template's mismatch is the token's, not the configuration's
        const bool issuer =
            status == Status::Issuer && !isIssuerTemplate(issuer_);
        return reply(status == Status::NoMemory || status == Status::Internal
                         ? 500
                         : 401,
                     "Login failed",
                     clock ? std::string("The identity token is not valid at "
                                         "this server's time: its clock or the "
                                         "identity provider's is wrong.")
                     : status == Status::Issuer
                         ? std::string("The identity token comes from another "
                                       "issuer than the one configured.")
                         : std::string("The identity token is not valid (") +
                               toString(status) + ").",
                     LogLevel::Error,
                     "provider \"" + provider_ + "\": ID token refused: " +
                         claims.error().detail +
                         (clock ? "; fix: this host's clock and the "
                                  "provider's differ by more than clock_skew: "
                                  "synchronize it (NTP), or raise clock_skew"
                          : issuer ? "; fix: set issuer to the token's \"iss\" "
                                     "exactly, as the provider's discovery "
                                     "document says it"
                                   : ""));
    }
    claims_ = std::make_unique<Claims>(std::move(claims).value());
    // a step-up the provider ignored is no login (Core 3.1.3.7, 11-13)
    const auto unmet = stepUpUnmet(claims_->string("acr"),
                                   claims_->numericDate("auth_time"),
                                   StepUp{acrValues_, maxAge_}, now_, leeway_);
    if (unmet) {
        return reply(403, "Login refused",
                     "The identity provider did not sign you in the way this "
                     "page requires.",
                     LogLevel::Warn,
                     "provider \"" + provider_ +
                         "\": login refused: the step-up asked for is not "
                         "met: " + *unmet);
    }
    if (userinfo_ && userinfoEndpoint_) {
        step_ = userinfoFetch(tokens_->accessToken());
        state_ = State::Userinfo;
        return step_;
    }
    if (userinfo_) {
        // Said with the login's own log line, as a warning.
        const Step &next = storeSession(*claims_);
        if (next.kind == StepKind::Store) {
            step_.logLevel = LogLevel::Warn;
            step_.log += " without userinfo: \"userinfo on\" but the "
                         "provider has no userinfo_endpoint";
        }
        return step_;
    }
    return storeSession(*claims_);
}

// OpenID Connect Core 1.0, 5.3.2 and 5.3.4: the answer must name the ID
// token's subject, else the login is refused (token substitution).
const Step &CallbackFlow::afterUserinfo(const StepResult &result) {
    if (result.transport != StepResult::Transport::Ok) {
        return reply(result.transport == StepResult::Transport::TimedOut ? 504
                                                                         : 502,
                     "Login failed",
                     "The identity provider did not answer in time or could "
                     "not be reached.",
                     LogLevel::Error,
                     "provider \"" + provider_ + "\": userinfo request failed: " +
                         printableForDetail(result.transportError, 200));
    }
    UserinfoExpectations expect;
    const auto sub = claims_->string("sub");
    expect.sub = sub.value_or(std::string_view());
    expect.issuer = issuer_;
    expect.clientId = clientId_;
    expect.clientSecret = clientSecret_;
    expect.algs = algs_;
    auto info = parseUserinfo(result.httpStatus, result.body, result.jwks,
                              expect);
    if (!info) {
        return reply(info.status() == Status::Provider ? 502 : 401,
                     "Login failed",
                     "The identity provider's user information was refused.",
                     LogLevel::Error,
                     "provider \"" + provider_ + "\": userinfo refused: " +
                         info.error().detail);
    }
    auto merged = mergeClaims(*claims_, info.value().claims);
    if (!merged) {
        return reply(500, "Login failed", "The session could not be created.",
                     LogLevel::Error,
                     "session refused: " + merged.error().detail);
    }
    userinfoJson_ = std::move(info.value().json);
    const Claims all = std::move(merged).value();
    return storeSession(all);
}

const Step &CallbackFlow::storeSession(const Claims &claims) {
    auto table = encodeClaimTable(claims, claimSelection_);
    if (!table) {
        return reply(500, "Login failed", "The session could not be created.",
                     LogLevel::Error,
                     "session refused: " + table.error().detail);
    }

    const auto sub = claims.string("sub");
    const auto sid = claims.string("sid");
    SessionFields session;
    session.sub = sub.value_or(std::string_view());
    session.sid = sid.value_or(std::string_view());
    if (keepIdToken_) {
        session.idToken = tokens_->idToken();
    }
    if (tokens_->refreshToken()) {
        session.refreshToken = *tokens_->refreshToken();
    }
    if (keepAccessToken_ ||
        (revokeAccessToken_ && session.refreshToken.empty())) {
        session.accessToken = tokens_->accessToken();
    }
    session.claimTable = table.value();
    session.userinfo = userinfoJson_;
    session.created = now_;
    session.refreshed = now_;
    session.idTokenExpires = claims.numericDate("exp").value_or(0);
    session.expires = sessionExpiry(now_, sessionTimeout_,
                                    session.idTokenExpires,
                                    !session.refreshToken.empty());
    const auto expiresIn = tokens_->expiresIn();
    session.accessTokenExpires = expiresIn ? now_ + *expiresIn : 0;
    sid_ = session.sid;
    sub_ = session.sub;
    expires_ = session.expires;

    auto record = encodeSession(session);
    if (!record) {
        return reply(500, "Login failed", "The session could not be created.",
                     LogLevel::Error,
                     "session refused: " + record.error().detail);
    }

    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Put;
    step_.record = RecordKind::Session;
    step_.key = provider_ + "\n" + sessionId_;
    step_.value = std::move(record).value();
    step_.expires = idleTimeout_ > 0
                        ? std::min(session.expires, now_ + idleTimeout_)
                        : session.expires;
    step_.logLevel = LogLevel::Info;
    step_.log = "provider \"" + provider_ + "\": login of \"" +
                printableForDetail(session.sub, 255) + "\"";
    state_ = State::Session;
    return step_;
}

// The indexes outlive every session they list: each login extends them.
const Step &CallbackFlow::indexStep(State state, std::string_view kind,
                                    std::string_view value) {
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::IndexAdd;
    step_.record = RecordKind::SessionIndex;
    step_.key = sessionIndexKey(provider_, kind, value);
    step_.value = provider_ + "\n" + sessionId_;
    step_.expires = expires_;
    state_ = state;
    return step_;
}

const Step &CallbackFlow::loggedIn() {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = 302;
    step_.location = returnPath_;
    step_.sessionId = sessionId_;
    state_ = State::Done;
    return step_;
}

const Step &CallbackFlow::reply(int status, std::string title,
                                std::string detail, LogLevel level,
                                std::string log) {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = status;
    step_.title = std::move(title);
    step_.detail = std::move(detail);
    step_.logLevel = level;
    step_.log = std::move(log);
    state_ = State::Done;
    return step_;
}

const Step &CallbackFlow::loginExpired(std::string log) {
    return reply(400, "Login expired",
                 "This login is unknown, expired or was already used. Please "
                 "go back and try again.",
                 LogLevel::Error, std::move(log));
}

}  // namespace auth_oidc
