#include <wagate/store/message_store.hpp>

#include <algorithm>
#include <map>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/accept_statements.hpp"
#include "store/group_commit.hpp"
#include "store/template_cache.hpp"

namespace wagate::store {
namespace asio = boost::asio;

namespace {

using domain::admission::Budget;
using domain::admission::Candidate;
using domain::admission::RecipientState;
using domain::admission::Request;
using Budgets = std::map<std::string, Budget, std::less<>>;
namespace policy = domain::policy;

using Commit = GroupCommit<AcceptItem, AcceptResult>;
using Pending = Commit::Entry;

void complete(Pending& p, Result<AcceptResult> result) { Commit::complete(p, std::move(result)); }

bool is_template(const AcceptItem& item) {
    return item.kind == domain::RequestKind::kMessage && item.type == "template";
}

/// What happens to one item of a batch once the state is read and the rules have run.
enum class Fate {
    kReplay,    // its key was claimed by an earlier, committed request: answered from that row
    kRejected,  // a rule refused it
    kDeferred,  // repeats the idempotency key of an earlier item of this batch: decided by the
                // next batch, once the earlier item's outcome is committed
    kInsert,    // admitted: written by the insert statement
};

struct Decision {
    Fate fate = Fate::kInsert;
    std::optional<AcceptResult> answer;     // kReplay, kRejected
    std::optional<std::string> count_business;  // kInsert that takes a limit slot
    std::chrono::seconds ttl{0};                // kInsert: its time to live (0: the standard one)
};

/// A business whose lock this batch holds: its counter after expiry, and the cutoff expired to.
struct LockedBudget {
    std::int64_t base_used = 0;
    std::int64_t cutoff_micros = 0;
};

/// Parameters of accept_sql::kState (`full`) or kStateFreeForm.
pg::Params state_params(const std::vector<Pending>& batch, bool full, std::int64_t cutoff_micros,
                        const std::string& locked_businesses, bool count_queued) {
    pg::ArrayLiteral phone, wa_id, template_name, template_language, key_id, idem_key;
    for (const auto& p : batch) {
        const AcceptItem& i = p.item;
        phone.add(i.phone_number_id);
        wa_id.add(i.kind == domain::RequestKind::kMessage ? i.wa_id : std::string());
        template_name.add(is_template(i) ? std::optional<std::string>(i.template_name) : std::nullopt);
        template_language.add(is_template(i) ? std::optional<std::string>(i.template_language) : std::nullopt);
        key_id.add(i.api_key_id);
        idem_key.add(i.idempotency_key);
    }
    pg::Params params;
    params.add(phone.str()).add(wa_id.str());
    if (!full) {
        params.add(key_id.str()).add(idem_key.str());
        return params;
    }
    params.add(template_name.str()).add(template_language.str());
    params.add(cutoff_micros).add(locked_businesses).add(count_queued);
    params.add(key_id.str()).add(idem_key.str());
    return params;
}

/// Parameters of accept_sql::kInsertCounted when `counted` (the batch holds business locks), else
/// of kInsert.
pg::Params insert_params(const std::vector<Pending>& batch, const std::vector<Decision>& decisions,
                         const MessageTtls& ttls, bool counted, std::int64_t now_micros,
                         const std::map<std::string, LockedBudget, std::less<>>& locked) {
    pg::ArrayLiteral id, phone, kind, type, to_input, wa_id, payload, opaque, key_id, idem_key,
        idem_hash, response, ttl, count_business;
    for (std::size_t n = 0; n < batch.size(); ++n) {
        if (decisions[n].fate != Fate::kInsert) {
            continue;
        }
        const AcceptItem& i = batch[n].item;
        id.add(i.id);
        phone.add(i.phone_number_id);
        kind.add(std::string_view(i.kind == domain::RequestKind::kMarkRead ? "mark_read" : "message"));
        type.add(i.type);
        to_input.add(i.to_input);
        wa_id.add(i.wa_id);
        payload.add(i.payload_json);
        opaque.add(i.biz_opaque_callback_data);
        key_id.add(i.api_key_id);
        idem_key.add(i.idempotency_key);
        idem_hash.add(i.request_hash_hex);
        response.add(i.response_body);
        ttl.add(std::to_string((decisions[n].ttl.count() > 0 ? decisions[n].ttl : ttls.standard).count()));
        count_business.add(decisions[n].count_business);
    }
    pg::Params params;
    for (auto* a : {&id, &phone, &kind, &type, &to_input, &wa_id, &payload, &opaque, &key_id,
                    &idem_key, &idem_hash, &response, &ttl}) {
        params.add(a->str());
    }
    if (!counted) {
        return params;
    }
    pg::ArrayLiteral business, base_used, through;
    for (const auto& [business_id, budget] : locked) {
        business.add(business_id);
        base_used.add(std::to_string(budget.base_used));
        through.add(std::to_string(budget.cutoff_micros));
    }
    params.add(count_business.str()).add(now_micros);
    params.add(business.str()).add(base_used.str()).add(through.str());
    return params;
}

std::optional<policy::TimePoint> optional_time(const pg::Rows& rows, int row, int col) {
    if (rows.is_null(row, col)) {
        return std::nullopt;
    }
    return from_micros(rows.get_int64(row, col));
}

}  // namespace

struct AcceptWriter::Impl {
    pg::Pool& pool;
    AcceptWriterSettings settings;
    const Clock& clock;
    TemplateCache templates;

