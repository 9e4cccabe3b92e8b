// The relay against a scripted upstream on loopback (contract §5): success, retries with
// back-off, permanent failures, timeouts, expiry, references, mark-as-read, and two relays on one
// database sending each message once.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/eventually.hpp"
#include "support/fake_upstream.hpp"
#include "support/meta_webhooks.hpp"
#include "support/test_certificates.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string text_to(const std::string& wa_id, const std::string& body) {
    return json{{"messaging_product", "whatsapp"}, {"to", "+" + wa_id}, {"type", "text"}, {"text", {{"body", body}}}}
        .dump();
}

/// The gateway's id without "wagate." (the uuid's hex digits).
std::string hex_of(const std::string& id) { return id.substr(7); }

class RelayTest : public GatewayTest {
protected:
    void SetUp() override {}

    /// Starts the gateway with the relay on, sending to `upstream`.
    void start_relaying(const FakeUpstream& upstream, app::Config config = relay_config()) {
        config.upstream_url = upstream.url();
        start(std::move(config));
    }

    static app::Config relay_config() {
        app::Config c = TestGateway::base_config();
        c.relay = true;
        c.upstream_allow_http = true;
        c.retry_base_ms = 100;
        c.retry_max_ms = 2'000;
        c.upstream_connect_timeout_ms = 500;
        c.upstream_timeout_ms = 1'000;
        c.relay_lease_ms = 5'000;
        return c;
    }

    std::string send(const std::string& body) {
        auto client = gateway_->client();
        auto r = client.post_json("/v23.0/1001/messages", body, key_);
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body)["messages"][0]["id"].get<std::string>();
    }

    std::string send_text(const std::string& text = "hello") { return send(text_to(kWindowUser, text)); }

    json message(const std::string& id) {
        auto client = gateway_->client();
        auto r = client.get("/v1/messages/" + id, key_);
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body);
    }

    std::string status_of(const std::string& id) { return sql("SELECT status FROM wagate.messages WHERE id = '" + hex_of(id) + "'"); }

    bool reaches(const std::string& id, const std::string& status, std::chrono::milliseconds timeout = 15s) {
        return eventually([&] { return status_of(id) == status; }, timeout);
    }

    std::string queued() { return sql("SELECT count(*) FROM wagate.relay_queue"); }
};

TEST_F(RelayTest, AMessageIsSentOnceWithTheNumbersTokenAndItsWamidRecorded) {
    FakeUpstream upstream;
    start_relaying(upstream);
    const std::string id = send_text("hello relay");
    ASSERT_TRUE(reaches(id, "sending")) << status_of(id);

    const auto requests = upstream.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].path, "/v23.0/1001/messages");
    EXPECT_EQ(requests[0].authorization, "Bearer meta-token");
    const json sent = json::parse(requests[0].body);
    EXPECT_EQ(sent["to"], "+" + std::string(kWindowUser));
    EXPECT_EQ(sent["text"]["body"], "hello relay");
    EXPECT_EQ(sent["messaging_product"], "whatsapp");

    const json m = message(id);
    EXPECT_EQ(m["status"], "sending");
    EXPECT_EQ(m["wamid"], "wamid.fake.1");
    EXPECT_EQ(queued(), "0");
    std::vector<std::string> statuses;
    for (const auto& s : m["statuses"]) {
        statuses.push_back(s["status"]);
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"accepted", "sending"}));
    EXPECT_EQ(gateway_->relay_stats().accepted, 1u);
}

TEST_F(RelayTest, AStatusThatBeatTheSendResponseIsAttachedWhenTheWamidIsRecorded) {
    FakeUpstream upstream([](const UpstreamRequest&, int) { return FakeUpstream::accept("wamid.early.1"); });
    start_relaying(upstream);
    // Meta's `delivered` arrives before wagate knows the wamid: it is parked.
    auto client = gateway_->client();
    const auto now = clock_->unix_seconds();
    ASSERT_EQ(post_webhook(client, statuses_body("1001", json::array({status_item("wamid.early.1", "delivered", now)})))
                  .status,
              200);
    gateway_->drain_webhooks();
    ASSERT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "1");

    const std::string id = send_text();
    ASSERT_TRUE(reaches(id, "delivered")) << status_of(id);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.parked_statuses"), "0");
    EXPECT_EQ(message(id)["wamid"], "wamid.early.1");
}

