#include "flow/userinfo.h"

#include <utility>

#include "common/text.h"
#include "json/json.h"
#include "jwt/verify.h"
#include "jwt/issuer.h"

namespace auth_oidc {

namespace {

// A UserInfo answer is a few KiB at most.
constexpr std::size_t kMaxUserinfoBytes = 256 * 1024;

// The body without the line break or spaces a server may end it with.
std::string_view trimEnd(std::string_view body) noexcept {
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r' ||
                             body.back() == ' ')) {
        body.remove_suffix(1);
    }
    return body;
}

// A compact JWS: three base64url parts, no JSON braces.
bool looksLikeJwt(std::string_view body) noexcept {
    body = trimEnd(body);
    std::size_t dots = 0;
    for (const char c : body) {
        if (c == '.') {
            ++dots;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return dots == 2;
}

Result<Claims> signedUserinfo(std::string_view body, const Jwks *jwks,
                              const UserinfoExpectations &expect);

// RFC 6750, section 3: a resource server that refuses the access token
// says why in an "error" member (invalid_token, insufficient_scope), even
// when the status line says 200.
Result<bool> checkErrorMember(const Claims &claims) {
    const json_t *error = json_object_get(claims.root(), "error");
    if (error == nullptr) {
        return true;
    }
    const auto code = jsonStringView(error);
    std::string detail =
        "userinfo refused the access token: " +
        (code ? printableForDetail(*code, 60)
              : std::string("(\"error\" is ") + jsonTypeName(error) + ")");
    if (const auto description = claims.string("error_description")) {
        detail += ' ';
        detail += printableForDetail(*description, 200);
    }
    return makeError(Status::Provider, detail);
}

}  // namespace

Step userinfoFetch(std::string_view accessToken) {
    Step step;
    step.kind = StepKind::Fetch;
    step.endpoint = Discovery::Endpoint::Userinfo;
    step.method = "GET";
    step.headers = "Authorization: Bearer ";
    step.headers += accessToken;
    step.headers += "\r\nAccept: application/json, application/jwt\r\n";
    return step;
}

Result<Userinfo> parseUserinfo(unsigned httpStatus, std::string_view body,
                               const Jwks *jwks,
                               const UserinfoExpectations &expect) {
    if (httpStatus < 200 || httpStatus > 299) {
        return makeError(Status::Provider,
                         "userinfo answered HTTP status " +
                             std::to_string(httpStatus));
    }
    auto claims = [&]() -> Result<Claims> {
        if (looksLikeJwt(body)) {
            return signedUserinfo(body, jwks, expect);
        }
        auto parsed = parseJsonObject(body, "userinfo", kMaxUserinfoBytes);
        if (!parsed) {
            return std::move(parsed).error();
        }
        auto object = Claims::fromObject(std::move(parsed).value());
        if (!object) {
            return object;
        }
        auto refused = checkErrorMember(object.value());
        if (!refused) {
            return std::move(refused).error();
        }
        return object;
    }();
    if (!claims) {
        return std::move(claims).error();
    }
    const auto sub = claims.value().string("sub");
    if (!sub) {
        return makeError(Status::Field, "userinfo has no \"sub\"");
    }
    if (*sub != expect.sub) {
        return makeError(Status::Field,
                         "userinfo \"sub\" " + quoteForDetail(*sub, 60) +
                             " is not the ID token's " +
                             quoteForDetail(expect.sub, 60));
    }
    std::string json = claims.value().json();
    if (json.empty()) {
        return makeError(Status::NoMemory, "userinfo JSON");
    }
    return Userinfo{std::move(claims).value(), std::move(json)};
}

Result<Claims> mergeClaims(const Claims &idToken, const Claims &userinfo) {
    JsonPtr merged(json_deep_copy(idToken.root()));
    if (!merged ||
        json_object_update_missing(merged.get(),
                                   const_cast<json_t *>(userinfo.root())) != 0) {
        return makeError(Status::NoMemory, "merging userinfo claims");
    }
    return Claims::fromObject(std::move(merged));
}

namespace {

// OpenID Connect Core 1.0, 5.3.2: a signed answer is a JWT signed by the
// provider with the algorithm registered for the client, and names the
// provider ("iss") and the client ("aud"). Its signature is checked like an
// ID token's: the algorithm from the allowlist only, never "none".
Result<Claims> signedUserinfo(std::string_view body, const Jwks *jwks,
                              const UserinfoExpectations &expect) {
    if (expect.issuer.empty() || expect.clientId.empty()) {
        return makeError(Status::InvalidArgument,
                         "a signed userinfo needs an issuer and a client_id");
    }
    auto verified = verifyJws(trimEnd(body), jwks, expect.clientSecret,
                              expect.algs);
    if (!verified) {
        return std::move(verified).error();
    }
    Claims &claims = verified.value().claims;
    auto issuer = checkIssuer(claims, expect.issuer);
    if (!issuer) {
        return std::move(issuer).error();
    }
    auto audience = checkAudience(claims, expect.clientId);
    if (!audience) {
        return std::move(audience).error();
    }
    return std::move(claims);
}

}  // namespace

}  // namespace auth_oidc
