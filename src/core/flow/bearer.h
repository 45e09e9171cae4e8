#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "flow/step.h"
#include "flow/token.h"
#include "jwt/algorithm.h"

namespace auth_oidc {

class Claims;

// How an API's bearer tokens are verified. Same values as
// auth_oidc_bearer_validation_t.
enum class BearerValidation {
    Auto = 0,       // a JWT (two dots) locally, anything else introspected
    Jwt,            // only JWTs, locally
    Introspection,  // every token at the introspection endpoint
};

struct BearerConfig {
    std::string_view provider;       // oidc_provider name
    std::string_view issuer;
    std::string_view clientId;       // authenticates the introspection
    std::string_view clientSecret;
    // How the client authenticates at the provider's endpoints (method,
    // key); the flow adds the token endpoint and the time.
    ClientProof client;
    std::string_view algorithms;     // id_token_algorithms (HS* never)
    std::string_view audiences;      // space-separated, at least one
    BearerValidation validation = BearerValidation::Auto;
    bool strictType = true;          // JWT "typ" must be "at+jwt"
    std::int64_t leeway = 0;
    // An accepted token is cached until it expires, at most this long; a
    // refused one this long.
    std::int64_t cacheValid = 300;
    std::int64_t cacheInvalid = 10;
    std::int64_t introspectionTimeoutMs = 0;  // 0: the provider's bound
};

// The verification cache's key of a token: "<provider>\nbearer\n" and the
// token's SHA-256 (the token itself is never a key).
std::string bearerTokenKey(std::string_view provider, std::string_view token);

// The same key written into out (one per API request: no allocation);
// its length, or 0 when hashing failed or it does not fit in size.
std::size_t bearerTokenKeyTo(std::string_view provider,
                             std::string_view token, char *out,
                             std::size_t size) noexcept;

// Whether token is an RFC 6750 b64token of at most kMaxBearerBytes: what
// may be verified, hashed or sent to the provider at all.
inline constexpr std::size_t kMaxBearerBytes = 16 * 1024;
bool isBearerToken(std::string_view token) noexcept;

// A bearer token on an API (RFC 6750) that the verification cache does
// not know: verified with the provider's keys as a JWT access token (RFC
// 9068, refetching keys once for an unknown kid), or at the provider's
// introspection endpoint (RFC 7662), then cached either way under
// bearerTokenKey(). Accepted: Done with outcome Session and the cached
// record (a bearer record, see BearerFields) in value. Refused: a Reply
// 401, title the RFC 6750 error code, detail its description (fixed
// sentences: nothing of the token is echoed); the provider unavailable:
// a Reply 503, not cached, whose log says why at level None (the module
// says it once per incident). Refusals are logged at info only: anyone can
// send a bad token.
class BearerFlow {
public:
    // Errors: InvalidArgument (no audience, a bad algorithm list).
    static Result<std::unique_ptr<BearerFlow>> create(
        const BearerConfig &config, std::string_view token, std::int64_t now);

    const Step &start();
    const Step &resume(const StepResult &result);
    bool done() const noexcept { return state_ == State::Done; }

private:
    enum class State { Start, Metadata, Keys, Introspect, Cache, Done };

    BearerFlow() = default;

    const Step &verifyJwt(const StepResult &result);
    const Step &introspect(const StepResult &result);
    const Step &introspected(const StepResult &result);
    const Step &accept(const Claims &claims, std::int64_t expires);
    const Step &refuse(std::string description, std::string log);
    const Step &unavailable(std::string log);
    const Step &afterCache(const StepResult &result);

    std::string provider_, issuer_, clientId_, clientSecret_, token_;
    ClientProof client_;
    std::string audienceList_;
    std::vector<std::string_view> audiences_;  // views into audienceList_
    AlgSet algs_;
    BearerValidation validation_ = BearerValidation::Auto;
    bool strictType_ = true;
    std::int64_t leeway_ = 0, cacheValid_ = 0, cacheInvalid_ = 0, now_ = 0;
    std::int64_t timeoutMs_ = 0;
    bool keysRefetched_ = false;

    // what the cache put is followed by
    Step answer_;

    State state_ = State::Start;
    Step step_;
};

}  // namespace auth_oidc
