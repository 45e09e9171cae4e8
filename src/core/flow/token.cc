#include "flow/token.h"

#include <algorithm>
#include <cmath>

#include "common/base64url.h"
#include "common/text.h"
#include "common/url.h"
#include "flow/pkce.h"
#include "json/json.h"

namespace auth_oidc {

namespace {

// What of a provider's error response reaches the log.
constexpr std::size_t kErrorCodeMax = 60;
constexpr std::size_t kErrorDescriptionMax = 120;

// expires_in beyond ten years is nonsense; capping keeps later arithmetic
// (now + expires_in) far from overflow.
constexpr std::int64_t kMaxExpiresIn = 10LL * 366 * 24 * 3600;

bool listed(const std::optional<std::vector<std::string>> &supported,
            std::string_view method) {
    return supported && std::find(supported->begin(), supported->end(),
                                  method) != supported->end();
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lower = [](char c) {
                   return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
               };
               return lower(x) == lower(y);
           });
}

void appendParam(std::string &body, const char *name, std::string_view value) {
    if (!body.empty()) {
        body += '&';
    }
    body += name;
    body += '=';
    appendFormEncoded(body, value);
}

Error wrongType(const char *name, const char *expected, const json_t *value) {
    std::string what = "\"";
    what += name;
    what += "\" must be ";
    what += expected;
    what += ", not ";
    what += jsonTypeName(value);
    return makeError(Status::Field, what);
}

// Reads a string member; false (with error set) when present but not a
// non-empty string, or absent while required.
bool readString(const json_t *root, const char *name, bool required,
                std::optional<std::string> &out, std::optional<Error> &error) {
    const json_t *value = json_object_get(root, name);
    // Some providers send null for what they do not issue.
    if (value == nullptr || (json_is_null(value) && !required)) {
        if (required) {
            error = makeError(Status::Field,
                              std::string("\"") + name + "\" is required");
            return false;
        }
        return true;
    }
    const auto text = jsonStringView(value);
    if (!text || text->empty()) {
        error = wrongType(name, "a non-empty string", value);
        return false;
    }
    out.emplace(*text);
    return true;
}

Error providerError(const json_t *root) {
    const json_t *code = json_object_get(root, "error");
    std::string what;
    if (const auto text = jsonStringView(code)) {
        what = printableForDetail(*text, kErrorCodeMax);
    } else {
        what = std::string("(\"error\" is ") + jsonTypeName(code) + ")";
    }
    if (const auto description =
            jsonStringView(json_object_get(root, "error_description"))) {
        what += ": ";
        what += printableForDetail(*description, kErrorDescriptionMax);
    }
    return makeError(Status::Provider, what);
}

// RFC 6749 says a number; some providers (older Azure AD among them) send a
// string of digits, which is accepted too.
Result<std::optional<std::int64_t>> readExpiresIn(const json_t *root) {
    using Value = std::optional<std::int64_t>;
    const json_t *value = json_object_get(root, "expires_in");
    if (value == nullptr || json_is_null(value)) {
        return Value();
    }
    std::int64_t seconds = -1;
    if (json_is_integer(value)) {
        const json_int_t n = json_integer_value(value);
        seconds = n < 0 ? -1 : static_cast<std::int64_t>(std::min<json_int_t>(
                                   n, kMaxExpiresIn));
    } else if (json_is_real(value)) {
        const double d = json_real_value(value);
        if (d >= 0) {
            seconds = d >= static_cast<double>(kMaxExpiresIn)
                          ? kMaxExpiresIn
                          : static_cast<std::int64_t>(std::floor(d));
        }
    } else if (const auto text = jsonStringView(value)) {
        if (!text->empty() && text->size() <= 18 &&
            std::all_of(text->begin(), text->end(),
                        [](char c) { return c >= '0' && c <= '9'; })) {
            seconds = std::min<std::int64_t>(std::stoll(std::string(*text)),
                                             kMaxExpiresIn);
        }
    }
    if (seconds < 0) {
        return wrongType("expires_in", "a non-negative number", value);
    }
    return Value(seconds);
}

