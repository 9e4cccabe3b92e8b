#include <algorithm>
#include <cctype>
#include <charconv>

#include <wagate/domain/webhook.hpp>

#include "domain/send_validation/json_text.hpp"
#include "domain/webhook/lenient.hpp"

namespace wagate::domain::webhook {

namespace {

using Kind = AccountEffect::Kind;

std::string upper(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

/// The first of `keys` that holds a recognisable tier.
std::optional<std::string> tier_of(const Json& value, std::initializer_list<std::string_view> keys) {
    for (const auto key : keys) {
        if (auto raw = text(value, key)) {  // Meta writes limits as strings or as numbers
            if (auto tier = tier_from_meta(*raw)) {
                return tier;
            }
        }
    }
    return std::nullopt;
}

AccountEffect number_effect(Kind kind, std::string value, std::string display) {
    AccountEffect e;
    e.kind = kind;
    e.value = std::move(value);
    e.display_phone_number = std::move(display);
    return e;
}

AccountEffect template_effect(Kind kind, std::string value, const Json& v) {
    AccountEffect e;
    e.kind = kind;
    e.value = std::move(value);
    e.template_name = text_or_empty(v, "message_template_name");
    e.template_language = text_or_empty(v, "message_template_language");
    e.template_id = text_or_empty(v, "message_template_id");
    return e;
}

bool is_quality(const std::string& q) { return q == "GREEN" || q == "YELLOW" || q == "RED" || q == "UNKNOWN"; }

void phone_number_quality(const Json& v, std::vector<AccountEffect>& out) {
    const std::string display = text_or_empty(v, "display_phone_number");
    const std::string event = upper(text_or_empty(v, "event"));
    if (event == "FLAGGED") {
        out.push_back(number_effect(Kind::kNumberStatus, "FLAGGED", display));
    } else if (event == "UNFLAGGED") {
        out.push_back(number_effect(Kind::kNumberStatus, "CONNECTED", display));
    }
    // The limit: max_daily_conversations_per_business since v24, current_limit before.
    if (auto tier = tier_of(v, {"max_daily_conversations_per_business", "current_limit"})) {
        out.push_back(number_effect(Kind::kBusinessTier, *tier, display));
    }
    for (const auto key : {"quality_rating", "current_quality_rating", "new_quality_score"}) {
        if (auto q = text(v, key); q && is_quality(upper(*q))) {
            out.push_back(number_effect(Kind::kNumberQuality, upper(*q), display));
            break;
        }
    }
}

void account_update(const Json& v, std::vector<AccountEffect>& out) {
    // A WABA disabled by Meta can send nothing business-initiated; reinstated, it can again.
    if (const Json* ban = member(v, "ban_info")) {
        const std::string state = upper(text_or_empty(*ban, "waba_ban_state"));
        if (state == "DISABLE") {
            out.push_back(number_effect(Kind::kNumberStatus, "RESTRICTED", ""));
        } else if (state == "REINSTATE") {
            out.push_back(number_effect(Kind::kNumberStatus, "CONNECTED", ""));
        }
    }
}

}  // namespace

std::optional<std::string> tier_from_meta(std::string_view raw) {
    const std::string t = upper(std::string(raw));
    static constexpr std::string_view kTiers[] = {"TIER_50",  "TIER_250",  "TIER_1K",       "TIER_2K",
                                                  "TIER_10K", "TIER_100K", "TIER_UNLIMITED"};
    if (std::find(std::begin(kTiers), std::end(kTiers), t) != std::end(kTiers)) {
        return t;
    }
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc{} || end != t.data() + t.size() || t.empty()) {
        return std::nullopt;  // includes TIER_NOT_SET
    }
    switch (n) {
        case -1: return "TIER_UNLIMITED";
        case 50: return "TIER_50";
        case 250: return "TIER_250";
        case 1000: return "TIER_1K";
        case 2000: return "TIER_2K";
        case 10000: return "TIER_10K";
        case 100000: return "TIER_100K";
        default: return std::nullopt;
    }
}

std::optional<std::string> template_status_after(std::string_view event, std::string_view before_archive) {
    const std::string e = upper(std::string(event));
    if (e == "UNARCHIVED") {
        return before_archive.empty() ? std::string("APPROVED") : std::string(before_archive);
    }
    if (e == "REINSTATED") {
        return std::string("APPROVED");
    }
    static constexpr std::string_view kStatuses[] = {
        "APPROVED", "PENDING",  "REJECTED", "PAUSED",          "DISABLED",        "FLAGGED", "IN_APPEAL",
        "LIMIT_EXCEEDED", "LOCKED", "ARCHIVED", "DELETED", "PENDING_DELETION"};
    if (std::find(std::begin(kStatuses), std::end(kStatuses), e) != std::end(kStatuses)) {
        return e;
    }
    return std::nullopt;
}

std::vector<AccountEffect> account_effects(std::string_view field, std::string_view value_json) {
    std::vector<AccountEffect> out;
    auto parsed = send_validation::parse_json(value_json);
    if (!parsed || !parsed->is_object()) {
        return out;
    }
    const Json& v = *parsed;
    if (field == "phone_number_quality_update") {
        phone_number_quality(v, out);
    } else if (field == "business_capability_update") {
        if (auto tier = tier_of(v, {"max_daily_conversations_per_business", "max_daily_conversation_per_phone"})) {
            out.push_back(number_effect(Kind::kBusinessTier, *tier, ""));
        }
    } else if (field == "message_template_status_update") {
        if (auto event = text(v, "event"); event && !event->empty()) {
            out.push_back(template_effect(Kind::kTemplateStatus, upper(*event), v));
        }
    } else if (field == "message_template_quality_update") {
        if (auto q = text(v, "new_quality_score"); q && is_quality(upper(*q))) {
            out.push_back(template_effect(Kind::kTemplateQuality, upper(*q), v));
        }
    } else if (field == "template_category_update") {
        // Only a completed change (previous_category) changes the template; an impending one
        // (correct_category) is information.
        auto category = text(v, "new_category");
        if (member(v, "previous_category") != nullptr && category && !category->empty()) {
            out.push_back(template_effect(Kind::kTemplateCategory, upper(*category), v));
        }
    } else if (field == "account_update") {
        account_update(v, out);
    }
    return out;
}

}  // namespace wagate::domain::webhook
