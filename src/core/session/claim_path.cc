#include "session/claim_path.h"

#include <algorithm>

#include "json/json.h"
#include "jwt/claims.h"
#include "jwt/jws.h"

namespace auth_oidc {

namespace {

// An upper bound on array indexes in a path: no claim has more elements.
constexpr std::size_t kMaxIndexDigits = 6;

}  // namespace

Result<JsonPtr> storedIdTokenPayload(std::string_view idToken) {
    auto jws = CompactJws::parse(idToken);
    if (!jws) {
        return makeError(Status::Decode, "the session's ID token: " +
                                             jws.error().detail);
    }
    const auto &payload = jws.value().payload;
    return parseJsonObject(std::string_view(
        reinterpret_cast<const char *>(payload.data()), payload.size()));
}

namespace {

// The node at path under the ID token's claims, else the userinfo answer's;
// nullptr when absent.
const json_t *nodeAt(const ClaimSources &sources,
                     const std::vector<std::string_view> &path) {
    if (path.empty() || !sources.idToken) {
        return nullptr;
    }
    const std::string first(path.front());
    const json_t *node = json_object_get(sources.idToken.get(), first.c_str());
    if (node == nullptr && sources.userinfo) {
        node = json_object_get(sources.userinfo.get(), first.c_str());
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

Result<ClaimSources> parseClaimSources(std::string_view idToken,
                                       std::string_view userinfo) {
    auto root = storedIdTokenPayload(idToken);
    if (!root) {
        return makeError(Status::Decode, root.error().detail);
    }
    ClaimSources sources;
    sources.idToken = std::move(root).value();
    if (!userinfo.empty()) {
        auto info = parseJsonObject(userinfo);
        if (info) {
            sources.userinfo = std::move(info).value();
        }
    }
    return Result<ClaimSources>(std::move(sources));
}

Result<ClaimSources> parseBearerClaimSources(std::string_view claims) {
    auto root = parseJsonObject(claims);
    if (!root) {
        return makeError(Status::Decode,
                         "the token's claims: " + root.error().detail);
    }
    ClaimSources sources;
    sources.idToken = std::move(root).value();
    return Result<ClaimSources>(std::move(sources));
}

Result<std::optional<std::string>> claimAtPath(
    const ClaimSources &sources, const std::vector<std::string_view> &path) {
    using Value = std::optional<std::string>;
    const json_t *value = nodeAt(sources, path);
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

bool claimHas(const ClaimSources &sources,
              const std::vector<std::string_view> &path,
              std::string_view value) noexcept {
    try {
        const json_t *found = nodeAt(sources, path);
        if (found == nullptr) {
            return false;
        }
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
