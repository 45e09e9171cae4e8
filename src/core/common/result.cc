#include "common/result.h"

namespace auth_oidc {

Error makeError(Status status, std::string_view what) {
    std::string detail = toString(status);
    detail += ": ";
    detail += what;
    return Error{status, std::move(detail)};
}

}  // namespace auth_oidc
