#include "session/claim_path.h"

#include <algorithm>

#include "json/json.h"
#include "jwt/claims.h"
#include "jwt/jws.h"

namespace auth_oidc {

namespace {

// An upper bound on array indexes in a path: no claim has more elements.
constexpr std::size_t kMaxIndexDigits = 6;

Result<JsonPtr> payloadOf(std::string_view idToken) {
    auto jws = CompactJws::parse(idToken);
    if (!jws) {
        return makeError(Status::Decode, "the session's ID token: " +
                                             jws.error().detail);
    }
    const auto &payload = jws.value().payload;
    return parseJsonObject(std::string_view(
        reinterpret_cast<const char *>(payload.data()), payload.size()));
}

// The node at path under the ID token's claims, else the userinfo answer's
// (roots keeps them alive); nullptr when absent.
Result<const json_t *> nodeAt(std::string_view idToken,
                              std::string_view userinfo,
                              const std::vector<std::string_view> &path,
                              std::vector<JsonPtr> &roots) {
    if (path.empty()) {
        return static_cast<const json_t *>(nullptr);
    }
    auto root = payloadOf(idToken);
    if (!root) {
        return std::move(root).error();
    }
    roots.push_back(std::move(root).value());
    const std::string first(path.front());
    const json_t *node = json_object_get(roots.back().get(), first.c_str());
    if (node == nullptr && !userinfo.empty()) {
        auto info = parseJsonObject(userinfo);
        if (info) {
            roots.push_back(std::move(info).value());
            node = json_object_get(roots.back().get(), first.c_str());
        }
    }
    for (std::size_t i = 1; node != nullptr && i < path.size(); ++i) {
        const std::string_view name = path[i];
        if (json_is_object(node)) {
            node = json_object_get(node, std::string(name).c_str());
        } else if (json_is_array(node) && !name.empty() &&
                   name.size() <= kMaxIndexDigits &&
                   std::all_of(name.begin(), name.end(),
                               [](char c) { return c >= '0' && c <= '9'; })) {
            node = json_array_get(node, std::stoul(std::string(name)));
        } else {
            node = nullptr;
        }
    }
    return node;
}

}  // namespace

Result<std::optional<std::string>> claimAtPath(
    std::string_view idToken, std::string_view userinfo,
    const std::vector<std::string_view> &path) {
    using Value = std::optional<std::string>;
    std::vector<JsonPtr> roots;
    auto node = nodeAt(idToken, userinfo, path, roots);
    if (!node) {
        return std::move(node).error();
    }
    const json_t *value = node.value();
    if (value == nullptr || json_is_null(value)) {
        return Value();
    }
    if (!json_is_array(value)) {
        auto text = renderClaimValue(value);
        if (!text) {
            return std::move(text).error();
        }
        return Value(std::move(text).value());
    }
    std::string joined;
    std::size_t index = 0;
    const json_t *element = nullptr;
    json_array_foreach(value, index, element) {
        if (json_is_null(element)) {
            continue;
        }
        auto text = renderClaimValue(element);
        if (!text) {
            return std::move(text).error();
        }
        if (!joined.empty()) {
            joined += ',';
        }
        joined += text.value();
    }
    return Value(std::move(joined));
}

bool claimHas(std::string_view idToken, std::string_view userinfo,
              const std::vector<std::string_view> &path,
              std::string_view value) noexcept {
    try {
        std::vector<JsonPtr> roots;
        auto node = nodeAt(idToken, userinfo, path, roots);
        if (!node || node.value() == nullptr) {
            return false;
        }
        const json_t *found = node.value();
        if (const auto s = jsonStringView(found)) {
            return *s == value;
        }
        if (!json_is_array(found)) {
            return false;
        }
        std::size_t index = 0;
        const json_t *element = nullptr;
        json_array_foreach(found, index, element) {
            const auto s = jsonStringView(element);
            if (s && *s == value) {
                return true;
            }
        }
        return false;
    } catch (...) {
        return false;
    }
}

}  // namespace auth_oidc
