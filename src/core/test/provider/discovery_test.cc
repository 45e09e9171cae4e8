#include "provider/discovery.h"

#include <string>

#include <gtest/gtest.h>

#include "json_edit.h"

namespace auth_oidc {
namespace {

using test::Json;
using test::jsonString;
using test::loadJson;
using test::withMember;
using test::withoutMember;

// Shaped after https://accounts.google.com/.well-known/openid-configuration.
constexpr const char *kGoogleIssuer = "https://accounts.google.com";
constexpr const char *kGoogleLike = R"json({
  "issuer": "https://accounts.google.com",
  "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
  "device_authorization_endpoint": "https://oauth2.googleapis.com/device/code",
  "token_endpoint": "https://oauth2.googleapis.com/token",
  "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
  "revocation_endpoint": "https://oauth2.googleapis.com/revoke",
  "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
  "response_types_supported": ["code", "token", "id_token", "code token",
    "code id_token", "token id_token", "code token id_token", "none"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256"],
  "scopes_supported": ["openid", "email", "profile"],
  "token_endpoint_auth_methods_supported": ["client_secret_post",
    "client_secret_basic"],
  "claims_supported": ["aud", "email", "email_verified", "exp", "family_name",
    "given_name", "iat", "iss", "name", "picture", "sub"],
  "code_challenge_methods_supported": ["plain", "S256"],
  "grant_types_supported": ["authorization_code", "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer"]
})json";

// Shaped after a Keycloak realm's metadata (trimmed).
constexpr const char *kKeycloakIssuer = "http://localhost:8080/realms/demo";
constexpr const char *kKeycloakLike = R"json({
  "issuer": "http://localhost:8080/realms/demo",
  "authorization_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/auth",
  "token_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/token",
  "introspection_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/token/introspect",
  "userinfo_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/userinfo",
  "end_session_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/logout",
  "frontchannel_logout_session_supported": true,
  "frontchannel_logout_supported": true,
  "jwks_uri": "http://localhost:8080/realms/demo/protocol/openid-connect/certs",
  "check_session_iframe": "http://localhost:8080/realms/demo/protocol/openid-connect/login-status-iframe.html",
  "grant_types_supported": ["authorization_code", "implicit", "refresh_token",
    "password", "client_credentials"],
  "response_types_supported": ["code", "none", "id_token", "token",
    "id_token token", "code id_token", "code token", "code id_token token"],
  "id_token_signing_alg_values_supported": ["PS384", "ES384", "RS384",
    "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512",
    "RS512", "EdDSA"],
  "token_endpoint_auth_methods_supported": ["private_key_jwt",
    "client_secret_basic", "client_secret_post", "tls_client_auth",
    "client_secret_jwt"],
  "scopes_supported": ["openid", "profile", "email", "offline_access"],
  "code_challenge_methods_supported": ["plain", "S256"],
  "backchannel_logout_supported": true,
  "backchannel_logout_session_supported": true,
  "revocation_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/revoke",
  "mtls_endpoint_aliases": {
    "token_endpoint": "http://localhost:8080/realms/demo/protocol/openid-connect/token"
  }
})json";

// Smallest valid document: the four required members.
constexpr const char *kMinimalIssuer = "https://op.example";
constexpr const char *kMinimal = R"json({
  "issuer": "https://op.example",
  "authorization_endpoint": "https://op.example/authorize",
  "token_endpoint": "https://op.example/token",
  "jwks_uri": "https://op.example/jwks"
})json";

Result<Discovery> parseMinimalWith(const char *name, const std::string &value) {
    return Discovery::parse(withMember(kMinimal, name, value), kMinimalIssuer);
}

std::string endpointOf(const Discovery &d, Discovery::Endpoint which) {
    const auto &url = d.endpoint(which);
    return url ? *url : std::string("<absent>");
}

