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
    i.kind = domain::RequestKind::kMessage;
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
    int rejection_code = 0;
};

/// Submits every item at once from `threads` threads and collects the outcomes in order. With
/// `instances` > 1, items go round robin to that many writers, each with its own pool: what
/// several gateway processes on one database look like to PostgreSQL.
std::vector<Outcome> accept_all(std::vector<AcceptItem> items, store::AcceptWriterSettings settings, int threads = 4,
                                int instances = 1) {
    return run_blocking(
        [](std::vector<AcceptItem> batch, store::AcceptWriterSettings writer_settings,
           int writer_count) -> asio::awaitable<std::vector<Outcome>> {
            auto executor = co_await asio::this_coro::executor;
            pg::ConnectionSettings cs;
            cs.conninfo = test_database_url();
            SystemClock clock;
            std::vector<std::unique_ptr<pg::Pool>> pools;
            std::vector<std::unique_ptr<store::AcceptWriter>> writers;
            for (int w = 0; w < writer_count; ++w) {
                pools.push_back(std::make_unique<pg::Pool>(executor, pg::PoolSettings{cs, 4}));
                writers.push_back(std::make_unique<store::AcceptWriter>(executor, *pools.back(), writer_settings, clock));
            }
            auto outcomes = std::make_shared<std::vector<Outcome>>(batch.size());
            auto remaining = std::make_shared<std::atomic<std::size_t>>(batch.size());
            asio::steady_timer done(executor, std::chrono::steady_clock::time_point::max());
            for (std::size_t i = 0; i < batch.size(); ++i) {
                store::AcceptWriter* writer = writers[i % writers.size()].get();
                asio::co_spawn(
                    asio::make_strand(executor),
                    [writer, &done, outcomes, remaining, i, it = std::move(batch[i])]() mutable -> asio::awaitable<void> {
                        auto r = co_await writer->accept(std::move(it));
                        Outcome& o = (*outcomes)[i];
                        o.ok = r.has_value();
                        if (r) {
                            o.outcome = r->outcome;
                            o.body = r->response_body;
                            o.rejection_code = r->rejection ? r->rejection->code : 0;
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
        }(std::move(items), settings, instances),
        threads);
}

store::AcceptWriterSettings one_writer() {
    store::AcceptWriterSettings settings;
    settings.max_writers = 1;
    return settings;
}

class AcceptWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
        // The number the items are for, and an open customer service window to their recipient.
        sql("INSERT INTO wagate.businesses (id) VALUES ('biz1')");
        sql("INSERT INTO wagate.phone_numbers (id, business_id) VALUES ('1001', 'biz1')");
        sql("INSERT INTO wagate.contacts (phone_number_id, wa_id, last_inbound_at) "
            "VALUES ('1001', '15551234567', now())");
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
    auto outcomes = accept_all(items, one_writer(), 1);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        EXPECT_EQ(outcomes[i].ok, i != 20) << i;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "39");
}

/// A business-initiated template to `wa_id` (no window is open to these users).
AcceptItem template_item(const std::string& wa_id) {
    AcceptItem i = item();
    i.type = "template";
    i.to_input = "+" + wa_id;
    i.wa_id = wa_id;
    i.payload_json = R"({"messaging_product":"whatsapp","to":"+)" + wa_id +
                     R"(","type":"template","template":{"name":"hello","language":{"code":"en_US"}}})";
    i.template_name = "hello";
    i.template_language = "en_US";
    return i;
}

class BudgetRaceTest : public AcceptWriterTest {
protected:
    void SetUp() override {
        AcceptWriterTest::SetUp();
        sql("UPDATE wagate.businesses SET messaging_limit_tier = 'TIER_50'");
        sql("UPDATE wagate.phone_numbers SET require_opt_in = false, waba_id = 'waba1'");
        sql("INSERT INTO wagate.templates (waba_id, name, language, category, status, definition) VALUES "
            "('waba1', 'hello', 'en_US', 'UTILITY', 'APPROVED', "
            "'{\"category\":\"UTILITY\",\"status\":\"APPROVED\",\"components\":[{\"type\":\"BODY\",\"text\":\"Hi\"}]}')");
    }
};

// Three writers with their own pools (three "instances"), two batches in flight each, 400
// distinct users racing for 50 slots: exactly 50 win, and the counter and the counts agree.
// Without the business lock, batches reading the budget concurrently would all see free slots.
TEST_F(BudgetRaceTest, ConcurrentBatchesOfSeveralInstancesNeverExceedTheLimit) {
    std::vector<AcceptItem> items;
    for (int i = 0; i < 400; ++i) {
        items.push_back(template_item(std::to_string(15550100000 + i)));
    }
    store::AcceptWriterSettings small_batches;
    small_batches.max_batch = 8;  // many batches, so many lock hand-overs
    auto outcomes = accept_all(items, small_batches, 4, 3);
    int stored = 0;
    int limited = 0;
    for (const auto& o : outcomes) {
        ASSERT_TRUE(o.ok);
        stored += o.outcome == AcceptOutcome::kStored ? 1 : 0;
        limited += o.rejection_code == 900100 ? 1 : 0;
    }
    EXPECT_EQ(stored, 50);
    EXPECT_EQ(limited, 350);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), "50");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.limit_counts"), "50");
    EXPECT_EQ(sql("SELECT limit_used FROM wagate.businesses"), "50");
}

TEST_F(BudgetRaceTest, RepeatsToCountedUsersAreFreeAndTheLastSlotHasOneWinner) {
    std::vector<AcceptItem> first;
    for (int i = 0; i < 49; ++i) {
        first.push_back(template_item(std::to_string(15550200000 + i)));
    }
    for (const auto& o : accept_all(first, {})) {
        ASSERT_EQ(o.outcome, AcceptOutcome::kStored);
    }
    // The 49 counted users again, and 50 new users racing for the one slot left.
    std::vector<AcceptItem> second;
    for (int i = 0; i < 49; ++i) {
        second.push_back(template_item(std::to_string(15550200000 + i)));
        second.push_back(template_item(std::to_string(15550300000 + i)));
    }
    second.push_back(template_item("15550399999"));
    auto outcomes = accept_all(second, {}, 4, 2);
    int new_users_stored = 0;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const bool repeat = i % 2 == 0 && i < 98;
        if (repeat) {
            EXPECT_EQ(outcomes[i].outcome, AcceptOutcome::kStored) << "a counted user costs nothing";
        } else {
            new_users_stored += outcomes[i].outcome == AcceptOutcome::kStored ? 1 : 0;
        }
    }
    EXPECT_EQ(new_users_stored, 1);
    EXPECT_EQ(sql("SELECT limit_used FROM wagate.businesses"), "50");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.limit_counts"), "50");
}

}  // namespace
}  // namespace wagate::test
