#include <wagate/domain/policy.hpp>

#include <algorithm>

namespace wagate::domain::policy {

InboundKind inbound_kind_from_type(std::string_view type) noexcept {
    if (type == "text") { return InboundKind::kText; }
    if (type == "image" || type == "audio" || type == "video" || type == "document" ||
        type == "sticker") {
        return InboundKind::kMedia;
    }
    if (type == "location") { return InboundKind::kLocation; }
    if (type == "contacts") { return InboundKind::kContacts; }
    if (type == "interactive") { return InboundKind::kInteractiveReply; }
    if (type == "button") { return InboundKind::kButtonReply; }
    if (type == "order") { return InboundKind::kOrder; }
    if (type == "reaction") { return InboundKind::kReaction; }
    if (type == "system") { return InboundKind::kSystem; }
    if (type == "unsupported" || type == "unknown") { return InboundKind::kUnsupported; }
    return InboundKind::kOther;
}

bool renews_window(InboundKind kind, const WindowRenewalSettings& settings) noexcept {
    switch (kind) {
        case InboundKind::kReaction:
            return settings.reactions;
        case InboundKind::kSystem:
            return settings.system_messages;
        case InboundKind::kUnsupported:
        case InboundKind::kOther:
            return settings.unsupported;
        case InboundKind::kText:
        case InboundKind::kMedia:
        case InboundKind::kLocation:
        case InboundKind::kContacts:
        case InboundKind::kInteractiveReply:
        case InboundKind::kButtonReply:
        case InboundKind::kOrder:
            return true;
    }
    return false;
}

TimePoint window_closes_at(TimePoint last_inbound) noexcept { return last_inbound + kWindowLength; }

// Closed at exactly 24 h: Meta documents "24 hours" without saying whether the end is inclusive,
// and a strict bound never claims a window Meta might already consider closed.
bool window_open(std::optional<TimePoint> last_inbound, TimePoint now) noexcept {
    return last_inbound && now < window_closes_at(*last_inbound);
}

TimePoint renewed_last_inbound(std::optional<TimePoint> current, TimePoint message_time) noexcept {
    return current ? std::max(*current, message_time) : message_time;
}

MessageClass message_class_of(std::string_view type) noexcept {
    return type == "template" ? MessageClass::kTemplate : MessageClass::kFreeForm;
}

ApiResult<SendClassification> classify_send(RequestKind kind,
                                            MessageClass message_class,
                                            std::optional<TimePoint> last_inbound,
                                            TimePoint now) {
    // Read receipts need no window and reach nobody new.
    if (kind == RequestKind::kMarkRead) {
        return SendClassification{false, window_open(last_inbound, now)};
    }
    const bool open = window_open(last_inbound, now);
    if (open) { return SendClassification{false, true}; }
    if (message_class == MessageClass::kTemplate) { return SendClassification{true, false}; }
    if (!last_inbound) {
        return errors::re_engagement_required(
            "to: no message from this user has opened a customer service window");
    }
    return errors::re_engagement_required("to: the customer service window closed at " +
                                          format_utc(window_closes_at(*last_inbound)));
}

}  // namespace wagate::domain::policy
