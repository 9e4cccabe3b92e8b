// Per-user order of inbound message events (docs/events.md, "Order") across concurrent webhooks:
// a claim delivers a user's events by id among those committed, so two webhooks of one user
// applied at once must number their events in the order they commit. The inbound statement
// guarantees it by locking the user's contact row before its events draw their ids; here another
// transaction holds that row, and the webhook's statement must wait for it without having drawn
// an id. (PostgreSQL runs data-modifying CTEs that nothing reads in no documented order, so the
// statement makes the event insert read the contact upsert.)
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "support/eventually.hpp"
#include "support/meta_webhooks.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using InboundEventOrderTest = GatewayTest;

std::string event_sequence() { return sql("SELECT last_value || '/' || is_called FROM wagate.events_id_seq"); }

TEST_F(InboundEventOrderTest, AnInboundEventDrawsItsIdOnlyOnceItsUserIsLocked) {
    PGconn* locker = PQconnectdb(test_database_url().c_str());
    ASSERT_EQ(PQstatus(locker), CONNECTION_OK) << PQerrorMessage(locker);
    auto exec = [locker](const char* statement) {
        PGresult* r = PQexec(locker, statement);
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        const int rows = PQntuples(r);
        PQclear(r);
        EXPECT_TRUE(ok) << statement << ": " << PQerrorMessage(locker);
        return rows;
    };
    exec("BEGIN");
    ASSERT_EQ(exec("SELECT 1 FROM wagate.contacts WHERE phone_number_id = '1001' AND wa_id = '15551234567' FOR UPDATE"), 1);
    const std::string before = event_sequence();

    const json message = {{"from", kWindowUser}, {"id", "wamid.order1"}, {"timestamp", std::to_string(clock_->unix_seconds())},
                          {"type", "text"}, {"text", {{"body", "hello"}}}};
    auto client = gateway_->client();
    ASSERT_EQ(post_webhook(client, inbound_body("1001", json::array({message}))).status, 200);
    std::optional<std::string> failure;
    std::thread applier([this, &failure] {
        try {
            gateway_->drain_webhooks();
        } catch (const std::exception& e) {
            failure = e.what();
        }
    });
    const bool waiting = eventually(
        [] {
            return sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()") != "0";
        },
        10s);
    EXPECT_TRUE(waiting) << "the webhook's statement never waited for the user's row";
    EXPECT_EQ(event_sequence(), before) << "the event drew its id before the user's row was locked";
    exec("COMMIT");
    PQfinish(locker);
    applier.join();
    ASSERT_FALSE(failure) << *failure;
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.events WHERE kind = 'message'"), "1");
}

}  // namespace
}  // namespace wagate::test
