#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "json/json.h"

namespace auth_oidc {

// A JWS in compact serialization (RFC 7515, section 7.1), split and decoded
// but not verified: nothing in it may be trusted yet.
struct CompactJws {
    // ID tokens are a few KiB; anything near this is not one.
    static constexpr std::size_t kMaxBytes = 64 * 1024;

    JsonPtr header;
    // Header "alg" (required) and "kid" (optional), both strings.
    std::string alg;
    std::optional<std::string> kid;
    // BASE64URL(header) "." BASE64URL(payload): a view into the input.
    std::string_view signingInput;
    std::vector<unsigned char> payload;
    std::vector<unsigned char> signature;

    // Errors: TooLarge, Token (anything structurally wrong: part count,
    // base64url, header JSON, "alg" or "kid" of the wrong type, any "crit").
    // The input must outlive the result (signingInput points into it).
    static Result<CompactJws> parse(std::string_view token);
};

}  // namespace auth_oidc
