// `wagate sandbox` (contract §5.4, docs/sandbox.md) over real HTTP on loopback: the Sandbox runs
// in process and posts to a recording webhook receiver (an http::Server on 127.0.0.1:0 that
// verifies each signature over the raw bytes with the same secret, as the gateway does). No
// PostgreSQL. Conditions are awaited by polling with a deadline, never by fixed sleeps.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/crypto/digest.hpp>
#include <wagate/http/router.hpp>
#include <wagate/http/server.hpp>
#include <wagate/sandbox/sandbox.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace wagate::test {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kSecret = "sandbox-test-secret";
constexpr const char* kToken = "any-token";
constexpr const char* kSendPath = "/v23.0/1001/messages";

/// Polls `condition` every 5 ms; false if it still does not hold after `timeout`.
bool wait_until(const std::function<bool()>& condition, milliseconds timeout = milliseconds(10'000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
}

std::string text_to(const std::string& to, const std::string& extra = "") {
    return R"({"messaging_product":"whatsapp","to":")" + to + R"(","type":"text","text":{"body":"hello"})" + extra +
           "}";
}

/// The gateway's side: verifies X-Hub-Signature-256 over the raw body, records every POST, and
/// answers 503 to the first `refuse_first` of them.
class WebhookReceiver {
public:
    struct Received {
        std::string body;
        std::string signature;
        bool verified = false;
    };

    WebhookReceiver(asio::any_io_executor executor, int refuse_first) : refuse_left_(refuse_first) {
        router_.add("POST", "/webhooks/meta", 8 * 1024 * 1024,
                    [this](http::Request& r, const http::PathParams&) { return receive(this, r); });
        http::ServerSettings settings;
        settings.listen = "127.0.0.1:0";
        server_ = std::make_unique<http::Server>(
            executor, settings, router_,
            [](int status, std::string_view, const std::string&) {
                http::Response r;
                r.status = status;
                return r;
            },
            [](const http::RequestRecord&) {});
        EXPECT_TRUE(server_->start());
    }

    unsigned short port() const { return server_->port(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/webhooks/meta"; }
    void stop(std::function<void()> done) { server_->stop(milliseconds(1000), std::move(done)); }

    std::vector<Received> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }
    int refused() const { return refused_; }

    /// Every status item received for `wamid`, in order of arrival.
    std::vector<json> statuses_of(const std::string& wamid) const {
        std::vector<json> out;
        for (const auto& r : received()) {
            const json body = json::parse(r.body);
            const json& value = body["entry"][0]["changes"][0]["value"];
            if (value.contains("statuses") && value["statuses"][0]["id"] == wamid) {
                out.push_back(value["statuses"][0]);
            }
        }
        return out;
    }

private:
    static asio::awaitable<http::Response> receive(WebhookReceiver* self, http::Request& request) {
        co_return self->record(request);
    }

    static http::Response answer(int status, std::string body) {
        http::Response r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }

    http::Response record(const http::Request& request) {
        if (refuse_left_.fetch_sub(1) > 0) {
            ++refused_;
            return answer(503, R"({"error":"not now"})");
        }
        const std::string signature(request.header("x-hub-signature-256"));
        const std::vector<std::string> secrets{kSecret};
        const bool verified = crypto::verify_hub_signature(signature, request.body, secrets);
        {
            std::lock_guard lock(mutex_);
            received_.push_back({request.body, signature, verified});
        }
        return answer(200, R"({"success":true})");
    }

    http::Router router_;
    std::unique_ptr<http::Server> server_;
    mutable std::mutex mutex_;
    std::vector<Received> received_;
    std::atomic<int> refuse_left_;
    std::atomic<int> refused_{0};
};

class SandboxE2eTest : public ::testing::Test {
protected:
    /// Settings for a fast test: statuses 20 ms apart, retries from 20 ms.
    static sandbox::SandboxSettings fast() {
        sandbox::SandboxSettings s;
        s.listen = "127.0.0.1:0";
        s.app_secret = kSecret;
        s.status_delay = milliseconds(20);
        s.retry_initial = milliseconds(20);
        s.retry_max = milliseconds(200);
        s.seed = 12345;
        return s;
    }

    void start(sandbox::SandboxSettings settings = fast(), int refuse_first = 0) {
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { ioc_.run(); });
        }
        receiver_ = std::make_unique<WebhookReceiver>(ioc_.get_executor(), refuse_first);
        if (settings.webhook_url == sandbox::SandboxSettings{}.webhook_url) {
            settings.webhook_url = receiver_->url();
        }
        sandbox_ = std::make_unique<sandbox::Sandbox>(ioc_.get_executor(), settings);
        auto started = sandbox_->start();
        ASSERT_TRUE(started) << started.error().message;
        client_ = std::make_unique<HttpClient>(sandbox_->port());
    }

    void TearDown() override {
        std::vector<std::future<void>> stopped;
        if (sandbox_) {
            auto done = std::make_shared<std::promise<void>>();
            stopped.push_back(done->get_future());
            sandbox_->stop(milliseconds(1000), [done] { done->set_value(); });
        }
        if (receiver_) {
            auto done = std::make_shared<std::promise<void>>();
            stopped.push_back(done->get_future());
            receiver_->stop([done] { done->set_value(); });
        }
        for (auto& f : stopped) {
            f.wait_for(std::chrono::seconds(3));
        }
        work_.reset();
        ioc_.stop();
        for (auto& t : threads_) {
            t.join();
        }
    }

    HttpResult send(const std::string& body, const std::string& token = kToken) {
        return client_->post_json(kSendPath, body, token);
    }

    /// Sends `body`, asserts 200 and returns the wamid.
    std::string accepted(const std::string& body) {
        const HttpResult r = send(body);
        EXPECT_EQ(r.status, 200) << r.body;
        const json answer = json::parse(r.body, nullptr, false);
        if (r.status != 200 || !answer.contains("messages")) {
            return {};
        }
        return answer["messages"][0]["id"].get<std::string>();
    }

    json stats() { return json::parse(client_->get("/sandbox/v1/stats").body); }

    /// Waits until `wamid` has `n` statuses at the receiver and returns them in order of arrival.
    std::vector<json> wait_for_statuses(const std::string& wamid, std::size_t n) {
        EXPECT_TRUE(wait_until([&] { return receiver_->statuses_of(wamid).size() >= n; }))
            << "only " << receiver_->statuses_of(wamid).size() << " of " << n << " statuses for " << wamid;
        return receiver_->statuses_of(wamid);
    }

    /// Waits until nothing is left to post, so that "nothing more" can be asserted.
    void wait_until_idle() {
        EXPECT_TRUE(wait_until([&] { return stats()["webhooks_pending"] == 0; }));
    }

    static void expect_graph_error(const HttpResult& r, int status, int code, const std::string& details_start) {
        EXPECT_EQ(r.status, status) << r.body;
        const json body = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(body.contains("error")) << r.body;
        const json& e = body["error"];
        EXPECT_EQ(e["code"], code) << r.body;
        EXPECT_EQ(e["type"], "OAuthException");
        EXPECT_TRUE(e["message"].get<std::string>().starts_with("(#" + std::to_string(code) + ") ")) << r.body;
        EXPECT_EQ(e["error_data"]["messaging_product"], "whatsapp");
        EXPECT_TRUE(e["error_data"]["details"].get<std::string>().starts_with(details_start)) << r.body;
        EXPECT_TRUE(e["fbtrace_id"].is_string());
    }

    asio::io_context ioc_{2};
    asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
    std::vector<std::thread> threads_;
    std::unique_ptr<WebhookReceiver> receiver_;
    std::unique_ptr<sandbox::Sandbox> sandbox_;
    std::unique_ptr<HttpClient> client_;
};

