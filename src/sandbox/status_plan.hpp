#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/rng.hpp"
#include "sandbox/send_rules.hpp"
#include "sandbox/webhook_bodies.hpp"

namespace wagate::sandbox {

// Which status webhooks an accepted message gets, with which timestamps, when each is posted and
// how many times: pure, every random decision drawn from the caller's Rng (docs/sandbox.md).

struct PlanSettings {
    std::chrono::milliseconds status_delay{300};
    bool read = true;
    double duplicate_rate = 0;  // per webhook: posted twice, byte-identical
    double reorder_rate = 0;    // per message: statuses posted in another order
};

/// What the plan needs to know about an accepted message.
struct AcceptedMessage {
    std::string wamid;
    std::string recipient_id;                      // wa_id; "" when sent to a BSUID only
    std::optional<std::string> recipient_user_id;  // the BSUID, when the send addressed one
    bool group = false;
    bool is_template = false;
    std::optional<std::string> biz_opaque_callback_data;
    Fate fate = Fate::kDeliver;
    std::int64_t accepted_at_ms = 0;  // Unix milliseconds
};

struct PlannedStatus {
    StatusItem item;
    std::chrono::milliseconds post_after{0};  // from acceptance
    int copies = 1;
};

/// The statuses in posting order. Status k (1-based, in true order: sent, delivered, read; or
/// sent, failed; or failed) happens at accepted_at + k·delay and carries that time as its
/// timestamp, so timestamps never go backwards along the true order. Normally status k is also
/// posted at k·delay; a reordered message posts the same statuses, timestamps unchanged, in a
/// shuffled order that always differs from the true one (the slots k·delay are kept in order).
/// `conversation` and `pricing` ride on `sent` and `delivered`, as Meta's per-message pricing
/// does; `expiration_timestamp` only on `sent`.
std::vector<PlannedStatus> plan_statuses(const AcceptedMessage& message, const PlanSettings& settings, Rng& rng);

/// The wait before retry number `failed_attempts` (1 after the first failure): `initial`
/// doubled for each further failure, at most `max`.
std::chrono::milliseconds retry_delay(int failed_attempts, std::chrono::milliseconds initial,
                                      std::chrono::milliseconds max) noexcept;

}  // namespace wagate::sandbox
