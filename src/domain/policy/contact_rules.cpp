#include <wagate/domain/policy.hpp>

namespace wagate::domain::policy {

ApiResult<void> check_identity(RequestKind kind, const ContactState& contact) {
    if (kind == RequestKind::kMarkRead || !contact.identity_ack_required) { return {}; }
    // The number may now belong to someone else, so even replies wait for the business.
    return errors::identity_not_acknowledged(
        "to: the recipient's identity changed; acknowledge it through the admin API first");
}

ApiResult<void> check_opt_in(RequestKind kind,
                             MessageClass message_class,
                             const ContactState& contact,
                             bool require_opt_in) {
    if (!require_opt_in || kind == RequestKind::kMarkRead ||
        message_class != MessageClass::kTemplate) {
        return {};
    }
    if (contact.opted_out) {
        return errors::opt_in_required("to: the recipient opted out of template messages");
    }
    if (!contact.opted_in) {
        return errors::opt_in_required("to: the recipient has not opted in to template messages");
    }
    return {};
}

}  // namespace wagate::domain::policy
