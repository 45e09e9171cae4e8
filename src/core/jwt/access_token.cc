#include "jwt/access_token.h"

#include <utility>

#include "common/text.h"
#include "jwt/verify.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

// RFC 9068, section 4: "at+jwt" only; the lenient mode also takes what
// most providers still send.
Result<bool> checkAccessTokenType(const json_t *header, bool strict) {
    auto type = headerType(header);
    if (!type) {
        return std::move(type).error();
    }
    const auto &typ = type.value();
    if (typ && equalsIgnoringCase(*typ, "at+jwt")) {
        return true;
    }
    if (!strict && (!typ || equalsIgnoringCase(*typ, "JWT"))) {
        return true;
    }
    return makeError(Status::Field,
                     std::string("header \"typ\" is ") +
                         (typ ? quoteForDetail(*typ, 40) : "absent") +
                         ", expected \"at+jwt\"");
}

// "iat", when present, is not in the future (RFC 9068 requires it; not
// every provider sends it).
Result<bool> checkIssuedAtIfAny(const Claims &claims, std::int64_t now,
                                std::int64_t leeway) {
    if (json_object_get(claims.root(), "iat") == nullptr) {
        return true;
    }
    auto iat = checkIssuedAt(claims, now, leeway, 0);
    if (!iat) {
        return std::move(iat).error();
    }
    return true;
}

}  // namespace

Result<bool> checkAnyAudience(const Claims &claims,
                              const std::vector<std::string_view> &audiences) {
    Error last = makeError(Status::Audience, "no audience is configured");
    for (const std::string_view audience : audiences) {
        auto listed = checkAudience(claims, audience);
        if (listed) {
            return true;
        }
        if (listed.status() != Status::Audience) {
            return std::move(listed).error();
        }
        last = std::move(listed).error();
    }
    return last;
}

Result<Claims> validateAccessToken(std::string_view token, const Jwks *jwks,
                                   const AccessTokenExpectations &expect) {
    if (expect.issuer.empty() || expect.audiences.empty() ||
        expect.leeway < 0) {
        return makeError(Status::InvalidArgument,
                         "issuer and an audience are required");
    }
    AlgSet asymmetric = expect.algs;
    for (const Alg alg : {Alg::HS256, Alg::HS384, Alg::HS512}) {
        asymmetric.reset(static_cast<std::size_t>(alg));
    }
    auto verified = verifyJws(token, jwks, std::string_view(), asymmetric);
    if (!verified) {
        return std::move(verified).error();
    }
    Claims &claims = verified.value().claims;
    // in RFC 9068's order: what the token is, who issued it, then its
    // times and audience
    auto typed = checkAccessTokenType(verified.value().jws.header.get(),
                                      expect.strictType);
    if (!typed) {
        return std::move(typed).error();
    }
    auto issuer = checkIssuer(claims, expect.issuer);
    if (!issuer) {
        return std::move(issuer).error();
    }
    auto exp = checkExpiry(claims, expect.now, expect.leeway);
    if (!exp) {
        return std::move(exp).error();
    }
    auto nbf = checkNotBefore(claims, expect.now, expect.leeway);
    if (!nbf) {
        return std::move(nbf).error();
    }
    auto iat = checkIssuedAtIfAny(claims, expect.now, expect.leeway);
    if (!iat) {
        return std::move(iat).error();
    }
    auto audience = checkAnyAudience(claims, expect.audiences);
    if (!audience) {
        return std::move(audience).error();
    }
    return std::move(claims);
}

std::string grantedScopes(const Claims &claims) {
    if (const auto scope = claims.string("scope")) {
        return std::string(*scope);
    }
    const json_t *scp = json_object_get(claims.root(), "scp");
    if (const auto text = jsonStringView(scp)) {
        return std::string(*text);
    }
    std::string out;
    for (std::size_t i = 0; json_is_array(scp) && i < json_array_size(scp);
         ++i) {
        const auto item = jsonStringView(json_array_get(scp, i));
        // a scope token has no space (RFC 6749, section 3.3)
        if (item && !item->empty() &&
            item->find(' ') == std::string_view::npos) {
            if (!out.empty()) {
                out += ' ';
            }
            out += *item;
        }
    }
    return out;
}

}  // namespace auth_oidc
