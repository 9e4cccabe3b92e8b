#include <wagate/store/backlog_store.hpp>

#include <wagate/pg/pool.hpp>
#include <wagate/pg/statement.hpp>

namespace wagate::store {
namespace asio = boost::asio;

namespace {

// Each queue is small while the gateway keeps up, and large exactly when someone looks: planned
// at each execution so a plan made on an empty queue is never used on a backlog.
constexpr pg::Statement kBacklogs{"read_backlogs", R"SQL(
SELECT
  (SELECT count(*) FROM relay_queue),
  (SELECT count(*) FROM relay_queue WHERE due_at <= now()),
  (SELECT COALESCE((EXTRACT(EPOCH FROM now() - min(due_at)) * 1000)::bigint, 0)
     FROM relay_queue WHERE due_at <= now()),
  (SELECT count(*) FROM webhook_deliveries WHERE processed_at IS NULL),
  (SELECT COALESCE((EXTRACT(EPOCH FROM now() - min(received_at)) * 1000)::bigint, 0)
     FROM webhook_deliveries WHERE processed_at IS NULL),
  (SELECT count(*) FROM events WHERE state = 'pending'),
  (SELECT COALESCE((EXTRACT(EPOCH FROM now() - min(COALESCE(replayed_at, created_at))) * 1000)::bigint, 0)
     FROM events WHERE state = 'pending')
)SQL", std::chrono::milliseconds(2000), pg::Planning::kEachTime};

}  // namespace

asio::awaitable<Result<Backlogs>> BacklogStore::read() {
    const pg::Params no_params;
    auto rows = co_await pool_.execute(kBacklogs, no_params);
    if (!rows) {
        co_return rows.error();
    }
    const auto ms = [&rows](int col) { return std::chrono::milliseconds(std::max<std::int64_t>(0, rows->get_int64(0, col))); };
    Backlogs b;
    b.relay_queued = rows->get_int64(0, 0);
    b.relay_due = rows->get_int64(0, 1);
    b.relay_oldest_due_age = ms(2);
    b.webhooks_pending = rows->get_int64(0, 3);
    b.webhooks_oldest_age = ms(4);
    b.events_pending = rows->get_int64(0, 5);
    b.events_oldest_age = ms(6);
    co_return b;
}

}  // namespace wagate::store