TEST_F(SandboxE2eTest, AnAcceptedSendGetsAWamidThenSignedSentDeliveredRead) {
    start();
    const HttpResult r = send(text_to("+1 (555) 123-4567", R"(,"biz_opaque_callback_data":"order-17")"));
    ASSERT_EQ(r.status, 200) << r.body;
    const json answer = json::parse(r.body);
    EXPECT_EQ(answer["messaging_product"], "whatsapp");
    EXPECT_EQ(answer["contacts"], (json::array({{{"input", "+1 (555) 123-4567"}, {"wa_id", "15551234567"}}})));
    const std::string wamid = answer["messages"][0]["id"];
    EXPECT_TRUE(wamid.starts_with("wamid.")) << wamid;
    EXPECT_GE(wamid.size(), 40u);
    EXPECT_FALSE(answer["messages"][0].contains("message_status"));

    const std::vector<json> statuses = wait_for_statuses(wamid, 3);
    ASSERT_EQ(statuses.size(), 3u);
    const char* order[] = {"sent", "delivered", "read"};
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(statuses[i]["status"], order[i]);
        EXPECT_EQ(statuses[i]["recipient_id"], "15551234567");
        EXPECT_EQ(statuses[i]["biz_opaque_callback_data"], "order-17");
        EXPECT_TRUE(statuses[i]["timestamp"].is_string());
    }
    EXPECT_LE(std::stoll(statuses[0]["timestamp"].get<std::string>()),
              std::stoll(statuses[1]["timestamp"].get<std::string>()));
    EXPECT_LE(std::stoll(statuses[1]["timestamp"].get<std::string>()),
              std::stoll(statuses[2]["timestamp"].get<std::string>()));
    EXPECT_EQ(statuses[0]["pricing"]["pricing_model"], "PMP");
    EXPECT_TRUE(statuses[0]["conversation"].contains("expiration_timestamp"));
    EXPECT_TRUE(statuses[1].contains("pricing"));
    EXPECT_FALSE(statuses[2].contains("pricing"));

    for (const auto& received : receiver_->received()) {
        EXPECT_TRUE(received.verified) << received.signature;
        EXPECT_EQ(received.signature.size(), 7u + 64u);
        const json body = json::parse(received.body);
        EXPECT_EQ(body["object"], "whatsapp_business_account");
        EXPECT_EQ(body["entry"][0]["id"], sandbox::kSandboxWabaId);
        EXPECT_EQ(body["entry"][0]["changes"][0]["field"], "messages");
        EXPECT_EQ(body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"], "1001");
        EXPECT_EQ(body["entry"][0]["changes"][0]["value"]["metadata"]["display_phone_number"], "1001");
    }

    const json listed = json::parse(client_->get("/sandbox/v1/messages").body);
    EXPECT_EQ(listed["total"], 1);
    ASSERT_EQ(listed["messages"].size(), 1u);
    EXPECT_EQ(listed["messages"][0]["wamid"], wamid);
    EXPECT_EQ(listed["messages"][0]["phone_number_id"], "1001");
    EXPECT_EQ(listed["messages"][0]["to"], "+1 (555) 123-4567");
    EXPECT_EQ(listed["messages"][0]["type"], "text");
    EXPECT_EQ(listed["messages"][0]["payload"]["text"]["body"], "hello");
    EXPECT_TRUE(listed["messages"][0]["received_at"].is_string());

    wait_until_idle();
    const json counts = stats();
    EXPECT_EQ(counts["accepted"], 1);
    EXPECT_EQ(counts["webhooks_posted"], 3);
    EXPECT_EQ(counts["webhooks_failed_attempts"], 0);
}

