#include <atomic>
#include <map>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <wagate/crypto/random.hpp>
#include <wagate/pg/pool.hpp>
#include <wagate/store/message_store.hpp>

#include "support/run_blocking.hpp"
#include "support/test_database.hpp"

namespace wagate::test {
namespace {
namespace asio = boost::asio;
using store::AcceptItem;
using store::AcceptOutcome;

constexpr const char* kKeyId = "01a1fd8d18ad75cb9106c4ec1e31451d";

AcceptItem item(std::optional<std::string> idempotency_key = std::nullopt, std::string hash = "aa") {
    AcceptItem i;
    i.id = crypto::uuid_v7_hex(std::chrono::system_clock::now());
    i.phone_number_id = "1001";
    i.kind = "message";
    i.type = "text";
    i.to_input = "+15551234567";
    i.wa_id = "15551234567";
    i.payload_json = R"({"text":{"body":"hi \"there\" \\ ünïcode"},"type":"text"})";
    i.api_key_id = kKeyId;
    i.idempotency_key = std::move(idempotency_key);
    i.request_hash_hex = std::move(hash);
    i.response_body = "response-for-" + i.id;
    return i;
}

struct Outcome {
    bool ok = false;
    AcceptOutcome outcome = AcceptOutcome::kStored;
    std::string body;
    Errc error = Errc::kInternal;
};

/// Submits every item at once from `threads` threads and collects the outcomes in order.
std::vector<Outcome> accept_all(std::vector<AcceptItem> items, store::AcceptWriterSettings settings, int threads = 4) {
    return run_blocking(
        [](std::vector<AcceptItem> batch, store::AcceptWriterSettings writer_settings)
            -> asio::awaitable<std::vector<Outcome>> {
            auto executor = co_await asio::this_coro::executor;
            pg::ConnectionSettings cs;
            cs.conninfo = test_database_url();
            pg::Pool pool(executor, pg::PoolSettings{cs, 4});
            store::AcceptWriter writer(executor, pool, writer_settings);
            auto outcomes = std::make_shared<std::vector<Outcome>>(batch.size());
            auto remaining = std::make_shared<std::atomic<std::size_t>>(batch.size());
            asio::steady_timer done(executor, std::chrono::steady_clock::time_point::max());
            for (std::size_t i = 0; i < batch.size(); ++i) {
                asio::co_spawn(
                    asio::make_strand(executor),
                    [&writer, &done, outcomes, remaining, i, it = std::move(batch[i])]() mutable -> asio::awaitable<void> {
                        auto r = co_await writer.accept(std::move(it));
                        Outcome& o = (*outcomes)[i];
                        o.ok = r.has_value();
                        if (r) {
                            o.outcome = r->outcome;
                            o.body = r->response_body;
                        } else {
                            o.error = r.error().code;
                        }
                        if (remaining->fetch_sub(1) == 1) {
                            asio::post(done.get_executor(), [&done] { done.cancel(); });
                        }
                    },
                    asio::detached);
            }
            co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
            co_return *outcomes;
        }(std::move(items), settings),
        threads);
}

class AcceptWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
    }
};

TEST_F(AcceptWriterTest, ConcurrentAcceptsAreAllCommittedWithStatusAndQueueRow) {
    std::vector<AcceptItem> items;
    for (int i = 0; i < 300; ++i) {
        items.push_back(item());
    }
    auto outcomes = accept_all(items, store::AcceptWriterSettings{});
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        ASSERT_TRUE(outcomes[i].ok) << i;
        EXPECT_EQ(outcomes[i].outcome, AcceptOutcome::kStored);
        EXPECT_EQ(outcomes[i].body, items[i].response_body);
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "300");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.message_statuses WHERE status = 'accepted'"), "300");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), "300");
    // The payload went through the array literal and jsonb intact.
    EXPECT_EQ(sql("SELECT DISTINCT payload->'text'->>'body' FROM wagate.messages"), "hi \"there\" \\ ünïcode");
}

TEST_F(AcceptWriterTest, ConcurrentRepeatsOfOneKeyStoreOneMessage) {
    std::vector<AcceptItem> items;
    for (int i = 0; i < 50; ++i) {
        items.push_back(item("same-key", "aa11"));
    }
    auto outcomes = accept_all(items, store::AcceptWriterSettings{});
    int stored = 0;
    std::string first_body;
    for (const auto& o : outcomes) {
        ASSERT_TRUE(o.ok);
        if (o.outcome == AcceptOutcome::kStored) {
            ++stored;
            first_body = o.body;
        }
    }
    ASSERT_EQ(stored, 1);
    for (const auto& o : outcomes) {
        EXPECT_EQ(o.body, first_body) << "every repeat answers the original response";
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "1");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue"), "1");
}

TEST_F(AcceptWriterTest, SameKeyWithADifferentRequestIsAMismatch) {
    auto first = accept_all({item("k", "aa11")}, {});
    ASSERT_TRUE(first[0].ok);
    auto second = accept_all({item("k", "bb22"), item("k", "aa11")}, {});
    ASSERT_TRUE(second[0].ok && second[1].ok);
    EXPECT_EQ(second[0].outcome, AcceptOutcome::kIdempotencyMismatch);
    EXPECT_EQ(second[1].outcome, AcceptOutcome::kReplay);
    EXPECT_EQ(second[1].body, first[0].body);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "1");
}

TEST_F(AcceptWriterTest, OneBadItemDoesNotFailItsBatch) {
    // One writer, so the items queue behind the first and commit together as one batch.
    std::vector<AcceptItem> items;
    for (int i = 0; i < 40; ++i) {
        items.push_back(item());
    }
    items[20].id = "not-a-uuid";
    auto outcomes = accept_all(items, store::AcceptWriterSettings{256, 1, std::chrono::hours(1)}, 1);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        EXPECT_EQ(outcomes[i].ok, i != 20) << i;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "39");
}

}  // namespace
}  // namespace wagate::test
