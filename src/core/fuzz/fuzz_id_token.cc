// libFuzzer entry point: ID token validation against a fixed key set (RSA,
// EC P-256, Ed25519 public keys), with HS256 enabled so the MAC path runs
// too; then the same input as a back-channel logout token
// (validateLogoutToken of jwt/logout_token.h, reached through the C API's
// back-channel flow: the targets see the core through auth_oidc_core.h
// only), driven with fixed answers to the end. Finds crashes in the JWS
// split, base64url, header and claims code. Deterministic: fixed clock,
// keys and answers.
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

auth_oidc_discovery_t *discovery() {
    static auth_oidc_discovery_t *d = [] {
        const char doc[] =
            R"({"issuer":"https://op.example","authorization_endpoint":"https://op.example/a",)"
            R"("token_endpoint":"https://op.example/t","jwks_uri":"https://op.example/k",)"
            R"("backchannel_logout_supported":true})";
        auth_oidc_discovery_t *parsed = nullptr;
        auth_oidc_discovery_parse(reinterpret_cast<const unsigned char *>(doc),
                                  sizeof(doc) - 1, str("https://op.example"), &parsed,
                                  nullptr);
        return parsed;
    }();
    return d;
}

// The input as a logout token, the driver played with fixed answers: the
// metadata (and the same keys again for a refetch), the jti added, the
// index ended, until the reply.
void logoutToken(const std::uint8_t *data, std::size_t size) {
    auth_oidc_backchannel_params_t params{};
    params.provider = str("op");
    params.issuer = str("https://op.example");
    params.client_id = str("client");
    params.client_secret = str("secret");
    params.algorithms = str("RS256 PS256 ES256 EdDSA HS256");
    params.leeway = 60;
    params.max_age = 600;
    params.token = auth_oidc_str_t{data, size};
    params.now = 1700000000;

    auth_oidc_flow_t *flow = nullptr;
    auth_oidc_step_t step{};
    if (auth_oidc_backchannel_flow(&params, &flow, &step, nullptr) != AUTH_OIDC_OK) {
        return;
    }
    for (int i = 0; i < 8 && step.kind != AUTH_OIDC_STEP_REPLY &&
                    step.kind != AUTH_OIDC_STEP_DONE;
         ++i) {
        auth_oidc_step_result_t result{};
        result.discovery = discovery();
        result.jwks = keys();
        if (step.kind == AUTH_OIDC_STEP_STORE) {
            result.store = AUTH_OIDC_STORE_DONE;
            result.value = str("1");
        }
        if (auth_oidc_flow_resume(flow, &result, &step, nullptr) != AUTH_OIDC_OK) {
            break;
        }
    }
    auth_oidc_flow_free(flow);
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
    logoutToken(data, size);
    return 0;
}