    std::shared_ptr<Commit> commit;  // requests queue here while every writer is committing

    Impl(pg::Pool& p, AcceptWriterSettings s, const Clock& c) : pool(p), settings(s), clock(c) {}

    /// A template's time to live follows its category (MessageTtls); 0 means the standard one.
    std::chrono::seconds ttl_of(const RecipientState& state) const {
        if (!state.template_definition) {
            return std::chrono::seconds(0);
        }
        switch (state.template_definition->category) {
            case domain::TemplateCategory::kAuthentication: return settings.ttls.authentication;
            case domain::TemplateCategory::kUtility: return settings.ttls.utility;
            case domain::TemplateCategory::kMarketing: return settings.ttls.marketing;
        }
        return std::chrono::seconds(0);
    }

    asio::awaitable<void> write(std::vector<Pending>& batch) {
        auto lease = co_await pool.acquire();
        if (!lease) {
            for (auto& p : batch) {
                complete(p, lease.error());
            }
            co_return;
        }
        if (fast_path_applies(batch)) {
            auto fast = co_await insert_certainly_admitted(**lease, batch);
            if (!fast) {
                co_await fail_or_isolate(**lease, batch, fast.error());
                co_return;
            }
            if (batch.empty()) {
                co_return;
            }
        }
        auto written = co_await decide_and_store(**lease, batch);
        if (!written && written.error().code == Errc::kRetryable && !(*lease)->broken()) {
            // A deadlock, or a race the batch detected (see decide_and_insert): nothing was
            // written, so the whole batch is simply decided again.
            spdlog::info("accept batch of {} retried: {}", batch.size(), written.error().message);
            written = co_await decide_and_store(**lease, batch);
        }
        if (written) {
            co_return;
        }
        co_await fail_or_isolate(**lease, batch, written.error());
    }

    /// After a batch failed without writing anything: retries each item alone, so one bad item
    /// cannot fail the others, unless the failure concerns the whole batch (database gone).
    asio::awaitable<void> fail_or_isolate(pg::Connection& connection, std::vector<Pending>& batch, Error error) {
        const bool whole_batch_condition = error.code == Errc::kDbUnavailable || error.code == Errc::kTimeout;
        if (batch.size() > 1 && !whole_batch_condition && !connection.broken()) {
            spdlog::warn("accept batch of {} failed ({}); retrying one by one", batch.size(), error.message);
            for (auto& p : batch) {
                std::vector<Pending> single;
                single.push_back(std::move(p));
                auto alone = co_await decide_and_store(connection, single);
                if (!alone) {
                    spdlog::error("accept of one request failed: {}", alone.error().message);
                    complete(single.front(), alone.error());
                }
            }
            co_return;
        }
        for (auto& p : batch) {
            complete(p, error);
        }
    }

    /// A batch of free-form messages and mark-as-read, while the pair cap is off: most traffic.
    bool fast_path_applies(const std::vector<Pending>& batch) const {
        return settings.admission.pair_queue_cap == 0 &&
               std::none_of(batch.begin(), batch.end(), [](const Pending& p) { return is_template(p.item); });
    }