// RFC 6750, section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=". The access token goes upstream in a header
// ($oidc_access_token, "Authorization: Bearer"): a CR or LF from a broken
// provider would otherwise become a header of its own.
bool isB64Token(std::string_view token) noexcept {
    std::size_t end = token.size();
    while (end > 0 && token[end - 1] == '=') {
        --end;
    }
    if (end == 0) {
        return false;
    }
    return std::all_of(token.begin(), token.begin() + end, [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
               c == '~' || c == '+' || c == '/';
    });
}

// Client authentication of a token endpoint request whose method is
// chosen: HTTP Basic, the credentials in the body, or a client assertion
// (RFC 7523, section 2.2; OpenID Connect Core 1.0, section 9).
Result<bool> authenticate(TokenRequest &request, std::string_view clientId,
                          std::string_view clientSecret,
                          const ClientProof &proof) {
    switch (request.method) {
    case ClientAuth::SecretJwt:
    case ClientAuth::PrivateKeyJwt: {
        ClientAssertionInputs in;
        in.clientId = clientId;
        in.audience = proof.tokenEndpoint;
        in.now = proof.now;
        in.key = request.method == ClientAuth::PrivateKeyJwt ? proof.key.get()
                                                             : nullptr;
        in.secret = clientSecret;
        auto assertion = makeClientAssertion(in);
        if (!assertion) {
            return std::move(assertion).error();
        }
        appendParam(request.body, "client_id", clientId);
        appendParam(request.body, "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        appendParam(request.body, "client_assertion", assertion.value());
        break;
    }
    case ClientAuth::Basic: {
        std::string credentials;
        appendFormEncoded(credentials, clientId);
        credentials += ':';
        appendFormEncoded(credentials, clientSecret);
        // Standard base64 with padding (RFC 7617), not base64url.
        std::string encoded = encodeBase64Url(credentials);
        for (char &c : encoded) {
            c = c == '-' ? '+' : c == '_' ? '/' : c;
        }
        encoded.append((4 - encoded.size() % 4) % 4, '=');
        request.authorization = "Basic " + encoded;
        break;
    }
    case ClientAuth::Post:
        appendParam(request.body, "client_id", clientId);
        appendParam(request.body, "client_secret", clientSecret);
        break;
    case ClientAuth::None:
    case ClientAuth::Auto:
        appendParam(request.body, "client_id", clientId);
        break;
    }
    return true;
}

}  // namespace

ClientProof clientProof(const ClientProof &proof, const Discovery &discovery,
                        std::int64_t now) {
    ClientProof out = proof;
    const auto &endpoint = discovery.endpoint(Discovery::Endpoint::Token);
    out.tokenEndpoint = endpoint ? std::string_view(*endpoint) : std::string_view();
    out.now = now;
    return out;
}

const char *toString(ClientAuth method) noexcept {
    switch (method) {
    case ClientAuth::Auto:
        return "auto";
    case ClientAuth::Basic:
        return "client_secret_basic";
    case ClientAuth::Post:
        return "client_secret_post";
    case ClientAuth::None:
        return "none";
    case ClientAuth::SecretJwt:
        return "client_secret_jwt";
    case ClientAuth::PrivateKeyJwt:
        return "private_key_jwt";
    }
    return "auto";
}

