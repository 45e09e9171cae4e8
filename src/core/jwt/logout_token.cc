#include "jwt/logout_token.h"

#include <utility>

#include "common/text.h"
#include "jwt/verify.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

// Back-Channel Logout 1.0, section 2.4 and RFC 8725, section 3.11: explicit
// typing with "logout+jwt"; "JWT" is still what most providers send. Media
// types are case-insensitive and "application/" may be left out (RFC 7515,
// section 4.1.9).
Result<bool> checkType(const json_t *header) {
    auto type = headerType(header);
    if (!type) {
        return std::move(type).error();
    }
    if (type.value() && !equalsIgnoringCase(*type.value(), "logout+jwt") &&
        !equalsIgnoringCase(*type.value(), "JWT")) {
        return makeError(Status::Field,
                         "header \"typ\" is " +
                             quoteForDetail(*type.value(), 40) +
                             ", expected \"logout+jwt\" or \"JWT\"");
    }
    return true;
}

// "events": a JSON object with the back-channel logout member, whose value
// is a JSON object (section 2.4).
Result<bool> checkEvents(const json_t *root) {
    const json_t *events = json_object_get(root, "events");
    if (events == nullptr) {
        return makeError(Status::Field,
                         "claim \"events\" is missing: not a logout token");
    }
    if (!json_is_object(events)) {
        return claimMustBe("events", std::string("an object, not ") +
                                         jsonTypeName(events));
    }
    const json_t *event = json_object_get(events, kBackchannelLogoutEvent);
    if (event == nullptr) {
        return makeError(Status::Field,
                         std::string("claim \"events\" has no member \"") +
                             kBackchannelLogoutEvent +
                             "\": not a logout token");
    }
    if (!json_is_object(event)) {
        return makeError(Status::Field,
                         std::string("the back-channel logout event must be "
                                     "an object, not ") +
                             jsonTypeName(event));
    }
    return true;
}

Result<LogoutTokenClaims> checkClaims(const Claims &claims,
                                      const LogoutTokenExpectations &expect) {
    const json_t *root = claims.root();
    LogoutTokenClaims out;

    auto issuer = checkIssuer(claims, expect.issuer);
    if (!issuer) {
        return std::move(issuer).error();
    }
    auto audiences = checkAudience(claims, expect.clientId);
    if (!audiences) {
        return std::move(audiences).error();
    }

    auto iat =
        checkIssuedAt(claims, expect.now, expect.leeway, expect.maxIatAge);
    if (!iat) {
        return std::move(iat).error();
    }
    out.iat = iat.value();
    // Section 2.4 (the final specification): "exp" is required.
    auto exp = checkExpiry(claims, expect.now, expect.leeway);
    if (!exp) {
        return std::move(exp).error();
    }
    out.exp = exp.value();

    auto events = checkEvents(root);
    if (!events) {
        return std::move(events).error();
    }

    // Section 2.4: a nonce is prohibited, so that an ID token can never
    // pass for a logout token.
    if (json_object_get(root, "nonce") != nullptr) {
        return makeError(Status::Field,
                         "claim \"nonce\" must be absent in a logout token");
    }

    const bool hasSub = json_object_get(root, "sub") != nullptr;
    const bool hasSid = json_object_get(root, "sid") != nullptr;
    if (!hasSub && !hasSid) {
        return makeError(Status::Field,
                         "the token has neither \"sub\" nor \"sid\"");
    }
    if (hasSub) {
        auto sub = checkSubject(claims);
        if (!sub) {
            return std::move(sub).error();
        }
        out.sub = std::string(sub.value());
    }
    if (hasSid) {
        const auto sid = claims.string("sid");
        if (!sid || sid->empty()) {
            return claimMustBe("sid", "a non-empty string");
        }
        out.sid = std::string(*sid);
    }

    const auto jti = claims.string("jti");
    if (!jti || jti->empty()) {
        return claimMustBe("jti", "a non-empty string");
    }
    out.jti = std::string(*jti);
    return out;
}

}  // namespace

Result<LogoutTokenClaims> validateLogoutToken(
    std::string_view token, const Jwks *jwks,
    const LogoutTokenExpectations &expect) {
    if (expect.issuer.empty() || expect.clientId.empty()) {
        return makeError(Status::InvalidArgument,
                         "issuer and client_id must not be empty");
    }
    if (expect.leeway < 0 || expect.maxIatAge < 0) {
        return makeError(Status::InvalidArgument,
                         "leeway and max_iat_age must not be negative");
    }

    auto verified = verifyJws(token, jwks, expect.clientSecret, expect.algs);
    if (!verified) {
        return std::move(verified).error();
    }
    auto typed = checkType(verified.value().jws.header.get());
    if (!typed) {
        return std::move(typed).error();
    }
    return checkClaims(verified.value().claims, expect);
}

}  // namespace auth_oidc
