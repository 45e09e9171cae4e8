#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "provider/discovery.h"

namespace auth_oidc {

class Jwks;

// What a flow asks its driver to do next (the flow itself does no I/O).
// Same values as auth_oidc_step_kind_t.
enum class StepKind {
    Fetch = 1,  // an HTTP request to one of the provider's endpoints
    Store,      // an operation on the session store
    Metadata,   // usable provider metadata; with refetchKeys, a newer fetch
    Reply,      // answer the browser: the flow is over
    Wait,       // wait waitMs, then resume (with an empty result)
    Done,       // over without an answer: the request goes on (outcome)
};

// Same values as auth_oidc_store_op_t.
enum class StoreOp {
    Get = 1,
    Take,    // get, and the record is gone: one-time use
    Put,
    Add,     // put only when absent (or expired)
    Delete,  // no answer awaited
    IndexAdd,  // the session key (value) joins the index (key)
    IndexEnd,  // every session of the index (key) ends; value: how many
    Replace,   // put only while present: Absent when it is gone
};

// Same values as the module's record kinds.
enum class RecordKind {
    UsedState = 1,  // a finished callback's state (the started-login kind)
    Session,
    RefreshLock,    // one refresh of a session at a time
    SessionIndex,   // the sessions of a provider's "sid" or "sub"
    UsedJti,        // a back-channel logout token's "jti", once
    BearerToken,    // a bearer token's verification (the cache)
};

// The key of the index of a provider's sessions by "sid" or "sub" (kind),
// for logout from the provider's side; sessions are keyed
// "<provider>\n<session id>". The value is the provider's, of any length:
// its SHA-256 keeps keys short (the shared-memory store takes 255 bytes).
std::string sessionIndexKey(std::string_view provider, std::string_view kind,
                            std::string_view value);

// The key of a used logout token's "jti", hashed the same way.
std::string usedJtiKey(std::string_view provider, std::string_view jti);

// How a flow that ends without answering left the request (Done).
// Same values as auth_oidc_done_t.
enum class Outcome {
    Keep = 1,     // the session as it was: its tokens are still valid
    Session,      // the session in value replaces it (refreshed)
    Ended,        // the session ended: unauthenticated from now on
    Unavailable,  // its tokens expired and no refresh could be had now:
                  // unauthenticated for this request, the session is kept
};

// Same values as auth_oidc_log_level_t.
enum class LogLevel {
    None = 0,
    Error,
    Warn,
    Info,
};

struct Step {
    StepKind kind = StepKind::Reply;

    // Fetch: method, "Name: value\r\n" lines, body (the URL is the
    // endpoint's, from the metadata the driver holds).
    Discovery::Endpoint endpoint = Discovery::Endpoint::Token;
    std::string method;
    std::string headers;
    std::string body;
    // A bound of its own (ms) below the provider's, 0: the provider's.
    std::int64_t timeoutMs = 0;

    // Store
    StoreOp op = StoreOp::Get;
    RecordKind record = RecordKind::Session;
    std::string key;
    std::string value;
    std::int64_t expires = 0;

    // Metadata; optional: without any, the flow goes on (no 503)
    bool refetchKeys = false;
    bool metadataOptional = false;

    // Reply: status; a Location for 3xx; a new session id for the session
    // cookie; a page (title and a sentence) for the others.
    int status = 0;
    std::string location;
    std::string sessionId;
    bool clearSession = false;  // the session cookie is cleared
    // A started login's own cookie: the state it is named after, its value.
    std::string loginState;
    std::string loginCookie;
    std::string title;
    std::string detail;
    // A provider's logout refused: why (LogoutRefusal), -1 otherwise.
    int reason = -1;

    // Wait
    std::int64_t waitMs = 0;

    // Done: the outcome, and for Session the new record (value).
    Outcome outcome = Outcome::Keep;

    // Any step: one line for the error log (after "auth_oidc: ").
    LogLevel logLevel = LogLevel::None;
    std::string log;
};

// How the driver's last step went.
struct StepResult {
    // Fetch
    enum class Transport { Ok, Failed, TimedOut };
    Transport transport = Transport::Ok;
    unsigned httpStatus = 0;
    std::string_view body;
    std::string_view transportError;

    // Store: Done (found, stored, added, deleted), Absent (not found; for
    // Add: the key was taken already), Failed (the store did not answer).
    enum class Store { Done, Absent, Failed };
    Store store = Store::Done;
    std::string_view value;

    // Metadata: what the driver holds now; jwks may be unchanged.
    const Discovery *discovery = nullptr;
    const Jwks *jwks = nullptr;
};

// A token named a key id the keys lack: ask for a newer fetch of them
// (once per flow: the provider may have rotated its keys).
inline Step keysRefetchStep() {
    Step step;
    step.kind = StepKind::Metadata;
    step.refetchKeys = true;
    return step;
}

}  // namespace auth_oidc
