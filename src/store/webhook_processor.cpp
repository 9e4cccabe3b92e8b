#include <wagate/store/webhook_store.hpp>

#include <deque>
#include <mutex>
#include <set>
#include <unordered_set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/crypto/digest.hpp>
#include <wagate/domain/webhook.hpp>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"
#include "store/webhook_statements.hpp"

namespace wagate::store {
namespace asio = boost::asio;
namespace wh = domain::webhook;
namespace policy = domain::policy;

namespace {

struct Delivery {
    std::int64_t id = 0;
    std::string body;
};

template <class T>
struct From {
    std::int64_t delivery = 0;
    T item;
};

/// Items to apply in one transaction, and the deliveries it completes.
struct Work {
    struct Mark {
        std::int64_t delivery = 0;
        std::size_t items = 0;
        std::size_t failed = 0;
    };
    std::vector<From<wh::StatusUpdate>> statuses;
    std::vector<From<wh::InboundMessage>> messages;
    std::vector<From<wh::Tombstone>> tombstones;
    std::vector<From<wh::AccountUpdate>> account_updates;
    std::vector<From<wh::ItemFailure>> failures;
    std::vector<Mark> marks;

    std::size_t deliveries() const noexcept { return marks.size(); }

    void append(Work&& other) {
        auto move_all = [](auto& into, auto& from) {
            into.insert(into.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
        };
        move_all(statuses, other.statuses);
        move_all(messages, other.messages);
        move_all(tombstones, other.tombstones);
        move_all(account_updates, other.account_updates);
        move_all(failures, other.failures);
        move_all(marks, other.marks);
    }
};

Work parse(const Delivery& d) {
    wh::ParsedDelivery parsed = wh::parse_delivery(d.body);
    Work w;
    w.marks.push_back(Work::Mark{d.id, parsed.item_count(), parsed.failures.size()});
    for (auto& s : parsed.statuses) {
        w.statuses.push_back({d.id, std::move(s)});
    }
    for (auto& m : parsed.messages) {
        // A revoke is also a tombstone of the message it names.
        if (m.revokes) {
            w.tombstones.push_back(
                {d.id, wh::Tombstone{m.path, m.phone_number_id, *m.revokes, m.user_key(), m.timestamp, true}});
        }
        w.messages.push_back({d.id, std::move(m)});
    }
    for (auto& t : parsed.tombstones) {
        w.tombstones.push_back({d.id, std::move(t)});
    }
    for (auto& a : parsed.account_updates) {
        w.account_updates.push_back({d.id, std::move(a)});
    }
    for (auto& f : parsed.failures) {
        w.failures.push_back({d.id, std::move(f)});
    }
    return w;
}

/// The same work, one item at a time, for a batch that failed: each item commits or fails alone.
std::vector<Work> split_items(Work&& w) {
    std::vector<Work> out;
    auto one_each = [&out](auto& items, auto member) {
        for (auto& item : items) {
            Work single;
            (single.*member).push_back(std::move(item));
            out.push_back(std::move(single));
        }
    };
    one_each(w.statuses, &Work::statuses);
    one_each(w.messages, &Work::messages);
    one_each(w.account_updates, &Work::account_updates);
    // A revoke's tombstone travels with its message in the normal path; alone it is harmless.
    one_each(w.tombstones, &Work::tombstones);
    return out;
}

/// The path and fragment of the only item of `w`, to record why it could not be applied.
wh::ItemFailure describe_single(const Work& w, std::string reason, std::int64_t& delivery) {
    auto from = [&](const auto& f, const std::string& fragment) {
        delivery = f.delivery;
        return wh::ItemFailure{f.item.path, std::move(reason), fragment};
    };
    if (!w.statuses.empty()) {
        return from(w.statuses.front(), w.statuses.front().item.raw_json);
    }
    if (!w.messages.empty()) {
        return from(w.messages.front(), w.messages.front().item.raw_json);
    }
    if (!w.account_updates.empty()) {
        return from(w.account_updates.front(), w.account_updates.front().item.value_json);
    }
    return from(w.tombstones.front(), w.tombstones.front().item.wamid);
}

std::string normalise_language(std::string language) {
    // Meta writes "en-US" in template webhooks and "en_US" everywhere else.
    for (char& c : language) {
        if (c == '-') {
            c = '_';
        }
    }
    return language;
}

/// The database is gone: nothing can be decided, everything waits for the next sweep. (A timeout
/// is not: a smaller batch may well pass, so a timed-out batch is split like a failing one.)
bool database_gone(const Error& e, const pg::Connection& c) { return e.code == Errc::kDbUnavailable || c.broken(); }

}  // namespace

struct WebhookProcessor::Impl : std::enable_shared_from_this<WebhookProcessor::Impl> {
    asio::any_io_executor executor;
    pg::Pool& pool;
    WebhookSettings settings;
    const Clock& clock;

