#pragma once

#include <jansson.h>

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

// Small jansson helpers so tests can derive broken documents from a good one
// instead of repeating whole fixtures.

namespace auth_oidc::test {

struct JsonFree {
    void operator()(json_t *json) const noexcept { json_decref(json); }
};
using Json = std::unique_ptr<json_t, JsonFree>;

inline Json loadJson(std::string_view text) {
    json_error_t error;
    Json json(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &error));
    EXPECT_TRUE(json) << error.text << " in: " << text;
    return json;
}

inline std::string dumpJson(const json_t *json) {
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    std::string out = text != nullptr ? text : "";
    free(text);
    return out;
}

// document with member name set to jsonValue (any JSON text).
inline std::string withMember(std::string_view document, const char *name,
                              std::string_view jsonValue) {
    Json root = loadJson(document);
    Json value = loadJson(jsonValue);
    json_object_set(root.get(), name, value.get());
    return dumpJson(root.get());
}

inline std::string withoutMember(std::string_view document, const char *name) {
    Json root = loadJson(document);
    json_object_del(root.get(), name);
    return dumpJson(root.get());
}

// JSON string literal for text (quotes and escapes added by jansson).
inline std::string jsonString(std::string_view text) {
    Json value(json_stringn(text.data(), text.size()));
    return dumpJson(value.get());
}

}  // namespace auth_oidc::test
