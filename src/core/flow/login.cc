#include "flow/login.h"

#include <utility>

#include "common/base64url.h"
#include "crypto/symmetric.h"
#include "flow/authorize.h"
#include "flow/pkce.h"
#include "session/keyring.h"
#include "session/record.h"

namespace auth_oidc {

namespace {

std::string startedLoginAad(std::string_view provider, std::string_view state) {
    std::string aad = "login\n";
    aad += provider;
    aad += '\n';
    aad += state;
    return aad;
}

// Every started login is a cookie the browser sends back with the callback,
// and nginx takes a request's headers in one 8 KiB buffer by default: a
// longer return path keeps its path without the query, or becomes "/".
constexpr std::size_t kMaxCookieReturnPath = 512;

std::string cookieReturnTarget(std::string target) {
    if (target.size() <= kMaxCookieReturnPath) {
        return target;
    }
    // a local path starts with "/"; an absolute target's path after its
    // authority (returnTarget() made it, so there is one)
    std::size_t pathAt = 0;
    if (target.front() != '/') {
        pathAt = target.find('/', target.find("://") + 3);
        if (pathAt == std::string::npos) {
            return "/";
        }
    }
    target.resize(std::min(target.find('?', pathAt), target.size()));
    if (target.size() <= kMaxCookieReturnPath) {
        return target;
    }
    target.resize(pathAt + 1);
    return target;
}

bool isRandomId(std::string_view id) {
    const auto decoded = decodeBase64Url(id);
    return decoded && decoded->size() == 32;
}

}  // namespace

Result<std::string> sealStartedLogin(const Keyring &keyring,
                                     std::string_view provider,
                                     std::string_view state,
                                     std::string_view record,
                                     const unsigned char *nonce) {
    auto sealed = keyring.seal(startedLoginAad(provider, state), record, nonce);
    if (!sealed) {
        return std::move(sealed).error();
    }
    return encodeBase64Url(sealed.value());
}

Result<std::string> openStartedLogin(const Keyring &keyring,
                                     std::string_view provider,
                                     std::string_view state,
                                     std::string_view cookie) {
    const auto sealed = decodeBase64Url(cookie);
    if (!sealed) {
        return makeError(Status::Decode, "the login cookie is not base64url");
    }
    auto opened = keyring.open(
        startedLoginAad(provider, state),
        std::string_view(reinterpret_cast<const char *>(sealed->data()),
                         sealed->size()));
    if (!opened) {
        return std::move(opened).error();
    }
    return std::string(opened.value().view());
}

Result<std::unique_ptr<LoginFlow>> LoginFlow::create(const LoginConfig &config,
                                                     const LoginRequest &request) {
    if (request.discovery == nullptr || config.keyring == nullptr) {
        return makeError(Status::InvalidArgument,
                         "a login needs the provider's metadata and a keyring");
    }
    if (!isRandomId(request.state) || !isRandomId(request.nonce) ||
        !isRandomId(request.verifier) ||
        request.sealNonce.size() != kGcmNonceLength) {
        return makeError(Status::InvalidArgument,
                         "state, nonce, verifier or seal nonce malformed");
    }
    const auto &endpoint =
        request.discovery->endpoint(Discovery::Endpoint::Authorization);
    if (!endpoint) {
        return makeError(Status::InvalidArgument, "no authorization_endpoint");
    }
    std::unique_ptr<LoginFlow> flow(new LoginFlow());
    flow->keyring_ = config.keyring;
    flow->loginTimeout_ = config.loginTimeout;
    flow->probeStore_ = config.probeStore;
    flow->provider_ = config.provider;
    flow->clientId_ = config.clientId;
    flow->redirectUri_ = config.redirectUri;
    flow->scope_ = config.scope;
    flow->extraArgs_ = config.extraArgs;
    flow->endpoint_ = *endpoint;
    // on unless turned off, or the provider lists methods without S256
    flow->pkce_ = config.pkce >= 0
                      ? config.pkce == 1
                      : request.discovery->supportsPkceS256().value_or(true);
    flow->uri_ = request.uri;
    flow->origin_ = request.origin;
    flow->absoluteReturn_ = request.absoluteReturn;
    flow->returnHosts_ = config.returnHosts;
    flow->acrValues_ = request.acrValues;
    flow->maxAge_ = request.maxAge;
    if (!request.extraArgs.empty()) {
        flow->extraArgs_ += flow->extraArgs_.empty() ? "" : "&";
        flow->extraArgs_ += request.extraArgs;
    }

    flow->stateValue_ = request.state;
    flow->nonce_ = request.nonce;
    flow->verifier_ = request.verifier;
    flow->sealNonce_ = request.sealNonce;
    flow->now_ = request.now;
    return Result<std::unique_ptr<LoginFlow>>(std::move(flow));
}

const Step &LoginFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    if (!probeStore_) {
        return redirect();
    }
    // A key that never exists: only whether the store answers matters.
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Get;
    step_.record = RecordKind::UsedState;
    step_.key = "probe";
    state_ = State::Probe;
    return step_;
}

