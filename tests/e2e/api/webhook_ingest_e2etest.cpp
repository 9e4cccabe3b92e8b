// POST/GET /webhooks/meta through the whole gateway: the handshake, signatures, durability and
// the status rules of policy §6 (monotonic, order-independent, deduplicated, parked orphans).

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/pg/pool.hpp>
#include <wagate/store/message_store.hpp>

#include "support/meta_webhooks.hpp"
#include "support/run_blocking.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

constexpr std::int64_t kT0 = 1'750'030'000;

class WebhookIngestTest : public GatewayTest {
protected:
    json read(const std::string& id) {
        auto r = gateway_->client().get("/v1/messages/" + id, key_);
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body);
    }

    HttpResult post(const std::string& body, const std::string& secret = kAppSecret) {
        auto client = gateway_->client();
        return post_webhook(client, body, secret);
    }

    /// Posts and applies.
    void apply(const std::string& body) {
        auto r = post(body);
        ASSERT_EQ(r.status, 200) << r.body;
        gateway_->drain_webhooks();
    }

    static std::vector<std::string> status_names(const json& message) {
        std::vector<std::string> out;
        for (const auto& s : message["statuses"]) {
            out.push_back(s["status"]);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

// --- verification handshake -------------------------------------------------------------------

TEST_F(WebhookIngestTest, HandshakeEchoesTheChallengeAsPlainTextWhenTheTokenMatches) {
    auto r = gateway_->client().get(std::string("/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&") +
                                    "hub.verify_token=" + kVerifyToken);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "1158201444");
    EXPECT_EQ(r.headers["content-type"], "text/plain");
}

TEST_F(WebhookIngestTest, HandshakeKeepsAnEscapedChallengeByteForByte) {
    auto r = gateway_->client().get(std::string("/webhooks/meta?hub.mode=subscribe&hub.challenge=a%2Bb%3D%3D&") +
                                    "hub.verify_token=" + kVerifyToken);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "a+b==");
}

TEST_F(WebhookIngestTest, HandshakeRefusesAWrongTokenOrMode) {
    auto client = gateway_->client();
    EXPECT_EQ(client.get("/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope").status, 403);
    EXPECT_EQ(client.get(std::string("/webhooks/meta?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=") +
                         kVerifyToken)
                  .status,
              403);
    EXPECT_EQ(client.get("/webhooks/meta?hub.mode=subscribe&hub.challenge=1").status, 403);
}

// --- signatures -------------------------------------------------------------------------------

TEST_F(WebhookIngestTest, AMissingSignatureIs401AndTheBodyIsQuarantinedNotStored) {
    const std::string body = statuses_body("1001", json::array({status_item("wamid.X", "sent", kT0)}));
    auto r = gateway_->client().request("POST", "/webhooks/meta", body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(json::parse(r.body)["error"]["code"], 190);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "0");
    EXPECT_EQ(sql("SELECT reason FROM wagate.webhook_quarantine"), "missing X-Hub-Signature-256");
    EXPECT_EQ(sql("SELECT convert_from(body, 'UTF8') FROM wagate.webhook_quarantine"), body);
}

TEST_F(WebhookIngestTest, AWrongSecretIs401) {
    const std::string body = statuses_body("1001", json::array({status_item("wamid.X", "sent", kT0)}));
    EXPECT_EQ(post(body, "not-the-secret").status, 401);
    EXPECT_EQ(sql("SELECT reason FROM wagate.webhook_quarantine"), "signature does not verify");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "0");
}

