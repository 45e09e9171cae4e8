#include "jwt/claims.h"

#include <cmath>

namespace auth_oidc {

namespace {

// +-2^62 seconds: far beyond any real date, and far enough from the int64
// limits that adding a leeway can never overflow.
constexpr double kMaxDate = 4611686018427387904.0;

void replaceControlBytes(std::string &text) noexcept {
    for (char &c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            c = ' ';
        }
    }
}

// jansson hashes the name's bytes; a default-constructed view has a null
// data pointer, which memcmp() must not see even for zero bytes.
const json_t *member(const json_t *root, std::string_view name) noexcept {
    return json_object_getn(root, name.empty() ? "" : name.data(),
                            name.size());
}

}  // namespace

Result<Claims> Claims::parse(std::string_view document) {
    auto parsed = parseJsonObject(document, "claims document", kMaxDocumentBytes);
    if (!parsed) {
        return std::move(parsed).error();
    }
    return fromObject(std::move(parsed).value());
}

Result<Claims> Claims::fromObject(JsonPtr root) {
    Claims claims;
    claims.root_ = std::move(root);
    return Result<Claims>(std::move(claims));
}

const std::string &Claims::json() const noexcept {
    if (!json_) {
        try {
            auto json = dumpJsonCompact(root_.get());
            json_.emplace(json ? std::move(json).value() : std::string());
        } catch (...) {
            static const std::string kNone;
            return kNone;
        }
    }
    return *json_;
}

std::optional<std::string_view> Claims::string(std::string_view name) const
    noexcept {
    return jsonStringView(member(root_.get(), name));
}

std::optional<std::int64_t> Claims::numericDate(std::string_view name) const
    noexcept {
    const json_t *value =
        member(root_.get(), name);
    if (json_is_integer(value)) {
        const json_int_t n = json_integer_value(value);
        if (n < -static_cast<json_int_t>(kMaxDate) ||
            n > static_cast<json_int_t>(kMaxDate)) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(n);
    }
    if (json_is_real(value)) {
        const double d = std::floor(json_real_value(value));
        if (!(d >= -kMaxDate && d <= kMaxDate)) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

Result<std::string> renderClaimValue(const json_t *value) {
    std::string text;
    if (const auto s = jsonStringView(value)) {
        text.assign(s->data(), s->size());
    } else {
        // %.15g: 0.1 stays "0.1" instead of jansson's 17-digit default.
        const std::size_t flags =
            JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15);
        const std::size_t needed = json_dumpb(value, nullptr, 0, flags);
        if (needed == 0) {
            return makeError(Status::NoMemory, "rendering a claim");
        }
        text.resize(needed);
        if (json_dumpb(value, text.data(), text.size(), flags) != needed) {
            return makeError(Status::Internal, "claim rendering changed size");
        }
    }
    replaceControlBytes(text);
    return Result<std::string>(std::move(text));
}

Result<std::optional<std::string>> Claims::render(std::string_view name) const {
    using Value = std::optional<std::string>;
    const json_t *value =
        member(root_.get(), name);
    if (value == nullptr || json_is_null(value)) {
        return Value();
    }
    auto text = renderClaimValue(value);
    if (!text) {
        return std::move(text).error();
    }
    return Value(std::move(text).value());
}

Result<std::vector<Claims::Rendered>> Claims::renderAll() const {
    std::vector<Rendered> out;
    json_t *root = root_.get();
    out.reserve(json_object_size(root));
    for (void *it = json_object_iter(root); it != nullptr;
         it = json_object_iter_next(root, it)) {
        const json_t *value = json_object_iter_value(it);
        if (json_is_null(value)) {
            continue;
        }
        auto text = renderClaimValue(value);
        if (!text) {
            return std::move(text).error();
        }
        out.push_back(Rendered{
            std::string(json_object_iter_key(it), json_object_iter_key_len(it)),
            std::move(text).value()});
    }
    return Result<std::vector<Rendered>>(std::move(out));
}

}  // namespace auth_oidc
