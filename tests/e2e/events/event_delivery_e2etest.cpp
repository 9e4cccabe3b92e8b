// Event delivery to a business backend (contract §7): a real receiver on loopback checks every
// signature byte for byte and records what it got. Every kind of event, once, in order; the
// receiver down and back; random failures and timeouts; non-ASCII bodies; dead events and replay;
// a slow backend next to a fast one; the catch-up cursor while events keep arriving.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/event_receiver.hpp"
#include "support/eventually.hpp"
#include "support/fake_upstream.hpp"
#include "support/meta_webhooks.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kCallbackSecret = "callback-secret-1001";
constexpr std::int64_t kT0 = 1'750'030'000;

/// The single status or message item of a delivered body, and the envelope's essentials.
struct Delivered {
    json body;
    std::string field;
    json value;
    std::string kind;  // "status", "message" or the account field
    std::string id;    // statuses[0].id or messages[0].id
    std::string status;
};

Delivered read_delivered(const ReceivedEvent& e) {
    Delivered d;
    d.body = json::parse(e.body);
    const json& change = d.body["entry"][0]["changes"][0];
    d.field = change["field"];
    d.value = change["value"];
    if (d.field == "messages" && d.value.contains("statuses")) {
        d.kind = "status";
        d.id = d.value["statuses"][0]["id"];
        d.status = d.value["statuses"][0]["status"];
    } else if (d.field == "messages" && d.value.contains("messages")) {
        d.kind = "message";
        d.id = d.value["messages"][0]["id"];
    } else {
        d.kind = d.field;
    }
    return d;
}

class EventDeliveryTest : public GatewayTest {
protected:
    void SetUp() override {}

    static app::Config delivery_config() {
        app::Config c = TestGateway::base_config();
        c.event_delivery = true;
        c.event_allow_http = true;
        c.event_retry_base_ms = 100;
        c.event_retry_max_ms = 1'000;
        c.event_connect_timeout_ms = 500;
        c.event_timeout_ms = 1'000;
        c.event_lease_ms = 5'000;
        return c;
    }

    void start_delivering(EventReceiver& receiver, app::Config config = delivery_config()) {
        start(std::move(config));
        set_callback("1001", receiver.url(), kCallbackSecret);
    }

    void set_callback(const std::string& number, const std::string& url, const std::string& secret) {
        const json body = {{"business_id", "biz1"},      {"access_token", "meta-token"},
                           {"waba_id", kWabaId},         {"display_phone_number", "+1 555-000-" + number},
                           {"callback_url", url},        {"callback_secret", secret}};
        auto r = gateway_->admin("PUT", "/admin/v1/phone-numbers/" + number, body.dump());
        ASSERT_EQ(r.status, 200) << r.body;
    }

    void apply(const std::string& body) {
        auto client = gateway_->client();
        auto r = post_webhook(client, body);
        ASSERT_EQ(r.status, 200) << r.body;
        gateway_->drain_webhooks();
    }

    static json inbound_text(const std::string& from, const std::string& wamid, std::int64_t ts,
                             const std::string& text) {
        return json{{"from", from}, {"id", wamid}, {"timestamp", std::to_string(ts)}, {"type", "text"},
                    {"text", {{"body", text}}}};
    }
    static json sender(const std::string& wa_id) {
        return json{{"profile", {{"name", "Ana"}}}, {"wa_id", wa_id}};
    }

    static std::int64_t count(const std::string& where) {
        return std::stoll(sql("SELECT count(*) FROM wagate.events WHERE " + where));
    }

    /// Every event of the database acknowledged; the receiver saw each acknowledged body once.
    static void expect_each_once(const std::vector<ReceivedEvent>& acked) {
        std::map<std::string, int> seen;
        for (const auto& e : acked) {
            EXPECT_EQ(++seen[e.body], 1) << "delivered twice: " << e.body;
        }
    }

    /// Per message id, the statuses in the order the receiver acknowledged them.
    static std::map<std::string, std::vector<std::string>> statuses_by_message(const std::vector<ReceivedEvent>& acked) {
        std::map<std::string, std::vector<std::string>> out;
        for (const auto& e : acked) {
            const Delivered d = read_delivered(e);
            if (d.kind == "status") {
                out[d.id].push_back(d.status);
            }
        }
        return out;
    }
};

