#include "flow/authorize.h"

#include <algorithm>
#include <cctype>
#include <array>
#include <optional>
#include <utility>

#include "common/base64url.h"
#include "common/text.h"
#include "common/url.h"
#include "flow/pkce.h"

namespace auth_oidc {

namespace {

// The parameters buildAuthorizeUrl() sets; extra arguments may not repeat
// them (a second "state" or "redirect_uri" would be read differently by
// different servers).
constexpr std::array<std::string_view, 8> kReservedParams = {
    "response_type", "client_id", "redirect_uri",   "scope",
    "state",         "nonce",     "code_challenge", "code_challenge_method",
};

// RFC 6749, section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool isScopeChar(char c) noexcept {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x21 && byte <= 0x7e && c != '"' && c != '\\';
}

int hexValue(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// RFC 3986, section 3.4: query = *( pchar / "/" / "?" ), pchar = unreserved
// / pct-encoded / sub-delims / ":" / "@". Percent signs are checked apart.
bool isQueryChar(char c) noexcept {
    if (isUnreserved(c)) {
        return true;
    }
    switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?':
        return true;
    default:
        return false;
    }
}

// Whether the percent-decoded name (with "+" read as a space, as form
// decoders do) is one of kReservedParams. No allocation: names longer than
// the longest reserved one cannot match.
bool isReservedName(std::string_view name) noexcept {
    std::array<char, 32> decoded{};
    std::size_t len = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (len == decoded.size()) {
            return false;
        }
        char c = name[i];
        if (c == '%' && i + 2 < name.size() && hexValue(name[i + 1]) >= 0 &&
            hexValue(name[i + 2]) >= 0) {
            c = static_cast<char>(hexValue(name[i + 1]) * 16 +
                                  hexValue(name[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        decoded[len++] = c;
    }
    const std::string_view text(decoded.data(), len);
    return std::find(kReservedParams.begin(), kReservedParams.end(), text) !=
           kReservedParams.end();
}

void appendParam(std::string &url, const char *name, std::string_view value) {
    url += '&';
    url += name;
    url += '=';
    appendPercentEncoded(url, value);
}

}  // namespace

Result<std::string> normalizeScope(std::string_view scope) {
    std::string out = "openid";
    bool hasOpenid = false;
    std::string rest;
    std::size_t pos = 0;
    while (pos < scope.size()) {
        std::size_t end = scope.find(' ', pos);
        if (end == std::string_view::npos) {
            end = scope.size();
        }
        const std::string_view token = scope.substr(pos, end - pos);
        pos = end + 1;
        if (token.empty()) {
            continue;
        }
        if (!std::all_of(token.begin(), token.end(), isScopeChar)) {
            return makeError(Status::InvalidArgument,
                             "scope " + quoteForDetail(token) +
                                 " has a character outside RFC 6749's "
                                 "scope-token set");
        }
        if (token == "openid") {
            hasOpenid = true;
        }
        if (!rest.empty()) {
            rest += ' ';
        }
        rest += token;
    }
    if (hasOpenid) {
        return rest;
    }
    if (!rest.empty()) {
        out += ' ';
        out += rest;
    }
    return out;
}

const char *extraArgsProblem(std::string_view args) noexcept {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const char c = args[i];
        if (c == '%') {
            if (i + 2 >= args.size() || hexValue(args[i + 1]) < 0 ||
                hexValue(args[i + 2]) < 0) {
                return "has a \"%\" without two hex digits";
            }
            i += 2;
            continue;
        }
        if (!isQueryChar(c)) {
            return "has a character outside the URL query set "
                   "(percent-encode it)";
        }
    }
    std::size_t pos = 0;
    while (pos < args.size()) {
        std::size_t end = args.find('&', pos);
        if (end == std::string_view::npos) {
            end = args.size();
        }
        const std::string_view param = args.substr(pos, end - pos);
        const std::string_view name = param.substr(0, param.find('='));
        if (name.empty()) {
            return "has an empty parameter or parameter name";
        }
        if (isReservedName(name)) {
            return "sets a parameter the module sets itself (response_type, "
                   "client_id, redirect_uri, scope, state, nonce, "
                   "code_challenge, code_challenge_method)";
        }
        pos = end + 1;
        if (end + 1 == args.size()) {
            return "has an empty parameter or parameter name";
        }
    }
    return nullptr;
}

Result<std::string> buildAuthorizeUrl(const AuthorizeRequest &request) {
    if (const char *problem = httpUrlProblem(request.endpoint)) {
        return makeError(Status::Url,
                         std::string("authorization_endpoint ") + problem);
    }
    if (const char *problem = httpUrlProblem(request.redirectUri)) {
        return makeError(Status::Url, std::string("redirect_uri ") + problem +
                                          ": " +
                                          quoteForDetail(request.redirectUri));
    }
    if (request.clientId.empty() || request.state.empty() ||
        request.nonce.empty()) {
        return makeError(Status::InvalidArgument,
                         "client_id, state and nonce must not be empty");
    }
    if (!request.codeChallenge.empty() &&
        (request.codeChallenge.size() != kCodeChallengeLength ||
         !decodeBase64Url(request.codeChallenge))) {
        return makeError(Status::InvalidArgument,
                         "code_challenge is not an S256 challenge (43 "
                         "base64url characters)");
    }
    if (const char *problem = extraArgsProblem(request.extraArgs)) {
        return makeError(Status::InvalidArgument,
                         std::string("extra_auth_args ") + problem);
    }
    auto scope = normalizeScope(request.scope);
    if (!scope) {
        return std::move(scope).error();
    }

    std::string url(request.endpoint);
    if (url.find('?') == std::string::npos) {
        url += '?';
    } else if (url.back() != '?' && url.back() != '&') {
        url += '&';
    }
    url += "response_type=code";
    appendParam(url, "client_id", request.clientId);
    appendParam(url, "redirect_uri", request.redirectUri);
    appendParam(url, "scope", scope.value());
    appendParam(url, "state", request.state);
    appendParam(url, "nonce", request.nonce);
    if (!request.codeChallenge.empty()) {
        appendParam(url, "code_challenge", request.codeChallenge);
        url += "&code_challenge_method=S256";
    }
    if (!request.acrValues.empty()) {
        appendParam(url, "acr_values", request.acrValues);
    }
    if (request.maxAge >= 0) {
        appendParam(url, "max_age", std::to_string(request.maxAge));
    }
    if (!request.extraArgs.empty()) {
        url += '&';
        url += request.extraArgs;
    }
    return url;
}

std::string_view safeReturnPath(std::string_view uri) noexcept {
    constexpr std::string_view kRoot = "/";
    if (uri.empty() || uri.size() > kMaxReturnPath || uri.front() != '/') {
        return kRoot;
    }
    if (uri.size() > 1 && (uri[1] == '/' || uri[1] == '\\')) {
        return kRoot;
    }
    for (const char c : uri) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '\\') {
            return kRoot;
        }
    }
    return uri;
}

