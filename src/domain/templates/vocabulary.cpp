#include <algorithm>
#include <cctype>
#include <iterator>
#include <utility>
#include <wagate/domain/templates.hpp>

namespace wagate::domain {
namespace {

// Indexed by the enum values, in declaration order.
constexpr std::string_view kCategories[] = {"MARKETING", "UTILITY", "AUTHENTICATION"};
constexpr std::string_view kStatuses[] = {"APPROVED",  "PENDING",  "REJECTED",  "PAUSED",
                                          "DISABLED",  "FLAGGED",  "IN_APPEAL", "LIMIT_EXCEEDED",
                                          "LOCKED",    "ARCHIVED", "DELETED",   "PENDING_DELETION",
                                          "REINSTATED"};
constexpr std::string_view kFormats[] = {"POSITIONAL", "NAMED"};
constexpr std::string_view kHeaderFormats[] = {"TEXT",     "IMAGE",    "VIDEO",
                                               "DOCUMENT", "LOCATION", "PRODUCT"};
constexpr std::string_view kButtonTypes[] = {
    "QUICK_REPLY", "URL", "PHONE_NUMBER",         "COPY_CODE",    "OTP", "FLOW", "MPM", "CATALOG",
    "VOICE_CALL",  "APP", "REQUEST_CONTACT_INFO", "ORDER_DETAILS"};

ApiError make(int http_status, int code, const char* title, std::string details) {
    return ApiError{http_status, code, title, std::move(details), false, 0};
}

}  // namespace

std::string_view to_string(TemplateCategory category) noexcept {
    return kCategories[static_cast<int>(category)];
}
std::string_view to_string(TemplateStatus status) noexcept {
    return kStatuses[static_cast<int>(status)];
}
std::string_view to_string(ParameterFormat format) noexcept {
    return kFormats[static_cast<int>(format)];
}
std::string_view to_string(HeaderFormat format) noexcept {
    return kHeaderFormats[static_cast<int>(format)];
}
std::string_view to_string(ButtonType type) noexcept {
    return kButtonTypes[static_cast<int>(type)];
}

std::optional<TemplateStatus> parse_template_status(std::string_view text) {
    std::string upper(text);
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const auto it = std::find(std::begin(kStatuses), std::end(kStatuses), upper);
    if (it == std::end(kStatuses)) {
        return std::nullopt;
    }
    return static_cast<TemplateStatus>(it - std::begin(kStatuses));
}

bool TemplateDefinition::body_only() const noexcept {
    return !header && !footer && buttons.empty() && carousel_cards == 0 && !limited_time_offer;
}

namespace template_errors {
ApiError not_found(std::string d) {
    return make(404, 132001, "Template does not exist", std::move(d));
}
ApiError paused(std::string d) { return make(400, 132015, "Template is paused", std::move(d)); }
ApiError disabled(std::string d) { return make(400, 132016, "Template is disabled", std::move(d)); }
}  // namespace template_errors

}  // namespace wagate::domain