TEST_F(EventDeliveryTest, EveryKindOfEventIsDeliveredOnceSignedAndInTheCloudApiShape) {
    EventReceiver receiver(kCallbackSecret);
    start_delivering(receiver);
    const std::string a = sent_message("wamid.A");
    const std::string b = sent_message("wamid.B");

    apply(statuses_body("1001", json::array({status_item("wamid.A", "sent", kT0),
                                             status_item("wamid.A", "delivered", kT0 + 1),
                                             status_item("wamid.A", "read", kT0 + 2)})));
    apply(statuses_body(
        "1001", json::array({status_item("wamid.B", "failed", kT0 + 3,
                                         {{"errors", json::array({{{"code", 131026},
                                                                   {"title", "Message undeliverable"}}})}}),
                             status_item("wamid.A", "warning", kT0 + 4)})));
    apply(inbound_body("1001", json::array({inbound_text("15550001111", "wamid.IN1", kT0 + 5, "hello")}),
                       json::array({sender("15550001111")})));
    // On-Premises' deletion of that inbound message: announced as a `deleted` status.
    apply(json{{"statuses", json::array({{{"id", "wamid.IN1"},
                                          {"recipient_id", "15550001111"},
                                          {"status", "deleted"},
                                          {"timestamp", std::to_string(kT0 + 6)}}})}}
              .dump());
    apply(account_body(kWabaId, "phone_number_quality_update", kT0 + 7,
                       {{"display_phone_number", "15550001001"}, {"event", "FLAGGED"}, {"current_limit", "TIER_1K"}}));

    constexpr std::size_t kEvents = 8;  // sent, delivered, read, failed, warning, message, deleted, account
    ASSERT_TRUE(receiver.wait_for_acknowledged(kEvents)) << receiver.count();
    ASSERT_TRUE(eventually([] { return count("state = 'delivered'") == static_cast<std::int64_t>(kEvents); }));
    EXPECT_EQ(count("true"), static_cast<std::int64_t>(kEvents));
    const auto acked = receiver.acknowledged();
    ASSERT_EQ(acked.size(), kEvents) << "nothing more than the events, each once";
    expect_each_once(acked);

    std::map<std::string, std::vector<Delivered>> by_kind;
    for (const auto& e : acked) {
        EXPECT_TRUE(e.signature_valid_raw) << e.body;
        EXPECT_TRUE(e.signature_valid_reescaped) << e.body;
        EXPECT_TRUE(e.content_length);
        EXPECT_FALSE(e.chunked);
        EXPECT_TRUE(e.ascii_only);
        EXPECT_EQ(e.content_type, "application/json");
        EXPECT_EQ(e.path, "/events");
        const Delivered d = read_delivered(e);
        EXPECT_EQ(d.body["object"], "whatsapp_business_account");
        EXPECT_EQ(d.body["entry"][0]["id"], kWabaId);
        EXPECT_EQ(d.body["entry"][0]["changes"].size(), 1U) << "one event per request";
        by_kind[d.kind].push_back(d);
    }
    ASSERT_EQ(by_kind["status"].size(), 6U);
    ASSERT_EQ(by_kind["message"].size(), 1U);
    ASSERT_EQ(by_kind["phone_number_quality_update"].size(), 1U);

    EXPECT_EQ(statuses_by_message(acked)[a], (std::vector<std::string>{"sent", "delivered", "read", "warning"}))
        << "in the order they were recorded";
    for (const auto& d : by_kind["status"]) {
        const json& item = d.value["statuses"][0];
        EXPECT_EQ(d.value["messaging_product"], "whatsapp");
        EXPECT_EQ(d.value["metadata"]["phone_number_id"], "1001");
        EXPECT_EQ(d.value["metadata"]["display_phone_number"], "15550001001");
        if (d.id == a) {
            EXPECT_EQ(item["wamid"], "wamid.A") << "Meta's id rides along";
            EXPECT_EQ(item["recipient_id"], kWindowUser);
        } else if (d.id == b) {
            EXPECT_EQ(item["status"], "failed");
            EXPECT_EQ(item["wamid"], "wamid.B");
            EXPECT_EQ(item["errors"][0]["code"], 131026);
        } else {
            EXPECT_EQ(d.id, "wamid.IN1") << "a deleted inbound message keeps Meta's id";
            EXPECT_EQ(item["status"], "deleted");
        }
    }
    const Delivered& in = by_kind["message"][0];
    EXPECT_EQ(in.id, "wamid.IN1");
    EXPECT_EQ(in.value["messages"][0]["text"]["body"], "hello");
    EXPECT_EQ(in.value["contacts"][0]["wa_id"], "15550001111");
    EXPECT_EQ(in.value["metadata"]["phone_number_id"], "1001");
    const Delivered& account = by_kind["phone_number_quality_update"][0];
    EXPECT_EQ(account.value["event"], "FLAGGED");
    EXPECT_EQ(account.body["entry"][0]["time"], kT0 + 7);

    // Applying the same webhooks again (another body, same items) announces nothing new.
    apply(statuses_body("1001", json::array({status_item("wamid.A", "read", kT0 + 2),
                                             status_item("wamid.A", "sent", kT0)})));
    apply(json{{"statuses", json::array({{{"id", "wamid.IN1"},
                                          {"recipient_id", "15550001111"},
                                          {"status", "deleted"},
                                          {"timestamp", std::to_string(kT0 + 9)}}})}}
              .dump());
    EXPECT_EQ(count("true"), static_cast<std::int64_t>(kEvents));
}