    /// The fast path (accept_sql::kInsertFreeForm): one statement writes every request the rules
    /// certainly admit, and those are answered. `batch` keeps the rest (a closed window, an
    /// identity change, a repeated Idempotency-Key), for the normal path to decide.
    asio::awaitable<Result<void>> insert_certainly_admitted(pg::Connection& connection, std::vector<Pending>& batch) {
        const policy::TimePoint now = from_micros(to_micros(clock.now()));
        const std::vector<Decision> all(batch.size());
        pg::Params params = insert_params(batch, all, settings.ttls, false, 0, {});
        params.add(to_micros(now - policy::kWindowLength));
        auto written = co_await connection.execute(accept_sql::kInsertFreeForm, params);
        if (!written) {
            co_return written.error();
        }
        std::unordered_set<std::string_view> ids;
        for (int i = 0; i < written->size(); ++i) {
            ids.insert(written->get(i, 0));
        }
        if (!ids.empty() && settings.on_stored) {
            settings.on_stored();
        }
        std::vector<Pending> rest;
        for (auto& p : batch) {
            if (ids.contains(p.item.id)) {
                complete(p, AcceptResult{AcceptOutcome::kStored, p.item.response_body, {}});
            } else {
                rest.push_back(std::move(p));
            }
        }
        batch = std::move(rest);
        co_return Result<void>{};
    }

    /// Decides and writes one batch, completing every item, or returns the error that kept the
    /// batch from committing (nothing of it was written, and no item was completed).
    asio::awaitable<Result<void>> decide_and_store(pg::Connection& connection, std::vector<Pending>& batch) {
        // One "now" for the whole batch, at the database's resolution.
        const std::int64_t now_micros = to_micros(clock.now());
        const policy::TimePoint now = from_micros(now_micros);
        const bool locks = std::any_of(batch.begin(), batch.end(), [](const Pending& p) { return is_template(p.item); });

        if (locks) {
            auto begun = co_await connection.execute_simple("BEGIN", settings.statement_timeout);
            if (!begun) {
                co_return begun.error();
            }
        }
        auto stored = co_await decide_and_insert(connection, batch, now, locks);
        if (locks && stored) {
            auto committed = co_await connection.execute_simple("COMMIT", settings.statement_timeout);
            if (!committed) {
                stored = committed.error();
            }
        }
        if (!stored) {
            if (locks && !connection.broken()) {
                auto rolled_back = co_await connection.execute_simple("ROLLBACK", settings.statement_timeout);
                if (!rolled_back) {
                    spdlog::warn("rollback of a failed accept batch failed: {}", rolled_back.error().message);
                }
            }
            co_return stored.error();
        }
        co_await answer(connection, batch, *stored);
        co_return Result<void>{};
    }

    struct Stored {
        std::vector<Decision> decisions;
        std::unordered_set<std::string> written_ids;
    };

