#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <wagate/pg/pool.hpp>

#include "support/run_blocking.hpp"
#include "support/test_database.hpp"

namespace wagate::test {
namespace {
namespace asio = boost::asio;
using std::chrono::milliseconds;

pg::ConnectionSettings settings(milliseconds statement_timeout = milliseconds(2000)) {
    pg::ConnectionSettings s;
    s.conninfo = test_database_url();
    s.statement_timeout = statement_timeout;
    return s;
}

class ConnectionTest : public ::testing::Test {
protected:
    void SetUp() override { WAGATE_REQUIRE_DATABASE(); }
};

constexpr pg::Statement kEcho{"test_echo", "SELECT $1::text, $2::bigint, $3::text IS NULL"};
constexpr pg::Statement kSleep{"test_sleep", "SELECT pg_sleep($1::float8)", milliseconds(300)};
constexpr pg::Statement kDuplicate{"test_dup",
                                   "INSERT INTO wagate.businesses (id) VALUES ($1), ($1)"};
constexpr pg::Statement kBadCast{"test_bad_cast", "SELECT $1::uuid"};
constexpr pg::Statement kBackendPid{"test_pid", "SELECT pg_backend_pid()"};
constexpr pg::Statement kCount{
    "test_count",
    "SELECT (SELECT count(*) FROM pg_stat_activity WHERE application_name = 'wagate-pool-test') "
    "FROM pg_sleep(0.02)"};

TEST_F(ConnectionTest, RoundTripsParametersAndNulls) {
    auto rows = run_blocking([]() -> asio::awaitable<Result<pg::Rows>> {
        auto c = co_await pg::Connection::connect(settings());
        if (!c) {
            co_return c.error();
        }
        pg::Params p;
        p.add(std::string_view("it's \"quoted\" — ünïcode")).add(std::int64_t{-42}).add_null();
        co_return co_await (*c)->execute(kEcho, p);
    }());
    ASSERT_TRUE(rows) << rows.error().message;
    EXPECT_EQ(rows->get(0, 0), "it's \"quoted\" — ünïcode");
    EXPECT_EQ(rows->get_int64(0, 1), -42);
    EXPECT_TRUE(rows->get_bool(0, 2));
}

constexpr pg::Statement kEchoPlannedEachTime{"test_echo_each_time", "SELECT $1::text, $2::bigint, $3::text IS NULL",
                                             milliseconds(5000), pg::Planning::kEachTime};
constexpr pg::Statement kPreparedNames{"test_prepared_names",
                                       "SELECT string_agg(name, ',' ORDER BY name) FROM pg_prepared_statements"};

TEST_F(ConnectionTest, AStatementPlannedEachTimeIsNeverPrepared) {
    auto rows = run_blocking([]() -> asio::awaitable<Result<pg::Rows>> {
        auto c = co_await pg::Connection::connect(settings());
        if (!c) {
            co_return c.error();
        }
        for (int i = 0; i < 7; ++i) {  // past the five executions after which a generic plan may stick
            pg::Params p;
            p.add(std::string_view("it's")).add(std::int64_t{i}).add_null();
            auto echoed = co_await (*c)->execute(kEchoPlannedEachTime, p);
            if (!echoed || echoed->get_int64(0, 1) != i || echoed->get(0, 0) != "it's" || !echoed->get_bool(0, 2)) {
                co_return Error{Errc::kInternal, "wrong echo"};
            }
        }
        co_return co_await (*c)->execute(kPreparedNames, pg::Params{});
    }());
    ASSERT_TRUE(rows) << rows.error().message;
    EXPECT_EQ(rows->get(0, 0), "test_prepared_names") << "only the prepared statement is prepared";
}

TEST_F(ConnectionTest, ClassifiesServerErrorsAndStaysUsable) {
    reset_database();
    auto outcome = run_blocking([]() -> asio::awaitable<std::vector<Errc>> {
        std::vector<Errc> seen;
        auto c = co_await pg::Connection::connect(settings());
        if (!c) {
            co_return seen;
        }
        auto dup = co_await (*c)->execute(kDuplicate, pg::Params{}.add("dup"));
        seen.push_back(dup ? Errc::kInternal : dup.error().code);
        auto cast = co_await (*c)->execute(kBadCast, pg::Params{}.add("not-a-uuid"));
        seen.push_back(cast ? Errc::kInternal : cast.error().code);
        auto again = co_await (*c)->execute(kEcho, pg::Params{}.add("x").add(1).add("y"));
        seen.push_back(again ? Errc::kNotFound : again.error().code);  // kNotFound marks "worked"
        seen.push_back((*c)->broken() ? Errc::kDbUnavailable : Errc::kNotFound);
        co_return seen;
    }());
    ASSERT_EQ(outcome.size(), 4u);
    EXPECT_EQ(outcome[0], Errc::kConflict);         // 23505
    EXPECT_EQ(outcome[1], Errc::kInvalidArgument);  // 22P02
    EXPECT_EQ(outcome[2], Errc::kNotFound);         // the connection still works
    EXPECT_EQ(outcome[3], Errc::kNotFound);         // and is not marked broken
}

TEST_F(ConnectionTest, StatementTimeoutIsATimeout) {
    auto result = run_blocking([]() -> asio::awaitable<Result<pg::Rows>> {
        auto c = co_await pg::Connection::connect(settings(milliseconds(200)));
        if (!c) {
            co_return c.error();
        }
        co_return co_await (*c)->execute(kSleep, pg::Params{}.add("5"));
    }());
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, Errc::kTimeout);
}

TEST_F(ConnectionTest, UnreachableServerIsDbUnavailable) {
    auto result = run_blocking([]() -> asio::awaitable<Result<std::unique_ptr<pg::Connection>>> {
        pg::ConnectionSettings s;
        s.conninfo = "postgresql://postgres@127.0.0.1:1/nowhere";
        s.connect_timeout = milliseconds(2000);
        co_return co_await pg::Connection::connect(s);
    }());
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, Errc::kDbUnavailable);
}

