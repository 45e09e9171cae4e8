#include "provider/discovery.h"

#include <algorithm>

#include "common/text.h"
#include "common/url.h"
#include "json/json.h"

namespace auth_oidc {

namespace {

constexpr std::array<const char *, Discovery::kEndpointCount> kEndpointNames = {
    "authorization_endpoint", "token_endpoint",       "userinfo_endpoint",
    "jwks_uri",               "end_session_endpoint", "revocation_endpoint",
    "introspection_endpoint",
};

constexpr std::array<bool, Discovery::kEndpointCount> kEndpointRequired = {
    true, true, false, true, false, false, false,
};

constexpr std::array<const char *, Discovery::kListCount> kListNames = {
    "scopes_supported",
    "response_types_supported",
    "code_challenge_methods_supported",
    "id_token_signing_alg_values_supported",
    "token_endpoint_auth_methods_supported",
    "grant_types_supported",
};

constexpr std::array<const char *, Discovery::kFlagCount> kFlagNames = {
    "frontchannel_logout_supported",
    "backchannel_logout_supported",
    "authorization_response_iss_parameter_supported",
};

std::string quotedName(const char *name) {
    std::string out = "\"";
    out += name;
    out += '"';
    return out;
}

Error missingMember(const char *name) {
    return makeError(Status::Field, quotedName(name) + " is required");
}

Error wrongType(const char *name, const char *expected, const json_t *value) {
    std::string what = quotedName(name);
    what += " must be ";
    what += expected;
    what += ", not ";
    what += jsonTypeName(value);
    return makeError(Status::Field, what);
}

// Reads an optional string member: std::nullopt in value when absent.
Result<std::optional<std::string>> optionalString(const json_t *root,
                                                  const char *name) {
    const json_t *value = json_object_get(root, name);
    if (value == nullptr) {
        return std::optional<std::string>();
    }
    const auto text = jsonStringView(value);
    if (!text) {
        return wrongType(name, "a string", value);
    }
    return std::optional<std::string>(std::string(*text));
}

Result<std::optional<std::vector<std::string>>> optionalStringArray(
    const json_t *root, const char *name) {
    using Value = std::optional<std::vector<std::string>>;
    const json_t *value = json_object_get(root, name);
    if (value == nullptr) {
        return Value();
    }
    if (!json_is_array(value)) {
        return wrongType(name, "an array of strings", value);
    }
    std::vector<std::string> items;
    items.reserve(json_array_size(value));
    for (std::size_t i = 0; i < json_array_size(value); ++i) {
        const json_t *item = json_array_get(value, i);
        const auto text = jsonStringView(item);
        if (!text) {
            std::string what = quotedName(name);
            what += " must be an array of strings, item ";
            what += std::to_string(i);
            what += " is ";
            what += jsonTypeName(item);
            return makeError(Status::Field, what);
        }
        items.emplace_back(*text);
    }
    return Value(std::move(items));
}

Error urlError(const char *name, const char *problem, std::string_view url) {
    std::string what = quotedName(name);
    what += ' ';
    what += problem;
    what += ": ";
    what += quoteForDetail(url);
    return makeError(Status::Url, what);
}

}  // namespace

const char *Discovery::memberName(Endpoint which) noexcept {
    return kEndpointNames[static_cast<std::size_t>(which)];
}

const char *Discovery::memberName(List which) noexcept {
    return kListNames[static_cast<std::size_t>(which)];
}

const char *Discovery::memberName(Flag which) noexcept {
    return kFlagNames[static_cast<std::size_t>(which)];
}

Result<Discovery> Discovery::parse(std::string_view document,
                                   std::string_view expectedIssuer) {
    auto parsed = parseJsonObject(document, "discovery document", kMaxDocumentBytes);
    if (!parsed) {
        return std::move(parsed).error();
    }
    const json_t *root = parsed.value().get();

    Discovery discovery;

    // Checked first: a document for another issuer is the most telling error,
    // whatever else is wrong with it.
    const json_t *issuer = json_object_get(root, "issuer");
    if (issuer == nullptr) {
        return missingMember("issuer");
    }
    const auto issuerText = jsonStringView(issuer);
    if (!issuerText) {
        return wrongType("issuer", "a string", issuer);
    }
    if (*issuerText != expectedIssuer) {
        return makeError(Status::Issuer,
                         "document says " + quoteForDetail(*issuerText) +
                             ", configured " + quoteForDetail(expectedIssuer) +
                             "; fix: set issuer to the document's value "
                             "exactly (a trailing \"/\" included)");
    }
    discovery.issuer_ = std::string(*issuerText);

    for (std::size_t i = 0; i < kEndpointCount; ++i) {
        const char *name = kEndpointNames[i];
        auto url = optionalString(root, name);
        if (!url) {
            return std::move(url).error();
        }
        if (!url.value()) {
            if (kEndpointRequired[i]) {
                return missingMember(name);
            }
            continue;
        }
        if (const char *problem = httpUrlProblem(*url.value())) {
            return urlError(name, problem, *url.value());
        }
        discovery.endpoints_[i] = std::move(url.value());
    }

    for (std::size_t i = 0; i < kListCount; ++i) {
        auto list = optionalStringArray(root, kListNames[i]);
        if (!list) {
            return std::move(list).error();
        }
        discovery.lists_[i] = std::move(list.value());
    }

    for (std::size_t i = 0; i < kFlagCount; ++i) {
        const json_t *value = json_object_get(root, kFlagNames[i]);
        if (value == nullptr) {
            continue;
        }
        if (!json_is_boolean(value)) {
            return wrongType(kFlagNames[i], "a boolean", value);
        }
        discovery.flags_[i] = json_is_true(value);
    }

    return Result<Discovery>(std::move(discovery));
}

std::optional<bool> Discovery::supportsPkceS256() const noexcept {
    const auto &methods = list(List::CodeChallengeMethods);
    if (!methods) {
        return std::nullopt;
    }
    return std::find(methods->begin(), methods->end(), "S256") !=
           methods->end();
}

Result<std::string> Discovery::describe() const {
    const auto noMemory = [] {
        return makeError(Status::NoMemory, "describing discovery");
    };
    JsonPtr out(json_object());
    if (!out || !jsonSetString(out.get(), "issuer", issuer_)) {
        return noMemory();
    }
    for (std::size_t i = 0; i < kEndpointCount; ++i) {
        if (endpoints_[i] &&
            !jsonSetString(out.get(), kEndpointNames[i], *endpoints_[i])) {
            return noMemory();
        }
    }
    for (std::size_t i = 0; i < kListCount; ++i) {
        if (!lists_[i]) {
            continue;
        }
        json_t *array = json_array();
        if (!jsonSetNew(out.get(), kListNames[i], array)) {
            return noMemory();
        }
        for (const auto &item : *lists_[i]) {
            if (!jsonAppendString(array, item)) {
                return noMemory();
            }
        }
    }
    for (std::size_t i = 0; i < kFlagCount; ++i) {
        if (flags_[i] &&
            !jsonSetNew(out.get(), kFlagNames[i], json_boolean(*flags_[i]))) {
            return noMemory();
        }
    }
    return dumpJsonCompact(out.get());
}

}  // namespace auth_oidc
