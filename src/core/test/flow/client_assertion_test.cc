#include "flow/client_assertion.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <string>

#include <gtest/gtest.h>

#include "jwk/jwks.h"
#include "jwt/algorithm.h"
#include "jwt/jws.h"
#include "jwt/token_maker.h"
#include "json/json.h"

namespace auth_oidc {
namespace {

std::string pemOf(EVP_PKEY *key, const EVP_CIPHER *cipher = nullptr) {
    BIO *bio = BIO_new(BIO_s_mem());
    std::string pass = "secret";
    EXPECT_EQ(PEM_write_bio_PrivateKey(bio, key, cipher,
                                       reinterpret_cast<unsigned char *>(pass.data()),
                                       static_cast<int>(pass.size()), nullptr, nullptr),
              1);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return pem;
}

std::string claim(const CompactJws &jws, const char *name) {
    auto payload = parseJsonObject(
        std::string_view(reinterpret_cast<const char *>(jws.payload.data()), jws.payload.size()));
    EXPECT_TRUE(payload);
    const json_t *v = json_object_get(payload.value().get(), name);
    if (json_is_integer(v)) {
        return std::to_string(json_integer_value(v));
    }
    return json_is_string(v) ? json_string_value(v) : "";
}

// The assertion a provider checks (RFC 7523, section 3), verified with the
// key's public half, for each key type.
TEST(ClientAssertionTest, SignedWithEachKeyTypeAndVerifiable) {
    struct Case {
        EVP_PKEY *key;
        const char *alg;
    };
    const Case cases[] = {
        {EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)), "RS256"},
        {EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), "ES256"},
        {EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), "ES384"},
        {EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "EdDSA"},
    };
    for (const Case &c : cases) {
        ASSERT_NE(c.key, nullptr) << c.alg;
        auto key = ClientKey::fromPem(pemOf(c.key), "k-1");
        ASSERT_TRUE(key) << key.detail();
        EXPECT_EQ(key.value()->alg(), c.alg);

        ClientAssertionInputs in;
        in.clientId = "client-1";
        in.audience = "https://op.example/token";
        in.now = 1700000000;
        in.key = key.value().get();
        const auto jwt = makeClientAssertion(in);
        ASSERT_TRUE(jwt) << jwt.detail();
        const auto again = makeClientAssertion(in);

        auto jws = CompactJws::parse(jwt.value());
        ASSERT_TRUE(jws) << jws.detail();
        EXPECT_EQ(jws.value().alg, c.alg);
        EXPECT_EQ(jws.value().kid, std::optional<std::string>("k-1"));
        EXPECT_EQ(claim(jws.value(), "iss"), "client-1");
        EXPECT_EQ(claim(jws.value(), "sub"), "client-1");
        EXPECT_EQ(claim(jws.value(), "aud"), "https://op.example/token");
        EXPECT_EQ(claim(jws.value(), "iat"), "1700000000");
        EXPECT_EQ(claim(jws.value(), "exp"), "1700000060");
        EXPECT_EQ(claim(jws.value(), "jti").size(), 22u);
        // a fresh jti each time: providers refuse a replayed assertion
        EXPECT_NE(claim(jws.value(), "jti"), claim(CompactJws::parse(again.value()).value(), "jti"));

        auto jwks = Jwks::parse(R"({"keys":[)" + test::publicJwk(c.key, R"("kid":"k-1")") + "]}");
        ASSERT_TRUE(jwks) << jwks.detail();
        const auto alg = algFromName(c.alg);
        ASSERT_TRUE(alg);
        EXPECT_TRUE(verifySignature(*alg, jwks.value().keys().front(), jws.value().signingInput,
                                    jws.value().signature))
            << c.alg;
        EVP_PKEY_free(c.key);
    }
}

TEST(ClientAssertionTest, ClientSecretJwtIsHs256WithTheSecret) {
    ClientAssertionInputs in;
    in.clientId = "client-1";
    in.audience = "https://op.example/token";
    in.now = 1700000000;
    in.secret = "a-long-enough-client-secret-for-hs256";
    const auto jwt = makeClientAssertion(in);
    ASSERT_TRUE(jwt) << jwt.detail();
    auto jws = CompactJws::parse(jwt.value());
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws.value().alg, "HS256");
    EXPECT_FALSE(jws.value().kid);
    EXPECT_TRUE(verifyHmac(Alg::HS256, in.secret, jws.value().signingInput, jws.value().signature));
    EXPECT_FALSE(verifyHmac(Alg::HS256, "another-secret", jws.value().signingInput,
                            jws.value().signature));
}

TEST(ClientAssertionTest, RefusesWhatCannotSign) {
    EXPECT_FALSE(ClientKey::fromPem("", ""));
    EXPECT_FALSE(ClientKey::fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", ""));
    EVP_PKEY *small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
    const auto weak = ClientKey::fromPem(pemOf(small), "");
    EXPECT_FALSE(weak);
    EXPECT_NE(weak.detail().find("2048"), std::string::npos) << weak.detail();
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    // an encrypted key: refused, never a passphrase prompt
    const auto encrypted = ClientKey::fromPem(pemOf(rsa, EVP_aes_128_cbc()), "");
    EXPECT_FALSE(encrypted);
    EXPECT_FALSE(ClientKey::fromPem(pemOf(rsa), "bad kid"));
    EVP_PKEY_free(small);
    EVP_PKEY_free(rsa);

    ClientAssertionInputs in;
    in.clientId = "client-1";
    in.audience = "https://op.example/token";
    EXPECT_FALSE(makeClientAssertion(in));  // neither key nor secret
    in.secret = "s";
    in.audience = "";
    EXPECT_FALSE(makeClientAssertion(in));
}

}  // namespace
}  // namespace auth_oidc
