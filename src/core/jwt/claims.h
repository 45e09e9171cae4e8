#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "json/json.h"

namespace auth_oidc {

// The longest "sub" OpenID Connect Core 1.0, section 2 allows.
inline constexpr std::size_t kMaxSubjectBytes = 255;

// The claims of an ID token (or any JSON object of claims, such as the copy
// a session keeps): read-only lookups plus the compact serialization.
// The text of a non-null JSON value as $oidc_claim_* shows it: strings
// without quotes, other values as compact JSON, control bytes as spaces.
// Errors: NoMemory, Internal.
Result<std::string> renderClaimValue(const json_t *value);

class Claims {
public:
    static constexpr std::size_t kMaxDocumentBytes = 1024 * 1024;

    // Any JSON object, no validation. Errors: TooLarge, Json, NoMemory.
    static Result<Claims> parse(std::string_view document);

    // Takes a parsed object (precondition: an object). Errors: NoMemory.
    static Result<Claims> fromObject(JsonPtr root);

    // Compact JSON of the whole object, members in document order. Rendered
    // on first use: an ID-token check never needs it. Empty only when
    // memory ran out.
    const std::string &json() const noexcept;

    const json_t *root() const noexcept { return root_.get(); }

    // String claims; std::nullopt when absent or not a string. The views
    // live as long as this object.
    std::optional<std::string_view> string(std::string_view name) const
        noexcept;

    // NumericDate claims (RFC 7519, section 2): integers as they are,
    // fractions rounded down. std::nullopt when absent, not a number or
    // outside +-2^62.
    std::optional<std::int64_t> numericDate(std::string_view name) const
        noexcept;

    // The claim as text for an nginx variable: strings without quotes,
    // numbers and booleans as JSON text, arrays and objects as compact
    // JSON. Control bytes (0x00-0x1f, 0x7f) become spaces so that no claim
    // can split a header line. std::nullopt when absent or null (OpenID
    // Connect Core 1.0, section 5.3.2 treats both alike). Errors: NoMemory.
    Result<std::optional<std::string>> render(std::string_view name) const;

    // Every claim render() finds, rendered the same way, in document order
    // (null claims left out). Errors: NoMemory, Internal.
    struct Rendered {
        std::string name;
        std::string value;
    };
    Result<std::vector<Rendered>> renderAll() const;

private:
    Claims() = default;

    JsonPtr root_;
    mutable std::optional<std::string> json_;
};

}  // namespace auth_oidc