TEST_F(EventDeliveryTest, ALateLowerStatusIsRecordedButNeverDeliveredAfterAHigherOne) {
    EventReceiver receiver(kCallbackSecret);
    start_delivering(receiver);
    const std::string id = sent_message("wamid.late");
    apply(statuses_body("1001", json::array({status_item("wamid.late", "delivered", kT0 + 2)})));
    apply(statuses_body("1001", json::array({status_item("wamid.late", "sent", kT0 + 1)})));
    apply(statuses_body("1001", json::array({status_item("wamid.late", "failed", kT0 + 3)})));
    apply(statuses_body("1001", json::array({status_item("wamid.late", "read", kT0 + 4)})));
    ASSERT_TRUE(receiver.wait_for_acknowledged(2));
    ASSERT_TRUE(eventually([] { return count("state <> 'delivered'") == 0; }));
    EXPECT_EQ(statuses_by_message(receiver.acknowledged())[id], (std::vector<std::string>{"delivered", "read"}));
    EXPECT_EQ(sql("SELECT string_agg(status, ',' ORDER BY status) FROM wagate.message_statuses WHERE message_id = '" +
                  id.substr(7) + "'::uuid"),
              "accepted,delivered,failed,read,sent")
        << "every status is recorded";
}

TEST_F(EventDeliveryTest, ALaterStatusWaitsForTheEarlierOneToBeAcknowledged) {
    std::atomic<bool> refuse_sent{true};
    EventReceiver receiver(kCallbackSecret, [&](const ReceivedEvent& e, int) {
        const bool is_sent = e.body.find("\"status\":\"sent\"") != std::string::npos;
        return EventReply{is_sent && refuse_sent.load() ? 500 : 200};
    });
    start_delivering(receiver);
    const std::string id = sent_message("wamid.order");
    apply(statuses_body("1001", json::array({status_item("wamid.order", "sent", kT0)})));
    ASSERT_TRUE(eventually([&] { return receiver.count() >= 2; })) << "sent is retried";
    apply(statuses_body("1001", json::array({status_item("wamid.order", "delivered", kT0 + 1)})));
    apply(statuses_body("1001", json::array({status_item("wamid.order", "read", kT0 + 2)})));
    const std::size_t before = receiver.count();
    ASSERT_TRUE(eventually([&] { return receiver.count() >= before + 2; }));
    for (const auto& e : receiver.received()) {
        EXPECT_NE(read_delivered(e).status, "delivered") << "nothing after sent until sent is acknowledged";
    }
    refuse_sent = false;
    ASSERT_TRUE(receiver.wait_for_acknowledged(3));
    EXPECT_EQ(statuses_by_message(receiver.acknowledged())[id], (std::vector<std::string>{"sent", "delivered", "read"}));
}

