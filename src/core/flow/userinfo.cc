#include "flow/userinfo.h"

#include <utility>

#include "common/text.h"
#include "json/json.h"

namespace auth_oidc {

namespace {

// A UserInfo answer is a few KiB at most.
constexpr std::size_t kMaxUserinfoBytes = 256 * 1024;

// A compact JWS: three base64url parts, no JSON braces.
bool looksLikeJwt(std::string_view body) noexcept {
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r' ||
                             body.back() == ' ')) {
        body.remove_suffix(1);
    }
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
        return Claims::fromObject(std::move(parsed).value());
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

Result<Claims> signedUserinfo(std::string_view body, const Jwks *jwks,
                              const UserinfoExpectations &expect) {
    (void) jwks;
    (void) expect;
    (void) body;
    return makeError(Status::Token, "signed userinfo is not supported yet");
}

}  // namespace

}  // namespace auth_oidc
