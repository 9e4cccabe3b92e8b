#include <wagate/domain/admission.hpp>

#include <set>
#include <utility>

namespace wagate::domain::admission {
namespace {

using Pair = std::pair<std::string_view, std::string_view>;

/// Effects of the candidates admitted so far in this batch.
struct BatchEffects {
    std::set<Pair> counted_users;              // (business id, wa_id) counted by this batch
    std::map<Pair, std::int64_t> queued_pairs;  // (number, wa_id) → messages admitted by this batch
};

ApiResult<void> check_template(const Request& request, const RecipientState& state,
                               const Settings& settings) {
    if (!state.template_definition) {
        if (settings.pass_unknown_templates) {
            return {};
        }
        return template_errors::not_found("template.name: no template '" + request.template_name +
                                          "' in language '" + request.template_language +
                                          "' is stored for this phone number's WhatsApp Business Account");
    }
    if (request.payload_json == nullptr) {
        return api_errors::internal("template send without its payload");
    }
    return check_template_payload(*state.template_definition, *request.payload_json);
}

ApiResult<Admitted> admit_one(const Request& request, const RecipientState& state,
                              std::map<std::string, Budget, std::less<>>& budgets,
                              BatchEffects& effects, const Settings& settings, TimePoint now) {
    if (request.kind == RequestKind::kMarkRead) {
        return Admitted{};
    }
    const policy::MessageClass message_class = policy::message_class_of(request.type);
    const Pair pair{request.phone_number_id, request.wa_id};
    const auto queued_here = effects.queued_pairs.find(pair);

    policy::SendFacts facts;
    facts.kind = request.kind;
    facts.message_class = message_class;
    facts.last_inbound = state.last_inbound;
    facts.contact = state.contact;
    facts.require_opt_in = state.require_opt_in;
    facts.number_status = state.number_status;
    facts.queued_to_user =
        state.queued_to_user + (queued_here == effects.queued_pairs.end() ? 0 : queued_here->second);
    facts.pair_queue_cap = settings.pair_queue_cap;
    auto classification = policy::check_send(facts, now);
    if (!classification) {
        return classification.error();
    }
    if (message_class == policy::MessageClass::kTemplate) {
        if (auto checked = check_template(request, state, settings); !checked) {
            return checked.error();
        }
    }

    Admitted admitted{classification->business_initiated, false};
    if (admitted.business_initiated) {
        const auto budget = budgets.find(state.business_id);
        if (budget == budgets.end()) {
            return api_errors::internal("no budget loaded for business " + state.business_id);
        }
        const Pair user{budget->first, request.wa_id};
        policy::BudgetInput in;
        in.tier = budget->second.tier;
        in.used = budget->second.used;
        in.oldest_counted_at = budget->second.oldest_counted_at;
        in.user_already_counted = state.user_counted || effects.counted_users.contains(user);
        in.business_initiated = true;
        auto decision = policy::decide_budget(in, now);
        if (!decision) {
            return decision.error();
        }
        if (decision->consumes) {
            admitted.consumes_slot = true;
            budget->second.used += 1;
            if (!budget->second.oldest_counted_at) {
                budget->second.oldest_counted_at = now;
            }
            effects.counted_users.insert(user);
        }
    }
    effects.queued_pairs[pair] += 1;
    return admitted;
}

}  // namespace

std::vector<ApiResult<Admitted>> admit(std::span<const Candidate> candidates,
                                       std::map<std::string, Budget, std::less<>>& budgets,
                                       const Settings& settings, TimePoint now) {
    std::vector<ApiResult<Admitted>> verdicts;
    verdicts.reserve(candidates.size());
    BatchEffects effects;
    for (const Candidate& c : candidates) {
        verdicts.push_back(admit_one(*c.request, *c.state, budgets, effects, settings, now));
    }
    return verdicts;
}

}  // namespace wagate::domain::admission
