#include "support/test_gateway.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "support/meta_webhooks.hpp"
#include "support/test_database.hpp"

namespace wagate::test {

app::Config TestGateway::base_config() {
    app::Config c;
    c.database_url = test_database_url();
    c.listen = "127.0.0.1:0";
    c.admin_token = kAdminToken;
    c.threads = 2;
    c.db_pool = 6;
    c.auth_cache_ttl_ms = 0;  // tests see revocations at once
    c.shutdown_grace_ms = 2000;
    c.meta_app_secrets = {kAppSecret, kOldAppSecret};
    c.meta_verify_token = kVerifyToken;
    // Most tests look at what was accepted; the relay tests turn it on against a local upstream.
    c.relay = false;
    // Likewise event delivery: the event tests turn it on against a local receiver.
    c.event_delivery = false;
    return c;
}

TestGateway::TestGateway(app::Config config, std::shared_ptr<const Clock> clock) {
    spdlog::set_level(spdlog::level::warn);
    gateway_ = clock ? std::make_unique<app::Gateway>(std::move(config), std::move(clock))
                     : std::make_unique<app::Gateway>(std::move(config));
    if (auto started = gateway_->start(); !started) {
        throw std::runtime_error("test gateway did not start: " + started.error().message);
    }
}

TestGateway::~TestGateway() { gateway_->stop(); }

void TestGateway::drain_webhooks() {
    if (auto drained = gateway_->drain_webhooks(); !drained) {
        throw std::runtime_error("draining webhooks failed: " + drained.error().message);
    }
}

namespace {
void expect_2xx(const HttpResult& r, const std::string& what) {
    if (r.status < 200 || r.status > 299) {
        throw std::runtime_error(what + " failed: " + std::to_string(r.status) + " " + r.body);
    }
}
}  // namespace

HttpResult TestGateway::admin(const std::string& method, const std::string& path, const std::string& body,
                              const std::string& token) const {
    return HttpClient(admin_port())
        .request(method, path, body, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
}

void TestGateway::put_business(const std::string& id, const std::string& body) {
    expect_2xx(admin("PUT", "/admin/v1/businesses/" + id, body), "PUT business");
}

void TestGateway::put_phone_number(const std::string& id, const std::string& business_id) {
    const std::string body = nlohmann::json{{"business_id", business_id}, {"access_token", "meta-token"}}.dump();
    expect_2xx(admin("PUT", "/admin/v1/phone-numbers/" + id, body), "PUT phone number");
}

std::string TestGateway::create_key(const std::vector<std::string>& phone_number_ids) {
    const std::string body = nlohmann::json{{"name", "test"}, {"phone_number_ids", phone_number_ids}}.dump();
    auto r = admin("POST", "/admin/v1/api-keys", body);
    expect_2xx(r, "POST api-keys");
    return nlohmann::json::parse(r.body).at("key").get<std::string>();
}

void TestGateway::open_window(const std::string& phone_number_id, const std::string& wa_id,
                              std::int64_t unix_seconds) {
    const std::string body = nlohmann::json{{"last_inbound_at", unix_seconds}}.dump();
    expect_2xx(admin("PUT", "/admin/v1/contacts/" + phone_number_id + "/" + wa_id, body), "PUT contact");
}

std::string GatewayTest::sent_message(const std::string& wamid) {
    const std::string body = nlohmann::json{{"messaging_product", "whatsapp"},
                                            {"to", kWindowUser},
                                            {"type", "text"},
                                            {"text", {{"body", "hi"}}}}
                                 .dump();
    auto r = gateway_->client().post_json("/v23.0/1001/messages", body, key_);
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string id = nlohmann::json::parse(r.body)["messages"][0]["id"];
    sql("UPDATE wagate.messages SET wamid = '" + wamid + "' WHERE id = '" + id.substr(7) + "'::uuid");
    return id;
}

void GatewayTest::start(app::Config config) {
    WAGATE_REQUIRE_DATABASE();
    reset_database();
    gateway_ = std::make_unique<TestGateway>(std::move(config), clock_);
    gateway_->put_business("biz1");
    gateway_->put_phone_number("1001", "biz1");
    gateway_->put_phone_number("1002", "biz1");
    key_ = gateway_->create_key({"1001"});
    gateway_->open_window("1001", kWindowUser, clock_->unix_seconds());
}

}  // namespace wagate::test
