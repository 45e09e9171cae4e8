#include "jwk/jwks.h"

#include <openssl/evp.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base64url.h"
#include "json_edit.h"
#include "test_keys.h"

namespace auth_oidc {
namespace {

using namespace test;  // NOLINT: key constants and JSON helpers

std::string rsaKey(const std::string &extra = R"("kid":"rsa-1","alg":"RS256","use":"sig")",
                   const char *n = kRsa2048N, const char *e = kRsaE) {
    std::string key = R"({"kty":"RSA","n":")" + std::string(n) + R"(","e":")" + e + '"';
    if (!extra.empty()) {
        key += ',' + extra;
    }
    return key + '}';
}

std::string ecKey(const std::string &extra = R"("kid":"ec-1","alg":"ES256")",
                  const char *crv = "P-256", const char *x = kP256X,
                  const char *y = kP256Y) {
    std::string key = R"({"kty":"EC","crv":")" + std::string(crv) + R"(","x":")" + x +
                      R"(","y":")" + y + '"';
    if (!extra.empty()) {
        key += ',' + extra;
    }
    return key + '}';
}

std::string okpKey(const std::string &extra = R"("kid":"ed-1","alg":"EdDSA")",
                   const char *crv = "Ed25519", const char *x = kEd25519X) {
    std::string key = R"({"kty":"OKP","crv":")" + std::string(crv) + R"(","x":")" + x + '"';
    if (!extra.empty()) {
        key += ',' + extra;
    }
    return key + '}';
}

std::string jwks(const std::vector<std::string> &keys) {
    std::string doc = R"({"keys":[)";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        doc += (i == 0 ? "" : ",") + keys[i];
    }
    return doc + "]}";
}

// A good key first so the set parses, then the key under test.
Result<Jwks> parseWithGoodKey(const std::string &key) {
    return Jwks::parse(jwks({okpKey(), key}));
}

void expectSkipped(const std::string &key, const std::string &reason) {
    const auto result = parseWithGoodKey(key);
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.value().keys().size(), 1u) << key;
    ASSERT_EQ(result.value().skipped().size(), 1u) << key;
    EXPECT_NE(result.value().skipped().front().find(reason), std::string::npos)
        << result.value().skipped().front();
}

TEST(JwksTest, ParsesRsaEcAndEd25519Set) {
    const auto result = Jwks::parse(jwks({rsaKey(), ecKey(), okpKey()}));
    ASSERT_TRUE(result.ok()) << result.detail();
    const auto &keys = result.value().keys();
    ASSERT_EQ(keys.size(), 3u);
    EXPECT_TRUE(result.value().skipped().empty());

    EXPECT_EQ(keys[0].type, KeyType::Rsa);
    EXPECT_EQ(keys[0].kid, std::optional<std::string>("rsa-1"));
    EXPECT_EQ(keys[0].alg, std::optional<std::string>("RS256"));
    EXPECT_EQ(keys[0].use, std::optional<std::string>("sig"));
    EXPECT_EQ(keys[0].bits, 2048);
    ASSERT_TRUE(keys[0].cjose);
    EXPECT_EQ(cjose_jwk_get_kty(keys[0].cjose.get(), nullptr), CJOSE_JWK_KTY_RSA);
    EXPECT_EQ(cjose_jwk_get_keysize(keys[0].cjose.get(), nullptr), 2048u);
    EXPECT_FALSE(keys[0].pkey);

    EXPECT_EQ(keys[1].type, KeyType::Ec);
    EXPECT_EQ(keys[1].crv, "P-256");
    ASSERT_TRUE(keys[1].cjose);
    EXPECT_EQ(cjose_jwk_get_kty(keys[1].cjose.get(), nullptr), CJOSE_JWK_KTY_EC);
    EXPECT_EQ(keys[1].bits, 0);

    EXPECT_EQ(keys[2].type, KeyType::Okp);
    EXPECT_EQ(keys[2].crv, "Ed25519");
    ASSERT_TRUE(keys[2].pkey);
    EXPECT_FALSE(keys[2].cjose);
    EXPECT_EQ(EVP_PKEY_get_id(keys[2].pkey.get()), EVP_PKEY_ED25519);
    unsigned char raw[32];
    std::size_t rawLen = sizeof(raw);
    ASSERT_EQ(EVP_PKEY_get_raw_public_key(keys[2].pkey.get(), raw, &rawLen), 1);
    EXPECT_EQ(std::vector<unsigned char>(raw, raw + rawLen),
              *decodeBase64Url(kEd25519X));
}

