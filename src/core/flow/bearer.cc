#include "flow/bearer.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/base64url.h"
#include "common/text.h"
#include "crypto/digest.h"
#include "flow/token.h"
#include "json/json.h"
#include "jwk/jwks.h"
#include "jwt/access_token.h"
#include "jwt/claims.h"
#include "jwt/verify.h"
#include "session/record.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

// RFC 6750, section 3.1 (and 2.1's b64token): the one error code a token
// that does not pass gets.
constexpr const char *kInvalidToken = "invalid_token";

// Introspection answers are small; a provider that sends more is wrong.
constexpr std::size_t kMaxIntrospectionBytes = 64 * 1024;

bool looksLikeJwt(std::string_view token) noexcept {
    return std::count(token.begin(), token.end(), '.') == 2;
}

// What a client is told: a fixed sentence per reason (RFC 6750's
// error_description is for the developer; nothing of the token goes back).
std::string describeRefusal(Status status) {
    switch (status) {
    case Status::TooLarge:
    case Status::Token:
        return "the token is malformed";
    case Status::Alg:
        return "the token's signing algorithm is not accepted";
    case Status::Kid:
    case Status::Signature:
        return "the token's signature does not verify";
    case Status::Issuer:
        return "the token was issued by another provider";
    case Status::Audience:
        return "the token is not meant for this API";
    case Status::Expired:
        return "the token expired";
    case Status::NotYet:
        return "the token is not valid yet";
    default:
        return "the token is not an acceptable access token";
    }
}

}  // namespace

std::size_t bearerTokenKeyTo(std::string_view provider,
                             std::string_view token, char *out,
                             std::size_t size) noexcept {
    static constexpr std::string_view kMiddle = "\nbearer\n";
    unsigned char digest[kSha256Bytes];
    const std::size_t len =
        provider.size() + kMiddle.size() + base64UrlLength(sizeof(digest));
    if (len > size || !sha256(token, digest)) {
        return 0;
    }
    std::copy(provider.begin(), provider.end(), out);
    std::copy(kMiddle.begin(), kMiddle.end(), out + provider.size());
    encodeBase64UrlTo(digest, sizeof(digest),
                      out + provider.size() + kMiddle.size());
    return len;
}

std::string bearerTokenKey(std::string_view provider, std::string_view token) {
    std::string key(provider.size() + 64, '\0');
    // SHA-256 cannot fail short of memory; the key is then empty, a miss.
    key.resize(bearerTokenKeyTo(provider, token, key.data(), key.size()));
    return key;
}

