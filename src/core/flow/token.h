#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "flow/client_assertion.h"
#include "flow/step.h"

namespace auth_oidc {

// Client authentication at the token endpoint (OpenID Connect Core 1.0,
// section 9). Same values as auth_oidc_client_auth_t.
enum class ClientAuth {
    Auto = 0,      // choose from the provider metadata
    Basic,         // client_secret_basic
    Post,          // client_secret_post
    None,          // public client: client_id in the body
    SecretJwt,     // client_secret_jwt: an HS256 assertion (RFC 7523)
    PrivateKeyJwt, // private_key_jwt: an assertion signed with ClientKey
};

// Auto: a key means private_key_jwt (an error when the provider lists
// methods without it); no secret means None; with a secret,
// client_secret_basic when the provider lists it or lists nothing
// (Discovery 1.0, section 3: the default), else client_secret_post, else
// client_secret_jwt when listed. Errors: InvalidArgument (a secret but no
// method of it listed; a method without what it needs: a secret, a key;
// None with a secret or key).
Result<ClientAuth> chooseClientAuth(
    ClientAuth requested, bool hasSecret, bool hasKey,
    const std::optional<std::vector<std::string>> &supported);

// The token endpoint method's name, e.g. "client_secret_basic".
const char *toString(ClientAuth method) noexcept;

// How the client proves itself beyond its id and secret: the method asked
// (Auto by default), the key for private_key_jwt, and what an assertion
// needs: the token endpoint's URL ("aud") and the time.
struct ClientProof {
    ClientAuth method = ClientAuth::Auto;
    std::shared_ptr<const ClientKey> key;
    std::string_view tokenEndpoint;
    std::int64_t now = 0;
};

// proof with the provider's token endpoint (a view into discovery) and now.
ClientProof clientProof(const ClientProof &proof, const Discovery &discovery,
                        std::int64_t now);

// Values are raw; they are form-encoded here.
struct TokenRequestParams {
    std::string_view clientId;
    std::string_view clientSecret;
    // The code from the callback, percent-decoded.
    std::string_view code;
    // Exactly the redirect_uri of the authorization request.
    std::string_view redirectUri;
    // Empty: the authorization request had no PKCE.
    std::string_view codeVerifier;
    ClientProof proof;
};

// An authorization code grant request (RFC 6749, section 4.1.3).
struct TokenRequest {
    ClientAuth method = ClientAuth::None;
    // application/x-www-form-urlencoded body.
    std::string body;
    // "Basic " BASE64(urlencode(client_id) ":" urlencode(client_secret))
    // (RFC 6749, section 2.3.1) for Basic; empty otherwise.
    std::string authorization;
};

// The Fetch step that POSTs request to endpoint (the token or revocation
// endpoint): the form body, its client authentication header.
Step formPost(Discovery::Endpoint endpoint, TokenRequest request);

// Errors: InvalidArgument, Url (redirect_uri).
Result<TokenRequest> buildTokenRequest(
    const TokenRequestParams &params,
    const std::optional<std::vector<std::string>> &supportedMethods);

// A refresh token grant request (RFC 6749, section 6), authenticated as
// the code exchange is.
struct RefreshRequestParams {
    std::string_view clientId;
    std::string_view clientSecret;
    std::string_view refreshToken;
    ClientProof proof;
};

// Errors: InvalidArgument.
Result<TokenRequest> buildRefreshRequest(
    const RefreshRequestParams &params,
    const std::optional<std::vector<std::string>> &supportedMethods);

// A token revocation request (RFC 7009, section 2.1), authenticated as
// the token endpoint's requests are. hint: "refresh_token" or
// "access_token".
Result<TokenRequest> buildRevocationRequest(
    std::string_view clientId, std::string_view clientSecret,
    std::string_view token, std::string_view hint,
    const std::optional<std::vector<std::string>> &supportedMethods,
    const ClientProof &proof = {});

// An introspection request (RFC 7662, section 2.1) for an access token:
// the same form as a revocation, authenticated the same way.
Result<TokenRequest> buildIntrospectionRequest(
    std::string_view clientId, std::string_view clientSecret,
    std::string_view token,
    const std::optional<std::vector<std::string>> &supportedMethods,
    const ClientProof &proof = {});

// Whether error is the provider's OAuth error code (TokenResponse::parse's
// Provider detail starts with it), e.g. "invalid_grant".
bool isProviderError(const Error &error, std::string_view code) noexcept;

// A successful token response (RFC 6749, section 5.1).
class TokenResponse {
public:
    static constexpr std::size_t kMaxDocumentBytes = 1024 * 1024;

    // Errors: TooLarge, Json, Provider (an "error" member, RFC 6749 section
    // 5.2: the detail carries the error code and description, escaped and
    // cut), Field (token_type not Bearer, id_token missing when required,
    // access_token missing, a member of the wrong type), NoMemory.
    static Result<TokenResponse> parse(std::string_view document,
                                       bool idTokenRequired);

    // Empty when absent (only possible when not required).
    const std::string &idToken() const noexcept { return idToken_; }
    const std::string &accessToken() const noexcept { return accessToken_; }
    const std::optional<std::string> &refreshToken() const noexcept {
        return refreshToken_;
    }
    const std::optional<std::string> &scope() const noexcept { return scope_; }
    // Seconds; std::nullopt when absent.
    std::optional<std::int64_t> expiresIn() const noexcept {
        return expiresIn_;
    }

private:
    TokenResponse() = default;

    std::string idToken_;
    std::string accessToken_;
    std::optional<std::string> refreshToken_;
    std::optional<std::string> scope_;
    std::optional<std::int64_t> expiresIn_;
};

}  // namespace auth_oidc