TEST_F(RelayTest, ThrottlingAndServerErrorsAreRetriedWithBackOffUntilMetaTakesIt) {
    FakeUpstream upstream([](const UpstreamRequest&, int n) {
        if (n == 0) {
            return FakeUpstream::graph_error(429, 130429, "Rate limit hit", "Cloud API message throughput has been reached.");
        }
        if (n == 1) {
            return FakeUpstream::graph_error(500, 131000, "Something went wrong");
        }
        return FakeUpstream::accept("wamid.third");
    });
    start_relaying(upstream);
    const std::string id = send_text();
    ASSERT_TRUE(reaches(id, "sending")) << status_of(id);
    const auto requests = upstream.requests();
    ASSERT_EQ(requests.size(), 3u);
    // Equal jitter: the n-th retry waits at least half of base * 2^(n-1) (100 ms base).
    EXPECT_GE(requests[1].at - requests[0].at, 50ms);
    EXPECT_GE(requests[2].at - requests[1].at, 100ms);
    EXPECT_EQ(message(id)["wamid"], "wamid.third");
    EXPECT_EQ(gateway_->relay_stats().retried, 2u);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.message_statuses WHERE status = 'failed'"), "0");
}

TEST_F(RelayTest, APermanentRefusalFailsTheMessageWithMetasError) {
    FakeUpstream upstream([](const UpstreamRequest&, int) {
        return FakeUpstream::graph_error(400, 131030, "Recipient phone number not in allowed list",
                                         "Add recipient phone number to recipient list and try again.");
    });
    start_relaying(upstream);
    const std::string id = send_text();
    ASSERT_TRUE(reaches(id, "failed")) << status_of(id);
    const json m = message(id);
    ASSERT_TRUE(m["errors"].is_array()) << m.dump();
    EXPECT_EQ(m["errors"][0]["code"], 131030);
    EXPECT_EQ(m["errors"][0]["title"], "Recipient phone number not in allowed list");
    EXPECT_EQ(m["errors"][0]["error_data"]["details"], "Add recipient phone number to recipient list and try again.");
    EXPECT_EQ(m["statuses"].back()["status"], "failed");
    EXPECT_EQ(queued(), "0");
    EXPECT_EQ(upstream.count(), 1u);  // never sent again
}

TEST_F(RelayTest, AnUpstreamThatDoesNotAnswerInTimeIsTriedAgain) {
    FakeUpstream upstream([](const UpstreamRequest&, int n) {
        UpstreamReply reply = FakeUpstream::accept(n == 0 ? "wamid.too.late" : "wamid.on.time");
        if (n == 0) {
            reply.delay = 3s;  // past the relay's 1 s request timeout
        }
        return reply;
    });
    start_relaying(upstream);
    const std::string id = send_text();
    ASSERT_TRUE(reaches(id, "sending")) << status_of(id);
    EXPECT_EQ(message(id)["wamid"], "wamid.on.time");
    const auto requests = upstream.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_GE(requests[1].at - requests[0].at, 1s);  // the timeout, then the back-off
}

TEST_F(RelayTest, AMessageNotSentWithinItsTimeToLiveFailsWithTheGatewayCode) {
    FakeUpstream upstream([](const UpstreamRequest&, int) {
        return FakeUpstream::graph_error(503, 131016, "Service unavailable");
    });
    app::Config c = relay_config();
    c.ttl_default_s = 1;
    start_relaying(upstream, c);
    const std::string id = send_text();
    ASSERT_TRUE(reaches(id, "failed", 10s)) << status_of(id);
    const json m = message(id);
    EXPECT_EQ(m["errors"][0]["code"], 900301);
    EXPECT_NE(m["errors"][0]["error_data"]["details"].get<std::string>().find("131016"), std::string::npos)
        << m.dump();
    EXPECT_GE(upstream.count(), 1u);
    EXPECT_EQ(queued(), "0");
}

TEST_F(RelayTest, AMessageThatExpiredInTheQueueIsFailedWithoutBeingSent) {
    FakeUpstream upstream;
    app::Config c = relay_config();
    c.relay = false;  // accepted while no relay runs
    c.upstream_url = upstream.url();
    start(c);
    const std::string id = send_text();
    sql("UPDATE wagate.relay_queue SET expires_at = now() - interval '1 second'");
    gateway_.reset();
    c.relay = true;
    gateway_ = std::make_unique<TestGateway>(c, clock_);
    ASSERT_TRUE(reaches(id, "failed")) << status_of(id);
    EXPECT_EQ(message(id)["errors"][0]["code"], 900301);
    EXPECT_EQ(upstream.count(), 0u);
    EXPECT_EQ(gateway_->relay_stats().expired, 0u + 1u);
}