Result<ClientAuth> chooseClientAuth(
    ClientAuth requested, bool hasSecret, bool hasKey,
    const std::optional<std::vector<std::string>> &supported) {
    switch (requested) {
    case ClientAuth::SecretJwt:
        if (!hasSecret) {
            return makeError(Status::InvalidArgument,
                             "client_secret_jwt needs a client secret");
        }
        return requested;
    case ClientAuth::PrivateKeyJwt:
        if (!hasKey) {
            return makeError(Status::InvalidArgument,
                             "private_key_jwt needs a client key");
        }
        return requested;
    case ClientAuth::Basic:
    case ClientAuth::Post:
        if (!hasSecret) {
            return makeError(Status::InvalidArgument,
                             std::string(requested == ClientAuth::Basic
                                             ? "client_secret_basic"
                                             : "client_secret_post") +
                                 " needs a client secret");
        }
        return requested;
    case ClientAuth::None:
        if (hasSecret || hasKey) {
            return makeError(Status::InvalidArgument,
                             "client authentication \"none\" with a client "
                             "secret or key set");
        }
        return requested;
    case ClientAuth::Auto:
        break;
    }
    if (hasKey) {
        if (supported && !listed(supported, "private_key_jwt")) {
            return makeError(Status::InvalidArgument,
                             "a client key is set but the provider's "
                             "token_endpoint_auth_methods_supported does not "
                             "list private_key_jwt");
        }
        return ClientAuth::PrivateKeyJwt;
    }
    if (!hasSecret) {
        return ClientAuth::None;
    }
    if (!supported || listed(supported, "client_secret_basic")) {
        return ClientAuth::Basic;
    }
    if (listed(supported, "client_secret_post")) {
        return ClientAuth::Post;
    }
    if (listed(supported, "client_secret_jwt")) {
        return ClientAuth::SecretJwt;
    }
    return makeError(Status::InvalidArgument,
                     "a client secret is set but the provider's "
                     "token_endpoint_auth_methods_supported lists none of "
                     "client_secret_basic, client_secret_post and "
                     "client_secret_jwt");
}

Step formPost(Discovery::Endpoint endpoint, TokenRequest request) {
    Step step;
    step.kind = StepKind::Fetch;
    step.endpoint = endpoint;
    step.method = "POST";
    step.headers = "Content-Type: application/x-www-form-urlencoded\r\n";
    if (!request.authorization.empty()) {
        step.headers += "Authorization: " + request.authorization + "\r\n";
    }
    step.body = std::move(request.body);
    return step;
}

Result<TokenRequest> buildTokenRequest(
    const TokenRequestParams &params,
    const std::optional<std::vector<std::string>> &supportedMethods) {
    if (params.clientId.empty() || params.code.empty()) {
        return makeError(Status::InvalidArgument,
                         "client_id and code must not be empty");
    }
    if (const char *problem = httpUrlProblem(params.redirectUri)) {
        return makeError(Status::Url, std::string("redirect_uri ") + problem +
                                          ": " +
                                          quoteForDetail(params.redirectUri));
    }
    if (!params.codeVerifier.empty() &&
        !isValidCodeVerifier(params.codeVerifier)) {
        return makeError(Status::InvalidArgument,
                         "code_verifier is not 43 to 128 unreserved "
                         "characters (RFC 7636, section 4.1)");
    }
    auto method = chooseClientAuth(params.proof.method,
                                   !params.clientSecret.empty(),
                                   params.proof.key != nullptr,
                                   supportedMethods);
    if (!method) {
        return std::move(method).error();
    }

    TokenRequest request;
    request.method = method.value();
    appendParam(request.body, "grant_type", "authorization_code");
    appendParam(request.body, "code", params.code);
    appendParam(request.body, "redirect_uri", params.redirectUri);
    if (!params.codeVerifier.empty()) {
        appendParam(request.body, "code_verifier", params.codeVerifier);
    }
    auto authenticated = authenticate(request, params.clientId,
                                      params.clientSecret, params.proof);
    if (!authenticated) {
        return std::move(authenticated).error();
    }
    return Result<TokenRequest>(std::move(request));
}

Result<TokenRequest> buildRefreshRequest(
    const RefreshRequestParams &params,
    const std::optional<std::vector<std::string>> &supportedMethods) {
    if (params.clientId.empty() || params.refreshToken.empty()) {
        return makeError(Status::InvalidArgument,
                         "client_id and refresh_token must not be empty");
    }
    auto method = chooseClientAuth(params.proof.method,
                                   !params.clientSecret.empty(),
                                   params.proof.key != nullptr,
                                   supportedMethods);
    if (!method) {
        return std::move(method).error();
    }
    TokenRequest request;
    request.method = method.value();
    appendParam(request.body, "grant_type", "refresh_token");
    appendParam(request.body, "refresh_token", params.refreshToken);
    auto authenticated = authenticate(request, params.clientId,
                                      params.clientSecret, params.proof);
    if (!authenticated) {
        return std::move(authenticated).error();
    }
    return Result<TokenRequest>(std::move(request));
}

