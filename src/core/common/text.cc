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

}  // namespace auth_oidc