TEST_F(RelayTest, AuthenticationTemplatesGetTheirShortTimeToLive) {
    FakeUpstream upstream;
    app::Config c = relay_config();
    c.relay = false;
    c.upstream_url = upstream.url();
    start(c);
    gateway_->put_business("biz1", R"({"messaging_limit_tier":"TIER_UNLIMITED"})");
    sql("UPDATE wagate.phone_numbers SET require_opt_in = false, waba_id = 'w1'");
    auto admin = gateway_->admin("PUT", "/admin/v1/templates/w1/otp_code/en_US",
                                 R"({"category":"AUTHENTICATION","status":"APPROVED","components":[{"type":"BODY","add_security_recommendation":true},{"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"COPY_CODE"}]}]})");
    ASSERT_EQ(admin.status / 100, 2) << admin.body;
    const std::string id = send(R"({"messaging_product":"whatsapp","to":"+15550001111","type":"template","template":{"name":"otp_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"123456"}]},{"type":"button","sub_type":"url","index":0,"parameters":[{"type":"text","text":"123456"}]}]}})");
    const std::string text_id = send_text();
    const auto ttl = [](const std::string& m) {
        return std::stoll(sql("SELECT extract(epoch FROM expires_at - m.created_at)::bigint FROM wagate.relay_queue q "
                              "JOIN wagate.messages m ON m.id = q.message_id WHERE q.message_id = '" + hex_of(m) + "'"));
    };
    EXPECT_NEAR(ttl(id), 600, 2);
    EXPECT_NEAR(ttl(text_id), 30 * 86'400, 2);
}

TEST_F(RelayTest, ARepliesContextNamingAGatewayIdReachesMetaAsTheWamid) {
    FakeUpstream upstream;
    start_relaying(upstream);
    const std::string first = send_text("first");
    ASSERT_TRUE(reaches(first, "sending"));
    json reply = json::parse(text_to(kWindowUser, "a reply"));
    reply["context"] = {{"message_id", first}};
    const std::string second = send(reply.dump());
    ASSERT_TRUE(reaches(second, "sending"));
    const auto requests = upstream.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(json::parse(requests[1].body)["context"]["message_id"], "wamid.fake.1");
}

TEST_F(RelayTest, MarkAsReadIsRelayedAndEndsSent) {
    FakeUpstream upstream([](const UpstreamRequest&, int) {
        return UpstreamReply{http::Response{200, "application/json", {}, R"({"success":true})"}, {}};
    });
    start_relaying(upstream);
    auto client = gateway_->client();
    auto r = client.post_json(
        "/v23.0/1001/messages",
        R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.inbound.1","typing_indicator":{"type":"text"}})",
        key_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body), json::parse(R"({"success":true})"));
    const std::string id = "wagate." + sql("SELECT replace(id::text, '-', '') FROM wagate.messages WHERE kind = 'mark_read'");
    ASSERT_TRUE(reaches(id, "sent")) << status_of(id);
    const json body = json::parse(upstream.requests().at(0).body);
    EXPECT_EQ(body["status"], "read");
    EXPECT_EQ(body["message_id"], "wamid.inbound.1");
    EXPECT_EQ(body["typing_indicator"]["type"], "text");
}

TEST_F(RelayTest, WaitingForATurnToSendIsNotAFailedAttempt) {
    // One send at a time, each answered after 150 ms: the last of 12 waits 1.65 s for its turn,
    // longer than the 1 s request timeout, and must still go out on its first attempt.
    FakeUpstream upstream([](const UpstreamRequest& r, int) {
        UpstreamReply reply = FakeUpstream::accept("wamid." + std::to_string(std::hash<std::string>{}(r.body)));
        reply.delay = 150ms;
        return reply;
    });
    app::Config c = relay_config();
    c.relay_concurrency = 1;
    c.relay_pacing = false;
    c.relay_lease_ms = 60'000;
    start_relaying(upstream, c);
    std::vector<std::string> ids;
    for (int i = 0; i < 12; ++i) {
        ids.push_back(send_text("turn " + std::to_string(i)));
    }
    for (const auto& id : ids) {
        ASSERT_TRUE(reaches(id, "sending")) << status_of(id);
    }
    EXPECT_EQ(upstream.count(), 12u);
    EXPECT_EQ(gateway_->relay_stats().retried, 0u);
}