Result<TokenRequest> buildRevocationRequest(
    std::string_view clientId, std::string_view clientSecret,
    std::string_view token, std::string_view hint,
    const std::optional<std::vector<std::string>> &supportedMethods,
    const ClientProof &proof) {
    if (clientId.empty() || token.empty()) {
        return makeError(Status::InvalidArgument,
                         "client_id and token must not be empty");
    }
    auto method = chooseClientAuth(proof.method, !clientSecret.empty(),
                                   proof.key != nullptr, supportedMethods);
    if (!method) {
        return std::move(method).error();
    }
    TokenRequest request;
    request.method = method.value();
    appendParam(request.body, "token", token);
    appendParam(request.body, "token_type_hint", hint);
    auto authenticated = authenticate(request, clientId, clientSecret, proof);
    if (!authenticated) {
        return std::move(authenticated).error();
    }
    return Result<TokenRequest>(std::move(request));
}

Result<TokenRequest> buildIntrospectionRequest(
    std::string_view clientId, std::string_view clientSecret,
    std::string_view token,
    const std::optional<std::vector<std::string>> &supportedMethods,
    const ClientProof &proof) {
    return buildRevocationRequest(clientId, clientSecret, token,
                                  "access_token", supportedMethods, proof);
}

bool isProviderError(const Error &error, std::string_view code) noexcept {
    if (error.status != Status::Provider) {
        return false;
    }
    std::string_view detail = error.detail;
    const std::string_view prefix = toString(Status::Provider);
    if (detail.substr(0, prefix.size()) == prefix) {
        detail.remove_prefix(prefix.size());
    }
    if (detail.substr(0, 2) == ": ") {
        detail.remove_prefix(2);
    }
    return detail.substr(0, code.size()) == code &&
           (detail.size() == code.size() || detail[code.size()] == ':');
}

Result<TokenResponse> TokenResponse::parse(std::string_view document,
                                           bool idTokenRequired) {
    auto parsed = parseJsonObject(document, "token response", kMaxDocumentBytes);
    if (!parsed) {
        return std::move(parsed).error();
    }
    const json_t *root = parsed.value().get();
    if (json_object_get(root, "error") != nullptr) {
        return providerError(root);
    }

    const json_t *tokenType = json_object_get(root, "token_type");
    if (tokenType == nullptr) {
        return makeError(Status::Field, "\"token_type\" is required");
    }
    const auto type = jsonStringView(tokenType);
    if (!type) {
        return wrongType("token_type", "a string", tokenType);
    }
    // RFC 6749, section 5.1: case-insensitive.
    if (!equalsIgnoreCase(*type, "Bearer")) {
        return makeError(Status::Field,
                         "\"token_type\" is " + quoteForDetail(*type, 40) +
                             ", only Bearer is supported");
    }

    std::optional<Error> error;
    std::optional<std::string> idToken;
    std::optional<std::string> accessToken;
    TokenResponse response;
    if (!readString(root, "access_token", true, accessToken, error) ||
        !readString(root, "id_token", idTokenRequired, idToken, error) ||
        !readString(root, "refresh_token", false, response.refreshToken_,
                    error)) {
        return std::move(*error);
    }
    if (!isB64Token(*accessToken)) {
        return makeError(Status::Field,
                         "\"access_token\" has characters outside RFC 6750's "
                         "token characters");
    }
    const json_t *scope = json_object_get(root, "scope");
    if (scope != nullptr && !json_is_null(scope)) {
        const auto text = jsonStringView(scope);
        if (!text) {
            return wrongType("scope", "a string", scope);
        }
        response.scope_.emplace(*text);
    }
    auto expiresIn = readExpiresIn(root);
    if (!expiresIn) {
        return std::move(expiresIn).error();
    }
    response.expiresIn_ = expiresIn.value();
    response.accessToken_ = std::move(*accessToken);
    if (idToken) {
        response.idToken_ = std::move(*idToken);
    }
    return Result<TokenResponse>(std::move(response));
}

}  // namespace auth_oidc
