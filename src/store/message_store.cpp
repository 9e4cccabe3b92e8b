#include <wagate/store/message_store.hpp>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"

namespace wagate::store {
namespace asio = boost::asio;

namespace {

constexpr pg::Statement kGetOutbound{
    "message_get",
    "SELECT phone_number_id, kind, type, wa_id, status, wamid, "
    "  " WAGATE_SQL_RFC3339("created_at") ", "
    "  biz_opaque_callback_data, errors::text, pricing::text, conversation::text "
    "FROM messages WHERE id = $1::uuid"};

constexpr pg::Statement kGetStatuses{
    "message_statuses_get",
    "SELECT status, floor(extract(epoch FROM occurred_at))::bigint::text, errors::text "
    "FROM message_statuses WHERE message_id = $1::uuid ORDER BY occurred_at, recorded_at"};

constexpr pg::Statement kExpireIdempotency{
    "idempotency_expire",
    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)",
    std::chrono::milliseconds(60'000)};

}  // namespace

asio::awaitable<Result<std::optional<StoredMessage>>> MessageStore::get_outbound(const std::string& id_hex) {
    auto lease = co_await pool_.acquire();
    if (!lease) {
        co_return lease.error();
    }
    auto rows = co_await (*lease)->execute(kGetOutbound, pg::Params{}.add(id_hex));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<StoredMessage>{};
    }
    StoredMessage m;
    m.id = id_hex;
    m.phone_number_id = rows->get(0, 0);
    m.kind = rows->get(0, 1);
    m.type = rows->get(0, 2);
    m.wa_id = rows->get(0, 3);
    m.status = rows->get(0, 4);
    m.wamid = rows->get_optional(0, 5);
    m.created_at = rows->get(0, 6);
    m.biz_opaque_callback_data = rows->get_optional(0, 7);
    m.errors_json = rows->get_optional(0, 8);
    m.pricing_json = rows->get_optional(0, 9);
    m.conversation_json = rows->get_optional(0, 10);
    auto statuses = co_await (*lease)->execute(kGetStatuses, pg::Params{}.add(id_hex));
    if (!statuses) {
        co_return statuses.error();
    }
    for (int i = 0; i < statuses->size(); ++i) {
        m.statuses.push_back(StatusEvent{std::string(statuses->get(i, 0)),
                                         std::string(statuses->get(i, 1)),
                                         statuses->get_optional(i, 2)});
    }
    co_return std::optional<StoredMessage>(std::move(m));
}

asio::awaitable<Result<std::int64_t>> MessageStore::expire_idempotency(std::chrono::hours retention) {
    auto rows = co_await pool_.execute(kExpireIdempotency,
                                       pg::Params{}.add(static_cast<std::int64_t>(retention.count())));
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->affected();
}

asio::awaitable<Result<void>> MessageStore::ensure_pair_backlog_index() {
    auto lease = co_await pool_.acquire();
    if (!lease) {
        co_return lease.error();
    }
    // One implicit transaction: the session's statement_timeout must not cut a long build short,
    // and is restored with it (a failed build rolls the SET back too).
    auto built = co_await (*lease)->execute_simple(
        "SET statement_timeout = 0; "
        "CREATE INDEX IF NOT EXISTS relay_queue_pair ON relay_queue (phone_number_id, wa_id); "
        "RESET statement_timeout",
        std::chrono::hours(1));
    if (!built) {
        co_return built.error();
    }
    co_return Result<void>{};
}

}  // namespace wagate::store
