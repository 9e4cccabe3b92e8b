// Retention of the webhook tables: what is past WAGATE_WEBHOOK_RETENTION_HOURS goes, nothing else.

#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>
#include <wagate/core/clock.hpp>
#include <wagate/pg/pool.hpp>
#include <wagate/store/webhook_store.hpp>

#include "support/run_blocking.hpp"
#include "support/test_database.hpp"

namespace wagate::test {
namespace {
namespace asio = boost::asio;

Result<std::int64_t> prune(std::chrono::hours retention) {
    return run_blocking([](std::chrono::hours keep) -> asio::awaitable<Result<std::int64_t>> {
        pg::PoolSettings settings;
        settings.connection.conninfo = test_database_url();
        settings.size = 1;
        pg::Pool pool(co_await asio::this_coro::executor, settings);
        SystemClock clock;
        store::WebhookProcessor processor(co_await asio::this_coro::executor, pool, store::WebhookSettings{}, clock);
        auto pruned = co_await processor.prune(keep);
        co_return pruned;
    }(retention));
}

TEST(WebhookRetention, OnlyWhatIsPastRetentionAndProcessedIsDeleted) {
    WAGATE_REQUIRE_DATABASE();
    reset_database();
    // Deliveries: old and processed (goes), old but pending (stays: never applied), recent (stays).
    sql("INSERT INTO wagate.webhook_deliveries (body_sha256, body, received_at, processed_at) VALUES "
        "(sha256('a'), 'a', now() - interval '9 days', now() - interval '8 days'), "
        "(sha256('b'), 'b', now() - interval '9 days', NULL), "
        "(sha256('c'), 'c', now() - interval '1 hour', now() - interval '1 hour')");
    sql("INSERT INTO wagate.parked_statuses (wamid, status, participant, occurred_at, raw, parked_at) VALUES "
        "('wamid.old', 'sent', '', now(), '{}', now() - interval '8 days'), "
        "('wamid.new', 'sent', '', now(), '{}', now() - interval '1 day')");
    sql("INSERT INTO wagate.webhook_quarantine (reason, signature, remote_address, body_length, body_sha256, body, "
        "received_at) VALUES ('x', '', '127.0.0.1', 1, sha256('q'), 'q', now() - interval '8 days'), "
        "('x', '', '127.0.0.1', 1, sha256('r'), 'r', now())");

    auto pruned = prune(std::chrono::hours(24 * 7));
    ASSERT_TRUE(pruned.has_value()) << pruned.error().message;
    EXPECT_EQ(*pruned, 3);
    EXPECT_EQ(sql("SELECT string_agg(encode(body, 'escape'), ',' ORDER BY body) FROM wagate.webhook_deliveries"), "b,c");
    EXPECT_EQ(sql("SELECT string_agg(wamid, ',') FROM wagate.parked_statuses"), "wamid.new");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_quarantine"), "1");
}

}  // namespace
}  // namespace wagate::test
