#include "flow/token.h"

#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, false, kAbsent).value(), ClientAuth::Basic);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, false, kBasicAndPost).value(),
              ClientAuth::Basic);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, false, kPostOnly).value(), ClientAuth::Post);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, false, kJwtOnly).status(),
              Status::InvalidArgument);
    for (const auto *list : {&kAbsent, &kBasicAndPost, &kPostOnly, &kJwtOnly}) {
        EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, false, false, *list).value(), ClientAuth::None);
    }
    // Explicit choices override the metadata.
    EXPECT_EQ(chooseClientAuth(ClientAuth::Post, true, false, kAbsent).value(), ClientAuth::Post);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Basic, true, false, kPostOnly).value(), ClientAuth::Basic);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Basic, false, false, kAbsent).status(),
              Status::InvalidArgument);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Post, false, false, kAbsent).status(),
              Status::InvalidArgument);
    EXPECT_EQ(chooseClientAuth(ClientAuth::None, true, false, kAbsent).status(),
              Status::InvalidArgument);
    // a key: private_key_jwt, unless the provider lists methods without it
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, true, kAbsent).value(),
              ClientAuth::PrivateKeyJwt);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, false, true, kJwtOnly).value(),
              ClientAuth::PrivateKeyJwt);
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, false, true, kBasicAndPost).status(),
              Status::InvalidArgument);
    EXPECT_EQ(chooseClientAuth(ClientAuth::PrivateKeyJwt, true, false, kAbsent).status(),
              Status::InvalidArgument);
    EXPECT_EQ(chooseClientAuth(ClientAuth::None, false, true, kAbsent).status(),
              Status::InvalidArgument);
    // client_secret_jwt: asked for, or the only secret method listed
    const Methods secretJwtOnly = std::vector<std::string>{"client_secret_jwt"};
    EXPECT_EQ(chooseClientAuth(ClientAuth::Auto, true, false, secretJwtOnly).value(),
              ClientAuth::SecretJwt);
    EXPECT_EQ(chooseClientAuth(ClientAuth::SecretJwt, true, false, kAbsent).value(),
              ClientAuth::SecretJwt);
    EXPECT_EQ(chooseClientAuth(ClientAuth::SecretJwt, false, false, kAbsent).status(),
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

// client_secret_jwt and private_key_jwt (RFC 7523, 2.2): the assertion in
// the body, no secret anywhere, "aud" the token endpoint.
TEST(TokenRequestTest, ClientAssertionsGoInTheBody) {
    TokenRequestParams p = params();
    p.proof.method = ClientAuth::SecretJwt;
    p.proof.tokenEndpoint = "https://op.example/token";
    p.proof.now = 1700000000;
    const auto jwt = buildTokenRequest(p, kAbsent);
    ASSERT_TRUE(jwt) << jwt.detail();
    EXPECT_EQ(jwt.value().method, ClientAuth::SecretJwt);
    EXPECT_TRUE(jwt.value().authorization.empty());
    const std::string &body = jwt.value().body;
    EXPECT_NE(body.find("&client_id=client-1&client_assertion_type="
                        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                        "&client_assertion=ey"),
              std::string::npos) << body;
    EXPECT_EQ(body.find("s3cret"), std::string::npos);

    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PrivateKey(bio, rsa, nullptr, nullptr, 0, nullptr, nullptr), 1);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    auto key = ClientKey::fromPem(std::string_view(data, static_cast<std::size_t>(len)), "");
    BIO_free(bio);
    EVP_PKEY_free(rsa);
    ASSERT_TRUE(key) << key.detail();
    p.proof.method = ClientAuth::Auto;
    p.proof.key = key.value();
    const auto signed_ = buildRevocationRequest("client-1", "s3cret", "rt", "refresh_token",
                                                kPostOnly, p.proof);
    ASSERT_TRUE(signed_) << signed_.detail();
    EXPECT_EQ(signed_.value().method, ClientAuth::PrivateKeyJwt);
    EXPECT_EQ(signed_.value().body.find("s3cret"), std::string::npos);
    EXPECT_NE(signed_.value().body.find("&client_assertion=ey"), std::string::npos);
    // a provider that does not take it is told at the request, not guessed around
    EXPECT_FALSE(buildRefreshRequest({"client-1", "s3cret", "rt", p.proof}, kBasicAndPost));
}

TEST(TokenRequestTest, FormEncodesValues) {
    TokenRequestParams p = params();
    p.code = "a b&c=d+e%";
    p.proof.method = ClientAuth::Post;
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
