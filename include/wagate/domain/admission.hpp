#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <wagate/domain/api_error.hpp>
#include <wagate/domain/policy.hpp>
#include <wagate/domain/templates.hpp>

/// Admission of a batch of validated send requests: every rule of policy.md §1–§5 and §7 applied
/// to state the caller loaded, item by item in arrival order, with the effects of earlier items
/// (budget slots, counted users, queued messages) visible to later ones. Pure: the accept writer
/// loads the state inside its transaction, calls admit(), and writes what it decides.
namespace wagate::domain::admission {

using policy::TimePoint;

/// One request, as the API validated it.
struct Request {
    RequestKind kind = RequestKind::kMessage;
    std::string type;  // Meta's message type; empty for mark-as-read
    std::string phone_number_id;
    std::string wa_id;
    /// SendRequest::payload_json; read only for templates.
    const std::string* payload_json = nullptr;
    std::string template_name;  // for templates
    std::string template_language;
};

/// What the store knows about the request's number, recipient and template.
struct RecipientState {
    std::string business_id;
    policy::NumberStatus number_status = policy::NumberStatus::kConnected;
    bool require_opt_in = true;
    std::optional<TimePoint> last_inbound;
    policy::ContactState contact;
    std::int64_t queued_to_user = 0;  // messages to this (number, user) waiting in the relay queue
    /// The stored definition of the requested template (name, language, the number's WABA);
    /// null when none is stored.
    std::shared_ptr<const TemplateDefinition> template_definition;
    /// The user is counted against the business's limit in the moving 24 hours.
    bool user_counted = false;
};

/// A business's messaging-limit state, read under its row lock.
struct Budget {
    policy::Tier tier = policy::Tier::k250;
    std::int64_t used = 0;
    std::optional<TimePoint> oldest_counted_at;
};

struct Settings {
    /// A template with no stored definition: rejected with 132001 (false), or passed to Meta
    /// unchecked (true). Either way the budget rules apply to it.
    bool pass_unknown_templates = false;
    /// policy::check_pair_backlog's cap; 0 disables it.
    std::int64_t pair_queue_cap = 0;
};

/// An admitted request.
struct Admitted {
    bool business_initiated = false;
    /// Record the user as counted against the business's limit now.
    bool consumes_slot = false;
};

struct Candidate {
    const Request* request = nullptr;
    const RecipientState* state = nullptr;
};

/// Decides each candidate in order. Rules, first failure wins: identity (900102), window
/// (131047), opt-in (900101), number status (900103), pair backlog (131056), the template against
/// its stored definition (132xxx), then the messaging limit (900100). Mark-as-read passes every
/// rule. `budgets` must hold the business of every business-initiated template (keyed by business
/// id; a missing one is a caller bug, answered as an internal error) and is updated as slots are
/// taken, so two candidates racing for the last slot are decided in arrival order. A rejected
/// candidate changes nothing.
std::vector<ApiResult<Admitted>> admit(std::span<const Candidate> candidates,
                                       std::map<std::string, Budget, std::less<>>& budgets,
                                       const Settings& settings,
                                       TimePoint now);

}  // namespace wagate::domain::admission