TEST_F(SandboxE2eTest, TemplatesAreAcceptedAndMarkAsReadSucceeds) {
    start();
    HttpResult r = send(R"({"messaging_product":"whatsapp","to":"15551234567","type":"template",)"
                        R"("template":{"name":"hello_world","language":{"code":"en_US"}}})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["messages"][0]["message_status"], "accepted");
    const std::string wamid = json::parse(r.body)["messages"][0]["id"];
    const auto statuses = wait_for_statuses(wamid, 3);
    EXPECT_EQ(statuses[0]["pricing"]["type"], "regular");

    r = send(R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.in",)"
             R"("typing_indicator":{"type":"text"}})");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body), (json{{"success", true}}));
    EXPECT_EQ(stats()["marked_read"], 1);
}

TEST_F(SandboxE2eTest, ASendWithoutAUsableTokenIs401) {
    start();
    expect_graph_error(send(text_to("15551234567"), ""), 401, 190, "Authorization:");
    const HttpResult empty = client_->request("POST", kSendPath, text_to("15551234567"),
                                              {{"Content-Type", "application/json"}, {"Authorization", "Bearer "}});
    expect_graph_error(empty, 401, 190, "Authorization:");
    expect_graph_error(send(text_to("15551234567"), "invalid"), 401, 190, "access token:");
    EXPECT_EQ(stats()["unauthorized"], 3);
}