TEST_F(WebhookIngestTest, TheRotatedSecretAndUpperCaseHexBothVerify) {
    EXPECT_EQ(post(statuses_body("1001", json::array({status_item("wamid.A", "sent", kT0)})), kOldAppSecret).status,
              200);
    const std::string body = statuses_body("1001", json::array({status_item("wamid.B", "sent", kT0)}));
    std::string signature = hub_signature(body);
    std::transform(signature.begin() + 7, signature.end(), signature.begin() + 7, ::toupper);
    auto r = gateway_->client().request("POST", "/webhooks/meta", body,
                                        {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "2");
}

TEST_F(WebhookIngestTest, NonAsciiBodiesVerifyOverTheirExactBytesEscapedOrRaw) {
    // Meta sends \u00e4-style escapes; a proxy might pass raw UTF-8. Either way the signature
    // covers the bytes, and a body re-escaped after signing does not verify.
    const std::string escaped =
        R"({"object":"whatsapp_business_account","entry":[{"id":"880001","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1001"},"messages":[{"from":"15550009999","id":"wamid.esc","timestamp":"1750030000","type":"text","text":{"body":"J'ai mang\u00e9 des p\u00e2tes @home \ud83d\ude00"}}]}}]}]})";
    const std::string raw =
        R"({"object":"whatsapp_business_account","entry":[{"id":"880001","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1001"},"messages":[{"from":"15550009999","id":"wamid.raw","timestamp":"1750030000","type":"text","text":{"body":"J'ai mangé des pâtes @home 😀"}}]}}]}]})";
    EXPECT_EQ(post(escaped).status, 200);
    EXPECT_EQ(post(raw).status, 200);
    // Signed as escaped, delivered as raw: the bytes differ, so it must not verify.
    auto client = gateway_->client();
    auto r = client.request("POST", "/webhooks/meta", raw,
                            {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", hub_signature(escaped)}});
    EXPECT_EQ(r.status, 401);
    gateway_->drain_webhooks();
    const std::string expected = "J'ai mangé des pâtes @home 😀";
    EXPECT_EQ(sql("SELECT content->'text'->>'body' FROM wagate.inbound_messages WHERE wamid = 'wamid.esc'"), expected);
    EXPECT_EQ(sql("SELECT content->'text'->>'body' FROM wagate.inbound_messages WHERE wamid = 'wamid.raw'"), expected);
}

TEST_F(WebhookIngestTest, AChunkedBodyIsVerifiedOverItsDechunkedBytes) {
    const std::string body = statuses_body("1001", json::array({status_item("wamid.chunked", "sent", kT0)}));
    const std::size_t half = body.size() / 2;
    auto hex = [](std::size_t n) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%zx", n);
        return std::string(buf);
    };
    const std::string request = "POST /webhooks/meta HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "X-Hub-Signature-256: " + hub_signature(body) +
                                "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + hex(half) + "\r\n" +
                                body.substr(0, half) + "\r\n" + hex(body.size() - half) + "\r\n" +
                                body.substr(half) + "\r\n0\r\n\r\n";
    auto r = gateway_->client().raw(request, 3);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "1");
}

TEST_F(WebhookIngestTest, BodiesAboveTheLimitAre413) {
    // 8 MiB is the limit (Meta sends up to 3 MB); the answer comes before the body is read.
    const std::string request = "POST /webhooks/meta HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "X-Hub-Signature-256: sha256=00\r\nContent-Length: " +
                                std::to_string(8 * 1024 * 1024 + 1) + "\r\n\r\n{\"object\":";
    EXPECT_EQ(gateway_->client().raw(request).status, 413);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "0");
}

// --- durable first, idempotent ----------------------------------------------------------------

TEST_F(WebhookIngestTest, AnExactRepeatOfABodyIsStoredOnceAndChangesNothing) {
    const std::string id = sent_message("wamid.rep");
    const std::string body = statuses_body("1001", json::array({status_item("wamid.rep", "delivered", kT0)}));
    apply(body);
    apply(body);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_deliveries"), "1");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.message_statuses WHERE status = 'delivered'"), "1");
    EXPECT_EQ(read(id)["status"], "delivered");
}

TEST_F(WebhookIngestTest, AnUnparseableButSignedBodyIsAcknowledgedAndRecordedAsAFailure) {
    apply("{not json");
    EXPECT_EQ(sql("SELECT processed_at IS NOT NULL FROM wagate.webhook_deliveries"), "t");
    EXPECT_EQ(sql("SELECT reason FROM wagate.webhook_item_failures"), "not a JSON object");
}