TEST(DiscoveryTest, ParsesGoogleLikeDocument) {
    const auto result = Discovery::parse(kGoogleLike, kGoogleIssuer);
    ASSERT_TRUE(result.ok()) << result.detail();
    const Discovery &d = result.value();
    using E = Discovery::Endpoint;
    EXPECT_EQ(d.issuer(), "https://accounts.google.com");
    EXPECT_EQ(endpointOf(d, E::Authorization),
              "https://accounts.google.com/o/oauth2/v2/auth");
    EXPECT_EQ(endpointOf(d, E::Token), "https://oauth2.googleapis.com/token");
    EXPECT_EQ(endpointOf(d, E::Userinfo),
              "https://openidconnect.googleapis.com/v1/userinfo");
    EXPECT_EQ(endpointOf(d, E::Jwks),
              "https://www.googleapis.com/oauth2/v3/certs");
    EXPECT_EQ(endpointOf(d, E::Revocation),
              "https://oauth2.googleapis.com/revoke");
    EXPECT_FALSE(d.endpoint(E::EndSession));
    EXPECT_FALSE(d.endpoint(E::Introspection));
    ASSERT_TRUE(d.list(Discovery::List::IdTokenSigningAlgs));
    EXPECT_EQ(*d.list(Discovery::List::IdTokenSigningAlgs),
              std::vector<std::string>{"RS256"});
    ASSERT_TRUE(d.list(Discovery::List::ResponseTypes));
    EXPECT_EQ(d.list(Discovery::List::ResponseTypes)->size(), 8u);
    EXPECT_EQ(d.list(Discovery::List::GrantTypes)->size(), 4u);
    EXPECT_FALSE(d.flag(Discovery::Flag::FrontchannelLogout));
    EXPECT_FALSE(d.flag(Discovery::Flag::BackchannelLogout));
    EXPECT_EQ(d.supportsPkceS256(), std::optional<bool>(true));
}

TEST(DiscoveryTest, ParsesKeycloakLikeDocument) {
    const auto result = Discovery::parse(kKeycloakLike, kKeycloakIssuer);
    ASSERT_TRUE(result.ok()) << result.detail();
    const Discovery &d = result.value();
    using E = Discovery::Endpoint;
    const std::string base =
        "http://localhost:8080/realms/demo/protocol/openid-connect/";
    EXPECT_EQ(endpointOf(d, E::Authorization), base + "auth");
    EXPECT_EQ(endpointOf(d, E::Token), base + "token");
    EXPECT_EQ(endpointOf(d, E::Userinfo), base + "userinfo");
    EXPECT_EQ(endpointOf(d, E::Jwks), base + "certs");
    EXPECT_EQ(endpointOf(d, E::EndSession), base + "logout");
    EXPECT_EQ(endpointOf(d, E::Revocation), base + "revoke");
    EXPECT_EQ(endpointOf(d, E::Introspection), base + "token/introspect");
    EXPECT_EQ(d.flag(Discovery::Flag::FrontchannelLogout),
              std::optional<bool>(true));
    EXPECT_EQ(d.flag(Discovery::Flag::BackchannelLogout),
              std::optional<bool>(true));
    EXPECT_EQ(d.list(Discovery::List::IdTokenSigningAlgs)->size(), 13u);
}

TEST(DiscoveryTest, ParsesMinimalDocument) {
    const auto result = Discovery::parse(kMinimal, kMinimalIssuer);
    ASSERT_TRUE(result.ok()) << result.detail();
    for (auto which : {Discovery::Endpoint::Userinfo,
                       Discovery::Endpoint::EndSession,
                       Discovery::Endpoint::Revocation,
                       Discovery::Endpoint::Introspection}) {
        EXPECT_FALSE(result.value().endpoint(which));
    }
    EXPECT_FALSE(result.value().list(Discovery::List::Scopes));
    EXPECT_EQ(result.value().supportsPkceS256(), std::nullopt);
}

