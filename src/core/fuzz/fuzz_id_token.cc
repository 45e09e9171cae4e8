// libFuzzer entry point: ID token validation against a fixed key set (RSA,
// EC P-256, Ed25519 public keys), with HS256 enabled so the MAC path runs
// too. Finds crashes in the JWS split, base64url, header and claims code.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "auth_oidc_core.h"
#include "test_keys.h"

namespace {

auth_oidc_str_t str(const char *text) {
    return auth_oidc_str_t{reinterpret_cast<const unsigned char *>(text), std::strlen(text)};
}

auth_oidc_jwks_t *keys() {
    using namespace auth_oidc::test;  // NOLINT
    static auth_oidc_jwks_t *jwks = [] {
        const std::string doc =
            std::string(R"({"keys":[{"kty":"RSA","kid":"rsa","e":"AQAB","n":")") + kRsa2048N +
            R"("},{"kty":"EC","kid":"ec","crv":"P-256","x":")" + kP256X + R"(","y":")" +
            kP256Y + R"("},{"kty":"OKP","crv":"Ed25519","x":")" + kEd25519X + R"("}]})";
        auth_oidc_jwks_t *set = nullptr;
        auth_oidc_jwks_parse(reinterpret_cast<const unsigned char *>(doc.data()), doc.size(),
                             &set, nullptr);
        return set;
    }();
    return jwks;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    auth_oidc_id_token_expect_t expect{};
    expect.issuer = str("https://op.example");
    expect.client_id = str("client");
    expect.nonce = str("nonce");
    expect.algorithms = str("RS256 PS256 ES256 EdDSA HS256");
    expect.client_secret = str("secret");
    expect.now = 1700000000;
    expect.leeway = 60;
    auth_oidc_claims_t *claims = nullptr;
    if (auth_oidc_id_token_validate(auth_oidc_str_t{data, size}, keys(), &expect, &claims,
                                    nullptr) == AUTH_OIDC_OK) {
        (void) auth_oidc_claims_get(claims, str("sub"), nullptr, 0);
    }
    auth_oidc_claims_free(claims);
    return 0;
}