namespace {

// "http://" or "https://" and the authority after it, or nothing.
std::optional<std::pair<std::string_view, std::string_view>>
splitOrigin(std::string_view url) noexcept {
    std::size_t skip = 0;
    if (equalsIgnoringCase(url.substr(0, 8), "https://")) {
        skip = 8;
    } else if (equalsIgnoringCase(url.substr(0, 7), "http://")) {
        skip = 7;
    } else {
        return std::nullopt;
    }
    const std::size_t end = url.find_first_of("/?#", skip);
    const std::string_view authority =
        url.substr(skip, end == std::string_view::npos ? url.npos : end - skip);
    return std::make_pair(url.substr(0, skip + authority.size()),
                          url.substr(skip + authority.size()));
}

std::string_view hostOf(std::string_view authority) noexcept {
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        return close == authority.npos ? authority : authority.substr(0, close + 1);
    }
    return authority.substr(0, authority.find(':'));
}

bool nameChar(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// host[:port] and nothing else: a name (or an [IPv6] literal), then at most
// one ":" and one to five digits. No userinfo, no second colon.
bool validAuthority(std::string_view authority) noexcept {
    std::size_t hostEnd = 0;
    if (!authority.empty() && authority.front() == '[') {
        hostEnd = authority.find(']');
        if (hostEnd == std::string_view::npos ||
            !std::all_of(authority.begin() + 1, authority.begin() + hostEnd,
                         [](char c) {
                             return std::isxdigit(static_cast<unsigned char>(c)) ||
                                    c == ':' || c == '.';
                         })) {
            return false;
        }
        ++hostEnd;
    } else {
        while (hostEnd < authority.size() && nameChar(authority[hostEnd])) {
            ++hostEnd;
        }
    }
    if (hostEnd == 0) {
        return false;
    }
    const std::string_view port = authority.substr(hostEnd);
    if (port.empty()) {
        return true;
    }
    return port.front() == ':' && port.size() >= 2 && port.size() <= 6 &&
           std::all_of(port.begin() + 1, port.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool returnHostAllowed(std::string_view authority,
                       std::string_view returnHosts) noexcept {
    if (!validAuthority(authority)) {
        return false;
    }
    const std::string_view host = hostOf(authority);
    while (!returnHosts.empty()) {
        const std::size_t space = returnHosts.find(' ');
        const std::string_view entry = returnHosts.substr(0, space);
        returnHosts = space == returnHosts.npos ? std::string_view()
                                                : returnHosts.substr(space + 1);
        if (entry.empty()) {
            continue;
        }
        // an entry with a port names that port; without, the host on any
        const bool withPort = hostOf(entry).size() != entry.size();
        const std::string_view given = withPort ? authority : host;
        const std::string_view want = withPort ? entry : hostOf(entry);
        if (want.front() == '.') {
            if (given.size() > want.size() &&
                equalsIgnoringCase(given.substr(given.size() - want.size()), want)) {
                return true;
            }
        } else if (equalsIgnoringCase(given, want)) {
            return true;
        }
    }
    return false;
}

std::string returnTarget(std::string_view uri, std::string_view origin,
                         bool absolute, std::string_view returnHosts) {
    const auto own = splitOrigin(origin);
    const auto target = splitOrigin(uri);
    if (target && own) {
        const std::string_view authority = target->first.substr(
            target->first.find("://") + 3);
        std::string_view path = target->second.empty() ? "/" : target->second;
        // the own host on any port: the browser shares its cookies anyway
        const bool allowed =
            (validAuthority(authority) &&
             equalsIgnoringCase(
                 hostOf(authority),
                 hostOf(own->first.substr(own->first.find("://") + 3)))) ||
            returnHostAllowed(authority, returnHosts);
        if (allowed && path.front() == '/' && safeReturnPath(path) == path) {
            return std::string(target->first) + std::string(path);
        }
        return std::string(own->first) + "/";
    }
    const std::string_view path = safeReturnPath(uri);
    if (absolute && own) {
        return std::string(own->first) + std::string(path);
    }
    return std::string(path);
}

}  // namespace auth_oidc
