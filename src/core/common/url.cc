#include "common/url.h"

namespace auth_oidc {

namespace {

bool isDigit(char c) noexcept {
    return c >= '0' && c <= '9';
}

bool isHostChar(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

bool isIpv6Char(char c) noexcept {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == ':' || c == '.';
}

bool validPort(std::string_view port) noexcept {
    if (port.empty() || port.size() > 5) {
        return false;
    }
    unsigned value = 0;
    for (const char c : port) {
        if (!isDigit(c)) {
            return false;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value >= 1 && value <= 65535;
}

void appendEncoded(std::string &out, std::string_view value,
                   bool spaceAsPlus) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (const char c : value) {
        if (isUnreserved(c)) {
            out += c;
        } else if (c == ' ' && spaceAsPlus) {
            out += '+';
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0x0f];
        }
    }
}

}  // namespace

bool isUnreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

void appendPercentEncoded(std::string &out, std::string_view value) {
    appendEncoded(out, value, false);
}

void appendFormEncoded(std::string &out, std::string_view value) {
    appendEncoded(out, value, true);
}

const char *httpUrlProblem(std::string_view url) noexcept {
    if (url.empty()) {
        return "is empty";
    }
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f) {
            return "contains whitespace, control or non-ASCII characters";
        }
    }
    std::string_view rest;
    if (url.substr(0, 8) == "https://") {
        rest = url.substr(8);
    } else if (url.substr(0, 7) == "http://") {
        rest = url.substr(7);
    } else {
        return "is not an absolute http or https URL";
    }
    if (url.find('#') != std::string_view::npos) {
        return "contains a fragment";
    }

    std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    if (authority.find('@') != std::string_view::npos) {
        return "contains user information";
    }

    std::string_view host;
    std::string_view port;
    bool hasPort = false;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return "has an invalid host";
        }
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return "has an invalid host";
            }
            hasPort = true;
            port = after.substr(1);
        }
        if (host.empty()) {
            return "has an empty host";
        }
        for (const char c : host) {
            if (!isIpv6Char(c)) {
                return "has an invalid host";
            }
        }
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            hasPort = true;
            port = authority.substr(colon + 1);
        }
        if (host.empty()) {
            return "has an empty host";
        }
        for (const char c : host) {
            if (!isHostChar(c)) {
                return "has an invalid host";
            }
        }
    }
    if (hasPort && !validPort(port)) {
        return "has an invalid port";
    }
    return nullptr;
}

}  // namespace auth_oidc
