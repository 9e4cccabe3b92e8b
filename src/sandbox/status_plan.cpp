#include "sandbox/status_plan.hpp"

#include <algorithm>
#include <numeric>

#include "sandbox/ids.hpp"

namespace wagate::sandbox {
namespace {

constexpr std::int64_t kDaySeconds = 24 * 3600;

StatusError undeliverable() {
    return {131026, "Message undeliverable", "Message Undeliverable."};
}

StatusError not_delivered() {
    return {131049, "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."};
}

/// Meta's per-message pricing: templates are billed (the sandbox cannot know a template's
/// category, so it says marketing); anything else can only be sent inside the customer service
/// window, which is free.
Pricing pricing_for(bool is_template) {
    if (is_template) {
        return {true, "regular", "marketing"};
    }
    return {false, "free_customer_service", "service"};
}

std::vector<std::string> true_order(Fate fate, bool read) {
    switch (fate) {
        case Fate::kDeliver:
            return read ? std::vector<std::string>{"sent", "delivered", "read"}
                        : std::vector<std::string>{"sent", "delivered"};
        case Fate::kFailAfterSent: return {"sent", "failed"};
        case Fate::kFailOnly: return {"failed"};
        case Fate::kSentOnly: return {"sent"};
        case Fate::kNone: return {};
    }
    return {};
}

}  // namespace

std::vector<PlannedStatus> plan_statuses(const AcceptedMessage& m, const PlanSettings& settings, Rng& rng) {
    const std::vector<std::string> statuses = true_order(m.fate, settings.read);
    if (statuses.empty()) {
        return {};
    }
    const Pricing pricing = pricing_for(m.is_template);
    const std::string conversation_id = new_conversation_id(rng);
    const std::int64_t delay_ms = settings.status_delay.count();

    std::vector<PlannedStatus> plan;
    plan.reserve(statuses.size());
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        const std::int64_t offset_ms = static_cast<std::int64_t>(i + 1) * delay_ms;
        PlannedStatus p;
        p.post_after = std::chrono::milliseconds(offset_ms);
        StatusItem& s = p.item;
        s.wamid = m.wamid;
        s.status = statuses[i];
        // Floor division of a non-decreasing time keeps timestamps non-decreasing.
        s.timestamp = (m.accepted_at_ms + offset_ms) / 1000;
        s.recipient_id = m.recipient_id;
        s.recipient_user_id = m.recipient_user_id;
        s.group = m.group;
        s.biz_opaque_callback_data = m.biz_opaque_callback_data;
        if (s.status == "sent" || s.status == "delivered") {
            Conversation conversation{conversation_id, pricing.category, std::nullopt};
            if (s.status == "sent") {
                conversation.expiration_timestamp = s.timestamp + kDaySeconds;
            }
            s.conversation = std::move(conversation);
            s.pricing = pricing;
        }
        if (s.status == "failed") {
            s.error = m.fate == Fate::kFailOnly ? not_delivered() : undeliverable();
        }
        plan.push_back(std::move(p));
    }

    if (plan.size() > 1 && chance(settings.reorder_rate, rng)) {
        std::vector<std::size_t> order(plan.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::shuffle(order.begin(), order.end(), rng);
        if (std::is_sorted(order.begin(), order.end())) {
            // A "shuffle" that changed nothing would make reorder_rate = 1 test nothing.
            std::swap(order[0], order[1]);
        }
        std::vector<PlannedStatus> reordered;
        reordered.reserve(plan.size());
        for (std::size_t slot = 0; slot < order.size(); ++slot) {
            PlannedStatus p = plan[order[slot]];
            p.post_after = plan[slot].post_after;
            reordered.push_back(std::move(p));
        }
        plan = std::move(reordered);
    }
    for (auto& p : plan) {
        p.copies = chance(settings.duplicate_rate, rng) ? 2 : 1;
    }
    return plan;
}

std::chrono::milliseconds retry_delay(int failed_attempts, std::chrono::milliseconds initial,
                                      std::chrono::milliseconds max) noexcept {
    std::chrono::milliseconds delay = initial;
    for (int i = 1; i < failed_attempts && delay < max; ++i) {
        delay *= 2;
    }
    return std::min(delay, max);
}

}  // namespace wagate::sandbox
