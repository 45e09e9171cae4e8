#include "session/token_packing.h"

#include <cstdint>

#include "common/base64url.h"
#include "session/varint.h"

namespace auth_oidc {

namespace {

// The bytes of a canonical base64url string appended to out.
bool appendDecoded(std::string &out, std::string_view text) {
    const auto bytes = decodeBase64Url(text);
    if (!bytes) {
        return false;
    }
    out.append(reinterpret_cast<const char *>(bytes->data()), bytes->size());
    return true;
}

void appendEncoded(std::string &out, std::string_view bytes) {
    const std::size_t at = out.size();
    out.resize(at + base64UrlLength(bytes.size()));
    encodeBase64UrlTo(reinterpret_cast<const unsigned char *>(bytes.data()),
                      bytes.size(), out.data() + at);
}

std::string asText(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 1);
    out += static_cast<char>(kPackedText);
    out.append(text.data(), text.size());
    return out;
}

}  // namespace

std::string packToken(std::string_view text) {
    if (text.empty()) {
        return std::string();
    }
    const std::size_t dot1 = text.find('.');
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2 * kMaxVarintBytes + 1);
    if (dot1 == std::string_view::npos) {
        out += static_cast<char>(kPackedBase64);
        return appendDecoded(out, text) ? out : asText(text);
    }
    const std::size_t dot2 = text.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos ||
        text.find('.', dot2 + 1) != std::string_view::npos) {
        return asText(text);
    }
    out += static_cast<char>(kPackedJws);
    std::string part;
    for (const std::string_view segment :
         {text.substr(0, dot1), text.substr(dot1 + 1, dot2 - dot1 - 1)}) {
        part.clear();
        if (!appendDecoded(part, segment)) {
            return asText(text);
        }
        putVarint(out, part.size());
        out += part;
    }
    return appendDecoded(out, text.substr(dot2 + 1)) ? out : asText(text);
}

namespace {

// Reads a packed form; its text goes to out unless out is null (a check).
bool readPacked(std::string_view packed, std::string *out) {
    if (packed.empty()) {
        return true;
    }
    const auto form = static_cast<unsigned char>(packed[0]);
    packed.remove_prefix(1);
    switch (form) {
    case kPackedText:
        // only what packToken() keeps as text: one form per token, so that
        // a record decoded and encoded again is the same bytes
        if (packed.empty() ||
            static_cast<unsigned char>(packToken(packed)[0]) != kPackedText) {
            return false;
        }
        if (out != nullptr) {
            out->append(packed.data(), packed.size());
        }
        return true;
    case kPackedBase64:
        if (out != nullptr) {
            appendEncoded(*out, packed);
        }
        return true;
    case kPackedJws:
        for (int i = 0; i < 2; ++i) {
            std::uint64_t len = 0;
            if (takeVarint(packed, len) != VarintError::None ||
                len > packed.size()) {
                return false;
            }
            if (out != nullptr) {
                appendEncoded(*out,
                              packed.substr(0, static_cast<std::size_t>(len)));
                *out += '.';
            }
            packed.remove_prefix(static_cast<std::size_t>(len));
        }
        if (out != nullptr) {
            appendEncoded(*out, packed);
        }
        return true;
    default:
        return false;
    }
}

}  // namespace

bool unpackTokenTo(std::string_view packed, std::string &out) {
    return readPacked(packed, &out);
}

bool validPackedToken(std::string_view packed) {
    return readPacked(packed, nullptr);
}

}  // namespace auth_oidc
