#include "flow/token.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "json_edit.h"

namespace auth_oidc {
namespace {

using test::withMember;
using test::withoutMember;

using Methods = std::optional<std::vector<std::string>>;

const Methods kAbsent;
const Methods kBasicAndPost = std::vector<std::string>{"client_secret_post",
                                                       "client_secret_basic"};
const Methods kPostOnly = std::vector<std::string>{"client_secret_post", "private_key_jwt"};
const Methods kJwtOnly = std::vector<std::string>{"private_key_jwt"};

TokenRequestParams params() {
    TokenRequestParams p;
    p.clientId = "client-1";
    p.clientSecret = "s3cret";
    p.code = "SplxlOBeZQQYbYS6WxSbIA";
    p.redirectUri = "https://client.example.com/cb";
    return p;
}

TEST(TokenRequestTest, ChoosesClientAuthentication) {
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, kAbsent).value(), ClientAuth::Basic);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, kBasicAndPost).value(),
              ClientAuth::Basic);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, kPostOnly).value(), ClientAuth::Post);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, kJwtOnly).status(),
              Status::InvalidArgument);
    for (const auto *list : {&kAbsent, &kBasicAndPost, &kPostOnly, &kJwtOnly}) {
        EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, false, *list).value(), ClientAuth::None);
    }
    // Explicit choices override the metadata.
    EXPECT_EQ(chooseClientAuth(ClientAuth::Post, true, kAbsent).value(), ClientAuth::Post);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Basic, true, kPostOnly).value(), ClientAuth::Basic);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Basic, false, kAbsent).status(),
              Status::InvalidArgument);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Post, false, kAbsent).status(),
              Status::InvalidArgument);
    EXPECT_EQ(chooseClientAuth(ClientAuth::None, true, kAbsent).status(),
              Status::InvalidArgument);
}

TEST(TokenRequestTest, BasicMatchesRfc6749Example) {
    // RFC 6749, section 4.1.3: client "s6BhdRkqt3", secret "gX1fBat3bV".
    TokenRequestParams p = params();
    p.clientId = "s6BhdRkqt3";
    p.clientSecret = "gX1fBat3bV";
    const auto request = buildTokenRequest(p, kAbsent);
    ASSERT_TRUE(request.ok()) << request.detail();
    EXPECT_EQ(request.value().method, ClientAuth::Basic);
    EXPECT_EQ(request.value().authorization, "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW");
    EXPECT_EQ(request.value().body,
              "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA"
              "&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb");
}

TEST(TokenRequestTest, BasicFormEncodesCredentials) {
    // RFC 6749, section 2.3.1: urlencode before base64, so ":" and "+" in a
    // secret survive.
    TokenRequestParams p = params();
    p.clientId = "app:1";
    p.clientSecret = "a+b c/d=";
    const auto request = buildTokenRequest(p, kAbsent);
    ASSERT_TRUE(request.ok());
    // base64("app%3A1:a%2Bb+c%2Fd%3D")
    EXPECT_EQ(request.value().authorization, "Basic YXBwJTNBMTphJTJCYitjJTJGZCUzRA==");
}

TEST(TokenRequestTest, PostAndPublicClientsPutClientIdInBody) {
    TokenRequestParams p = params();
    p.codeVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const auto post = buildTokenRequest(p, kPostOnly);
    ASSERT_TRUE(post.ok());
    EXPECT_EQ(post.value().method, ClientAuth::Post);
    EXPECT_TRUE(post.value().authorization.empty());
    EXPECT_EQ(post.value().body,
              "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA"
              "&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb"
              "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
              "&client_id=client-1&client_secret=s3cret");

    p.clientSecret = "";
    const auto pub = buildTokenRequest(p, kBasicAndPost);
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(pub.value().method, ClientAuth::None);
    EXPECT_TRUE(pub.value().authorization.empty());
    EXPECT_EQ(pub.value().body.substr(pub.value().body.size() - 19), "&client_id=client-1");
}

TEST(TokenRequestTest, FormEncodesValues) {
    TokenRequestParams p = params();
    p.code = "a b&c=d+e%";
    p.method = ClientAuth::Post;
    p.clientSecret = "x&y";
    const auto request = buildTokenRequest(p, kAbsent);
    ASSERT_TRUE(request.ok());
    EXPECT_NE(request.value().body.find("&code=a+b%26c%3Dd%2Be%25&"), std::string::npos)
        << request.value().body;
    EXPECT_NE(request.value().body.find("&client_secret=x%26y"), std::string::npos);
}