    asio::awaitable<Result<Stored>> decide_and_insert(pg::Connection& connection, std::vector<Pending>& batch,
                                                      policy::TimePoint now, bool locks) {
        const std::int64_t now_micros = to_micros(now);
        pg::ArrayLiteral locked_businesses;
        if (locks) {
            pg::ArrayLiteral template_numbers;
            for (const auto& p : batch) {
                if (is_template(p.item)) {
                    template_numbers.add(p.item.phone_number_id);
                }
            }
            auto locked = co_await connection.execute(accept_sql::kLockBusinesses,
                                                      pg::Params{}.add(template_numbers.str()));
            if (!locked) {
                co_return locked.error();
            }
            for (int i = 0; i < locked->size(); ++i) {
                locked_businesses.add(locked->get(i, 0));
            }
        }
        const std::int64_t cutoff_micros = to_micros(now - policy::kLimitWindow);
        // Free-form batches need only contacts and keys, unless the pair cap needs the queue.
        const bool full_state = locks || settings.admission.pair_queue_cap > 0;
        auto state = co_await connection.execute(
            full_state ? accept_sql::kState : accept_sql::kStateFreeForm,
            state_params(batch, full_state, cutoff_micros, locked_businesses.str(),
                         settings.admission.pair_queue_cap > 0));
        if (!state) {
            co_return state.error();
        }
        if (state->size() != static_cast<int>(batch.size())) {
            co_return Error{Errc::kInternal, "accept state: one row per request expected"};
        }

        Stored stored;
        std::map<std::string, LockedBudget, std::less<>> locked_budgets;
        Budgets budgets;
        std::vector<Request> requests(batch.size());
        std::vector<RecipientState> states(batch.size());
        std::vector<Candidate> candidates;
        std::vector<std::size_t> candidate_items;
        std::unordered_set<std::string> keys_in_batch;
        stored.decisions.resize(batch.size());
        for (std::size_t n = 0; n < batch.size(); ++n) {
            const int row = static_cast<int>(n);
            const AcceptItem& item = batch[n].item;
            Decision& decision = stored.decisions[n];
            if (item.idempotency_key) {
                if (!state->is_null(row, accept_sql::kIdemHash)) {
                    decision.fate = Fate::kReplay;
                    decision.answer = state->get(row, accept_sql::kIdemHash) == item.request_hash_hex
                        ? AcceptResult{AcceptOutcome::kReplay, std::string(state->get(row, accept_sql::kIdemResponse)), {}}
                        : AcceptResult{AcceptOutcome::kIdempotencyMismatch, {}, {}};
                    continue;
                }
                if (!keys_in_batch.insert(item.api_key_id + '\n' + *item.idempotency_key).second) {
                    decision.fate = Fate::kDeferred;
                    continue;
                }
            }
            if (full_state && state->is_null(row, accept_sql::kBusinessId)) {
                co_return Error{Errc::kInternal, "accept state: unknown phone number " + item.phone_number_id};
            }
            if (is_template(item) && state->is_null(row, accept_sql::kTier)) {
                // Its number moved to another business after the lock was taken: that business's
                // budget was not locked, so the batch is decided again.
                co_return Error{Errc::kRetryable, "a phone number changed business during the batch"};
            }
            requests[n] = Request{item.kind, item.type, item.phone_number_id, item.wa_id, &item.payload_json,
                                  item.template_name, item.template_language};
            states[n] = read_state(*state, row, item);
            if (!state->is_null(row, accept_sql::kTier)) {
                const std::string& business = states[n].business_id;
                if (!budgets.contains(business)) {
                    const auto tier = policy::parse_tier(state->get(row, accept_sql::kTier));
                    if (!tier) {
                        co_return Error{Errc::kInternal, "accept state: unknown tier of business " + business};
                    }
                    Budget budget{*tier, state->get_int64(row, accept_sql::kBudgetUsed),
                                  optional_time(*state, row, accept_sql::kOldestCountedMicros)};
                    locked_budgets[business] =
                        LockedBudget{budget.used, state->get_int64(row, accept_sql::kCutoffMicros)};
                    budgets.emplace(business, budget);
                }
            }
            candidates.push_back(Candidate{&requests[n], &states[n]});
            candidate_items.push_back(n);
        }

        auto verdicts = domain::admission::admit(candidates, budgets, settings.admission, now);
        for (std::size_t c = 0; c < verdicts.size(); ++c) {
            Decision& decision = stored.decisions[candidate_items[c]];
            if (!verdicts[c]) {
                decision.fate = Fate::kRejected;
                decision.answer = AcceptResult{AcceptOutcome::kRejected, {}, verdicts[c].error()};
            } else {
                if (verdicts[c]->consumes_slot) {
                    decision.count_business = states[candidate_items[c]].business_id;
                }
                decision.ttl = ttl_of(states[candidate_items[c]]);
            }
        }

        const bool any_insert = std::any_of(stored.decisions.begin(), stored.decisions.end(),
                                            [](const Decision& d) { return d.fate == Fate::kInsert; });
        if (!any_insert && locked_budgets.empty()) {
            co_return stored;
        }
        auto written = co_await connection.execute(
            locks ? accept_sql::kInsertCounted : accept_sql::kInsert,
            insert_params(batch, stored.decisions, settings.ttls, locks, now_micros, locked_budgets));
        if (!written) {
            co_return written.error();
        }
        for (int i = 0; i < written->size(); ++i) {
            stored.written_ids.emplace(written->get(i, 0));
        }
        if (locks) {
            // An admitted request that lost its key to a concurrent request was not written, but
            // admit() let later requests rely on it (a user it counted, a slot it took). Decide
            // the batch again: the key is committed now and the request becomes a replay.
            for (std::size_t n = 0; n < batch.size(); ++n) {
                if (stored.decisions[n].fate == Fate::kInsert && !stored.written_ids.contains(batch[n].item.id)) {
                    co_return Error{Errc::kRetryable, "an idempotency key was claimed concurrently"};
                }
            }
        }
        co_return stored;
    }