TEST_F(WebhookIngestTest, OneBadItemDoesNotCostItsNeighbours) {
    const std::string id = sent_message("wamid.good");
    // A row the database refuses, simulated with a constraint only this test adds: the batch
    // falls back to item by item, and only the refused item is lost, recorded with its path.
    sql("ALTER TABLE wagate.inbound_messages ADD CONSTRAINT test_poison CHECK (wamid <> 'wamid.poison')");
    json statuses = json::array({status_item("wamid.good", "sent", kT0), status_item("wamid.good", "delivered", kT0 + 2)});
    json inbound = json::array({{{"from", "15550001234"}, {"id", "wamid.in.ok"}, {"timestamp", std::to_string(kT0)},
                                 {"type", "text"}, {"text", {{"body", "still here"}}}},
                                {{"from", "15550001234"}, {"id", "wamid.poison"}, {"timestamp", std::to_string(kT0)},
                                 {"type", "text"}, {"text", {{"body", "refused"}}}}});
    json body = messages_envelope("1001", {{"statuses", statuses}, {"messages", inbound}});
    apply(body.dump());
    sql("ALTER TABLE wagate.inbound_messages DROP CONSTRAINT test_poison");
    EXPECT_EQ(read(id)["status"], "delivered");
    EXPECT_EQ(status_names(read(id)), (std::vector<std::string>{"accepted", "delivered", "sent"}));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.inbound_messages WHERE wamid = 'wamid.in.ok'"), "1");
    EXPECT_EQ(sql("SELECT path FROM wagate.webhook_item_failures"), "entry[0].changes[0].value.messages[1]");
    EXPECT_EQ(sql("SELECT fragment::jsonb->>'id' FROM wagate.webhook_item_failures"), "wamid.poison");
    EXPECT_EQ(sql("SELECT failed_items || '/' || items FROM wagate.webhook_deliveries"), "1/4");
}

TEST_F(WebhookIngestTest, AnEscapedNulInAUsersTextIsStoredAsAReplacementCharacter) {
    // JSON allows \u0000; PostgreSQL's jsonb does not. The message must not be lost for it.
    const std::string body =
        R"({"object":"whatsapp_business_account","entry":[{"id":"880001","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1001"},"messages":[{"from":"15550009999","id":"wamid.nul","timestamp":"1750030000","type":"text","text":{"body":"a\u0000b"}}]}}]}]})";
    apply(body);
    EXPECT_EQ(sql("SELECT content->'text'->>'body' FROM wagate.inbound_messages WHERE wamid = 'wamid.nul'"), std::string("a\xEF\xBF\xBD") + "b");
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.webhook_item_failures"), "0");
}

// --- statuses ---------------------------------------------------------------------------------

TEST_F(WebhookIngestTest, StatusesAdvanceTheMessageAndAreListedOnceEach) {
    const std::string id = sent_message("wamid.HBgL1");
    apply(statuses_body("1001", json::array({status_item("wamid.HBgL1", "sent", kT0)})));
    EXPECT_EQ(read(id)["status"], "sent");
    apply(statuses_body("1001", json::array({status_item("wamid.HBgL1", "delivered", kT0 + 1),
                                              status_item("wamid.HBgL1", "delivered", kT0 + 1)})));
    apply(statuses_body("1001", json::array({status_item("wamid.HBgL1", "read", kT0 + 5)})));
    const json m = read(id);
    EXPECT_EQ(m["status"], "read");
    EXPECT_EQ(m["wamid"], "wamid.HBgL1");
    EXPECT_EQ(status_names(m), (std::vector<std::string>{"accepted", "delivered", "read", "sent"}));
    for (const auto& s : m["statuses"]) {
        if (s["status"] == "read") {
            EXPECT_EQ(s["timestamp"], std::to_string(kT0 + 5)) << "Meta's timestamp is kept";
        }
    }
}