TEST_F(SandboxE2eTest, ValidationErrorsUseTheGraphEnvelopeAndNameTheField) {
    start();
    expect_graph_error(send(R"({"messaging_product":"whatsapp","to":"15551234567","type":"text","text":{}})"), 400,
                       131008, "text.body");
    expect_graph_error(send(text_to("15551234567", R"(,"surprise":1)")), 400, 100, "surprise");
    expect_graph_error(send("{not json"), 400, 100, "");
    // Unknown routes get the same envelope, never a 500.
    expect_graph_error(client_->post_json("/v23.0/1001/nothing", "{}", kToken), 404, 100, "");
    EXPECT_EQ(stats()["rejected_validation"], 3);
    EXPECT_EQ(stats()["accepted"], 0);
}

TEST_F(SandboxE2eTest, SynchronousTriggers) {
    start();
    for (int i = 0; i < 2; ++i) {
        expect_graph_error(send(text_to("+1 555 013 1030")), 400, 131030, "Recipient phone number not in allowed list");
    }
    expect_graph_error(send(text_to("15550130429")), 400, 130429, "Cloud API message throughput has been reached.");
    accepted(text_to("15550130429"));
    expect_graph_error(send(text_to("15550131000")), 500, 131000, "");
    accepted(text_to("15550131000"));
    expect_graph_error(send(text_to("15550131056")), 400, 131056, "");
    accepted(text_to("15550131056"));
    // The first send is per phone number: another number meets the trigger again.
    expect_graph_error(client_->post_json("/v23.0/1002/messages", text_to("15550131056"), kToken), 400, 131056, "");
    EXPECT_EQ(stats()["rejected_trigger"], 6);
    EXPECT_EQ(stats()["accepted"], 3);
}

TEST_F(SandboxE2eTest, UndeliverableRecipientsGetFailedStatuses) {
    start();
    const std::string undeliverable = accepted(text_to("15550131026"));
    const std::string not_delivered = accepted(text_to("15550131049"));
    auto statuses = wait_for_statuses(undeliverable, 2);
    ASSERT_EQ(statuses.size(), 2u);
    EXPECT_EQ(statuses[0]["status"], "sent");
    EXPECT_EQ(statuses[1]["status"], "failed");
    EXPECT_EQ(statuses[1]["errors"][0]["code"], 131026);
    EXPECT_EQ(statuses[1]["errors"][0]["title"], "Message undeliverable");
    EXPECT_EQ(statuses[1]["errors"][0]["message"], "Message undeliverable");
    EXPECT_TRUE(statuses[1]["errors"][0]["error_data"]["details"].is_string());

    statuses = wait_for_statuses(not_delivered, 1);
    wait_until_idle();
    statuses = receiver_->statuses_of(not_delivered);
    ASSERT_EQ(statuses.size(), 1u);
    EXPECT_EQ(statuses[0]["status"], "failed");
    EXPECT_EQ(statuses[0]["errors"][0]["code"], 131049);
    EXPECT_EQ(receiver_->statuses_of(undeliverable).size(), 2u);
}

TEST_F(SandboxE2eTest, ThrottleRate) {
    auto s = fast();
    s.throttle_rate = 1;
    start(s);
    expect_graph_error(send(text_to("15551234567")), 429, 130429, "Cloud API message throughput has been reached.");
    EXPECT_EQ(stats()["throttled"], 1);
}

TEST_F(SandboxE2eTest, ServerErrorRate) {
    auto s = fast();
    s.server_error_rate = 1;
    start(s);
    expect_graph_error(send(text_to("15551234567")), 500, 131000, "");
    EXPECT_EQ(stats()["server_errors"], 1);
}

TEST_F(SandboxE2eTest, LatencyDelaysTheAnswer) {
    auto s = fast();
    s.latency = milliseconds(150);
    start(s);
    const auto started = std::chrono::steady_clock::now();
    accepted(text_to("15551234567"));
    EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(150));
}