TEST_F(RelayTest, ANumbersThroughputPacesItsSends) {
    FakeUpstream upstream;
    start_relaying(upstream);
    sql("UPDATE wagate.phone_numbers SET throughput_mps = 20 WHERE id = '1001'");
    constexpr int kMessages = 40;
    for (int i = 0; i < kMessages; ++i) {
        gateway_->open_window("1001", "1555000" + std::to_string(1000 + i), clock_->unix_seconds());
    }
    std::vector<std::string> ids;
    for (int i = 0; i < kMessages; ++i) {
        ids.push_back(send(text_to("1555000" + std::to_string(1000 + i), "paced " + std::to_string(i))));
    }
    ASSERT_TRUE(upstream.wait_for(kMessages, 20s));
    auto requests = upstream.requests();
    std::vector<std::chrono::steady_clock::time_point> at;
    for (const auto& r : requests) {
        at.push_back(r.at);
    }
    std::sort(at.begin(), at.end());
    // 20/s, burst 1: 40 sends take at least 39 intervals of 50 ms; allow scheduling slack above.
    const auto span = at.back() - at.front();
    EXPECT_GE(span, 1950ms - 25ms);
    EXPECT_LE(span, 3500ms);
    // No second carries more than the rate (+1 for the window's edges).
    for (std::size_t i = 0; i < at.size(); ++i) {
        const auto in_window = std::count_if(at.begin() + static_cast<std::ptrdiff_t>(i), at.end(),
                                             [&](auto t) { return t - at[i] < 1s; });
        EXPECT_LE(in_window, 21) << "window starting at send " << i;
    }
    EXPECT_EQ(upstream.count(), static_cast<std::size_t>(kMessages));
}

TEST_F(RelayTest, ThePairRateHoldsBackABurstToOneUser) {
    FakeUpstream upstream;
    app::Config c = relay_config();
    c.pair_interval_ms = 200;
    c.pair_burst = 3;
    start_relaying(upstream, c);
    constexpr int kMessages = 8;
    for (int i = 0; i < kMessages; ++i) {
        send_text("burst " + std::to_string(i));
    }
    ASSERT_TRUE(upstream.wait_for(kMessages, 20s));
    auto requests = upstream.requests();
    // The first three at once, then one per 200 ms: the i-th goes no sooner than (i - 2) x 200 ms
    // after the first. (Measured from the first rather than from the previous one: a send that
    // arrives late brings the next one's arrival closer without the schedule being any faster.)
    // The schedule starts at the claim, on the database's clock, and the first send arrives a
    // little after it (claim to upstream: 30-40 ms seen on a loaded machine), so arrivals are
    // allowed that much early; a burst wider than 3 would put sends 200 ms early, and fails.
    constexpr auto kClaimToArrival = 100ms;
    EXPECT_GE(requests.back().at - requests.front().at, 1000ms - kClaimToArrival);
    for (std::size_t i = 3; i < requests.size(); ++i) {
        EXPECT_GE(requests[i].at - requests[0].at, static_cast<int>(i - 2) * 200ms - kClaimToArrival) << i;
    }
    // Scheduled in the order accepted: the burst's three go out together (concurrently, so in any
    // order among themselves), each later one on its own turn, in order.
    std::multiset<std::string> burst;
    for (int i = 0; i < 3; ++i) {
        burst.insert(json::parse(requests[static_cast<std::size_t>(i)].body)["text"]["body"].get<std::string>());
    }
    EXPECT_EQ(burst, (std::multiset<std::string>{"burst 0", "burst 1", "burst 2"}));
    for (int i = 3; i < kMessages; ++i) {
        EXPECT_EQ(json::parse(requests[static_cast<std::size_t>(i)].body)["text"]["body"], "burst " + std::to_string(i));
    }
}