TEST(TokenRequestTest, RejectsBadInputs) {
    TokenRequestParams p = params();
    p.code = "";
    EXPECT_EQ(buildTokenRequest(p, kAbsent).status(), Status::InvalidArgument);
    p = params();
    p.clientId = "";
    EXPECT_EQ(buildTokenRequest(p, kAbsent).status(), Status::InvalidArgument);
    p = params();
    p.redirectUri = "/cb";
    EXPECT_EQ(buildTokenRequest(p, kAbsent).status(), Status::Url);
    p = params();
    p.codeVerifier = "too-short";
    EXPECT_EQ(buildTokenRequest(p, kAbsent).status(), Status::InvalidArgument);
    p = params();
    EXPECT_EQ(buildTokenRequest(p, kJwtOnly).status(), Status::InvalidArgument);
}

// {"access_token":"SlAV32hkKG","token_type":"Bearer","refresh_token":"8xLOxBtZp8",
//  "expires_in":3600,"id_token":"eyJ.x.y","scope":"openid email"}
constexpr const char *kTokenResponse =
    R"({"access_token":"SlAV32hkKG","token_type":"Bearer","refresh_token":"8xLOxBtZp8",)"
    R"("expires_in":3600,"id_token":"eyJ.x.y","scope":"openid email"})";

TEST(TokenResponseTest, ParsesSuccessfulResponse) {
    const auto response = TokenResponse::parse(kTokenResponse, true);
    ASSERT_TRUE(response.ok()) << response.detail();
    const TokenResponse &r = response.value();
    EXPECT_EQ(r.accessToken(), "SlAV32hkKG");
    EXPECT_EQ(r.idToken(), "eyJ.x.y");
    EXPECT_EQ(r.refreshToken(), std::optional<std::string>("8xLOxBtZp8"));
    EXPECT_EQ(r.scope(), std::optional<std::string>("openid email"));
    EXPECT_EQ(r.expiresIn(), std::optional<std::int64_t>(3600));
}

TEST(TokenResponseTest, OptionalMembers) {
    std::string doc = withoutMember(kTokenResponse, "refresh_token");
    doc = withoutMember(doc, "scope");
    doc = withoutMember(doc, "expires_in");
    const auto response = TokenResponse::parse(doc, true);
    ASSERT_TRUE(response.ok()) << response.detail();
    EXPECT_FALSE(response.value().refreshToken());
    EXPECT_FALSE(response.value().scope());
    EXPECT_FALSE(response.value().expiresIn());

    const auto nulls = TokenResponse::parse(
        withMember(withMember(kTokenResponse, "refresh_token", "null"), "expires_in", "null"),
        true);
    ASSERT_TRUE(nulls.ok()) << nulls.detail();
    EXPECT_FALSE(nulls.value().refreshToken());
    EXPECT_FALSE(nulls.value().expiresIn());

    const auto noId = TokenResponse::parse(withoutMember(kTokenResponse, "id_token"), false);
    ASSERT_TRUE(noId.ok());
    EXPECT_TRUE(noId.value().idToken().empty());
}

TEST(TokenResponseTest, TokenTypeIsCaseInsensitiveBearer) {
    for (const char *type : {R"("bearer")", R"("BEARER")", R"("BeArEr")"}) {
        EXPECT_TRUE(TokenResponse::parse(withMember(kTokenResponse, "token_type", type), true).ok())
            << type;
    }
    for (const char *type : {R"("DPoP")", R"("mac")", R"("Bearer ")", "1", "null"}) {
        EXPECT_EQ(TokenResponse::parse(withMember(kTokenResponse, "token_type", type), true)
                      .status(),
                  Status::Field)
            << type;
    }
    EXPECT_EQ(TokenResponse::parse(withoutMember(kTokenResponse, "token_type"), true).status(),
              Status::Field);
}