TEST_F(WebhookIngestTest, ALateSentNeverLowersDeliveredOrRead) {
    const std::string id = sent_message("wamid.late");
    apply(statuses_body("1001", json::array({status_item("wamid.late", "read", kT0 + 2)})));
    EXPECT_EQ(read(id)["status"], "read") << "read implies delivered";
    apply(statuses_body("1001", json::array({status_item("wamid.late", "delivered", kT0 + 1)})));
    apply(statuses_body("1001", json::array({status_item("wamid.late", "sent", kT0)})));
    EXPECT_EQ(read(id)["status"], "read");
}

TEST_F(WebhookIngestTest, FailedIsCurrentOnlyWhileNothingAtOrAboveDeliveredIsKnown) {
    const json errors = json::array({{{"code", 131049},
                                      {"title", "This message was not delivered to maintain healthy ecosystem engagement."},
                                      {"message", "This message was not delivered to maintain healthy ecosystem engagement."},
                                      {"error_data", {{"details", "In order to maintain a healthy ecosystem..."}}},
                                      {"href", "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}});
    const std::string a = sent_message("wamid.f1");
    apply(statuses_body("1001", json::array({status_item("wamid.f1", "failed", kT0 + 1, {{"errors", errors}})})));
    apply(statuses_body("1001", json::array({status_item("wamid.f1", "sent", kT0)})));
    json m = read(a);
    EXPECT_EQ(m["status"], "failed") << "a late sent does not clear a failure";
    EXPECT_EQ(m["errors"], errors) << "the errors are kept whole";
    apply(statuses_body("1001", json::array({status_item("wamid.f1", "delivered", kT0 + 2)})));
    m = read(a);
    EXPECT_EQ(m["status"], "delivered") << "another device got it";
    EXPECT_EQ(m["errors"], errors) << "the failure stays as a diagnostic";

    const std::string b = sent_message("wamid.f2");
    apply(statuses_body("1001", json::array({status_item("wamid.f2", "read", kT0)})));
    apply(statuses_body("1001", json::array({status_item("wamid.f2", "failed", kT0 + 1, {{"errors", errors}})})));
    EXPECT_EQ(read(b)["status"], "read");
}

TEST_F(WebhookIngestTest, PlayedRanksAboveReadAndWarningChangesNothing) {
    const std::string id = sent_message("wamid.voice");
    apply(statuses_body("1001", json::array({status_item("wamid.voice", "played", kT0 + 3),
                                              status_item("wamid.voice", "read", kT0 + 2),
                                              status_item("wamid.voice", "warning", kT0 + 4)})));
    const json m = read(id);
    EXPECT_EQ(m["status"], "played");
    EXPECT_EQ(status_names(m), (std::vector<std::string>{"accepted", "played", "read", "warning"}));
}

TEST_F(WebhookIngestTest, PricingConversationAndOpaqueDataAreMergedFromWhicheverStatusCarriesThem) {
    const std::string id = sent_message("wamid.price");
    const json pricing = {{"billable", true}, {"pricing_model", "PMP"}, {"type", "regular"}, {"category", "marketing"}};
    const json conversation = {{"id", "conv-1"}, {"expiration_timestamp", "1750116400"}, {"origin", {{"type", "marketing"}}}};
    apply(statuses_body("1001", json::array({status_item("wamid.price", "delivered", kT0 + 1, {{"pricing", pricing}})})));
    apply(statuses_body("1001", json::array({status_item("wamid.price", "sent", kT0,
                                                          {{"conversation", conversation},
                                                           {"biz_opaque_callback_data", "order-77"}})})));
    const json m = read(id);
    EXPECT_EQ(m["pricing"], pricing);
    EXPECT_EQ(m["conversation"], conversation);
    EXPECT_EQ(m["biz_opaque_callback_data"], "order-77");
}

TEST_F(WebhookIngestTest, GroupStatusesAreKeptPerParticipant) {
    const std::string id = sent_message("wamid.group");
    apply(statuses_body("1001", json::array({status_item("wamid.group", "read", kT0,
                                                          {{"recipient_type", "group"}, {"recipient_participant_id", "15550000001"}}),
                                              status_item("wamid.group", "read", kT0 + 1,
                                                          {{"recipient_type", "group"}, {"recipient_participant_id", "15550000002"}})})));
    EXPECT_EQ(sql("SELECT string_agg(participant, ',' ORDER BY participant) FROM wagate.message_statuses "
                  "WHERE status = 'read'"),
              "15550000001,15550000002");
}

TEST_F(WebhookIngestTest, StatusesForAnUnknownWamidAreParkedAndAttachedWhenTheRelayRecordsIt) {
    // The status beats the send response (reference §4.7 item 6).
    apply(statuses_body("1001", json::array({status_item("wamid.early", "sent", kT0),
                                              status_item("wamid.early", "delivered", kT0 + 1)})));
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses WHERE wamid = 'wamid.early'"), "2");

    const std::string body =
        json{{"messaging_product", "whatsapp"}, {"to", kWindowUser}, {"type", "text"}, {"text", {{"body", "hi"}}}}.dump();
    auto sent = gateway_->client().post_json("/v23.0/1001/messages", body, key_);
    ASSERT_EQ(sent.status, 200);
    const std::string id = json::parse(sent.body)["messages"][0]["id"];

    pg::PoolSettings settings;
    settings.connection.conninfo = test_database_url();
    settings.size = 1;
    auto recorded = run_blocking([](std::string id_hex, pg::PoolSettings s) -> boost::asio::awaitable<Result<bool>> {
        pg::Pool pool(co_await boost::asio::this_coro::executor, s);
        store::MessageStore messages(pool);
        auto r = co_await messages.record_wamid(id_hex, "wamid.early");
        co_return r;
    }(id.substr(7), settings));
    ASSERT_TRUE(recorded.has_value() && *recorded);

    EXPECT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "0");
    const json m = read(id);
    EXPECT_EQ(m["status"], "delivered");
    EXPECT_EQ(status_names(m), (std::vector<std::string>{"accepted", "delivered", "sent"}));
}

TEST_F(WebhookIngestTest, AParkedStatusWhoseAttachWasLostIsAttachedByTheNextSweep) {
    // The wamid is recorded but the move that should follow never ran (a crash between the two).
    apply(statuses_body("1001", json::array({status_item("wamid.lost", "delivered", kT0)})));
    ASSERT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "1");
    const std::string id = sent_message("wamid.lost");  // sets the wamid with plain SQL
    gateway_->drain_webhooks();                          // one sweep
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "0");
    EXPECT_EQ(read(id)["status"], "delivered");
}

// --- order independence -----------------------------------------------------------------------

/// The current status the policy defines for a set of statuses, written independently of the
/// SQL fold: highest positive rank, unless failed and nothing at or above delivered.
std::string expected_status(const std::set<std::string>& seen) {
    static const std::vector<std::string> ranks = {"accepted", "sending", "sent", "delivered", "read", "played"};
    int top = 0;
    for (int r = 0; r < static_cast<int>(ranks.size()); ++r) {
        if (seen.contains(ranks[r])) {
            top = r;
        }
    }
    if (seen.contains("failed") && top < 3) {
        return "failed";
    }
    return ranks[top];
}

TEST_F(WebhookIngestTest, TheFinalStateIsTheSameForEveryOrderOfTheSameStatusesWithDuplicates) {
    constexpr int kMessages = 24;
    constexpr int kOrders = 6;
    const std::vector<std::string> kinds = {"sent", "delivered", "read", "played", "failed", "warning"};
    std::mt19937 rng(20261121);

    // The event set: for each message a random subset of statuses, some carrying pricing,
    // conversation or errors; then every event again as a duplicate.
    struct Event {
        int message;
        std::string status;
        std::int64_t ts;
        json extra;
    };
    std::vector<Event> events;
    std::vector<std::set<std::string>> seen(kMessages);
    for (int m = 0; m < kMessages; ++m) {
        for (std::size_t k = 0; k < kinds.size(); ++k) {
            if (rng() % 2 == 0) {
                continue;
            }
            json extra = json::object();
            if (kinds[k] == "sent" || kinds[k] == "delivered" || kinds[k] == "read") {
                if (rng() % 2) {
                    extra["pricing"] = {{"pricing_model", "PMP"}, {"category", k == 0 ? "utility" : "marketing"}};
                }
                if (rng() % 3 == 0) {
                    extra["conversation"] = {{"id", "conv-" + std::to_string(m) + "-" + kinds[k]}};
                }
            }
            if (kinds[k] == "failed") {
                extra["errors"] = json::array({{{"code", 131026 + m % 3}, {"title", "Message undeliverable"}}});
            }
            events.push_back({m, kinds[k], kT0 + static_cast<std::int64_t>(k), extra});
            seen[m].insert(kinds[k]);
        }
        seen[m].insert("accepted");
    }
    const std::size_t distinct = events.size();
    for (std::size_t i = 0; i < distinct; ++i) {
        events.push_back(events[i]);
    }

    std::vector<std::string> reference;  // canonical final state per message, from the first order
    for (int order = 0; order < kOrders; ++order) {
        std::vector<std::string> ids;
        for (int m = 0; m < kMessages; ++m) {
            ids.push_back(sent_message("wamid.o" + std::to_string(order) + ".m" + std::to_string(m)));
        }
        std::shuffle(events.begin(), events.end(), rng);
        // Random groupings of 1..6 items per POST, posted from four connections at once.
        std::vector<std::string> bodies;
        for (std::size_t i = 0; i < events.size();) {
            const std::size_t n = std::min<std::size_t>(1 + rng() % 6, events.size() - i);
            json items = json::array();
            for (std::size_t j = i; j < i + n; ++j) {
                const Event& e = events[j];
                items.push_back(status_item("wamid.o" + std::to_string(order) + ".m" + std::to_string(e.message),
                                            e.status, e.ts, e.extra));
            }
            bodies.push_back(statuses_body("1001", items));
            i += n;
        }
        std::vector<std::thread> posters;
        std::atomic<int> failures{0};
        for (int t = 0; t < 4; ++t) {
            posters.emplace_back([&, t] {
                auto client = gateway_->client();
                for (std::size_t b = t; b < bodies.size(); b += 4) {
                    failures += post_webhook(client, bodies[b]).status == 200 ? 0 : 1;
                }
            });
        }
        for (auto& p : posters) {
            p.join();
        }
        ASSERT_EQ(failures.load(), 0);
        gateway_->drain_webhooks();

        std::vector<std::string> state;
        for (int m = 0; m < kMessages; ++m) {
            json msg = read(ids[m]);
            EXPECT_EQ(msg["status"], expected_status(seen[m])) << "order " << order << " message " << m;
            std::set<std::string> listed;
            json from_meta = json::array();  // the accepted status carries the accept time, not Meta's
            for (const auto& s : msg["statuses"]) {
                listed.insert(s["status"].get<std::string>());
                if (s["status"] != "accepted") {
                    from_meta.push_back(s);
                }
            }
            EXPECT_EQ(listed, seen[m]) << "each status kept once";
            EXPECT_EQ(msg["statuses"].size(), seen[m].size());
            state.push_back(json{{"status", msg["status"]}, {"pricing", msg["pricing"]},
                                 {"conversation", msg["conversation"]}, {"errors", msg["errors"]},
                                 {"statuses", from_meta}}
                                .dump());
        }
        if (order == 0) {
            reference = state;
            continue;
        }
        for (int m = 0; m < kMessages; ++m) {
            EXPECT_EQ(state[m], reference[m]) << "order " << order << " message " << m << " ended differently";
        }
    }
}

}  // namespace
}  // namespace wagate::test
