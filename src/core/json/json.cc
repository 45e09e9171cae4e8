#include "json/json.h"

#include "common/text.h"

namespace auth_oidc {

Result<JsonPtr> parseJsonObject(std::string_view document) {
    if (document.empty()) {
        return makeError(Status::Json, "empty document");
    }
    json_error_t error;
    JsonPtr root(json_loadb(document.data(), document.size(),
                            JSON_REJECT_DUPLICATES, &error));
    if (!root) {
        if (json_error_code(&error) == json_error_out_of_memory) {
            return makeError(Status::NoMemory, "parsing JSON");
        }
        // jansson quotes the offending token, which may hold raw document
        // bytes.
        std::string what = printableForDetail(error.text, 120);
        what += " at line ";
        what += std::to_string(error.line);
        return makeError(Status::Json, what);
    }
    if (!json_is_object(root.get())) {
        std::string what = "top level must be an object, not ";
        what += jsonTypeName(root.get());
        return makeError(Status::Json, what);
    }
    return Result<JsonPtr>(std::move(root));
}

Result<JsonPtr> parseJsonObject(std::string_view document,
                                std::string_view what, std::size_t limit) {
    if (document.size() > limit) {
        std::string detail(what);
        detail += " is " + std::to_string(document.size()) +
                  " bytes, the limit is " + std::to_string(limit);
        return makeError(Status::TooLarge, detail);
    }
    return parseJsonObject(document);
}

const char *jsonTypeName(const json_t *value) noexcept {
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

std::optional<std::string_view> jsonStringView(const json_t *value) noexcept {
    if (value == nullptr || !json_is_string(value)) {
        return std::nullopt;
    }
    return std::string_view(json_string_value(value),
                            json_string_length(value));
}

Result<std::string> dumpJsonCompact(const json_t *value) {
    const std::size_t needed = json_dumpb(value, nullptr, 0, JSON_COMPACT);
    if (needed == 0) {
        return makeError(Status::NoMemory, "serializing JSON");
    }
    std::string out(needed, '\0');
    if (json_dumpb(value, out.data(), out.size(), JSON_COMPACT) != needed) {
        return makeError(Status::Internal, "JSON serialization changed size");
    }
    return Result<std::string>(std::move(out));
}

bool jsonSetString(json_t *object, const char *key,
                   std::string_view value) noexcept {
    return jsonSetNew(object, key, json_stringn(value.data(), value.size()));
}

bool jsonSetNew(json_t *object, const char *key, json_t *value) noexcept {
    // json_object_set_new() consumes value even on failure and tolerates NULL.
    return value != nullptr && json_object_set_new(object, key, value) == 0;
}

bool jsonAppendString(json_t *array, std::string_view value) noexcept {
    json_t *item = json_stringn(value.data(), value.size());
    return item != nullptr && json_array_append_new(array, item) == 0;
}

}  // namespace auth_oidc
