#include "common/text.h"

#include <algorithm>

namespace auth_oidc {

namespace {

void appendEscaped(std::string &out, std::string_view text, bool escapeQuotes) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (escapeQuotes && (c == '"' || c == '\\')) {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0x0f];
        } else {
            out += c;
        }
    }
}

}  // namespace

std::string quoteForDetail(std::string_view value, std::size_t maxBytes) {
    const bool cut = value.size() > maxBytes;
    std::string out;
    out.reserve(std::min(value.size(), maxBytes) + 5);
    out += '"';
    appendEscaped(out, value.substr(0, maxBytes), true);
    if (cut) {
        out += "...";
    }
    out += '"';
    return out;
}

std::string printableForDetail(std::string_view text, std::size_t maxBytes) {
    std::string out;
    out.reserve(std::min(text.size(), maxBytes) + 3);
    appendEscaped(out, text.substr(0, maxBytes), false);
    if (text.size() > maxBytes) {
        out += "...";
    }
    return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto x = static_cast<unsigned char>(a[i]);
        auto y = static_cast<unsigned char>(b[i]);
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<unsigned char>(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<unsigned char>(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

}  // namespace auth_oidc