    std::mutex mutex;  // guards queue, held and workers; never held across co_await
    std::deque<Delivery> queue;
    std::set<std::int64_t> held;  // deliveries queued or being applied here
    std::size_t workers = 0;
    static constexpr std::size_t kMaxWorkers = 2;

    /// Deliveries queued here, about at most: a POST claims its delivery only while the queue is
    /// below it (has_room), and a sweep claims only what fits. Everything claimed is queued (a
    /// claimed delivery dropped here would wait for its lease), so the queue can exceed the limit
    /// by the POSTs in flight, no more. Beyond it deliveries wait in the database, unclaimed.
    std::size_t queue_limit() const { return 4 * settings.max_batch; }

    Impl(asio::any_io_executor ex, pg::Pool& p, WebhookSettings s, const Clock& c)
        : executor(std::move(ex)), pool(p), settings(s), clock(c) {}

    void submit(Delivery d) {
        bool start = false;
        {
            std::lock_guard lock(mutex);
            if (!held.insert(d.id).second) {
                return;  // queued already (a sweep renewed its lapsed claim)
            }
            queue.push_back(std::move(d));
            if (workers < kMaxWorkers) {
                ++workers;
                start = true;
            }
        }
        if (start) {
            asio::co_spawn(executor, work_loop(), [self = shared_from_this()](std::exception_ptr e) {
                if (e) {
                    spdlog::error("webhook processor: unexpected exception");
                    std::lock_guard lock(self->mutex);
                    --self->workers;
                }
            });
        }
    }

    bool idle() {
        std::lock_guard lock(mutex);
        return queue.empty() && workers == 0;
    }

    /// Room for a sweep to queue more, in deliveries.
    std::size_t room() {
        std::lock_guard lock(mutex);
        return queue.size() >= queue_limit() ? 0 : queue_limit() - queue.size();
    }

    void release(const std::vector<std::int64_t>& ids) {
        std::lock_guard lock(mutex);
        for (auto id : ids) {
            held.erase(id);
        }
    }