TEST_F(SandboxE2eTest, InboundMessagesArePostedAndTheGatewaysAnswerReturned) {
    start();
    const HttpResult r = client_->post_json(
        "/sandbox/v1/inbound",
        R"({"phone_number_id":"1001","from":"16505551234","type":"text","name":"Ana","text":{"body":"hola ñ"}})");
    ASSERT_EQ(r.status, 200) << r.body;
    const json answer = json::parse(r.body);
    EXPECT_EQ(answer["gateway_status"], 200);
    const std::string wamid = answer["wamid"];
    EXPECT_TRUE(wamid.starts_with("wamid."));

    // Answered only once the gateway answered: the body is already there.
    const auto received = receiver_->received();
    ASSERT_EQ(received.size(), 1u);
    EXPECT_TRUE(received[0].verified);
    EXPECT_NE(received[0].body.find("\\u00f1"), std::string::npos) << "non-ASCII is escaped, as Meta does";
    const json value = json::parse(received[0].body)["entry"][0]["changes"][0]["value"];
    EXPECT_EQ(value["metadata"]["phone_number_id"], "1001");
    EXPECT_EQ(value["contacts"], (json::array({{{"profile", {{"name", "Ana"}}}, {"wa_id", "16505551234"}}})));
    const json& message = value["messages"][0];
    EXPECT_EQ(message["from"], "16505551234");
    EXPECT_EQ(message["id"], wamid);
    EXPECT_EQ(message["type"], "text");
    EXPECT_EQ(message["text"]["body"], "hola ñ");
    EXPECT_TRUE(message["timestamp"].is_string());

    expect_graph_error(client_->post_json("/sandbox/v1/inbound", R"({"phone_number_id":"1001","type":"text",)"
                                                                 R"("text":{"body":"x"}})"),
                       400, 131008, "from: required");
    expect_graph_error(client_->post_json("/sandbox/v1/inbound", R"({"phone_number_id":"1001","from":"+1650",)"
                                                                 R"("type":"text","text":{"body":"x"}})"),
                       400, 131009, "from:");
    expect_graph_error(client_->post_json("/sandbox/v1/inbound", R"({"phone_number_id":"1001","from":"1650",)"
                                                                 R"("type":"image"})"),
                       400, 131008, "image: required");
    EXPECT_EQ(receiver_->received().size(), 1u);
}

TEST_F(SandboxE2eTest, WebhooksAreRetriedUntilTheGatewayTakesThem) {
    start(fast(), /*refuse_first=*/4);
    const std::string wamid = accepted(text_to("15551234567"));
    const auto statuses = wait_for_statuses(wamid, 3);
    ASSERT_EQ(statuses.size(), 3u);
    EXPECT_EQ(statuses[0]["status"], "sent");
    EXPECT_EQ(statuses[2]["status"], "read");
    EXPECT_EQ(receiver_->refused(), 4);
    wait_until_idle();
    EXPECT_EQ(stats()["webhooks_failed_attempts"], 4);
    EXPECT_EQ(stats()["webhooks_posted"], 3);
}

TEST_F(SandboxE2eTest, AGatewayThatIsDownDoesNotStopTheAnswers) {
    auto s = fast();
    s.webhook_url = "http://127.0.0.1:" + std::to_string(free_port()) + "/webhooks/meta";
    start(s);
    for (int i = 0; i < 5; ++i) {
        accepted(text_to("15551234567"));
    }
    EXPECT_TRUE(wait_until([&] { return stats()["webhooks_failed_attempts"] >= 5; }));
    EXPECT_EQ(stats()["accepted"], 5);
    EXPECT_EQ(stats()["webhooks_pending"], 15);
    const HttpResult inbound = client_->post_json(
        "/sandbox/v1/inbound", R"({"phone_number_id":"1001","from":"1650","type":"text","text":{"body":"x"}})");
    expect_graph_error(inbound, 502, 131000, "the gateway at");
}

TEST_F(SandboxE2eTest, AWebhookIsAbandonedAfterTheGiveUpTime) {
    auto s = fast();
    s.give_up_after = milliseconds(100);
    s.read = false;
    start(s, /*refuse_first=*/1'000'000);
    accepted(text_to("15551234567"));
    EXPECT_TRUE(wait_until([&] { return stats()["webhooks_given_up"] == 2; }));
    const json counts = stats();
    EXPECT_EQ(counts["webhooks_pending"], 0);
    EXPECT_EQ(counts["webhooks_posted"], 0);
    EXPECT_GE(counts["webhooks_failed_attempts"], 4);
}