TEST_F(EventDeliveryTest, AReceiverThatIsDownGetsEverythingOnceAndInOrderWhenItReturns) {
    EventReceiver receiver(kCallbackSecret);
    start_delivering(receiver);
    receiver.stop();
    constexpr int kMessages = 20;
    std::vector<std::string> ids;
    for (int i = 0; i < kMessages; ++i) {
        ids.push_back(sent_message("wamid.down" + std::to_string(i)));
    }
    for (const char* status : {"sent", "delivered", "read"}) {
        json items = json::array();
        for (int i = 0; i < kMessages; ++i) {
            items.push_back(status_item("wamid.down" + std::to_string(i), status, kT0 + 1));
        }
        apply(statuses_body("1001", items));
    }
    apply(inbound_body("1001", json::array({inbound_text("15550002222", "wamid.INdown", kT0 + 5, "still there?")}),
                       json::array({sender("15550002222")})));
    const std::int64_t total = kMessages * 3 + 1;
    ASSERT_EQ(count("true"), total);
    // Once the URL is known to be failing, only one probe goes out per wait, not every event.
    auto failures_at_least = [](int n) {
        return [n] { return sql("SELECT count(*) FROM wagate.event_endpoints WHERE failures >= " + std::to_string(n)) == "1"; };
    };
    auto attempts = [] { return std::stoll(sql("SELECT sum(attempts) FROM wagate.events")); };
    ASSERT_TRUE(eventually(failures_at_least(2)));
    const std::int64_t attempts_at_2 = attempts();
    ASSERT_TRUE(eventually(failures_at_least(5)));
    EXPECT_LE(attempts() - attempts_at_2, 4) << "events are not tried one by one against a URL that is down";

    receiver.start();
    ASSERT_TRUE(receiver.wait_for_acknowledged(total));
    ASSERT_TRUE(eventually([] { return count("state <> 'delivered'") == 0; }));
    const auto acked = receiver.acknowledged();
    EXPECT_EQ(acked.size(), static_cast<std::size_t>(total));
    expect_each_once(acked);
    const auto by_message = statuses_by_message(acked);
    for (const auto& id : ids) {
        EXPECT_EQ(by_message.at(id), (std::vector<std::string>{"sent", "delivered", "read"})) << id;
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.event_endpoints"), "0") << "the URL is healthy again";
}

TEST_F(EventDeliveryTest, ABackendThatHangsGetsOneProbeAtATime) {
    // The first request fails, so the URL is failing; every later one is held past the 1 s event
    // timeout. A probe then times out after 1 s, and no second probe may go out meanwhile,
    // however many events are waiting.
    std::atomic<int> requests{0};
    EventReceiver receiver(kCallbackSecret, [&](const ReceivedEvent&, int) {
        return ++requests == 1 ? EventReply{500} : EventReply{200, 1500ms};
    });
    start_delivering(receiver);
    sent_message("wamid.hang");
    apply(statuses_body("1001", json::array({status_item("wamid.hang", "sent", kT0 + 1)})));
    ASSERT_TRUE(eventually([] { return sql("SELECT count(*) FROM wagate.event_endpoints WHERE failures > 0") == "1"; }));
    json items = json::array();
    for (int i = 0; i < 10; ++i) {
        sent_message("wamid.hang" + std::to_string(i));
        items.push_back(status_item("wamid.hang" + std::to_string(i), "sent", kT0 + 1));
    }
    apply(statuses_body("1001", items));
    ASSERT_TRUE(receiver.wait_for_received(4, 10s));
    std::this_thread::sleep_for(500ms);  // a probe per claim (every 100 ms) would show here
    const auto received = receiver.received();
    for (std::size_t i = 2; i < received.size(); ++i) {
        EXPECT_GE(received[i].at - received[i - 1].at, 900ms)
            << "probe " << i << " went out while probe " << i - 1 << " was still in flight ("
            << std::chrono::duration_cast<std::chrono::milliseconds>(received[i].at - received[i - 1].at).count()
            << " ms after it)";
    }
}

TEST_F(EventDeliveryTest, RandomFailuresAndTimeoutsStillDeliverEverythingOnceInOrder) {
    std::mutex rng_mutex;
    std::mt19937 rng(20261121);
    EventReceiver receiver(kCallbackSecret, [&](const ReceivedEvent&, int) {
        std::lock_guard lock(rng_mutex);
        const int roll = std::uniform_int_distribution<int>(0, 9)(rng);
        if (roll < 3) {
            return EventReply{500};
        }
        if (roll == 3) {
            return EventReply{503, 1'300ms};  // answered after the gateway gave up (1 s): not acknowledged
        }
        return EventReply{200};
    });
    start_delivering(receiver);
    constexpr int kMessages = 30;
    std::vector<std::string> ids;
    for (int i = 0; i < kMessages; ++i) {
        ids.push_back(sent_message("wamid.rand" + std::to_string(i)));
    }
    for (const char* status : {"sent", "delivered", "read"}) {
        json items = json::array();
        for (int i = 0; i < kMessages; ++i) {
            items.push_back(status_item("wamid.rand" + std::to_string(i), status, kT0 + 1));
        }
        apply(statuses_body("1001", items));
    }
    const std::size_t total = kMessages * 3;
    ASSERT_TRUE(receiver.wait_for_acknowledged(total, 60s)) << receiver.acknowledged().size();
    ASSERT_TRUE(eventually([] { return count("state <> 'delivered'") == 0; }, 30s));
    const auto acked = receiver.acknowledged();
    EXPECT_EQ(acked.size(), total);
    expect_each_once(acked);
    EXPECT_GT(receiver.count(), total) << "the script did refuse some";
    const auto by_message = statuses_by_message(acked);
    for (const auto& id : ids) {
        EXPECT_EQ(by_message.at(id), (std::vector<std::string>{"sent", "delivered", "read"})) << id;
    }
}

TEST_F(EventDeliveryTest, NonAsciiAndEmojiVerifyRawAndReescaped) {
    EventReceiver receiver(kCallbackSecret);
    start_delivering(receiver);
    const std::string text = "caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80 \xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 \\ \"q\"";
    // Meta's own form (escaped) and a proxy's (raw UTF-8) of two messages with the same text.
    const std::string escaped = inbound_body(
        "1001", json::array({inbound_text("15550003333", "wamid.NA1", kT0, text)}), json::array({sender("15550003333")}));
    apply(escaped);
    apply(nlohmann::json::parse(inbound_body("1001", json::array({inbound_text("15550003333", "wamid.NA2", kT0 + 1, text)}),
                                             json::array({sender("15550003333")})))
              .dump());
    ASSERT_TRUE(receiver.wait_for_acknowledged(2));
    for (const auto& e : receiver.acknowledged()) {
        EXPECT_TRUE(e.ascii_only) << e.body;
        EXPECT_TRUE(e.signature_valid_raw);
        EXPECT_TRUE(e.signature_valid_reescaped) << "a receiver that re-serialises computes the same bytes";
        EXPECT_EQ(reescape(e.body), e.body);
        EXPECT_NE(e.body.find("caf\\u00e9 \\u2615 \\ud83d\\ude00 \\u0633\\u0644\\u0627\\u0645"), std::string::npos)
            << e.body;
        EXPECT_EQ(read_delivered(e).value["messages"][0]["text"]["body"], text);
    }
}

TEST_F(EventDeliveryTest, AGatewayFailureIsDeliveredAsAFailedStatus) {
    FakeUpstream upstream([](const UpstreamRequest&, int) {
        return FakeUpstream::graph_error(400, 131030, "Recipient phone number not in allowed list");
    });
    EventReceiver receiver(kCallbackSecret);
    app::Config config = delivery_config();
    config.relay = true;
    config.upstream_allow_http = true;
    config.upstream_url = upstream.url();
    start_delivering(receiver, config);
    const std::string body =
        json{{"messaging_product", "whatsapp"}, {"to", kWindowUser}, {"type", "text"}, {"text", {{"body", "x"}}},
             {"biz_opaque_callback_data", "order-7"}}
            .dump();
    auto r = gateway_->client().post_json("/v23.0/1001/messages", body, key_);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = json::parse(r.body)["messages"][0]["id"];
    ASSERT_TRUE(receiver.wait_for_acknowledged(1));
    const Delivered d = read_delivered(receiver.acknowledged()[0]);
    EXPECT_EQ(d.id, id);
    EXPECT_EQ(d.status, "failed");
    const json& item = d.value["statuses"][0];
    EXPECT_EQ(item["errors"][0]["code"], 131030);
    EXPECT_EQ(item["recipient_id"], kWindowUser);
    EXPECT_EQ(item["biz_opaque_callback_data"], "order-7");
    EXPECT_FALSE(item.contains("wamid")) << "Meta never took it";
}

TEST_F(EventDeliveryTest, AnEventPastTheGiveUpAgeIsDeadAndCanBeReplayed) {
    std::atomic<int> answer{500};
    EventReceiver receiver(kCallbackSecret, [&](const ReceivedEvent&, int) { return EventReply{answer.load()}; });
    app::Config config = delivery_config();
    config.event_max_age_s = 1;
    start_delivering(receiver, config);
    apply(inbound_body("1001", json::array({inbound_text("15550004444", "wamid.DEAD", kT0, "lost?")}),
                       json::array({sender("15550004444")})));
    ASSERT_TRUE(eventually([] { return count("state = 'dead'") == 1; }, 10s));
    const std::string id = sql("SELECT id FROM wagate.events");

    auto got = gateway_->admin("GET", "/admin/v1/events/" + id);
    ASSERT_EQ(got.status, 200) << got.body;
    json event = json::parse(got.body);
    EXPECT_EQ(event["state"], "dead");
    EXPECT_EQ(event["last_error"], "HTTP 500");
    EXPECT_GE(event["attempts"].get<int>(), 1);
    EXPECT_EQ(event["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["id"], "wamid.DEAD");

    answer = 200;
    const std::size_t acked_before = receiver.acknowledged().size();
    EXPECT_EQ(acked_before, 0U);
    auto replayed = gateway_->admin("POST", "/admin/v1/events/" + id + "/replay");
    ASSERT_EQ(replayed.status, 200) << replayed.body;
    EXPECT_EQ(json::parse(replayed.body)["state"], "pending");
    ASSERT_TRUE(receiver.wait_for_acknowledged(1));
    ASSERT_TRUE(eventually([] { return count("state = 'delivered'") == 1; }));

    auto again = gateway_->admin("POST", "/admin/v1/events/" + id + "/replay");
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_NE(again.body.find("event_id"), std::string::npos);
    EXPECT_EQ(gateway_->admin("POST", "/admin/v1/events/999999/replay").status, 404);
    EXPECT_EQ(gateway_->admin("POST", "/admin/v1/events/abc/replay").status, 404);
    EXPECT_EQ(gateway_->admin("GET", "/admin/v1/events/0").status, 404);
    EXPECT_EQ(gateway_->admin("GET", "/admin/v1/events/" + id, "", "wrong-token").status, 401);
}

TEST_F(EventDeliveryTest, ASlowBackendHoldsUpOnlyItsOwnEventsAndGetsAtMostItsConcurrency) {
    EventReceiver fast(kCallbackSecret);
    EventReceiver slow("slow-secret", [](const ReceivedEvent&, int) { return EventReply{200, 400ms}; });
    app::Config config = delivery_config();
    config.event_concurrency_per_url = 2;
    start_delivering(fast, config);
    set_callback("1002", slow.url(), "slow-secret");
    auto inbound_for = [](const std::string& number, const std::string& prefix, int n) {
        json messages = json::array();
        for (int i = 0; i < n; ++i) {
            messages.push_back(inbound_text("1555000" + std::to_string(5000 + i), prefix + std::to_string(i), kT0 + i, "m"));
        }
        return inbound_body(number, messages);
    };
    apply(inbound_for("1002", "wamid.SLOW", 10));
    apply(inbound_for("1001", "wamid.FAST", 30));
    ASSERT_TRUE(fast.wait_for_acknowledged(30, 10s));
    EXPECT_LE(slow.acknowledged().size(), 6U) << "the fast backend did not wait for the slow one";
    ASSERT_TRUE(slow.wait_for_acknowledged(10, 30s));
    const auto got = slow.received();
    for (std::size_t i = 0; i + 2 < got.size(); ++i) {
        // At most 2 in flight: the third request can only start once the first was answered.
        EXPECT_GE(got[i + 2].at - got[i].at, 390ms) << i;
    }
}

TEST_F(EventDeliveryTest, TheCursorReturnsEveryEventOnceWhileEventsKeepArriving) {
    start(TestGateway::base_config());  // delivery off: the cursor alone
    constexpr int kWriters = 3;
    constexpr int kBatches = 15;
    constexpr int kPerBatch = 7;
    std::atomic<int> writers_done{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
        writers.emplace_back([&, w] {
            auto client = gateway_->client();
            for (int b = 0; b < kBatches; ++b) {
                json messages = json::array();
                for (int i = 0; i < kPerBatch; ++i) {
                    const std::string n = std::to_string(w) + "." + std::to_string(b) + "." + std::to_string(i);
                    messages.push_back(inbound_text("1555100" + std::to_string(1000 + w * 100 + i), "wamid.CUR" + n,
                                                    kT0 + b, "m"));
                }
                auto r = post_webhook(client, inbound_body("1001", messages));
                EXPECT_EQ(r.status, 200);
            }
            ++writers_done;
        });
    }
    std::vector<std::string> seen;
    std::string cursor;
    auto page = [&]() {
        const std::string path = "/admin/v1/events?phone_number_id=1001&limit=5" + (cursor.empty() ? "" : "&after=" + cursor);
        auto r = gateway_->admin("GET", path);
        EXPECT_EQ(r.status, 200) << r.body;
        const json body = json::parse(r.body);
        for (const auto& e : body["events"]) {
            seen.push_back(e["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["id"]);
        }
        if (!body["next_cursor"].is_null()) {
            cursor = body["next_cursor"];
        }
        return body["events"].size();
    };
    while (writers_done.load() < kWriters) {
        page();
    }
    for (auto& t : writers) {
        t.join();
    }
    gateway_->drain_webhooks();
    while (page() > 0) {
    }
    const std::size_t total = kWriters * kBatches * kPerBatch;
    EXPECT_EQ(seen.size(), total);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), total) << "no event twice, none missed";
    EXPECT_EQ(count("true"), static_cast<std::int64_t>(total));
}

TEST_F(EventDeliveryTest, TheEventsRouteRefusesBadInputClearly) {
    start(TestGateway::base_config());
    auto expect_400 = [&](const std::string& query, const std::string& field) {
        auto r = gateway_->admin("GET", "/admin/v1/events" + query);
        EXPECT_EQ(r.status, 400) << query << " " << r.body;
        EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
    };
    expect_400("", "phone_number_id");
    expect_400("?phone_number_id=1001&after=12", "after");
    expect_400("?phone_number_id=1001&after=1.2.3", "after");
    expect_400("?phone_number_id=1001&limit=0", "limit");
    expect_400("?phone_number_id=1001&limit=1001", "limit");
    expect_400("?phone_number_id=1001&limit=ten", "limit");
    EXPECT_EQ(gateway_->admin("GET", "/admin/v1/events?phone_number_id=9999").status, 404);
    auto empty = gateway_->admin("GET", "/admin/v1/events?phone_number_id=1001");
    ASSERT_EQ(empty.status, 200) << empty.body;
    EXPECT_EQ(json::parse(empty.body), (json{{"events", json::array()}, {"next_cursor", nullptr}, {"has_more", false}}));
    auto kept = gateway_->admin("GET", "/admin/v1/events?phone_number_id=1001&after=5.7");
    ASSERT_EQ(kept.status, 200);
    EXPECT_EQ(json::parse(kept.body)["next_cursor"], "5.7") << "an empty page keeps the caller's place";
}

}  // namespace
}  // namespace wagate::test
