// The whole lifecycle on one machine, as the quick start shows it: the gateway relays to the
// sandbox, the sandbox posts signed status webhooks back through the real webhook path, and the
// message goes accepted → sending → sent → delivered → read. Also an inbound message from the
// sandbox opening the window, and the sandbox's triggers reaching the message's status.
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/sandbox/sandbox.hpp>

#include "support/eventually.hpp"
#include "support/meta_webhooks.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

/// A sandbox on its own thread, posting webhooks to the gateway on `gateway_port`.
class RunningSandbox {
public:
    RunningSandbox(unsigned short gateway_port, sandbox::SandboxSettings settings) {
        settings.listen = "127.0.0.1:0";
        settings.webhook_url = "http://127.0.0.1:" + std::to_string(gateway_port) + "/webhooks/meta";
        settings.app_secret = kAppSecret;
        sandbox_ = std::make_unique<sandbox::Sandbox>(ioc_.get_executor(), std::move(settings));
        if (auto started = sandbox_->start(); !started) {
            throw std::runtime_error("sandbox did not start: " + started.error().message);
        }
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~RunningSandbox() {
        work_.reset();
        ioc_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(sandbox_->port()); }
    unsigned short port() const { return sandbox_->port(); }

private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
    std::unique_ptr<sandbox::Sandbox> sandbox_;
    std::thread thread_;
};

class SandboxLifecycleTest : public GatewayTest {
protected:
    void SetUp() override {}

    void start_with_sandbox(sandbox::SandboxSettings settings = fast_sandbox()) {
        const unsigned short gateway_port = free_port();
        sandbox_ = std::make_unique<RunningSandbox>(gateway_port, std::move(settings));
        app::Config c = TestGateway::base_config();
        c.listen = "127.0.0.1:" + std::to_string(gateway_port);
        c.relay = true;
        c.upstream_url = sandbox_->url();
        c.upstream_allow_http = true;
        c.retry_base_ms = 100;
        start(c);
    }

    static sandbox::SandboxSettings fast_sandbox() {
        sandbox::SandboxSettings s;
        s.status_delay = 50ms;
        s.retry_initial = 50ms;
        return s;
    }

    std::string send(const std::string& to, const std::string& body) {
        auto client = gateway_->client();
        const json request = {{"messaging_product", "whatsapp"}, {"to", "+" + to}, {"type", "text"}, {"text", {{"body", body}}}};
        auto r = client.post_json("/v23.0/1001/messages", request.dump(), key_);
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body)["messages"][0]["id"].get<std::string>();
    }

    json message(const std::string& id) {
        auto client = gateway_->client();
        return json::parse(client.get("/v1/messages/" + id, key_).body);
    }

    /// Waits for the webhooks to be applied until the message's status is `status`.
    bool reaches(const std::string& id, const std::string& status) {
        return eventually([&] {
            gateway_->drain_webhooks();
            return message(id)["status"] == status;
        });
    }

    std::unique_ptr<RunningSandbox> sandbox_;
};

TEST_F(SandboxLifecycleTest, AMessageGoesFromAcceptedToReadThroughTheRealWebhookPath) {
    start_with_sandbox();
    const std::string id = send(kWindowUser, "Hello from wagate");
    ASSERT_TRUE(reaches(id, "read")) << message(id).dump();
    const json m = message(id);
    ASSERT_TRUE(m["wamid"].is_string());
    EXPECT_TRUE(m["wamid"].get<std::string>().starts_with("wamid."));
    std::vector<std::string> statuses;
    for (const auto& s : m["statuses"]) {
        statuses.push_back(s["status"]);
    }
    EXPECT_EQ(statuses, (std::vector<std::string>{"accepted", "sending", "sent", "delivered", "read"}));
    EXPECT_TRUE(m["pricing"].is_object()) << m.dump();
}

TEST_F(SandboxLifecycleTest, AnInboundMessageFromTheSandboxOpensTheWindow) {
    start_with_sandbox();
    HttpClient sandbox_client(sandbox_->port());
    const std::string user = "15557654321";
    auto closed = gateway_->client().post_json(
        "/v23.0/1001/messages",
        json{{"messaging_product", "whatsapp"}, {"to", "+" + user}, {"type", "text"}, {"text", {{"body", "hi"}}}}.dump(),
        key_);
    ASSERT_EQ(closed.status, 400) << closed.body;
    EXPECT_EQ(json::parse(closed.body)["error"]["code"], 131047);

    auto inbound = sandbox_client.post_json(
        "/sandbox/v1/inbound",
        json{{"phone_number_id", "1001"}, {"from", user}, {"type", "text"}, {"text", {{"body", "Hi business"}}}}.dump());
    ASSERT_EQ(inbound.status, 200) << inbound.body;
    EXPECT_EQ(json::parse(inbound.body)["gateway_status"], 200);
    gateway_->drain_webhooks();
    const std::string id = send(user, "Hello, you wrote to us");
    ASSERT_TRUE(reaches(id, "read")) << message(id).dump();
}

TEST_F(SandboxLifecycleTest, TheSandboxsTriggersReachTheMessagesStatus) {
    start_with_sandbox();
    for (const std::string user : {"15550131026", "15550131030"}) {
        gateway_->open_window("1001", user, clock_->unix_seconds());
    }
    // 131026: Meta took it, then reports it undeliverable.
    const std::string undeliverable = send("15550131026", "to an old client");
    // 131030: Meta refuses it at once.
    const std::string refused = send("15550131030", "to a number not on the list");
    ASSERT_TRUE(reaches(undeliverable, "failed")) << message(undeliverable).dump();
    ASSERT_TRUE(reaches(refused, "failed")) << message(refused).dump();
    EXPECT_EQ(message(undeliverable)["errors"][0]["code"], 131026);
    EXPECT_TRUE(message(undeliverable)["wamid"].is_string());
    EXPECT_EQ(message(refused)["errors"][0]["code"], 131030);
    EXPECT_TRUE(message(refused)["wamid"].is_null());
}

TEST_F(SandboxLifecycleTest, DuplicatedAndReorderedWebhooksEndInTheSameState) {
    sandbox::SandboxSettings s = fast_sandbox();
    s.duplicate_rate = 1;
    s.reorder_rate = 1;
    s.status_delay = 0ms;
    s.seed = 7;
    start_with_sandbox(s);
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        ids.push_back(send(kWindowUser, "message " + std::to_string(i)));
    }
    for (const auto& id : ids) {
        // Every status once, whatever order and however often they came.
        ASSERT_TRUE(eventually([&] {
            gateway_->drain_webhooks();
            const json m = message(id);
            return m["status"] == "read" && m["statuses"].size() == 5u;
        })) << message(id).dump();
    }
}

}  // namespace
}  // namespace wagate::test