TEST_F(ConnectionTest, PoolReplacesAConnectionTheServerKilled) {
    auto pids = run_blocking([]() -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> seen;
        auto executor = co_await asio::this_coro::executor;
        pg::Pool pool(executor, pg::PoolSettings{settings(), 1});
        auto first = co_await pool.execute(kBackendPid, pg::Params{});
        if (!first) {
            co_return seen;
        }
        seen.emplace_back(first->get(0, 0));
        sql("SELECT pg_terminate_backend(" + seen.back() + ")");
        auto failed = co_await pool.execute(kBackendPid, pg::Params{});  // the dead connection
        seen.emplace_back(failed ? "unexpected success" : "failed");
        auto second = co_await pool.execute(kBackendPid, pg::Params{});  // a new connection
        seen.emplace_back(second ? std::string(second->get(0, 0)) : "no reconnect");
        co_return seen;
    }());
    ASSERT_EQ(pids.size(), 3u);
    EXPECT_EQ(pids[1], "failed");
    EXPECT_NE(pids[2], "no reconnect");
    EXPECT_NE(pids[2], pids[0]);
}

TEST_F(ConnectionTest, PoolNeverLendsMoreConnectionsThanItHas) {
    // 20 concurrent sleeps on a pool of 3: the server never sees more than 3 of our connections.
    const auto max_seen = run_blocking([]() -> asio::awaitable<int> {
        auto executor = co_await asio::this_coro::executor;
        auto connection = settings();
        connection.application_name = "wagate-pool-test";
        auto pool = std::make_shared<pg::Pool>(executor, pg::PoolSettings{connection, 3});
        auto remaining = std::make_shared<int>(20);
        auto done = std::make_shared<asio::steady_timer>(executor, std::chrono::steady_clock::time_point::max());
        auto max = std::make_shared<int>(0);
        for (int i = 0; i < 20; ++i) {
            asio::co_spawn(executor, [pool, remaining, done, max]() -> asio::awaitable<void> {
                auto rows = co_await pool->execute(kCount, pg::Params{});
                if (rows) {
                    *max = std::max<int>(*max, static_cast<int>(rows->get_int64(0, 0)));
                }
                if (--*remaining == 0) {
                    done->cancel();
                }
            }, asio::detached);
        }
        co_await done->async_wait(asio::as_tuple(asio::use_awaitable));
        co_return *max;
    }());
    EXPECT_GE(max_seen, 1);
    EXPECT_LE(max_seen, 3);
}

}  // namespace
}  // namespace wagate::test
