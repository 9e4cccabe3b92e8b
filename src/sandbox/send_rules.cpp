#include "sandbox/send_rules.hpp"

#include <algorithm>

namespace wagate::sandbox {

std::optional<Trigger> find_trigger(std::string_view wa_id) {
    const bool digits = !wa_id.empty() && std::all_of(wa_id.begin(), wa_id.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (!digits || wa_id.size() < 6) {
        return std::nullopt;
    }
    const std::string_view tail = wa_id.substr(wa_id.size() - 6);
    if (tail == "131030") {
        return Trigger::kNotAllowed;
    }
    if (tail == "131026") {
        return Trigger::kUndeliverable;
    }
    if (tail == "131049") {
        return Trigger::kNotDelivered;
    }
    if (tail == "130429") {
        return Trigger::kThroughput;
    }
    if (tail == "131000") {
        return Trigger::kServerError;
    }
    if (tail == "131056") {
        return Trigger::kPairRate;
    }
    return std::nullopt;
}

namespace errors {

domain::ApiError not_allowed() {
    return {400, 131030, "Recipient phone number not in allowed list", "Recipient phone number not in allowed list",
            false, 0};
}

domain::ApiError throughput(int http_status) {
    return {http_status, 130429, "Rate limit hit", "Cloud API message throughput has been reached.", false, 0};
}

domain::ApiError server_error() {
    return {500, 131000, "Something went wrong",
            "Message failed to send because of an unknown error. Please try again later.", false, 0};
}

domain::ApiError pair_rate() {
    return {400, 131056, "(Business Account, Consumer Account) pair rate limit hit",
            "Message failed to send because there were too many messages sent from this phone number to the "
            "same phone number in a short period of time.",
            false, 0};
}

domain::ApiError invalid_token(std::string details) {
    return {401, 190, "Invalid OAuth access token", std::move(details), false, 0};
}

}  // namespace errors

bool FirstSends::first(std::string_view phone_number_id, std::string_view wa_id) {
    std::string key;
    key.reserve(phone_number_id.size() + 1 + wa_id.size());
    key.append(phone_number_id).append(1, '\n').append(wa_id);
    return seen_.insert(std::move(key)).second;
}

SendDecision decide_send(const domain::SendRequest& request, std::string_view phone_number_id,
                         const FaultRates& rates, FirstSends& first_sends, Rng& rng) {
    using Outcome = SendDecision::Outcome;
    const bool message = request.kind == domain::RequestKind::kMessage;
    const std::optional<Trigger> trigger =
        message && request.recipient_kind == domain::RecipientKind::kIndividual ? find_trigger(request.wa_id)
                                                                                 : std::nullopt;
    if (trigger == Trigger::kNotAllowed) {
        return {Outcome::kTrigger, errors::not_allowed(), Fate::kNone};
    }
    if (trigger == Trigger::kThroughput || trigger == Trigger::kServerError || trigger == Trigger::kPairRate) {
        if (first_sends.first(phone_number_id, request.wa_id)) {
            const domain::ApiError error = trigger == Trigger::kThroughput ? errors::throughput(400)
                                           : trigger == Trigger::kServerError ? errors::server_error()
                                                                              : errors::pair_rate();
            return {Outcome::kTrigger, error, Fate::kNone};
        }
    }
    if (chance(rates.throttle, rng)) {
        return {Outcome::kThrottled, errors::throughput(429), Fate::kNone};
    }
    if (chance(rates.server_error, rng)) {
        return {Outcome::kServerError, errors::server_error(), Fate::kNone};
    }
    SendDecision accepted;
    if (!message) {
        accepted.fate = Fate::kNone;
    } else if (trigger == Trigger::kUndeliverable) {
        accepted.fate = Fate::kFailAfterSent;
    } else if (trigger == Trigger::kNotDelivered) {
        accepted.fate = Fate::kFailOnly;
    } else if (request.type == "reaction") {
        accepted.fate = Fate::kSentOnly;
    } else if (chance(rates.fail, rng)) {
        accepted.fate = Fate::kFailAfterSent;
    }
    return accepted;
}

}  // namespace wagate::sandbox
