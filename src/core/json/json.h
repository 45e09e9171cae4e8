#pragma once

#include <jansson.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace auth_oidc {

struct JsonDeleter {
    void operator()(json_t *json) const noexcept { json_decref(json); }
};

// Owns one jansson reference.
using JsonPtr = std::unique_ptr<json_t, JsonDeleter>;

// Parses a whole document whose top level must be an object. Duplicate
// member names are rejected: two different "issuer" or "keys" members would
// let two parsers disagree about what the document says. Errors: Json
// (with jansson's own description), NoMemory.
Result<JsonPtr> parseJsonObject(std::string_view document);

// The same, for a document from outside that may be at most limit bytes:
// TooLarge "<what> is N bytes, the limit is M" beyond it.
Result<JsonPtr> parseJsonObject(std::string_view document,
                                std::string_view what, std::size_t limit);

// "object", "array", "string", "number", "boolean" or "null" for details.
const char *jsonTypeName(const json_t *value) noexcept;

// The string's bytes (jansson keeps the length, so no NUL is assumed), or
// std::nullopt when value is null or not a string.
std::optional<std::string_view> jsonStringView(const json_t *value) noexcept;

// Serializes value compactly (JSON_COMPACT). NoMemory on failure.
Result<std::string> dumpJsonCompact(const json_t *value);

// Builders for describe() output; false means jansson could not allocate.
[[nodiscard]] bool jsonSetString(json_t *object, const char *key,
                                 std::string_view value) noexcept;
[[nodiscard]] bool jsonSetNew(json_t *object, const char *key,
                              json_t *value) noexcept;
[[nodiscard]] bool jsonAppendString(json_t *array,
                                    std::string_view value) noexcept;

}  // namespace auth_oidc
