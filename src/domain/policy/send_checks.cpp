#include <wagate/domain/policy.hpp>

namespace wagate::domain::policy {

// Identity first: it protects a person who may not be the contact any more, whatever else holds.
// Opt-in, status and backlog follow the window because they depend on its classification or only
// matter once the message could be sent at all.
ApiResult<SendClassification> check_send(const SendFacts& f, TimePoint now) {
    if (auto r = check_identity(f.kind, f.contact); !r) { return r.error(); }
    auto cls = classify_send(f.kind, f.message_class, f.last_inbound, now);
    if (!cls || f.kind == RequestKind::kMarkRead) { return cls; }
    if (auto r = check_opt_in(f.kind, f.message_class, f.contact, f.require_opt_in); !r) {
        return r.error();
    }
    if (auto r = check_number_status(f.number_status, cls->business_initiated); !r) {
        return r.error();
    }
    if (auto r = check_pair_backlog(f.queued_to_user, f.pair_queue_cap); !r) { return r.error(); }
    return cls;
}

}  // namespace wagate::domain::policy
