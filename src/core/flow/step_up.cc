#include "flow/step_up.h"

#include <limits>

#include "common/text.h"

namespace auth_oidc {

namespace {

bool listed(std::string_view value, std::string_view list) noexcept {
    while (!list.empty()) {
        const std::size_t space = list.find(' ');
        if (list.substr(0, space) == value) {
            return true;
        }
        list = space == list.npos ? std::string_view() : list.substr(space + 1);
    }
    return false;
}

}  // namespace

std::optional<std::string> stepUpUnmet(std::optional<std::string_view> acr,
                                       std::optional<std::int64_t> authTime,
                                       const StepUp &want, std::int64_t now,
                                       std::int64_t leeway) {
    if (!want.acrValues.empty()) {
        if (!acr || acr->empty()) {
            return std::string("no \"acr\", one of \"") +
                   std::string(want.acrValues) + "\" was asked for";
        }
        if (!listed(*acr, want.acrValues)) {
            return "\"acr\" " + quoteForDetail(*acr, 64) + " is not one of \"" +
                   std::string(want.acrValues) + "\"";
        }
    }
    if (want.maxAge >= 0) {
        if (!authTime) {
            return std::string("no \"auth_time\", max_age was asked for");
        }
        if (*authTime > now + leeway) {
            return std::string("\"auth_time\" is in the future");
        }
        if (now - *authTime > want.maxAge + leeway) {
            return "the authentication is " + std::to_string(now - *authTime) +
                   " s old, max_age is " + std::to_string(want.maxAge);
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> parseAuthTime(std::string_view text) noexcept {
    // a NumericDate may have a fraction: the second is enough
    text = text.substr(0, text.find('.'));
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

}  // namespace auth_oidc
