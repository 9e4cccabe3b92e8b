#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <wagate/domain/api_error.hpp>
#include <wagate/domain/send_request.hpp>

#include "sandbox/rng.hpp"

namespace wagate::sandbox {

// What the sandbox answers to a send that passed validation, and what then becomes of the
// message: pure, so that every trigger and rate is unit-tested (docs/sandbox.md, "Triggers").

/// Recipient inputs with a documented outcome, named by Meta's code.
enum class Trigger {
    kNotAllowed,     // 131030: refused, every time
    kUndeliverable,  // 131026: accepted, then sent and failed
    kNotDelivered,   // 131049: accepted, then only failed
    kThroughput,     // 130429: refused on the first send to the pair, accepted after
    kServerError,    // 131000: HTTP 500 on the first send to the pair, accepted after
    kPairRate,       // 131056: refused on the first send to the pair, accepted after
};

/// The trigger of a recipient: the last six digits of a wa_id made only of digits (phone
/// recipients). Group ids and BSUIDs never trigger anything.
std::optional<Trigger> find_trigger(std::string_view wa_id);

/// Meta's synchronous errors as the sandbox gives them (reference/messages.md §12).
namespace errors {
domain::ApiError not_allowed();                          // 400 131030
domain::ApiError throughput(int http_status);           // 130429 (400 for the trigger, 429 for the rate)
domain::ApiError server_error();                         // 500 131000
domain::ApiError pair_rate();                            // 400 131056
domain::ApiError invalid_token(std::string details);     // 401 190
}  // namespace errors

/// The (phone number, recipient) pairs a first-send-only trigger has already refused once.
/// Not thread-safe: the caller holds the lock that also guards the Rng.
class FirstSends {
public:
    /// True the first time the pair is seen, and records it.
    bool first(std::string_view phone_number_id, std::string_view wa_id);

private:
    std::set<std::string, std::less<>> seen_;
};

/// What happens to an accepted message after the answer (the status webhooks it gets).
enum class Fate {
    kDeliver,        // sent, delivered, read (or stop at delivered)
    kFailAfterSent,  // sent, then failed with 131026
    kFailOnly,       // failed with 131049 and nothing else
    kSentOnly,       // reactions: Meta reports only `sent` (reference/webhooks.md §4.7)
    kNone,           // mark-as-read and typing indicators: no message, no statuses
};

struct FaultRates {
    double throttle = 0;      // answered 429 / 130429
    double server_error = 0;  // answered 500 / 131000
    double fail = 0;          // accepted, then failed 131026 after sent
};

struct SendDecision {
    enum class Outcome { kAccept, kTrigger, kThrottled, kServerError };
    Outcome outcome = Outcome::kAccept;
    domain::ApiError error;  // the answer unless kAccept
    Fate fate = Fate::kDeliver;
};

/// Decides a validated send to `phone_number_id`: the recipient's trigger first (deterministic),
/// then the random faults, then what becomes of an accepted message. Draws from `rng` only for
/// rates strictly between 0 and 1, in this order: throttle, server error, fail.
SendDecision decide_send(const domain::SendRequest& request, std::string_view phone_number_id,
                         const FaultRates& rates, FirstSends& first_sends, Rng& rng);

}  // namespace wagate::sandbox