    /// Applies queued deliveries until none are left; the worker count drops under the same lock
    /// that finds the queue empty, so a submit never strands a delivery.
    asio::awaitable<void> work_loop() {
        for (;;) {
            std::vector<Delivery> batch;
            {
                std::lock_guard lock(mutex);
                if (queue.empty()) {
                    --workers;
                    co_return;
                }
                while (!queue.empty() && batch.size() < settings.max_batch) {
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            co_await process(std::move(batch));
        }
    }

    asio::awaitable<void> process(std::vector<Delivery> batch) {
        std::vector<std::int64_t> ids;
        for (const auto& d : batch) {
            ids.push_back(d.id);
        }
        co_await apply_batch(batch);
        release(ids);
    }

    void count_statuses(const Work& w) const {
        if (settings.on_status_applied) {
            for (const auto& s : w.statuses) {
                settings.on_status_applied(s.item.status);
            }
        }
    }

    asio::awaitable<void> apply_batch(const std::vector<Delivery>& batch) {
        Work all;
        for (const auto& d : batch) {
            all.append(parse(d));
        }
        auto lease = co_await pool.acquire();
        if (!lease) {
            // Left pending: the claims expire and a sweep (here or elsewhere) takes them again.
            spdlog::warn("webhook processing deferred: {}", lease.error().message);
            co_return;
        }
        pg::Connection& connection = **lease;
        auto applied = co_await apply_with_retry(connection, all);
        if (applied) {
            count_statuses(all);
            co_return;
        }
        if (database_gone(applied.error(), connection)) {
            spdlog::warn("webhook batch of {} deferred: {}", batch.size(), applied.error().message);
            co_return;
        }
        spdlog::warn("webhook batch of {} failed ({}); applying delivery by delivery", batch.size(),
                     applied.error().message);
        for (const auto& d : batch) {
            co_await apply_isolated(connection, parse(d));
        }
    }

    /// One delivery whose items failed together: each item alone; what still fails is recorded
    /// with its reason, and the delivery completes either way.
    asio::awaitable<void> apply_isolated(pg::Connection& connection, Work w) {
        auto together = co_await apply_with_retry(connection, w);
        if (together) {
            count_statuses(w);
        }
        if (together || database_gone(together.error(), connection)) {
            co_return;
        }
        Work closing;
        closing.failures = std::move(w.failures);
        closing.marks = std::move(w.marks);
        for (auto& single : split_items(std::move(w))) {
            auto alone = co_await apply_with_retry(connection, single);
            if (alone) {
                continue;
            }
            // Gone, or a conflict that outlived its retry: the delivery stays pending (claim
            // lapses, the sweep brings it back) rather than losing the item as a failure.
            if (database_gone(alone.error(), connection) || alone.error().code == Errc::kRetryable) {
                co_return;
            }
            std::int64_t delivery = 0;
            auto failure = describe_single(single, alone.error().message, delivery);
            spdlog::warn("webhook item {} of delivery {} not applied: {}", failure.path, delivery, failure.reason);
            closing.failures.push_back({delivery, std::move(failure)});
            for (auto& mark : closing.marks) {
                mark.failed += mark.delivery == delivery ? 1 : 0;
            }
        }
        auto closed = co_await apply_with_retry(connection, closing);
        if (!closed) {
            spdlog::warn("webhook delivery left pending: {}", closed.error().message);
        }
    }

    asio::awaitable<Result<void>> apply_with_retry(pg::Connection& connection, const Work& w) {
        auto applied = co_await apply(connection, w);
        if (!applied && applied.error().code == Errc::kRetryable && !connection.broken()) {
            applied = co_await apply(connection, w);  // a deadlock with a concurrent batch
        }
        co_return applied;
    }

    /// One transaction for the whole work; parked statuses are attached after it commits.
    asio::awaitable<Result<void>> apply(pg::Connection& connection, const Work& w) {
        auto begun = co_await connection.execute_simple("BEGIN", settings.statement_timeout);
        if (!begun) {
            co_return begun.error();
        }
        std::vector<std::string> parked;
        auto body = co_await apply_statements(connection, w, parked);
        if (body) {
            auto committed = co_await connection.execute_simple("COMMIT", settings.statement_timeout);
            if (!committed) {
                body = committed.error();
            }
        }
        if (!body) {
            if (!connection.broken()) {
                auto rolled_back = co_await connection.execute_simple("ROLLBACK", settings.statement_timeout);
                if (!rolled_back) {
                    spdlog::warn("webhook rollback failed: {}", rolled_back.error().message);
                }
            }
            co_return body.error();
        }
        if (settings.on_applied) {
            settings.on_applied();
        }
        if (!parked.empty()) {
            auto attached = co_await connection.execute(webhook_sql::kAttachParked,
                                                        pg::Params{}.add(pg::text_array(parked)));
            if (!attached) {
                // The next sweep's reconciliation (kAttachParked with NULL) moves them.
                spdlog::warn("attaching parked statuses failed: {}", attached.error().message);
            }
        }
        co_return Result<void>{};
    }

    std::int64_t seconds_or_now(const wh::MetaTime& t) const {
        return t.known ? t.seconds
                       : std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    }

    asio::awaitable<Result<void>> apply_statements(pg::Connection& c, const Work& w, std::vector<std::string>& parked) {
        if (!w.statuses.empty()) {
            auto rows = co_await c.execute(webhook_sql::kApplyStatuses, status_params(w));
            if (!rows) {
                co_return rows.error();
            }
            for (int i = 0; i < rows->size(); ++i) {
                parked.emplace_back(rows->get(i, 0));
            }
        }
        if (!w.tombstones.empty()) {
            pg::ArrayLiteral phone, wamid, wa_id, ts, announce;
            for (const auto& [d, t] : w.tombstones) {
                phone.add(t.phone_number_id);
                wamid.add(t.wamid);
                wa_id.add(t.wa_id);
                ts.add(std::to_string(seconds_or_now(t.timestamp)));
                announce.add(std::string_view(t.from_revoke ? "f" : "t"));
            }
            auto rows = co_await c.execute(webhook_sql::kTombstones,
                                           array_params(phone, wamid, wa_id, ts, announce));
            if (!rows) {
                co_return rows.error();
            }
        }
        if (!w.messages.empty()) {
            auto applied = co_await apply_messages(c, w);
            if (!applied) {
                co_return applied.error();
            }
        }
        for (const auto& [d, update] : w.account_updates) {
            auto applied = co_await apply_account(c, update);
            if (!applied) {
                co_return applied.error();
            }
        }
        if (!w.failures.empty()) {
            pg::ArrayLiteral delivery, path, reason, fragment;
            for (const auto& [d, f] : w.failures) {
                delivery.add(std::to_string(d));
                path.add(f.path);
                reason.add(f.reason);
                fragment.add(f.fragment);
            }
            auto rows = co_await c.execute(webhook_sql::kItemFailures,
                                           array_params(delivery, path, reason, fragment));
            if (!rows) {
                co_return rows.error();
            }
        }
        if (!w.marks.empty()) {
            pg::ArrayLiteral id, items, failed;
            for (const auto& m : w.marks) {
                id.add(std::to_string(m.delivery));
                items.add(std::to_string(m.items));
                failed.add(std::to_string(m.failed));
            }
            auto rows = co_await c.execute(webhook_sql::kMarkProcessed,
                                           array_params(id, items, failed));
            if (!rows) {
                co_return rows.error();
            }
        }
        co_return Result<void>{};
    }

    pg::Params status_params(const Work& w) const {
        pg::ArrayLiteral wamid, status, participant, ts, errors, pricing, conversation, opaque, raw;
        for (const auto& [d, s] : w.statuses) {
            wamid.add(s.wamid);
            status.add(s.status);
            participant.add(s.participant);
            ts.add(std::to_string(seconds_or_now(s.timestamp)));
            errors.add(s.errors_json);
            pricing.add(s.pricing_json);
            conversation.add(s.conversation_json);
            opaque.add(s.biz_opaque_callback_data);
            raw.add(s.raw_json);
        }
        return array_params(wamid, status, participant, ts, errors, pricing, conversation, opaque, raw);
    }

    asio::awaitable<Result<void>> apply_messages(pg::Connection& c, const Work& w) {
        pg::ArrayLiteral wamid, phone, from, user_id, type, ts, item, contact, renews, user_key, key_hash;
        for (const auto& [d, m] : w.messages) {
            wamid.add(m.wamid);
            phone.add(m.phone_number_id);
            from.add(m.from);
            user_id.add(m.from_user_id);
            type.add(m.type);
            ts.add(std::to_string(seconds_or_now(m.timestamp)));
            item.add(m.raw_json);
            contact.add(m.contact_json);
            // A message whose time is unknown renews nothing: the window must never be claimed
            // open on the strength of the arrival time.
            const bool renew =
                m.timestamp.known && policy::renews_window(policy::inbound_kind_from_type(m.type), settings.window);
            renews.add(std::string_view(renew ? "t" : "f"));
            user_key.add(m.user_key());
            key_hash.add(m.identity_key_hash);
        }
        const pg::Params params =
            array_params(wamid, phone, from, user_id, type, ts, item, contact, renews, user_key, key_hash);
        auto stored = co_await c.execute(webhook_sql::kApplyInbound, params);
        if (!stored) {
            co_return stored.error();
        }
        std::unordered_set<std::string> fresh;
        for (int i = 0; i < stored->size(); ++i) {
            fresh.emplace(stored->get(i, 0));
        }
        // Reactions converge whatever the order; identity changes and new numbers only from
        // messages stored now, so a replay cannot undo an acknowledgement.
        pg::ArrayLiteral r_phone, r_target, r_user, r_emoji, r_wamid, r_ts;
        pg::ArrayLiteral i_phone, i_user, i_ts, n_phone, n_user, n_ts;
        std::size_t reactions = 0, identities = 0, numbers = 0;
        for (const auto& [d, m] : w.messages) {
            const std::string seconds = std::to_string(seconds_or_now(m.timestamp));
            if (m.reaction) {
                ++reactions;
                r_phone.add(m.phone_number_id);
                r_target.add(m.reaction->message_id);
                r_user.add(m.user_key());
                r_emoji.add(m.reaction->emoji);
                r_wamid.add(m.wamid);
                r_ts.add(seconds);
            }
            if (!fresh.contains(m.wamid)) {
                continue;
            }
            if (m.identity_change) {
                ++identities;
                i_phone.add(m.phone_number_id);
                i_user.add(m.identity_change->wa_id);
                i_ts.add(seconds);
            }
            if (m.new_number) {
                ++numbers;
                n_phone.add(m.phone_number_id);
                n_user.add(m.new_number->new_wa_id);
                n_ts.add(seconds);
            }
        }
        if (reactions > 0) {
            auto rows = co_await c.execute(webhook_sql::kReactions,
                                           array_params(r_phone, r_target, r_user, r_emoji, r_wamid, r_ts));
            if (!rows) {
                co_return rows.error();
            }
        }
        if (identities > 0) {
            auto rows = co_await c.execute(webhook_sql::kIdentityChanges,
                                           array_params(i_phone, i_user, i_ts));
            if (!rows) {
                co_return rows.error();
            }
        }
        if (numbers > 0) {
            auto rows = co_await c.execute(webhook_sql::kNewNumbers,
                                           array_params(n_phone, n_user, n_ts));
            if (!rows) {
                co_return rows.error();
            }
        }
        co_return Result<void>{};
    }

    /// Stores an account-level update once and applies its effects, each only if no later
    /// entry.time was applied to the same subject and attribute.
    asio::awaitable<Result<void>> apply_account(pg::Connection& c, const wh::AccountUpdate& u) {
        auto event = co_await c.execute(
            webhook_sql::kAccountEvent,
            pg::Params{}.add(u.waba_id).add(u.field).add(u.entry_time).add(u.value_json));
        if (!event) {
            co_return event.error();
        }
        if (event->size() == 0) {
            co_return Result<void>{};  // stored before: its effects were applied then
        }
        const std::string event_id(event->get(0, 0));
        auto announced = co_await c.execute(webhook_sql::kAccountEventOut, account_event_params(u));
        if (!announced) {
            co_return announced.error();
        }
        std::string applied;
        for (const auto& effect : u.effects) {
            auto done = co_await apply_effect(c, u, effect);
            if (!done) {
                co_return done.error();
            }
            if (!done->empty()) {
                applied += (applied.empty() ? "" : "; ") + *done;
            }
        }
        if (!applied.empty()) {
            auto marked = co_await c.execute(webhook_sql::kAccountApplied, pg::Params{}.add(event_id).add(applied));
            if (!marked) {
                co_return marked.error();
            }
        }
        co_return Result<void>{};
    }

    /// Which numbers hear about `u`: the number its value names (value-level errors carry
    /// metadata), else the number its effects name by display number, else the whole WABA.
    static pg::Params account_event_params(const wh::AccountUpdate& u) {
        std::string display;
        for (const auto& e : u.effects) {
            if (!e.display_phone_number.empty()) {
                display = e.display_phone_number;
                break;
            }
        }
        return pg::Params{}
            .add(u.waba_id)
            .add(u.field)
            .add(u.entry_time)
            .add(u.value_json)
            .add(u.phone_number_id)
            .add(display);
    }

    /// True when (subject, attribute) may take the update of `entry_time`.
    asio::awaitable<Result<bool>> claim_version(pg::Connection& c, const std::string& subject,
                                                const std::string& attribute, std::int64_t entry_time) {
        auto rows = co_await c.execute(webhook_sql::kClaimVersion,
                                       pg::Params{}.add(subject).add(attribute).add(entry_time));
        if (!rows) {
            co_return rows.error();
        }
        co_return rows->size() > 0;
    }

    /// Applies one effect; returns a description of what changed ("" for nothing).
    asio::awaitable<Result<std::string>> apply_effect(pg::Connection& c, const wh::AccountUpdate& u,
                                                      const wh::AccountEffect& e) {
        using Kind = wh::AccountEffect::Kind;
        const std::int64_t now = to_micros(clock.now());
        std::string applied;
        if (e.kind == Kind::kTemplateStatus || e.kind == Kind::kTemplateQuality || e.kind == Kind::kTemplateCategory) {
            const std::string language = normalise_language(e.template_language);
            auto templates = co_await c.execute(
                webhook_sql::kTemplatesFor,
                pg::Params{}.add(u.waba_id).add(e.template_name).add(language).add(e.template_id));
            if (!templates) {
                co_return templates.error();
            }
            for (int i = 0; i < templates->size(); ++i) {
                const std::string name(templates->get(i, 0));
                const std::string lang(templates->get(i, 1));
                const std::string attribute =
                    e.kind == Kind::kTemplateStatus ? "status" : e.kind == Kind::kTemplateQuality ? "quality" : "category";
                auto newer = co_await claim_version(c, "template:" + u.waba_id + "/" + name + "/" + lang, attribute,
                                                    u.entry_time);
                if (!newer) {
                    co_return newer.error();
                }
                if (!*newer) {
                    continue;
                }
                Result<pg::Rows> changed = Error{Errc::kInternal, ""};
                if (e.kind == Kind::kTemplateStatus) {
                    const std::string current(templates->get(i, 2));
                    auto next = wh::template_status_after(e.value, templates->get(i, 3));
                    if (!next) {
                        continue;
                    }
                    pg::Params p;
                    p.add(u.waba_id).add(name).add(lang).add(*next);
                    p.add(e.value == "ARCHIVED" && current != "ARCHIVED" ? std::optional<std::string>(current)
                                                                         : std::nullopt);
                    p.add(e.template_id);
                    changed = co_await c.execute(webhook_sql::kSetTemplateStatus, p);
                } else {
                    const auto& statement = e.kind == Kind::kTemplateQuality ? webhook_sql::kSetTemplateQuality
                                                                             : webhook_sql::kSetTemplateCategory;
                    changed = co_await c.execute(
                        statement, pg::Params{}.add(u.waba_id).add(name).add(lang).add(e.value).add(e.template_id));
                }
                if (!changed) {
                    co_return changed.error();
                }
                if (changed->size() > 0) {
                    applied += "template " + name + "/" + lang + " " + attribute + " " + e.value;
                }
            }
            co_return applied;
        }
        auto numbers = co_await c.execute(webhook_sql::kNumbersOfWaba,
                                          pg::Params{}.add(u.waba_id).add(e.display_phone_number));
        if (!numbers) {
            co_return numbers.error();
        }
        std::set<std::string> subjects;
        for (int i = 0; i < numbers->size(); ++i) {
            subjects.emplace(e.kind == Kind::kBusinessTier ? numbers->get(i, 1) : numbers->get(i, 0));
        }
        for (const auto& subject : subjects) {
            const bool tier = e.kind == Kind::kBusinessTier;
            const std::string attribute = tier ? "tier" : e.kind == Kind::kNumberStatus ? "status" : "quality";
            auto newer = co_await claim_version(c, (tier ? "business:" : "number:") + subject, attribute, u.entry_time);
            if (!newer) {
                co_return newer.error();
            }
            if (!*newer) {
                continue;
            }
            // Locked first, in its own statement: the change below then reads the row as last
            // committed, not as this statement's snapshot saw it (an admin change or a tier review
            // committing meanwhile would otherwise be compared against a stale value).
            auto locked = co_await c.execute(tier ? kLockBusinessRow : webhook_sql::kLockNumberRow,
                                             pg::Params{}.add(subject));
            if (!locked) {
                co_return locked.error();
            }
            const auto& statement = tier                                ? webhook_sql::kSetBusinessTier
                                    : e.kind == Kind::kNumberStatus ? webhook_sql::kSetNumberStatus
                                                                        : webhook_sql::kSetNumberQuality;
            pg::Params params;
            params.add(subject).add(e.value).add(now);
            if (e.kind == Kind::kNumberStatus) {
                // UNFLAGGED lifts a flag, not a restriction (a disabled WABA waits for REINSTATE).
                const bool unflag = u.field == "phone_number_quality_update" && e.value == "CONNECTED";
                params.add(unflag ? std::optional<std::string>("FLAGGED") : std::nullopt);
            }
            auto changed = co_await c.execute(statement, params);
            if (!changed) {
                co_return changed.error();
            }
            if (changed->size() > 0) {
                applied += (applied.empty() ? "" : "; ") + std::string(tier ? "business " : "number ") + subject +
                           " " + attribute + " " + e.value;
            }
        }
        co_return applied;
    }

    /// Moves statuses parked for wamids that are now known, then claims pending deliveries
    /// nobody holds, as many as the local queue has room for, and queues them; returns how many.
    asio::awaitable<Result<std::size_t>> sweep_once() {
        auto reconciled = co_await pool.execute(webhook_sql::kAttachParked, pg::Params{}.add_null());
        if (!reconciled) {
            spdlog::warn("attaching parked statuses failed: {}", reconciled.error().message);
        }
        constexpr std::int64_t kMaxClaimBytes = 64 << 20;
        std::size_t total = 0;
        for (;;) {
            const std::size_t wanted = std::min(room(), settings.max_batch);
            if (wanted == 0) {
                co_return total;
            }
            auto rows = co_await pool.execute(webhook_sql::kClaimPending,
                                              pg::Params{}
                                                  .add(static_cast<std::int64_t>(wanted))
                                                  .add(static_cast<std::int64_t>(settings.lease.count()))
                                                  .add(kMaxClaimBytes));
            if (!rows) {
                co_return rows.error();
            }
            for (int i = 0; i < rows->size(); ++i) {
                // A delivery already held here had its claim lapse while queued: the claim is
                // renewed by this sweep and submit() ignores the second copy.
                auto body = crypto::from_hex(rows->get(i, 1));
                submit(Delivery{rows->get_int64(i, 0), body.value_or("")});
            }
            total += static_cast<std::size_t>(rows->size());
            if (static_cast<std::size_t>(rows->size()) < wanted) {
                co_return total;
            }
        }
    }
};

WebhookProcessor::WebhookProcessor(asio::any_io_executor executor, pg::Pool& pool, WebhookSettings settings,
                                   const Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(executor), pool, settings, clock)) {}

WebhookProcessor::~WebhookProcessor() = default;

void WebhookProcessor::submit(std::int64_t delivery_id, std::string body) {
    impl_->submit(Delivery{delivery_id, std::move(body)});
}

bool WebhookProcessor::has_room() { return impl_->room() > 0; }

asio::awaitable<void> WebhookProcessor::run_sweeps() {
    auto self = impl_;
    asio::steady_timer timer(self->executor);
    for (;;) {
        auto swept = co_await self->sweep_once();
        if (!swept) {
            spdlog::warn("webhook sweep failed: {}", swept.error().message);
        } else if (*swept > 0) {
            spdlog::debug("webhook sweep took {} pending deliveries", *swept);
        }
        // While there is a backlog, keep the queue topped up; otherwise look once per interval.
        const bool backlog = swept && *swept > 0;
        timer.expires_after(backlog ? std::chrono::milliseconds(20) : self->settings.sweep_interval);
        co_await timer.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<Result<void>> WebhookProcessor::drain(bool sweep) {
    auto self = impl_;
    asio::steady_timer timer(self->executor);
    for (;;) {
        while (!self->idle()) {
            timer.expires_after(std::chrono::milliseconds(2));
            co_await timer.async_wait(asio::use_awaitable);
        }
        if (!sweep) {
            co_return Result<void>{};
        }
        auto swept = co_await self->sweep_once();
        if (!swept) {
            co_return swept.error();
        }
        if (*swept == 0) {
            co_return Result<void>{};
        }
    }
}

asio::awaitable<Result<std::int64_t>> WebhookProcessor::prune(std::chrono::hours retention) {
    auto rows = co_await impl_->pool.execute(webhook_sql::kPrune,
                                             pg::Params{}.add(static_cast<std::int64_t>(retention.count())));
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->get_int64(0, 0);
}

}  // namespace wagate::store
