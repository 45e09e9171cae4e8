// libFuzzer entry point: everything the configuration or the browser feeds
// into URLs: return paths and targets, extra_auth_args, scopes, algorithm
// lists.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth_oidc_core.h"

namespace {

// A login comes back to this host, an allowed one, or a local path: never
// anywhere else, whatever the request's return_to says.
void returnTargetStaysHome(auth_oidc_str_t input) {
    static const auth_oidc_str_t origin{
        reinterpret_cast<const unsigned char *>("https://app.example.com"), 23};
    static const auth_oidc_str_t hosts{
        reinterpret_cast<const unsigned char *>("api.example.com .corp.example"), 29};
    unsigned char out[4096];
    for (const int absolute : {0, 1}) {
        const std::size_t len = auth_oidc_return_target(input, origin, absolute, hosts, out,
                                                        sizeof(out));
        if (len == 0 || len > sizeof(out)) {
            __builtin_trap();
        }
        const std::string_view text(reinterpret_cast<const char *>(out), len);
        for (const char c : text) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte <= 0x20 || byte >= 0x7f || c == '\\') {
                __builtin_trap();
            }
        }
        if (!absolute && text[0] == '/') {
            if (len > 1 && text[1] == '/') {
                __builtin_trap();  // "//host" is another site
            }
            continue;
        }
        const std::size_t scheme = text.find("://");
        if (scheme == std::string_view::npos ||
            (text.substr(0, scheme) != "https" && text.substr(0, scheme) != "http")) {
            __builtin_trap();
        }
        const std::string_view rest = text.substr(scheme + 3);
        const std::string_view authority = rest.substr(0, rest.find('/'));
        std::string lower(authority.substr(0, authority.find(':')));
        for (char &c : lower) {
            c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        }
        const std::string_view host = lower;  // hosts match case-insensitively
        const bool corp = host.size() > 13 && host.substr(host.size() - 13) == ".corp.example";
        if (authority.find('@') != std::string_view::npos || rest.size() == authority.size() ||
            (host != "app.example.com" && host != "api.example.com" && !corp)) {
            __builtin_trap();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const auth_oidc_str_t input{data, size};
    unsigned char out[4096];
    const std::size_t len = auth_oidc_safe_return_path(input, out, sizeof(out));
    // Whatever comes back is "/" or the input itself, never anything else.
    if (len != 1 && len != size) {
        __builtin_trap();
    }
    (void) auth_oidc_extra_args_check(input, nullptr);
    (void) auth_oidc_scope_check(input, nullptr);
    (void) auth_oidc_algorithms_check(input, nullptr);
    (void) auth_oidc_pkce_s256(input, out, sizeof(out));
    returnTargetStaysHome(input);
    return 0;
}