TEST(DiscoveryTest, RejectsIssuerMismatch) {
    const auto result = Discovery::parse(
        withMember(kMinimal, "issuer", R"("https://a")"), "https://b");
    EXPECT_EQ(result.status(), Status::Issuer);
    EXPECT_EQ(result.detail(),
              R"(issuer mismatch: document says "https://a", configured "https://b"; fix: set issuer to the document's value exactly (a trailing "/" included))");
}

TEST(DiscoveryTest, RejectsIssuerTrailingSlashDifference) {
    EXPECT_EQ(Discovery::parse(kMinimal, "https://op.example/").status(),
              Status::Issuer);
    EXPECT_EQ(Discovery::parse(withMember(kMinimal, "issuer",
                                          R"("https://op.example/")"),
                               "https://op.example")
                  .status(),
              Status::Issuer);
}

TEST(DiscoveryTest, RejectsIssuerCaseDifference) {
    EXPECT_EQ(Discovery::parse(kMinimal, "https://OP.example").status(),
              Status::Issuer);
}

TEST(DiscoveryTest, TruncatesLongIssuersInDetail) {
    const std::string longIssuer = "https://op.example/" + std::string(300, 'a');
    const auto result = Discovery::parse(kMinimal, longIssuer);
    EXPECT_EQ(result.status(), Status::Issuer);
    EXPECT_LT(result.detail().size(), 255u);
    EXPECT_NE(result.detail().find("aaa...\""), std::string::npos)
        << result.detail();
}

TEST(DiscoveryTest, EscapesControlCharactersInDetail) {
    const auto result = Discovery::parse(
        withMember(kMinimal, "issuer", R"("https://a\n\"x")"), "https://b");
    EXPECT_EQ(result.status(), Status::Issuer);
    EXPECT_EQ(result.detail().find('\n'), std::string::npos);
    EXPECT_NE(result.detail().find(R"("https://a\x0a\"x")"), std::string::npos)
        << result.detail();
}

TEST(DiscoveryTest, RejectsMissingRequiredMembers) {
    for (const char *name : {"issuer", "authorization_endpoint",
                             "token_endpoint", "jwks_uri"}) {
        const auto result =
            Discovery::parse(withoutMember(kMinimal, name), kMinimalIssuer);
        EXPECT_EQ(result.status(), Status::Field) << name;
        EXPECT_EQ(result.detail(), std::string("missing or invalid member: \"") +
                                       name + "\" is required");
    }
}

TEST(DiscoveryTest, RejectsRequiredMembersOfWrongType) {
    const auto result = parseMinimalWith("jwks_uri", "42");
    EXPECT_EQ(result.status(), Status::Field);
    EXPECT_EQ(result.detail(),
              R"(missing or invalid member: "jwks_uri" must be a string, not number)");
    EXPECT_EQ(parseMinimalWith("issuer", "true").status(), Status::Field);
    EXPECT_EQ(parseMinimalWith("token_endpoint", "null").status(),
              Status::Field);
    EXPECT_EQ(parseMinimalWith("authorization_endpoint",
                               R"(["https://op.example/a"])")
                  .status(),
              Status::Field);
}

TEST(DiscoveryTest, RejectsOptionalEndpointsOfWrongType) {
    for (const char *name : {"userinfo_endpoint", "end_session_endpoint",
                             "revocation_endpoint", "introspection_endpoint"}) {
        const auto result = parseMinimalWith(name, R"({"url": "x"})");
        EXPECT_EQ(result.status(), Status::Field) << name;
        EXPECT_NE(result.detail().find(name), std::string::npos);
    }
}

TEST(DiscoveryTest, RejectsListsOfWrongType) {
    for (const char *name :
         {"scopes_supported", "response_types_supported",
          "code_challenge_methods_supported",
          "id_token_signing_alg_values_supported",
          "token_endpoint_auth_methods_supported", "grant_types_supported"}) {
        const auto notArray = parseMinimalWith(name, R"("S256")");
        EXPECT_EQ(notArray.status(), Status::Field) << name;
        EXPECT_EQ(notArray.detail(),
                  std::string("missing or invalid member: \"") + name +
                      "\" must be an array of strings, not string");
        const auto badItem = parseMinimalWith(name, R"(["a", 1])");
        EXPECT_EQ(badItem.status(), Status::Field) << name;
        EXPECT_EQ(badItem.detail(),
                  std::string("missing or invalid member: \"") + name +
                      "\" must be an array of strings, item 1 is number");
    }
}

TEST(DiscoveryTest, AcceptsEmptyLists) {
    const auto result = parseMinimalWith("scopes_supported", "[]");
    ASSERT_TRUE(result.ok()) << result.detail();
    ASSERT_TRUE(result.value().list(Discovery::List::Scopes));
    EXPECT_TRUE(result.value().list(Discovery::List::Scopes)->empty());
}

TEST(DiscoveryTest, RejectsFlagsOfWrongType) {
    for (const char *name :
         {"frontchannel_logout_supported", "backchannel_logout_supported",
          "authorization_response_iss_parameter_supported"}) {
        const auto result = parseMinimalWith(name, R"("true")");
        EXPECT_EQ(result.status(), Status::Field) << name;
        EXPECT_EQ(result.detail(), std::string("missing or invalid member: \"") +
                                       name + "\" must be a boolean, not string");
    }
}

TEST(DiscoveryTest, ReadsFalseFlags) {
    const auto result = parseMinimalWith("backchannel_logout_supported", "false");
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.value().flag(Discovery::Flag::BackchannelLogout),
              std::optional<bool>(false));
}

// RFC 9207, section 3: the provider says whether its answers carry "iss".
TEST(DiscoveryTest, ReadsIssParameterFlag) {
    const auto on = parseMinimalWith("authorization_response_iss_parameter_supported", "true");
    ASSERT_TRUE(on.ok()) << on.detail();
    EXPECT_EQ(on.value().flag(Discovery::Flag::AuthorizationResponseIss),
              std::optional<bool>(true));
    const auto off = parseMinimalWith("backchannel_logout_supported", "false");
    ASSERT_TRUE(off.ok()) << off.detail();
    EXPECT_FALSE(off.value().flag(Discovery::Flag::AuthorizationResponseIss));
}

TEST(DiscoveryTest, IgnoresUnknownMembers) {
    const auto result = parseMinimalWith("x_vendor_extension",
                                         R"({"nested": [1, 2, {"a": null}]})");
    EXPECT_TRUE(result.ok()) << result.detail();
}

TEST(DiscoveryTest, RejectsNonHttpUrls) {
    for (const char *url :
         {"ftp://op.example/token", "/token", "token", "javascript:alert(1)",
          "https:/op.example/token", "//op.example/token",
          "HTTPS://op.example/token", "file:///etc/passwd", ""}) {
        const auto result = parseMinimalWith("token_endpoint", jsonString(url));
        EXPECT_EQ(result.status(), Status::Url) << url;
        EXPECT_EQ(result.detail().rfind("invalid URL: \"token_endpoint\"", 0), 0u)
            << result.detail();
    }
}

TEST(DiscoveryTest, NamesTheMemberAndValueInUrlDetail) {
    const auto result =
        parseMinimalWith("jwks_uri", R"("ftp://op.example/jwks")");
    EXPECT_EQ(result.detail(),
              R"(invalid URL: "jwks_uri" is not an absolute http or https URL: "ftp://op.example/jwks")");
}

TEST(DiscoveryTest, RejectsUrlWithFragment) {
    const auto result = parseMinimalWith(
        "authorization_endpoint", R"("https://op.example/authorize#frag")");
    EXPECT_EQ(result.status(), Status::Url);
    EXPECT_EQ(
        result.detail(),
        R"(invalid URL: "authorization_endpoint" contains a fragment: "https://op.example/authorize#frag")");
    EXPECT_EQ(parseMinimalWith("authorization_endpoint",
                               R"("https://op.example/authorize#")")
                  .status(),
              Status::Url);
}

TEST(DiscoveryTest, RejectsUrlWithWhitespaceOrControlCharacters) {
    for (const char *url :
         {R"("https://op.example/a b")", R"("https://op.example/a\tb")",
          R"("https://op.example/\r\nX-Injected: 1")", R"("https://op.example/\u007f")",
          R"(" https://op.example/token")", R"("https://op.example/\u00e9")"}) {
        EXPECT_EQ(parseMinimalWith("token_endpoint", url).status(), Status::Url)
            << url;
    }
}

TEST(DiscoveryTest, RejectsUrlWithoutHostOrWithUserinfo) {
    for (const char *url :
         {R"("https:///token")", R"("https://:443/token")", R"("https://")",
          R"("https://user:pass@op.example/token")",
          R"("https://op.example@evil.example/token")",
          R"("https://op.example:0/token")", R"("https://op.example:99999/")",
          R"("https://op.example:x/")", R"("https://[::1/token")"}) {
        EXPECT_EQ(parseMinimalWith("token_endpoint", url).status(), Status::Url)
            << url;
    }
}

TEST(DiscoveryTest, RejectsInvalidOptionalEndpoints) {
    for (const char *name : {"userinfo_endpoint", "end_session_endpoint",
                             "revocation_endpoint", "introspection_endpoint"}) {
        const auto result = parseMinimalWith(name, R"x("javascript:alert(1)")x");
        EXPECT_EQ(result.status(), Status::Url) << name;
        EXPECT_EQ(result.detail().rfind(std::string("invalid URL: \"") + name, 0),
                  0u)
            << result.detail();
    }
}

TEST(DiscoveryTest, AcceptsPortsQueriesAndIpLiterals) {
    for (const char *url :
         {R"("https://op.example:8443/token")", R"("http://127.0.0.1:8080/t")",
          R"("https://[::1]:8443/token")", R"("https://[2001:db8::1]/token")",
          R"("https://op.example?x=1")", R"("https://op.example")",
          R"("https://op-1.sub_domain.example/a/b;c?d=e&f=%20")"}) {
        const auto result = parseMinimalWith("token_endpoint", url);
        EXPECT_TRUE(result.ok()) << url << ": " << result.detail();
    }
}

TEST(DiscoveryTest, RejectsNotJson) {
    const auto result = Discovery::parse("garbage", kMinimalIssuer);
    EXPECT_EQ(result.status(), Status::Json);
    EXPECT_EQ(result.detail(),
              "invalid JSON: '[' or '{' expected near 'garbage' at line 1");
}

TEST(DiscoveryTest, RejectsJsonArrayAtTopLevel) {
    const auto result = Discovery::parse(R"([{"issuer": "https://op.example"}])",
                                         kMinimalIssuer);
    EXPECT_EQ(result.status(), Status::Json);
    EXPECT_EQ(result.detail(), "invalid JSON: top level must be an object, not array");
}

TEST(DiscoveryTest, RejectsEmptyInput) {
    const auto result = Discovery::parse("", kMinimalIssuer);
    EXPECT_EQ(result.status(), Status::Json);
    EXPECT_EQ(result.detail(), "invalid JSON: empty document");
    EXPECT_EQ(Discovery::parse("   \n", kMinimalIssuer).status(), Status::Json);
}

TEST(DiscoveryTest, RejectsTruncatedDocument) {
    const std::string doc = kMinimal;
    for (std::size_t len : {std::size_t{1}, doc.size() / 2, doc.size() - 1}) {
        const auto result =
            Discovery::parse(std::string_view(doc).substr(0, len), kMinimalIssuer);
        EXPECT_EQ(result.status(), Status::Json) << len;
        EXPECT_EQ(result.detail().rfind("invalid JSON: ", 0), 0u);
    }
}

TEST(DiscoveryTest, RejectsTrailingGarbage) {
    const std::string doc = std::string(kMinimal) + " {}";
    EXPECT_EQ(Discovery::parse(doc, kMinimalIssuer).status(), Status::Json);
}

TEST(DiscoveryTest, RejectsEmbeddedNul) {
    std::string doc = kMinimal;
    doc.insert(doc.find("op.example/token"), std::string(1, '\0'));
    EXPECT_EQ(Discovery::parse(doc, kMinimalIssuer).status(), Status::Json);

    std::string escaped = kMinimal;
    escaped.insert(escaped.find("token\""), "\\u0000");
    const auto result = Discovery::parse(escaped, kMinimalIssuer);
    EXPECT_EQ(result.status(), Status::Json);
    EXPECT_NE(result.detail().find("NUL"), std::string::npos) << result.detail();
}

TEST(DiscoveryTest, RejectsDuplicateMembers) {
    const std::string doc = R"({"issuer": "https://op.example",
        "issuer": "https://evil.example",
        "authorization_endpoint": "https://op.example/authorize",
        "token_endpoint": "https://op.example/token",
        "jwks_uri": "https://op.example/jwks"})";
    const auto result = Discovery::parse(doc, kMinimalIssuer);
    EXPECT_EQ(result.status(), Status::Json);
    EXPECT_EQ(result.detail(),
              R"(invalid JSON: duplicate object key near '"issuer"' at line 2)");
}

TEST(DiscoveryTest, RejectsTooLargeDocument) {
    std::string doc = kMinimal;
    doc.append(Discovery::kMaxDocumentBytes - doc.size(), ' ');
    ASSERT_EQ(doc.size(), Discovery::kMaxDocumentBytes);
    EXPECT_TRUE(Discovery::parse(doc, kMinimalIssuer).ok());

    doc.push_back(' ');
    const auto result = Discovery::parse(doc, kMinimalIssuer);
    EXPECT_EQ(result.status(), Status::TooLarge);
    EXPECT_EQ(result.detail(),
              "too large: discovery document is 1048577 bytes, the limit is 1048576");
}

TEST(DiscoveryTest, ReportsIssuerMismatchBeforeOtherProblems) {
    const std::string doc =
        withMember(withoutMember(kMinimal, "jwks_uri"), "issuer", R"("https://x")");
    EXPECT_EQ(Discovery::parse(doc, kMinimalIssuer).status(), Status::Issuer);
}

TEST(DiscoveryTest, PkceS256IsTriState) {
    EXPECT_EQ(Discovery::parse(kMinimal, kMinimalIssuer).value().supportsPkceS256(),
              std::nullopt);
    EXPECT_EQ(parseMinimalWith("code_challenge_methods_supported", R"(["plain"])")
                  .value()
                  .supportsPkceS256(),
              std::optional<bool>(false));
    EXPECT_EQ(parseMinimalWith("code_challenge_methods_supported", "[]")
                  .value()
                  .supportsPkceS256(),
              std::optional<bool>(false));
    EXPECT_EQ(parseMinimalWith("code_challenge_methods_supported",
                               R"(["s256", "S256 "])")
                  .value()
                  .supportsPkceS256(),
              std::optional<bool>(false));
    EXPECT_EQ(parseMinimalWith("code_challenge_methods_supported",
                               R"(["plain", "S256"])")
                  .value()
                  .supportsPkceS256(),
              std::optional<bool>(true));
}

TEST(DiscoveryTest, DescribeRoundTrips) {
    const auto parsed = Discovery::parse(kKeycloakLike, kKeycloakIssuer);
    ASSERT_TRUE(parsed.ok()) << parsed.detail();
    const auto described = parsed.value().describe();
    ASSERT_TRUE(described.ok()) << described.detail();

    const Json original = loadJson(kKeycloakLike);
    const Json out = loadJson(described.value());
    ASSERT_TRUE(json_is_object(out.get()));

    const char *expected[] = {
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "scopes_supported",
        "response_types_supported",
        "code_challenge_methods_supported",
        "id_token_signing_alg_values_supported",
        "token_endpoint_auth_methods_supported",
        "grant_types_supported",
        "frontchannel_logout_supported",
        "backchannel_logout_supported",
    };
    EXPECT_EQ(json_object_size(out.get()), std::size(expected));
    for (const char *name : expected) {
        EXPECT_TRUE(json_equal(json_object_get(out.get(), name),
                               json_object_get(original.get(), name)))
            << name;
    }
    // Only what the module reads is described.
    EXPECT_EQ(json_object_get(out.get(), "mtls_endpoint_aliases"), nullptr);
    EXPECT_EQ(json_object_get(out.get(), "check_session_iframe"), nullptr);

    // Compact, members in a fixed order.
    EXPECT_EQ(described.value().rfind(
                  R"({"issuer":"http://localhost:8080/realms/demo","authorization_endpoint":)",
                  0),
              0u);
    EXPECT_EQ(described.value().find('\n'), std::string::npos);
    EXPECT_EQ(described.value().find("\": "), std::string::npos);
    EXPECT_EQ(described.value().find(", "), std::string::npos);
}

TEST(DiscoveryTest, DescribeOmitsAbsentMembers) {
    const auto parsed = Discovery::parse(kMinimal, kMinimalIssuer);
    ASSERT_TRUE(parsed.ok());
    const auto described = parsed.value().describe();
    ASSERT_TRUE(described.ok());
    EXPECT_EQ(described.value(),
              R"({"issuer":"https://op.example",)"
              R"("authorization_endpoint":"https://op.example/authorize",)"
              R"("token_endpoint":"https://op.example/token",)"
              R"("jwks_uri":"https://op.example/jwks"})");
}

}  // namespace
}  // namespace auth_oidc