TEST(JwksTest, ParsesEveryCurveAndRsaSize) {
    const auto result = Jwks::parse(jwks({
        ecKey(R"("alg":"ES384")", "P-384", kP384X, kP384Y),
        ecKey(R"("alg":"ES512")", "P-521", kP521X, kP521Y),
        okpKey(R"("alg":"EdDSA")", "Ed448", kEd448X),
        rsaKey(R"("alg":"PS512")", kRsa3072N),
    }));
    ASSERT_TRUE(result.ok()) << result.detail();
    const auto &keys = result.value().keys();
    ASSERT_EQ(keys.size(), 4u) << result.value().skipped().front();
    EXPECT_EQ(keys[0].crv, "P-384");
    EXPECT_EQ(keys[1].crv, "P-521");
    EXPECT_EQ(keys[2].crv, "Ed448");
    EXPECT_EQ(EVP_PKEY_get_id(keys[2].pkey.get()), EVP_PKEY_ED448);
    EXPECT_EQ(keys[3].bits, 3072);
}

TEST(JwksTest, AcceptsKeysWithoutOptionalMembers) {
    const auto result = Jwks::parse(jwks({rsaKey(""), ecKey(""), okpKey("")}));
    ASSERT_TRUE(result.ok()) << result.detail();
    ASSERT_EQ(result.value().keys().size(), 3u);
    for (const Jwk &key : result.value().keys()) {
        EXPECT_FALSE(key.kid);
        EXPECT_FALSE(key.alg);
        EXPECT_FALSE(key.use);
    }
}