TEST_F(RelayTest, TwoRelaysOnOneDatabaseSendEachMessageExactlyOnce) {
    FakeUpstream upstream([](const UpstreamRequest& r, int n) {
        UpstreamReply reply = FakeUpstream::accept("wamid." + std::to_string(std::hash<std::string>{}(r.body)) + "." +
                                                   std::to_string(n));
        reply.delay = 2ms;
        return reply;
    });
    app::Config c = relay_config();
    c.relay_pacing = false;
    start_relaying(upstream, c);
    c.upstream_url = upstream.url();
    TestGateway second(c, clock_);
    constexpr int kMessages = 300;
    for (int i = 0; i < 30; ++i) {
        gateway_->open_window("1001", "1666000" + std::to_string(1000 + i), clock_->unix_seconds());
    }
    std::vector<std::string> ids;
    auto first_client = gateway_->client();
    auto second_client = second.client();
    for (int i = 0; i < kMessages; ++i) {
        auto& client = i % 2 ? second_client : first_client;
        auto r = client.post_json("/v23.0/1001/messages", text_to("1666000" + std::to_string(1000 + i % 30), "m" + std::to_string(i)), key_);
        ASSERT_EQ(r.status, 200) << r.body;
        ids.push_back(json::parse(r.body)["messages"][0]["id"]);
    }
    ASSERT_TRUE(eventually([&] { return sql("SELECT count(*) FROM wagate.messages WHERE status = 'sending'") == "300"; },
                           30s))
        << sql("SELECT count(*) FROM wagate.messages WHERE status = 'sending'");
    const auto requests = upstream.requests();
    EXPECT_EQ(requests.size(), static_cast<std::size_t>(kMessages));
    std::set<std::string> bodies;
    for (const auto& r : requests) {
        bodies.insert(json::parse(r.body)["text"]["body"].get<std::string>());
    }
    EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kMessages));
    EXPECT_EQ(gateway_->relay_stats().accepted + second.relay_stats().accepted, static_cast<std::uint64_t>(kMessages));
    EXPECT_EQ(sql("SELECT count(DISTINCT wamid) FROM wagate.messages"), "300");
}

TEST_F(RelayTest, StoppingGivesClaimedMessagesBackAndTheNextInstanceSendsThem) {
    FakeUpstream upstream;
    app::Config c = relay_config();
    c.upstream_url = upstream.url();
    start(c);
    sql("UPDATE wagate.phone_numbers SET throughput_mps = 2 WHERE id = '1001'");
    for (int i = 0; i < 10; ++i) {
        gateway_->open_window("1001", "1777000" + std::to_string(1000 + i), clock_->unix_seconds());
    }
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) {
        ids.push_back(send(text_to("1777000" + std::to_string(1000 + i), "s" + std::to_string(i))));
    }
    ASSERT_TRUE(upstream.wait_for(1));
    gateway_->stop();
    // Nothing is left held by the stopped instance: every unsent message is free to claim now.
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.relay_queue WHERE locked_until > now()"), "0");
    const auto sent_before = upstream.count();
    EXPECT_LT(sent_before, 10u);
    gateway_ = std::make_unique<TestGateway>(c, clock_);
    ASSERT_TRUE(upstream.wait_for(10, 20s));
    EXPECT_EQ(upstream.count(), 10u);
    std::set<std::string> bodies;
    for (const auto& r : upstream.requests()) {
        bodies.insert(json::parse(r.body)["text"]["body"].get<std::string>());
    }
    EXPECT_EQ(bodies.size(), 10u);
}

TEST_F(RelayTest, AnHttpsUpstreamIsUsedWhenItsCertificateVerifies) {
    const auto& certs = test_certificates();
    FakeUpstream upstream({}, certs.localhost.cert_file, certs.localhost.key_file);
    app::Config c = relay_config();
    c.upstream_allow_http = false;
    c.upstream_ca_file = certs.ca_file;
    c.upstream_url = "https://localhost:" + std::to_string(upstream.port());
    start(c);
    const std::string id = send_text("over TLS");
    ASSERT_TRUE(reaches(id, "sending")) << status_of(id);
    EXPECT_EQ(upstream.count(), 1u);
}

TEST_F(RelayTest, AnUpstreamWhoseCertificateDoesNotVerifyIsNeverSentTo) {
    const auto& certs = test_certificates();
    // An untrusted certificate, and a trusted one for another name: the request never gets out.
    for (const CertificateFiles* served : {&certs.untrusted, &certs.wrong_name}) {
        FakeUpstream upstream({}, served->cert_file, served->key_file);
        app::Config c = relay_config();
        c.upstream_allow_http = false;
        c.upstream_ca_file = certs.ca_file;
        c.upstream_url = "https://localhost:" + std::to_string(upstream.port());
        start(c);
        const std::string id = send_text("must not leave");
        // Retried as a network failure, with the reason kept for the message's expiry error.
        ASSERT_TRUE(eventually([&] {
            return sql("SELECT last_error::text FROM wagate.relay_queue").find("certificate verify failed") !=
                   std::string::npos;
        })) << sql("SELECT last_error::text FROM wagate.relay_queue");
        EXPECT_EQ(upstream.count(), 0u);
        EXPECT_EQ(status_of(id), "accepted");
        gateway_.reset();
    }
}

}  // namespace
}  // namespace wagate::test
