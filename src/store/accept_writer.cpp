#include <wagate/store/message_store.hpp>

#include <deque>
#include <mutex>
#include <unordered_set>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

namespace wagate::store {
namespace asio = boost::asio;

namespace {

// One statement per batch: claim idempotency keys (ON CONFLICT DO NOTHING, so a lost race is a
// non-event rather than an aborted batch), then write message, status and queue row for every
// input that either has no key or won its key. Returns the ids written; an input missing from
// the result lost its key to an earlier request and is answered from that request's row.
constexpr pg::Statement kAcceptBatch{
    "accept_batch",
    "WITH input AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
    "                       $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[])"
    "    AS t(id, phone_number_id, kind, type, to_input, wa_id, payload, biz_opaque, api_key_id,"
    "         idem_key, idem_hash, response)), "
    "claimed AS ("
    "  INSERT INTO idempotency_keys (api_key_id, key, request_hash, message_id, response)"
    "  SELECT api_key_id, idem_key, decode(idem_hash, 'hex'), id, response FROM input"
    "  WHERE idem_key IS NOT NULL ON CONFLICT DO NOTHING RETURNING message_id), "
    "accepted AS ("
    "  SELECT * FROM input WHERE idem_key IS NULL OR id IN (SELECT message_id FROM claimed)), "
    "m AS ("
    "  INSERT INTO messages (id, phone_number_id, kind, type, to_input, wa_id, payload,"
    "                        biz_opaque_callback_data, api_key_id)"
    "  SELECT id, phone_number_id, kind, type, to_input, wa_id, payload::jsonb, biz_opaque, api_key_id"
    "  FROM accepted RETURNING id), "
    "s AS ("
    "  INSERT INTO message_statuses (message_id, status, occurred_at)"
    "  SELECT id, 'accepted', now() FROM accepted), "
    "q AS ("
    "  INSERT INTO relay_queue (message_id, phone_number_id, due_at, expires_at)"
    "  SELECT id, phone_number_id, now(), now() + make_interval(hours => $13::int) FROM accepted) "
    "SELECT replace(id::text, '-', '') FROM m",
    std::chrono::milliseconds(10'000)};

constexpr pg::Statement kFindIdempotency{
    "idempotency_find",
    "SELECT encode(request_hash, 'hex'), response FROM idempotency_keys "
    "WHERE api_key_id = $1::uuid AND key = $2"};

using Completion = asio::any_completion_handler<void(Result<AcceptResult>)>;

struct Pending {
    AcceptItem item;
    Completion completion;
    asio::any_io_executor resume_on;  // the executor (strand) of the waiting request
};

void complete(Pending& p, Result<AcceptResult> result) {
    // Resume the waiting request on its own executor, not on the writer's thread.
    asio::post(p.resume_on, [c = std::move(p.completion), r = std::move(result)]() mutable {
        std::move(c)(std::move(r));
    });
}

pg::Params batch_params(const std::vector<Pending>& batch, std::chrono::hours ttl) {
    pg::ArrayLiteral id, phone, kind, type, to_input, wa_id, payload, opaque, key_id, idem_key,
        idem_hash, response;
    for (const auto& p : batch) {
        const AcceptItem& i = p.item;
        id.add(i.id);
        phone.add(i.phone_number_id);
        kind.add(i.kind);
        type.add(i.type);
        to_input.add(i.to_input);
        wa_id.add(i.wa_id);
        payload.add(i.payload_json);
        opaque.add(i.biz_opaque_callback_data);
        key_id.add(i.api_key_id);
        idem_key.add(i.idempotency_key);
        idem_hash.add(i.request_hash_hex);
        response.add(i.response_body);
    }
    pg::Params params;
    for (auto* a : {&id, &phone, &kind, &type, &to_input, &wa_id, &payload, &opaque, &key_id,
                    &idem_key, &idem_hash, &response}) {
        params.add(a->str());
    }
    params.add(static_cast<std::int64_t>(ttl.count()));
    return params;
}

}  // namespace

struct AcceptWriter::Impl : std::enable_shared_from_this<AcceptWriter::Impl> {
    asio::any_io_executor executor;
    pg::Pool& pool;
    AcceptWriterSettings settings;

    std::mutex mutex;  // guards queue and writers; never held across co_await
    std::deque<Pending> queue;
    std::size_t writers = 0;

    Impl(asio::any_io_executor ex, pg::Pool& p, AcceptWriterSettings s)
        : executor(ex), pool(p), settings(s) {}

    void submit(Pending pending) {
        std::vector<std::vector<Pending>> batches;
        {
            std::lock_guard lock(mutex);
            queue.push_back(std::move(pending));
            take_batches(batches);
        }
        launch(std::move(batches));
    }

    /// Under the lock: hands queued requests to idle writers. Requests queue while every writer
    /// is committing, which is what makes the next commit a group.
    void take_batches(std::vector<std::vector<Pending>>& out) {
        while (writers < settings.max_writers && !queue.empty()) {
            std::vector<Pending> batch;
            const std::size_t n = std::min(queue.size(), settings.max_batch);
            batch.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                batch.push_back(std::move(queue.front()));
                queue.pop_front();
            }
            ++writers;
            out.push_back(std::move(batch));
        }
    }

    void launch(std::vector<std::vector<Pending>> batches) {
        for (auto& batch : batches) {
            asio::co_spawn(executor, write(std::move(batch)),
                           [self = shared_from_this()](std::exception_ptr e) {
                               if (e) {
                                   spdlog::error("accept writer: unexpected exception");
                               }
                               std::vector<std::vector<Pending>> next;
                               {
                                   std::lock_guard lock(self->mutex);
                                   --self->writers;
                                   self->take_batches(next);
                               }
                               self->launch(std::move(next));
                           });
        }
    }

    asio::awaitable<void> write(std::vector<Pending> batch) {
        auto lease = co_await pool.acquire();
        if (!lease) {
            for (auto& p : batch) {
                complete(p, lease.error());
            }
            co_return;
        }
        auto rows = co_await (*lease)->execute(kAcceptBatch, batch_params(batch, settings.message_ttl));
        if (!rows) {
            const Errc code = rows.error().code;
            const bool whole_batch_condition = code == Errc::kDbUnavailable || code == Errc::kTimeout;
            if (batch.size() > 1 && !whole_batch_condition) {
                // Isolate the item at fault: every other item still gets its own commit.
                spdlog::warn("accept batch of {} failed ({}); retrying one by one", batch.size(),
                             rows.error().message);
                for (auto& p : batch) {
                    std::vector<Pending> single;
                    single.push_back(std::move(p));
                    co_await write_single(**lease, std::move(single));
                }
                co_return;
            }
            for (auto& p : batch) {
                complete(p, rows.error());
            }
            co_return;
        }
        co_await finish(**lease, batch, *rows);
    }

    asio::awaitable<void> write_single(pg::Connection& connection, std::vector<Pending> single) {
        auto rows = co_await connection.execute(kAcceptBatch, batch_params(single, settings.message_ttl));
        if (!rows) {
            spdlog::error("accept of one request failed: {}", rows.error().message);
            complete(single.front(), rows.error());
            co_return;
        }
        co_await finish(connection, single, *rows);
    }

    asio::awaitable<void> finish(pg::Connection& connection, std::vector<Pending>& batch,
                                 const pg::Rows& written) {
        std::unordered_set<std::string_view> stored;
        for (int i = 0; i < written.size(); ++i) {
            stored.insert(written.get(i, 0));
        }
        for (auto& p : batch) {
            if (stored.contains(p.item.id)) {
                complete(p, AcceptResult{AcceptOutcome::kStored, p.item.response_body});
                continue;
            }
            // Lost the idempotency key to a committed request (ON CONFLICT waited for it).
            auto found = co_await connection.execute(
                kFindIdempotency, pg::Params{}.add(p.item.api_key_id).add(*p.item.idempotency_key));
            if (!found) {
                complete(p, found.error());
            } else if (found->size() == 0) {
                complete(p, Error{Errc::kInternal, "idempotency key vanished during accept"});
            } else if (found->get(0, 0) == p.item.request_hash_hex) {
                complete(p, AcceptResult{AcceptOutcome::kReplay, std::string(found->get(0, 1))});
            } else {
                complete(p, AcceptResult{AcceptOutcome::kIdempotencyMismatch, {}});
            }
        }
    }
};

AcceptWriter::AcceptWriter(asio::any_io_executor executor, pg::Pool& pool,
                           AcceptWriterSettings settings)
    : impl_(std::make_shared<Impl>(executor, pool, settings)) {}

AcceptWriter::~AcceptWriter() = default;

// Deliberately not a coroutine: GCC 12 destroys a lambda's captures twice when the lambda is a
// temporary inside a co_await expression (see docs/adr/0002-gcc12-coroutine-rules.md).
asio::awaitable<Result<AcceptResult>> AcceptWriter::accept(AcceptItem item) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(Result<AcceptResult>)>(
        [impl = impl_](auto handler, AcceptItem&& pending_item) {
            // The waiting coroutine's own executor (its session strand), taken before type erasure.
            asio::any_io_executor resume_on = asio::get_associated_executor(handler);
            impl->submit(Pending{std::move(pending_item), Completion(std::move(handler)), resume_on});
        },
        asio::use_awaitable, std::move(item));
}

}  // namespace wagate::store