TEST_F(SandboxE2eTest, AFullQueueDropsWebhooksButStillAnswers) {
    auto s = fast();
    s.max_pending_webhooks = 4;
    s.status_delay = milliseconds(60'000);  // nothing leaves the queue during the test
    start(s);
    accepted(text_to("15551234567"));
    accepted(text_to("15551234567"));
    const json counts = stats();
    EXPECT_EQ(counts["accepted"], 2);
    EXPECT_EQ(counts["webhooks_pending"], 3);
    EXPECT_EQ(counts["webhooks_dropped"], 3);
}

TEST_F(SandboxE2eTest, WithDuplicateRateOneEveryWebhookArrivesTwiceByteIdentical) {
    auto s = fast();
    s.duplicate_rate = 1;
    start(s);
    const std::string wamid = accepted(text_to("15551234567"));
    wait_for_statuses(wamid, 6);
    wait_until_idle();
    const auto received = receiver_->received();
    ASSERT_EQ(received.size(), 6u);
    for (std::size_t i = 0; i < received.size(); i += 2) {
        EXPECT_EQ(received[i].body, received[i + 1].body);
        EXPECT_EQ(received[i].signature, received[i + 1].signature);
        EXPECT_TRUE(received[i].verified);
    }
    EXPECT_NE(received[0].body, received[2].body);
}

TEST_F(SandboxE2eTest, WithReorderRateOneAndNoDelayEveryStatusStillArrives) {
    auto s = fast();
    s.reorder_rate = 1;
    s.status_delay = milliseconds(0);
    start(s);
    std::vector<std::string> wamids;
    for (int i = 0; i < 5; ++i) {
        wamids.push_back(accepted(text_to("15551234567")));
    }
    for (const auto& wamid : wamids) {
        const auto statuses = wait_for_statuses(wamid, 3);
        std::vector<std::string> names;
        for (const auto& status : statuses) {
            names.push_back(status["status"]);
        }
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names, (std::vector<std::string>{"delivered", "read", "sent"})) << wamid;
    }
    wait_until_idle();
    EXPECT_EQ(receiver_->received().size(), 15u);
}

TEST_F(SandboxE2eTest, TheAuditListPagesAndStaysBounded) {
    auto s = fast();
    s.webhooks = false;
    s.max_recorded_messages = 3;
    start(s);
    std::vector<std::string> wamids;
    for (int i = 0; i < 5; ++i) {
        wamids.push_back(accepted(text_to("15551234567")));
    }
    json listed = json::parse(client_->get("/sandbox/v1/messages").body);
    EXPECT_EQ(listed["total"], 5);
    ASSERT_EQ(listed["messages"].size(), 3u);
    EXPECT_EQ(listed["messages"][0]["wamid"], wamids[2]);
    listed = json::parse(client_->get("/sandbox/v1/messages?after=3&limit=1").body);
    ASSERT_EQ(listed["messages"].size(), 1u);
    EXPECT_EQ(listed["messages"][0]["seq"], 4);
    expect_graph_error(client_->get("/sandbox/v1/messages?after=x"), 400, 131009, "after:");
    EXPECT_TRUE(receiver_->received().empty());
    EXPECT_EQ(stats()["webhooks_posted"], 0);
}

TEST(SandboxCommand, RefusesToStartWithoutAnAppSecret) {
    Process p(WAGATE_BINARY, {"sandbox"}, {{"WAGATE_SANDBOX_LISTEN", "127.0.0.1:0"}, {"WAGATE_META_APP_SECRETS", ""}});
    EXPECT_EQ(p.wait(milliseconds(10'000)), 2);
    EXPECT_NE(p.output().find("WAGATE_META_APP_SECRETS is not set"), std::string::npos) << p.output();
}

TEST(SandboxCommand, AnswersSendsAndStopsOnSigterm) {
    const unsigned short port = free_port();
    Process p(WAGATE_BINARY, {"sandbox"},
              {{"WAGATE_SANDBOX_LISTEN", "127.0.0.1:" + std::to_string(port)},
               {"WAGATE_META_APP_SECRETS", kSecret},
               {"WAGATE_SANDBOX_WEBHOOKS", "false"},
               {"WAGATE_LOG_LEVEL", "warn"}});
    HttpClient client(port);
    std::optional<HttpResult> answer;
    EXPECT_TRUE(wait_until([&] {
        try {
            answer = client.post_json(kSendPath, text_to("15551234567"), kToken);
        } catch (const std::exception&) {
            return false;  // not listening yet
        }
        return answer->status == 200;
    })) << p.output();
    ASSERT_TRUE(answer);
    EXPECT_TRUE(json::parse(answer->body)["messages"][0]["id"].get<std::string>().starts_with("wamid."));
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(milliseconds(10'000)), 0) << p.output();
}

}  // namespace
}  // namespace wagate::test
