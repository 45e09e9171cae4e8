#include "jwt/algorithm.h"

#include <gtest/gtest.h>

namespace auth_oidc {
namespace {

TEST(AlgorithmTest, NamesRoundTrip) {
    for (std::size_t i = 0; i < kAlgCount; ++i) {
        const auto alg = static_cast<Alg>(i);
        EXPECT_EQ(algFromName(toString(alg)), std::optional<Alg>(alg));
    }
    EXPECT_FALSE(algFromName("none"));
    EXPECT_FALSE(algFromName("rs256"));
    EXPECT_FALSE(algFromName("RS256 "));
    EXPECT_FALSE(algFromName(""));
}

TEST(AlgorithmTest, DefaultIsEveryAsymmetricAlgorithm) {
    const AlgSet set = defaultAlgs();
    EXPECT_EQ(set.count(), 10u);
    for (const Alg alg : {Alg::HS256, Alg::HS384, Alg::HS512}) {
        EXPECT_FALSE(set.test(static_cast<std::size_t>(alg)));
    }
    EXPECT_TRUE(set.test(static_cast<std::size_t>(Alg::EdDSA)));
}

TEST(AlgorithmTest, ParsesCommaAndSpaceSeparatedLists) {
    const auto list = parseAlgList(" RS256,ES256  HS512,, ");
    ASSERT_TRUE(list.ok()) << list.detail();
    EXPECT_EQ(list.value().count(), 3u);
    EXPECT_TRUE(list.value().test(static_cast<std::size_t>(Alg::RS256)));
    EXPECT_TRUE(list.value().test(static_cast<std::size_t>(Alg::ES256)));
    EXPECT_TRUE(list.value().test(static_cast<std::size_t>(Alg::HS512)));

    EXPECT_EQ(parseAlgList("").value(), defaultAlgs());
    EXPECT_EQ(parseAlgList(" , ").value(), defaultAlgs());
    // "none" is tolerated and means nothing; alone it allows nothing.
    EXPECT_EQ(parseAlgList("none").value().count(), 0u);
    EXPECT_EQ(parseAlgList("none,RS256").value().count(), 1u);
}

TEST(AlgorithmTest, RejectsUnknownNames) {
    const auto list = parseAlgList("RS256,RSA-OAEP");
    EXPECT_EQ(list.status(), Status::InvalidArgument);
    EXPECT_EQ(list.detail(), R"(invalid argument: unknown signature algorithm "RSA-OAEP")");
    EXPECT_EQ(parseAlgList("rs256").status(), Status::InvalidArgument);
    EXPECT_EQ(parseAlgList("RS256;ES256").status(), Status::InvalidArgument);
}

TEST(AlgorithmTest, KeyFitsOnlyItsFamilyAndCurve) {
    Jwk rsa;
    rsa.type = KeyType::Rsa;
    Jwk p256;
    p256.type = KeyType::Ec;
    p256.crv = "P-256";
    Jwk ed;
    ed.type = KeyType::Okp;
    ed.crv = "Ed25519";

    EXPECT_TRUE(keyFitsAlg(rsa, Alg::RS256));
    EXPECT_TRUE(keyFitsAlg(rsa, Alg::PS512));
    EXPECT_FALSE(keyFitsAlg(rsa, Alg::ES256));
    EXPECT_FALSE(keyFitsAlg(rsa, Alg::HS256));
    EXPECT_TRUE(keyFitsAlg(p256, Alg::ES256));
    EXPECT_FALSE(keyFitsAlg(p256, Alg::ES384));
    EXPECT_FALSE(keyFitsAlg(p256, Alg::RS256));
    EXPECT_TRUE(keyFitsAlg(ed, Alg::EdDSA));
    EXPECT_FALSE(keyFitsAlg(ed, Alg::ES256));

    rsa.alg = "RS256";
    EXPECT_TRUE(keyFitsAlg(rsa, Alg::RS256));
    EXPECT_FALSE(keyFitsAlg(rsa, Alg::RS384));
}

TEST(AlgorithmTest, HmacComparesWholeMac) {
    const std::vector<unsigned char> empty;
    EXPECT_FALSE(verifyHmac(Alg::HS256, "secret", "input", empty));
    EXPECT_FALSE(verifyHmac(Alg::HS256, "", "input", std::vector<unsigned char>(32)));
    EXPECT_FALSE(verifyHmac(Alg::RS256, "secret", "input", std::vector<unsigned char>(32)));
}

}  // namespace
}  // namespace auth_oidc
