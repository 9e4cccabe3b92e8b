#include <wagate/domain/policy.hpp>

namespace wagate::domain::policy {

std::optional<Quality> parse_quality(std::string_view name) noexcept {
    if (name == "GREEN") { return Quality::kGreen; }
    if (name == "YELLOW") { return Quality::kYellow; }
    if (name == "RED") { return Quality::kRed; }
    if (name == "UNKNOWN" || name == "NA") { return Quality::kUnknown; }
    return std::nullopt;
}

std::string_view to_string(Quality quality) noexcept {
    switch (quality) {
        case Quality::kGreen: return "GREEN";
        case Quality::kYellow: return "YELLOW";
        case Quality::kRed: return "RED";
        case Quality::kUnknown: return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::optional<NumberStatus> parse_number_status(std::string_view name) noexcept {
    if (name == "CONNECTED") { return NumberStatus::kConnected; }
    if (name == "FLAGGED") { return NumberStatus::kFlagged; }
    if (name == "RESTRICTED") { return NumberStatus::kRestricted; }
    return std::nullopt;
}

std::string_view to_string(NumberStatus status) noexcept {
    switch (status) {
        case NumberStatus::kConnected: return "CONNECTED";
        case NumberStatus::kFlagged: return "FLAGGED";
        case NumberStatus::kRestricted: return "RESTRICTED";
    }
    return "CONNECTED";
}

ApiResult<void> check_number_status(NumberStatus status, bool business_initiated) {
    if (status != NumberStatus::kRestricted || !business_initiated) { return {}; }
    return errors::number_restricted(
        "to: the phone number is RESTRICTED; only replies inside a customer service window can be "
        "sent");
}

}  // namespace wagate::domain::policy