TEST(JwksTest, AcceptsEveryAcceptedRsaAlgorithm) {
    for (const char *alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
        const auto result =
            Jwks::parse(jwks({rsaKey(std::string(R"("alg":")") + alg + '"')}));
        EXPECT_TRUE(result.ok()) << alg << ": " << result.detail();
    }
}

TEST(JwksTest, KeepsDuplicateKids) {
    const auto result =
        Jwks::parse(jwks({rsaKey(R"("kid":"same")"), ecKey(R"("kid":"same")")}));
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.value().keys().size(), 2u);
}

TEST(JwksTest, SkipsEncryptionKeys) {
    expectSkipped(rsaKey(R"("kid":"enc-1","use":"enc")"),
                  R"(keys[1] (kid "enc-1"): "use" is "enc")");
}

TEST(JwksTest, SkipsUnknownKty) {
    expectSkipped(R"({"kty":"DSA","kid":"d","y":"AQAB"})",
                  R"("kty" "DSA")");
    expectSkipped(R"({"kid":"no-kty","n":"AQAB"})", R"("kty" is missing)");
    expectSkipped(R"({"kty":7})", R"("kty" is not a string but number)");
}

TEST(JwksTest, SkipsSymmetricKeys) {
    expectSkipped(R"({"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"h"})",
                  R"("alg" "HS256" is not an accepted)");
    expectSkipped(R"({"kty":"oct","k":"c2VjcmV0","kid":"h"})",
                  "symmetric (oct) keys are never used");
}

TEST(JwksTest, SkipsAlgorithmsNotAccepted) {
    for (const char *alg : {"none", "HS256", "RSA-OAEP", "RS1", "ES256K", "rs256"}) {
        expectSkipped(rsaKey(std::string(R"("alg":")") + alg + '"'),
                      "is not an accepted signature algorithm");
    }
}

TEST(JwksTest, SkipsAlgorithmKeyTypeMismatch) {
    expectSkipped(ecKey(R"("alg":"ES384")"), R"("ES384" does not fit curve P-256)");
    expectSkipped(ecKey(R"("alg":"ES256")", "P-384", kP384X, kP384Y),
                  "does not fit curve P-384");
    expectSkipped(ecKey(R"("alg":"RS256")"), "does not fit curve P-256");
    expectSkipped(ecKey(R"("alg":"EdDSA")"), "does not fit curve P-256");
    expectSkipped(rsaKey(R"("alg":"ES256")"), "does not fit an RSA key");
    expectSkipped(rsaKey(R"("alg":"EdDSA")"), "does not fit an RSA key");
    expectSkipped(okpKey(R"("alg":"ES256")"), "does not fit curve Ed25519");
}

TEST(JwksTest, SkipsUnsupportedCurves) {
    expectSkipped(ecKey("", "secp256k1"), R"(unsupported EC curve "secp256k1")");
    expectSkipped(okpKey("", "X25519"), R"(unsupported OKP curve "X25519")");
    expectSkipped(R"({"kty":"EC","x":"AA","y":"AA"})", R"("crv" is missing)");
}

TEST(JwksTest, SkipsGarbageBase64) {
    expectSkipped(rsaKey("", "not*base64!"), R"("n" is not valid base64url)");
    expectSkipped(rsaKey("", kRsa2048N, "AQ+B"), R"("e" is not valid base64url)");
    expectSkipped(rsaKey("", kRsa2048N, "AQAB=="), R"("e" is not valid base64url)");
    expectSkipped(rsaKey("", kRsa2048N, ""), R"("e" is not valid base64url)");
    expectSkipped(ecKey("", "P-256", "%%%"), R"("x" is not valid base64url)");
    expectSkipped(ecKey("", "P-256", kP256X, "bmyf 2XzH"), R"("y" is not valid base64url)");
    expectSkipped(okpKey("", "Ed25519", "3oMBmhm+Yn8KCyob6mIR33dZJfLK6TNodwrSj/LdQkI"),
                  R"("x" is not valid base64url)");
    expectSkipped(okpKey("", "Ed25519", "3oMBmhm-Yn8KCyob6mIR33dZJfLK6TNodwrSj_LdQkI="),
                  R"("x" is not valid base64url)");
}

TEST(JwksTest, SkipsMissingOrNonStringParameters) {
    expectSkipped(R"({"kty":"RSA","e":"AQAB"})", R"("n" is missing)");
    expectSkipped(R"({"kty":"EC","crv":"P-256","x":")" + std::string(kP256X) + R"("})",
                  R"("y" is missing)");
    expectSkipped(R"({"kty":"OKP","crv":"Ed25519","x":42})",
                  R"("x" is not a string but number)");
}

TEST(JwksTest, SkipsWrongLengthCoordinates) {
    expectSkipped(ecKey("", "P-256", kP384X, kP384Y), R"("x" is 48 bytes, P-256 needs 32)");
    expectSkipped(ecKey("", "P-521", kP521X, kP256Y), R"("y" is 32 bytes, P-521 needs 66)");
    expectSkipped(okpKey("", "Ed448", kEd25519X), R"("x" is 32 bytes, Ed448 needs 57)");
}

TEST(JwksTest, SkipsPointNotOnCurve) {
    // x of one key with y of another: right lengths, no such point.
    expectSkipped(ecKey("", "P-256", kP256X, kP256X), "key parameters rejected by cjose");
}

TEST(JwksTest, SkipsWeakOrBrokenRsaKeys) {
    expectSkipped(rsaKey("", kRsa1024N), "RSA modulus of 1024 bits is outside 2048..16384");
    expectSkipped(rsaKey("", kRsa2048N, "AQ"), "RSA exponent is not an odd number");
    expectSkipped(rsaKey("", kRsa2048N, "AAAB"), "RSA exponent is not an odd number");
    expectSkipped(rsaKey("", kRsa2048N, "AAAA"), "RSA exponent is not an odd number");
    expectSkipped(rsaKey("", kRsa2048N, "AQAC"), "RSA exponent is not an odd number");
    expectSkipped(rsaKey("", kRsa2048N, "AQAAAAAAAAAB"), "RSA exponent is not an odd number");
    // The modulus with its last byte changed to an even value.
    std::string even = kRsa2048N;
    even.back() = 'A';
    even[even.size() - 2] = 'A';
    expectSkipped(rsaKey("", even.c_str()), "RSA modulus is even");
}

TEST(JwksTest, AcceptsRsaModulusWithLeadingZeroByte) {
    // Some encoders keep the sign byte of a DER INTEGER.
    const auto raw = decodeBase64Url(kRsa2048N);
    ASSERT_TRUE(raw);
    std::vector<unsigned char> padded = {0};
    padded.insert(padded.end(), raw->begin(), raw->end());
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string n;
    for (std::size_t i = 0; i < padded.size(); i += 3) {
        unsigned v = padded[i] << 16;
        const std::size_t chunk = std::min<std::size_t>(3, padded.size() - i);
        if (chunk > 1) {
            v |= padded[i + 1] << 8;
        }
        if (chunk > 2) {
            v |= padded[i + 2];
        }
        for (std::size_t j = 0; j < chunk + 1; ++j) {
            n += kAlphabet[(v >> (18 - 6 * j)) & 63];
        }
    }
    const auto result = Jwks::parse(jwks({rsaKey("", n.c_str())}));
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_EQ(result.value().keys().front().bits, 2048);
}

TEST(JwksTest, SkipsPrivateKeys) {
    expectSkipped(rsaKey(R"("d":"AQAB")"), "contains private key material");
    expectSkipped(okpKey(R"("d":"AQAB")"), "contains private key material");
}

TEST(JwksTest, HonoursKeyOps) {
    const auto ok = Jwks::parse(jwks({rsaKey(R"("key_ops":["verify"])")}));
    EXPECT_TRUE(ok.ok()) << ok.detail();
    expectSkipped(rsaKey(R"("key_ops":["encrypt"])"), R"("key_ops" does not allow "verify")");
    expectSkipped(rsaKey(R"("key_ops":"verify")"), R"("key_ops" does not allow "verify")");
}

TEST(JwksTest, SkipsNonStringMetadata) {
    expectSkipped(rsaKey(R"("kid":1)"), R"("kid" is not a string but number)");
    expectSkipped(rsaKey(R"("alg":null)"), R"("alg" is not a string but null)");
    expectSkipped(rsaKey(R"("use":["sig"])"), R"("use" is not a string but array)");
}

TEST(JwksTest, AllSkippedIsNoKeys) {
    const auto result = Jwks::parse(jwks({
        rsaKey(R"("use":"enc")"),
        R"({"kty":"oct","k":"c2VjcmV0"})",
        ecKey(R"("alg":"ES512")"),
    }));
    EXPECT_EQ(result.status(), Status::NoKeys);
    EXPECT_EQ(result.detail(),
              R"(no usable keys: no usable signature key among 3 keys; keys[0]: "use" is "enc")");
}

TEST(JwksTest, EmptySetIsNoKeys) {
    const auto result = Jwks::parse(R"({"keys":[]})");
    EXPECT_EQ(result.status(), Status::NoKeys);
    EXPECT_EQ(result.detail(), "no usable keys: no usable signature key among 0 keys");
}

TEST(JwksTest, KeysNotArrayIsInvalidJwks) {
    const auto result = Jwks::parse(R"({"keys":{"kty":"RSA"}})");
    EXPECT_EQ(result.status(), Status::Jwks);
    EXPECT_EQ(result.detail(), R"(invalid JWKS: "keys" must be an array, not object)");
}

TEST(JwksTest, MissingKeysIsInvalidJwks) {
    const auto result = Jwks::parse(R"({"kty":"RSA"})");
    EXPECT_EQ(result.status(), Status::Jwks);
    EXPECT_EQ(result.detail(), R"(invalid JWKS: "keys" is missing)");
}

TEST(JwksTest, KeyNotObjectIsInvalidJwks) {
    const auto result = Jwks::parse(jwks({okpKey(), R"("RS256")"}));
    EXPECT_EQ(result.status(), Status::Jwks);
    EXPECT_EQ(result.detail(), "invalid JWKS: keys[1] must be an object, not string");
}

TEST(JwksTest, RejectsNonObjectDocuments) {
    EXPECT_EQ(Jwks::parse("[]").status(), Status::Json);
    EXPECT_EQ(Jwks::parse("").status(), Status::Json);
    EXPECT_EQ(Jwks::parse("{\"keys\":[").status(), Status::Json);
    EXPECT_EQ(Jwks::parse(R"({"keys":[],"keys":[]})").status(), Status::Json);
}

TEST(JwksTest, RejectsMoreThanHundredKeys) {
    std::vector<std::string> keys(Jwks::kMaxKeys, okpKey());
    const auto hundred = Jwks::parse(jwks(keys));
    ASSERT_TRUE(hundred.ok()) << hundred.detail();
    EXPECT_EQ(hundred.value().keys().size(), Jwks::kMaxKeys);

    keys.push_back(okpKey());
    const auto tooMany = Jwks::parse(jwks(keys));
    EXPECT_EQ(tooMany.status(), Status::Jwks);
    EXPECT_EQ(tooMany.detail(), "invalid JWKS: too many keys: 101, the limit is 100");
}

TEST(JwksTest, RejectsTooLargeDocument) {
    std::string doc = jwks({okpKey()});
    doc.append(Jwks::kMaxDocumentBytes + 1 - doc.size(), ' ');
    const auto result = Jwks::parse(doc);
    EXPECT_EQ(result.status(), Status::TooLarge);
    EXPECT_EQ(result.detail(),
              "too large: JWKS document is 1048577 bytes, the limit is 1048576");
}

TEST(JwksTest, HasKid) {
    const auto result = Jwks::parse(jwks({rsaKey(), ecKey(""), rsaKey(R"("kid":"enc","use":"enc")")}));
    ASSERT_TRUE(result.ok()) << result.detail();
    EXPECT_TRUE(result.value().hasKid("rsa-1"));
    EXPECT_FALSE(result.value().hasKid("rsa-"));
    EXPECT_FALSE(result.value().hasKid("RSA-1"));
    EXPECT_FALSE(result.value().hasKid(""));
    // Skipped keys are not found: a refetch might bring a usable one.
    EXPECT_FALSE(result.value().hasKid("enc"));
}

TEST(JwksTest, DescribeListsUsableKeys) {
    const auto parsed = Jwks::parse(jwks({
        rsaKey(),
        ecKey(R"("kid":"ec-2","alg":"ES384","use":"sig")", "P-384", kP384X, kP384Y),
        okpKey(),
        okpKey(R"("kid":"enc","use":"enc")"),
        ecKey(""),
    }));
    ASSERT_TRUE(parsed.ok()) << parsed.detail();
    const auto described = parsed.value().describe();
    ASSERT_TRUE(described.ok()) << described.detail();
    EXPECT_EQ(described.value(),
              R"([{"kid":"rsa-1","kty":"RSA","alg":"RS256","use":"sig","bits":2048},)"
              R"({"kid":"ec-2","kty":"EC","alg":"ES384","use":"sig","crv":"P-384"},)"
              R"({"kid":"ed-1","kty":"OKP","alg":"EdDSA","crv":"Ed25519"},)"
              R"({"kty":"EC","crv":"P-256"}])");
    const Json json = loadJson(described.value());
    ASSERT_TRUE(json_is_array(json.get()));
    EXPECT_EQ(json_array_size(json.get()), 4u);
}

TEST(JwksTest, SkipReasonsNameTheKey) {
    const auto result = Jwks::parse(jwks({okpKey(), rsaKey(R"("kid":"x\ny","use":"enc")")}));
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result.value().skipped().size(), 1u);
    EXPECT_EQ(result.value().skipped().front(),
              R"(keys[1] (kid "x\x0ay"): "use" is "enc")");
}

TEST(JwksTest, KeepsNoKeyDetailShort) {
    const std::string longValue(500, 'k');
    const auto result = Jwks::parse(
        jwks({rsaKey(R"("kid":")" + longValue + R"(","use":")" + longValue + '"')}));
    EXPECT_EQ(result.status(), Status::NoKeys);
    EXPECT_LT(result.detail().size(), 255u) << result.detail();
}

TEST(JwksTest, EveryKeptKeyHasAnEvpVerificationKey) {
    const auto result = Jwks::parse(jwks({
        rsaKey(),
        ecKey(),
        ecKey(R"("alg":"ES384")", "P-384", kP384X, kP384Y),
        ecKey(R"("alg":"ES512")", "P-521", kP521X, kP521Y),
        okpKey(),
        okpKey(R"("alg":"EdDSA")", "Ed448", kEd448X),
    }));
    ASSERT_TRUE(result.ok()) << result.detail();
    ASSERT_EQ(result.value().keys().size(), 6u);
    const int expected[] = {EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_EC,
                            EVP_PKEY_EC,  EVP_PKEY_ED25519, EVP_PKEY_ED448};
    for (std::size_t i = 0; i < 6; ++i) {
        const EVP_PKEY *key = verificationKey(result.value().keys()[i]);
        ASSERT_NE(key, nullptr) << i;
        EXPECT_EQ(EVP_PKEY_get_base_id(key), expected[i]) << i;
    }
    EXPECT_EQ(EVP_PKEY_get_bits(verificationKey(result.value().keys()[0])), 2048);
    EXPECT_EQ(EVP_PKEY_get_bits(verificationKey(result.value().keys()[3])), 521);
}

}  // namespace
}  // namespace auth_oidc