TEST(TokenResponseTest, RequiredTokens) {
    EXPECT_EQ(TokenResponse::parse(withoutMember(kTokenResponse, "id_token"), true).status(),
              Status::Field);
    EXPECT_EQ(TokenResponse::parse(withoutMember(kTokenResponse, "access_token"), true).status(),
              Status::Field);
    EXPECT_EQ(TokenResponse::parse(withMember(kTokenResponse, "id_token", R"("")"), true).status(),
              Status::Field);
    EXPECT_EQ(TokenResponse::parse(withMember(kTokenResponse, "id_token", "null"), true).status(),
              Status::Field);
    EXPECT_EQ(TokenResponse::parse(withMember(kTokenResponse, "access_token", "[]"), true)
                  .status(),
              Status::Field);
    EXPECT_EQ(TokenResponse::parse(withMember(kTokenResponse, "scope", "1"), true).status(),
              Status::Field);
}

// RFC 6750, 2.1: the access token goes upstream in a header, so a CR/LF (or
// any byte outside b64token) must never get through.
TEST(TokenResponseTest, AccessTokenMustBeB64Token) {
    for (const char *good : {R"("abc")", R"("a-b.c_d~e+f/g==")", R"("eyJ.eyJ.sig")"}) {
        EXPECT_TRUE(TokenResponse::parse(withMember(kTokenResponse, "access_token", good), true))
            << good;
    }
    for (const char *bad : {R"("abc\r\nX-User: admin")", R"("abc\n")", R"("a b")",
                            R"("a;b")", R"("a\"b")", R"("==")",
                            R"("a=b")", R"("\u00e9t\u00e9")"}) {
        const auto parsed =
            TokenResponse::parse(withMember(kTokenResponse, "access_token", bad), true);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.status(), Status::Field) << bad;
    }
}

TEST(TokenResponseTest, ExpiresIn) {
    const auto expiresIn = [](const char *value) {
        const auto r = TokenResponse::parse(withMember(kTokenResponse, "expires_in", value), true);
        return r.ok() ? r.value().expiresIn().value_or(-2) : -1;
    };
    EXPECT_EQ(expiresIn("0"), 0);
    EXPECT_EQ(expiresIn("299.9"), 299);
    EXPECT_EQ(expiresIn(R"("3599")"), 3599);
    EXPECT_EQ(expiresIn("99999999999999"), 10LL * 366 * 24 * 3600);
    EXPECT_EQ(expiresIn(R"("999999999999999999")"), 10LL * 366 * 24 * 3600);
    for (const char *bad : {"-1", "-0.5", R"("")", R"("12a")", R"("-5")", "true", "[]",
                            R"("9999999999999999999")"}) {
        EXPECT_EQ(expiresIn(bad), -1) << bad;
    }
}

TEST(TokenResponseTest, ProviderErrorsAreSanitized) {
    // RFC 6749, section 5.2.
    const auto error = TokenResponse::parse(
        R"({"error":"invalid_grant","error_description":"Code not valid"})", true);
    EXPECT_EQ(error.status(), Status::Provider);
    EXPECT_EQ(error.detail(), "provider error: invalid_grant: Code not valid");

    const auto bare = TokenResponse::parse(R"({"error":"invalid_client"})", true);
    EXPECT_EQ(bare.detail(), "provider error: invalid_client");

    // "error" wins over tokens; control bytes and length are tamed.
    const std::string hostile =
        withMember(withMember(kTokenResponse, "error", R"("bad\nline")"), "error_description",
                   test::jsonString("x\r\n" + std::string(500, 'd')));
    const auto tamed = TokenResponse::parse(hostile, true);
    EXPECT_EQ(tamed.status(), Status::Provider);
    EXPECT_EQ(tamed.detail(),
              "provider error: bad\\x0aline: x\\x0d\\x0a" + std::string(117, 'd') + "...");

    const auto odd = TokenResponse::parse(R"({"error":42})", true);
    EXPECT_EQ(odd.detail(), "provider error: (\"error\" is number)");
}

TEST(TokenResponseTest, RejectsNonJsonAndHugeDocuments) {
    EXPECT_EQ(TokenResponse::parse("", true).status(), Status::Json);
    EXPECT_EQ(TokenResponse::parse("<html>502</html>", true).status(), Status::Json);
    EXPECT_EQ(TokenResponse::parse("[]", true).status(), Status::Json);
    EXPECT_EQ(TokenResponse::parse(
                  R"({"access_token":"a","access_token":"b","token_type":"Bearer"})", true)
                  .status(),
              Status::Json);
    EXPECT_EQ(TokenResponse::parse(std::string(TokenResponse::kMaxDocumentBytes + 1, ' '), true)
                  .status(),
              Status::TooLarge);
}

}  // namespace
}  // namespace auth_oidc