namespace {

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// (RFC 6750, section 2.1): a table, as every API request is checked.
constexpr std::array<bool, 256> kB64TokenChars = [] {
    std::array<bool, 256> table{};
    for (std::size_t c = 0; c < table.size(); ++c) {
        table[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                   c == '_' || c == '~' || c == '+' || c == '/';
    }
    return table;
}();

}  // namespace

bool isBearerToken(std::string_view token) noexcept {
    if (token.empty() || token.size() > kMaxBearerBytes) {
        return false;
    }
    std::size_t end = token.size();
    while (end > 0 && token[end - 1] == '=') {
        --end;
    }
    if (end == 0) {
        return false;
    }
    for (std::size_t i = 0; i < end; ++i) {
        if (!kB64TokenChars[static_cast<unsigned char>(token[i])]) {
            return false;
        }
    }
    return true;
}

Result<std::unique_ptr<BearerFlow>> BearerFlow::create(
    const BearerConfig &config, std::string_view token, std::int64_t now) {
    auto algs = parseAlgList(config.algorithms);
    if (!algs) {
        return std::move(algs).error();
    }
    std::unique_ptr<BearerFlow> flow(new BearerFlow());
    flow->audienceList_ = config.audiences;
    std::string_view rest = flow->audienceList_;
    while (!rest.empty()) {
        const std::size_t end = std::min(rest.find(' '), rest.size());
        if (end > 0) {
            flow->audiences_.push_back(rest.substr(0, end));
        }
        rest.remove_prefix(std::min(end + 1, rest.size()));
    }
    if (flow->audiences_.empty()) {
        return makeError(Status::InvalidArgument,
                         "bearer tokens need an audience");
    }
    flow->provider_ = config.provider;
    flow->issuer_ = config.issuer;
    flow->clientId_ = config.clientId;
    flow->clientSecret_ = config.clientSecret;
    flow->client_ = config.client;
    flow->algs_ = algs.value();
    flow->validation_ = config.validation;
    flow->strictType_ = config.strictType;
    flow->leeway_ = config.leeway;
    flow->cacheValid_ = config.cacheValid;
    flow->cacheInvalid_ = config.cacheInvalid;
    flow->timeoutMs_ = config.introspectionTimeoutMs;
    flow->token_ = token;
    flow->now_ = now;
    return Result<std::unique_ptr<BearerFlow>>(std::move(flow));
}

const Step &BearerFlow::start() {
    if (state_ != State::Start) {
        return step_;
    }
    if (!isBearerToken(token_)) {
        cacheInvalid_ = 0;  // nothing worth remembering
        return refuse("the token is malformed", "not a b64token");
    }
    if (validation_ == BearerValidation::Jwt && !looksLikeJwt(token_)) {
        return refuse("the token is malformed", "not a JWT");
    }
    step_ = Step();
    step_.kind = StepKind::Metadata;
    state_ = State::Metadata;
    return step_;
}

const Step &BearerFlow::resume(const StepResult &result) {
    switch (state_) {
    case State::Start:
        return start();
    case State::Metadata:
        if (result.discovery == nullptr) {
            return unavailable("the provider's metadata is not available");
        }
        if (validation_ == BearerValidation::Introspection ||
            (validation_ == BearerValidation::Auto && !looksLikeJwt(token_))) {
            return introspect(result);
        }
        return verifyJwt(result);
    case State::Keys:
        return verifyJwt(result);
    case State::Introspect:
        return introspected(result);
    case State::Cache:
        return afterCache(result);
    case State::Done:
        break;
    }
    return step_;
}

const Step &BearerFlow::verifyJwt(const StepResult &result) {
    AccessTokenExpectations expect;
    expect.issuer = issuer_;
    expect.audiences = audiences_;
    expect.strictType = strictType_;
    expect.now = now_;
    expect.leeway = leeway_;
    expect.algs = algs_;
    auto claims = validateAccessToken(token_, result.jwks, expect);
    if (!claims && claims.status() == Status::Kid && !keysRefetched_) {
        keysRefetched_ = true;
        step_ = keysRefetchStep();
        state_ = State::Keys;
        return step_;
    }
    if (!claims && claims.status() == Status::Kid && result.jwks == nullptr) {
        return unavailable("the provider's keys are not available");
    }
    if (!claims) {
        switch (claims.status()) {
        case Status::NoMemory:
        case Status::Internal:
        case Status::InvalidArgument:
            return unavailable(claims.error().detail);
        default:
            return refuse(describeRefusal(claims.status()),
                          claims.error().detail);
        }
    }
    const auto exp = claims.value().numericDate("exp");
    return accept(claims.value(), exp.value_or(0));
}

const Step &BearerFlow::introspect(const StepResult &result) {
    if (!result.discovery->endpoint(Discovery::Endpoint::Introspection)) {
        return refuse("the token is not a JWT and cannot be introspected",
                      "the provider lists no introspection_endpoint");
    }
    auto request = buildIntrospectionRequest(
        clientId_, clientSecret_, token_,
        result.discovery->list(Discovery::List::TokenEndpointAuthMethods),
        clientProof(client_, *result.discovery, now_));
    if (!request) {
        return unavailable("introspection request: " +
                           request.error().detail);
    }
    step_ = formPost(Discovery::Endpoint::Introspection,
                     std::move(request).value());
    step_.timeoutMs = timeoutMs_;
    state_ = State::Introspect;
    return step_;
}

// RFC 7662, section 2.2: "active" true is the provider's word that the
// token is valid now; the members it adds are checked as a JWT's would be
// when present (iss, exp, nbf, aud), and a refresh token is no access
// token.
const Step &BearerFlow::introspected(const StepResult &result) {
    if (result.transport != StepResult::Transport::Ok) {
        return unavailable(
            std::string("introspection failed: ") +
            (result.transport == StepResult::Transport::TimedOut
                 ? "timed out"
                 : printableForDetail(result.transportError, 200)));
    }
    if (result.httpStatus != 200) {
        return unavailable("introspection answered HTTP " +
                           std::to_string(result.httpStatus));
    }
    auto parsed = parseJsonObject(result.body, "introspection answer",
                                  kMaxIntrospectionBytes);
    if (!parsed) {
        return unavailable(parsed.error().detail);
    }
    const json_t *active = json_object_get(parsed.value().get(), "active");
    if (!json_is_true(active)) {
        return refuse("the token is not active",
                      "introspection: not active");
    }
    auto claims = Claims::fromObject(std::move(parsed).value());
    if (!claims) {
        return unavailable(claims.error().detail);
    }
    const Claims &c = claims.value();
    const json_t *root = c.root();
    if (json_object_get(root, "iss") != nullptr) {
        auto issuer = checkIssuer(c, issuer_);
        if (!issuer) {
            return refuse(describeRefusal(issuer.status()),
                          "introspection: " + issuer.error().detail);
        }
    }
    std::int64_t exp = 0;
    if (json_object_get(root, "exp") != nullptr) {
        const auto value = c.numericDate("exp");
        if (!value || *value < now_ - leeway_) {
            return refuse(describeRefusal(Status::Expired),
                          "introspection: expired");
        }
        exp = *value;
    }
    const auto nbf = c.numericDate("nbf");
    if (nbf && *nbf > now_ + leeway_) {
        return refuse(describeRefusal(Status::NotYet),
                      "introspection: not valid yet");
    }
    if (json_object_get(root, "aud") != nullptr) {
        auto audience = checkAnyAudience(c, audiences_);
        if (!audience) {
            return refuse(describeRefusal(audience.status()),
                          "introspection: " + audience.error().detail);
        }
    }
    const auto type = c.string("token_type");
    if (type && equalsIgnoringCase(*type, "refresh_token")) {
        return refuse("the token is not an access token",
                      "introspection: a refresh token");
    }
    return accept(c, exp);
}

const Step &BearerFlow::accept(const Claims &claims, std::int64_t expires) {
    // RFC 8705 and RFC 9449: a token bound to a key ("cnf") is good only
    // with a proof of that key, which a plain bearer request does not carry
    if (json_object_get(claims.root(), "cnf") != nullptr) {
        return refuse("the token is bound to a key (cnf) and needs a proof",
                      "sender-constrained token (cnf) without a proof");
    }
    const std::string scope = grantedScopes(claims);
    auto table = encodeClaimTable(claims);
    if (!table) {
        return unavailable("bearer record: " + table.error().detail);
    }
    BearerFields fields;
    fields.sub = claims.string("sub").value_or(std::string_view());
    fields.scope = scope;
    fields.claims = claims.json();
    fields.claimTable = table.value();
    fields.verified = now_;
    fields.expires = expires;
    auto record = encodeBearer(fields);
    if (!record) {
        return unavailable("bearer record: " + record.error().detail);
    }
    answer_ = Step();
    answer_.kind = StepKind::Done;
    answer_.outcome = Outcome::Session;
    answer_.value = std::move(record).value();
    answer_.expires = expires;

    std::int64_t until = now_ + cacheValid_;
    if (expires > 0) {
        until = std::min(until, expires + leeway_);
    }
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Put;
    step_.record = RecordKind::BearerToken;
    step_.key = bearerTokenKey(provider_, token_);
    step_.value = answer_.value;
    step_.expires = std::max(until, now_ + 1);
    state_ = State::Cache;
    return step_;
}

const Step &BearerFlow::refuse(std::string description, std::string log) {
    answer_ = Step();
    answer_.kind = StepKind::Reply;
    answer_.status = 401;
    answer_.title = kInvalidToken;
    answer_.detail = std::move(description);
    answer_.logLevel = LogLevel::Info;
    answer_.log = "provider \"" + provider_ + "\": bearer token refused: " +
                  printableForDetail(log, 300);

    BearerFields fields;
    fields.refusedError = answer_.title;
    fields.refusedDescription = answer_.detail;
    fields.verified = now_;
    auto record = cacheInvalid_ > 0 ? encodeBearer(fields)
                                    : Result<std::string>(std::string());
    if (!record || record.value().empty()) {
        state_ = State::Done;
        step_ = std::move(answer_);
        return step_;
    }
    step_ = Step();
    step_.kind = StepKind::Store;
    step_.op = StoreOp::Put;
    step_.record = RecordKind::BearerToken;
    step_.key = bearerTokenKey(provider_, token_);
    step_.value = std::move(record).value();
    step_.expires = now_ + cacheInvalid_;
    state_ = State::Cache;
    return step_;
}

// Ours or the provider's fault, not the token's: 503, nothing cached, so
// that the next request tries again. The line says why but is not logged
// here: the module says it once per incident, as every API request of an
// outage would repeat it.
const Step &BearerFlow::unavailable(std::string log) {
    step_ = Step();
    step_.kind = StepKind::Reply;
    step_.status = 503;
    step_.title = "temporarily_unavailable";
    step_.detail = "the token cannot be verified now";
    step_.logLevel = LogLevel::None;
    step_.log = "provider \"" + provider_ + "\": bearer token not verified: " +
                printableForDetail(log, 300);
    state_ = State::Done;
    return step_;
}

// The cache is an optimisation: a put that failed (a full store) changes
// nothing in the answer.
const Step &BearerFlow::afterCache(const StepResult &) {
    state_ = State::Done;
    step_ = std::move(answer_);
    return step_;
}

}  // namespace auth_oidc
