#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The relay's rules as pure functions (contract §5, policy §7, reference §12 and §14): how to
/// read Meta's answer to a send, how long to wait before a retry, and when a message may be sent
/// under the number's throughput and the pair rate. No I/O and no clock: `now` and random draws
/// are parameters, so every rule is testable exactly.
namespace wagate::domain::relay {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

// --- Outcome of one send ---------------------------------------------------------------------

enum class OutcomeKind {
    kAccepted,   // Meta took it: the wamid (messages) or {"success":true} (mark-as-read)
    kTransient,  // throttling, overload, network: send again later
    kPermanent,  // Meta refused it: the message fails with Meta's error
};

struct Outcome {
    OutcomeKind kind = OutcomeKind::kPermanent;
    std::string wamid;       // kAccepted messages
    int code = 0;            // Meta's error code (0 when Meta gave none)
    /// The error as a status webhook carries it: `[{"code","title","message","error_data":{"details"}}]`,
    /// built from Meta's envelope (or describing the HTTP failure when there was none).
    std::string errors_json;
    std::string details;        // one line on what happened, for a later expiry's error
    bool pair_limited = false;  // 131056: Meta's own advice is a 4^n seconds back-off
};

/// `[{"code","title","message","error_data":{"details"}}]`: an error as status webhooks carry it.
std::string errors_json(int code, std::string_view title, std::string_view details);

/// Meta error codes after which the same request can succeed later (reference §12, §14):
/// throughput 130429, pair rate 131056, unknown 131000, registration rate 133016, app and WABA
/// Graph rate limits 4 and 80007, service unavailable 2 and 131016, maintenance 131057 and
/// 2494100, template still syncing 134101.
bool is_transient_code(int code) noexcept;

/// Reads the answer to a send. `expect_wamid`: a message (true) or a mark-as-read/typing
/// indicator (false). A 2xx must hold what it promises; one that does not is permanent (the
/// request may have been taken, so it is never sent again). HTTP 408, 429 and 5xx are transient
/// whatever the body says; other statuses are classified by Meta's code.
Outcome classify_response(int http_status, std::string_view body, bool expect_wamid);

/// A request that got no answer (timeout, reset, refused, TLS failure): transient. The errors
/// carry code 131000 and `what` as details, so a message that expires after it says why.
Outcome classify_network_failure(std::string_view what);

/// The errors of a message that was not sent within its time to live (gateway code 900301),
/// with the last failure seen, if any, in the details.
std::string expired_errors_json(std::string_view last_failure_details);

// --- Retries --------------------------------------------------------------------------------

struct RetrySettings {
    std::chrono::milliseconds base{1'000};
    std::chrono::milliseconds max{300'000};
};

/// The wait before attempt `attempt + 1` after `attempt` failed attempts (attempt >= 1): base·2^(n-1)
/// capped at max, or Meta's 4^(n-1) seconds after a pair-rate error, then "equal jitter": half
/// the wait fixed, half scaled by `jitter` in [0, 1). The fixed half keeps retries of one
/// message spread out; the random half keeps a burst of failures from retrying in lockstep.
Duration retry_delay(int attempt, bool pair_limited, double jitter, const RetrySettings& settings);

// --- Pacing ---------------------------------------------------------------------------------

/// Generic cell rate algorithm: one event per `interval`, bursts of up to `burst` at once.
/// The state is one time, the theoretical arrival time (TAT) of the next event; a TAT in the past
/// is the same as a fresh state. Used for the number's throughput and for the pair rate (one
/// per 6 s, bursts of 45).
struct Gcra {
    Duration interval{};
    std::int64_t burst = 1;

    /// The earliest time at or after `not_before` an event is allowed, given `tat`.
    TimePoint earliest(std::optional<TimePoint> tat, TimePoint not_before) const noexcept;
    /// The TAT after an event at `at` (as returned by earliest()).
    TimePoint advance(std::optional<TimePoint> tat, TimePoint at) const noexcept;
};

/// A number's throughput as a GCRA: `messages_per_second` (any positive rate), bursts of 25 ms
/// worth (at least 1), so no second is scheduled more than 1.025 x the rate.
Gcra throughput_gcra(double messages_per_second) noexcept;

// --- References to other messages --------------------------------------------------------------

/// The gateway ids (`wagate.` + 32 hex digits; returned as the 32 hex digits) a payload refers
/// to where Meta expects one of its own wamids: `context.message_id`, `reaction.message_id`,
/// and a mark-as-read's `message_id`. Empty when there are none (the common case costs a
/// substring search, not a parse).
std::vector<std::string> referenced_gateway_ids(std::string_view payload_json);

/// `payload_json` with each referenced gateway id replaced by its wamid from `wamids` (keyed by
/// the 32 hex digits); ids without an entry are left as they are.
std::string replace_references(std::string_view payload_json, const std::map<std::string, std::string>& wamids);

}  // namespace wagate::domain::relay
