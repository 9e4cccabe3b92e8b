#include <wagate/store/message_store.hpp>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"
#include "store/webhook_statements.hpp"

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
    "FROM message_statuses WHERE message_id = $1::uuid "
    // Meta's times are whole seconds and the gateway's are finer: within a second, the
    // lifecycle's order (a `sent` stamped 12:00:00 follows a `sending` at 12:00:00.300).
    "ORDER BY floor(extract(epoch FROM occurred_at)), "
    "  COALESCE(array_position(" WAGATE_STATUS_RANKS ", status), 7), occurred_at, recorded_at"};

constexpr pg::Statement kGetInbound{
    "inbound_get",
    "SELECT phone_number_id, wa_id, user_id, type, "
    "  CASE WHEN occurred_at IS NOT NULL THEN " WAGATE_SQL_RFC3339("occurred_at") " END, "
    "  CASE WHEN deleted_at IS NOT NULL THEN " WAGATE_SQL_RFC3339("deleted_at") " END, "
    "  content::text, contact::text "
    "FROM inbound_messages WHERE wamid = $1"};

constexpr pg::Statement kRecordWamid{
    "message_record_wamid",
    "UPDATE messages SET wamid = $2, updated_at = now() WHERE id = $1::uuid AND (wamid IS NULL OR wamid = $2) "
    "RETURNING 1"};

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

asio::awaitable<Result<std::optional<InboundRecord>>> MessageStore::get_inbound(const std::string& wamid) {
    auto rows = co_await pool_.execute(kGetInbound, pg::Params{}.add(wamid));
    if (!rows) {
        co_return rows.error();
    }
    if (rows->size() == 0) {
        co_return std::optional<InboundRecord>{};
    }
    InboundRecord m;
    m.wamid = wamid;
    m.phone_number_id = rows->get(0, 0);
    m.wa_id = rows->get(0, 1);
    m.user_id = rows->get_optional(0, 2);
    m.type = rows->get(0, 3);
    m.occurred_at = rows->get_optional(0, 4);
    m.deleted_at = rows->get_optional(0, 5);
    m.content_json = rows->get_optional(0, 6);
    m.contact_json = rows->get_optional(0, 7);
    co_return std::optional<InboundRecord>(std::move(m));
}

asio::awaitable<Result<bool>> MessageStore::record_wamid(const std::string& id_hex, const std::string& wamid) {
    // Two statements, each committed: the attach must start after the wamid is visible, so that
    // it and a concurrent webhook batch that parked a status cannot both miss each other
    // (webhook_sql::kAttachParked).
    auto recorded = co_await pool_.execute(kRecordWamid, pg::Params{}.add(id_hex).add(wamid));
    if (!recorded) {
        co_return recorded.error();
    }
    if (recorded->size() == 0) {
        co_return false;
    }
    const std::vector<std::string> wamids{wamid};
    const pg::Params attach_params = pg::Params{}.add(pg::text_array(wamids));
    auto attached = co_await pool_.execute(webhook_sql::kAttachParked, attach_params);
    if (!attached) {
        co_return attached.error();
    }
    co_return true;
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