const Step &LoginFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::Probe:
        if (result.store == StepResult::Store::Failed) {
            step_ = Step();
            step_.kind = StepKind::Reply;
            step_.status = 503;
            step_.title = "Login unavailable";
            step_.detail = "The session store is not available.";
            state_ = State::Done;
            return step_;
        }
        return redirect();
    case State::Done:
        break;
    }
    return step_;
}

const Step &LoginFlow::redirect() {
    std::string challenge;
    if (pkce_) {
        auto s256 = pkceS256(verifier_);
        if (!s256) {
            return fail("PKCE challenge", "the verifier is unusable");
        }
        challenge = std::move(*s256);
    }

    PendingLoginFields pending;
    pending.nonce = nonce_;
    pending.codeVerifier = pkce_ ? std::string_view(verifier_) : std::string_view();
    // only this host, or one allowed, comes back after the login: no open
    // redirect
    const std::string target = cookieReturnTarget(
        returnTarget(uri_, origin_, absoluteReturn_, returnHosts_));
    pending.returnPath = target;
    pending.acrValues = acrValues_;
    pending.maxAge = maxAge_;
    pending.provider = provider_;
    pending.created = now_;
    pending.expires = now_ + loginTimeout_;
    auto record = encodePendingLogin(pending);
    if (!record) {
        return fail("pending login", record.error().detail);
    }
    auto cookie = sealStartedLogin(
        *keyring_, provider_, stateValue_, record.value(),
        reinterpret_cast<const unsigned char *>(sealNonce_.data()));
    if (!cookie) {
        return fail("login cookie", cookie.error().detail);
    }

    AuthorizeRequest authorize;
    authorize.endpoint = endpoint_;
    authorize.clientId = clientId_;
    authorize.redirectUri = redirectUri_;
    authorize.scope = scope_;
    authorize.state = stateValue_;
    authorize.nonce = nonce_;
    authorize.codeChallenge = challenge;
    authorize.extraArgs = extraArgs_;
    authorize.acrValues = acrValues_;
    authorize.maxAge = maxAge_;
    auto url = buildAuthorizeUrl(authorize);
    if (!url) {
        return fail("authorization URL", url.error().detail);
    }

    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = 302;
    step_.location = std::move(url).value();
    step_.loginState = stateValue_;
    step_.loginCookie = std::move(cookie).value();
    state_ = State::Done;
    return step_;
}

const Step &LoginFlow::fail(std::string what, std::string detail) {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = 500;
    step_.title = "Login failed";
    step_.logLevel = LogLevel::Error;
    step_.log = "provider \"" + provider_ + "\": cannot build the " + what +
                ": " + detail;
    state_ = State::Done;
    return step_;
}

}  // namespace auth_oidc