    RecipientState read_state(const pg::Rows& rows, int row, const AcceptItem& item) {
        using namespace accept_sql;
        RecipientState s;
        s.business_id = std::string(rows.get(row, kBusinessId));
        s.number_status = policy::parse_number_status(rows.get(row, kNumberStatus)).value_or(policy::NumberStatus::kConnected);
        s.require_opt_in = rows.get_bool(row, kRequireOptIn);
        s.last_inbound = optional_time(rows, row, kLastInboundMicros);
        if (!rows.is_null(row, kOptedIn)) {
            s.contact.opted_in = rows.get_bool(row, kOptedIn);
            s.contact.opted_out = rows.get_bool(row, kOptedOut);
            s.contact.identity_ack_required = rows.get_bool(row, kIdentityAckRequired);
        }
        s.queued_to_user = rows.get_int64(row, kQueuedToUser);
        if (!rows.is_null(row, kTemplateDefinition)) {
            s.template_definition = templates.get(rows.get(row, kWabaId), item.template_name, item.template_language,
                                                  rows.get(row, kTemplateStatus), rows.get(row, kTemplateDefinition),
                                                  rows.get_int64(row, kTemplateUpdatedMicros));
        }
        s.user_counted = !rows.is_null(row, kUserCounted) && rows.get_bool(row, kUserCounted);
        return s;
    }

    /// Completes every item after the commit. An admitted item missing from the written ids lost
    /// its idempotency key to a concurrent request (ON CONFLICT waited for it to commit) and is
    /// answered from that request's row.
    asio::awaitable<void> answer(pg::Connection& connection, std::vector<Pending>& batch, Stored& stored) {
        if (!stored.written_ids.empty() && settings.on_stored) {
            settings.on_stored();
        }
        for (std::size_t n = 0; n < batch.size(); ++n) {
            Pending& p = batch[n];
            Decision& decision = stored.decisions[n];
            if (decision.answer) {
                complete(p, std::move(*decision.answer));
                continue;
            }
            if (decision.fate == Fate::kDeferred) {
                commit->resubmit(std::move(p));
                continue;
            }
            if (stored.written_ids.contains(p.item.id)) {
                complete(p, AcceptResult{AcceptOutcome::kStored, p.item.response_body, {}});
                continue;
            }
            if (!p.item.idempotency_key) {
                complete(p, Error{Errc::kInternal, "an admitted request was not written"});
                continue;
            }
            auto found = co_await connection.execute(
                accept_sql::kFindIdempotency, pg::Params{}.add(p.item.api_key_id).add(*p.item.idempotency_key));
            if (!found) {
                complete(p, found.error());
            } else if (found->size() == 0) {
                complete(p, Error{Errc::kInternal, "idempotency key vanished during accept"});
            } else if (found->get(0, 0) == p.item.request_hash_hex) {
                complete(p, AcceptResult{AcceptOutcome::kReplay, std::string(found->get(0, 1)), {}});
            } else {
                complete(p, AcceptResult{AcceptOutcome::kIdempotencyMismatch, {}, {}});
            }
        }
    }
};

AcceptWriter::AcceptWriter(asio::any_io_executor executor, pg::Pool& pool,
                           AcceptWriterSettings settings, const Clock& clock)
    : impl_(std::make_shared<Impl>(pool, settings, clock)) {
    // The flush holds the writer only while it runs (see GroupCommit).
    std::weak_ptr<Impl> weak = impl_;
    impl_->commit = std::make_shared<Commit>(
        std::move(executor), settings.max_batch, settings.max_writers,
        [weak](Commit::Batch& batch) -> asio::awaitable<void> {
            auto self = weak.lock();
            if (!self) {
                for (auto& p : batch) {
                    complete(p, Error{Errc::kDbUnavailable, "the gateway is stopping"});
                }
                co_return;
            }
            co_await self->write(batch);
        });
}

AcceptWriter::~AcceptWriter() = default;

// Deliberately not a coroutine: GCC 12 destroys a lambda's captures twice when the lambda is a
// temporary inside a co_await expression (see docs/adr/0002-gcc12-coroutine-rules.md).
asio::awaitable<Result<AcceptResult>> AcceptWriter::accept(AcceptItem item) { return impl_->commit->submit(std::move(item)); }

}  // namespace wagate::store
