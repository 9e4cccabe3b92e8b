#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <wagate/app/gateway.hpp>

#include "support/http_client.hpp"
#include "support/manual_clock.hpp"

namespace wagate::test {

inline constexpr const char* kAdminToken = "test-admin-token-0123456789";

/// A whole gateway on 127.0.0.1:0 over the test database, with an admin token set.
class TestGateway {
public:
    /// Without a clock the gateway uses the system clock.
    explicit TestGateway(app::Config overrides = base_config(), std::shared_ptr<const Clock> clock = nullptr);
    ~TestGateway();

    /// Defaults for tests: the test database, port 0, two threads, quiet logs.
    static app::Config base_config();

    unsigned short port() const { return gateway_->port(); }
    /// The admin listener's port (port() when the admin API shares the main listener).
    unsigned short admin_port() const { return gateway_->admin_port(); }
    HttpClient client() const { return HttpClient(port()); }
    void stop() { gateway_->stop(); }
    /// The periodic maintenance (tier reviews), once, now; returns how many businesses changed.
    Result<int> run_maintenance() { return gateway_->run_maintenance(); }
    /// Applies every stored webhook now; throws if that fails.
    void drain_webhooks();
    relay::RelayStats relay_stats() const { return gateway_->relay_stats(); }
    std::vector<app::Gateway::RouteInfo> routes() const { return gateway_->routes(); }

    /// An admin API request with the given Bearer token (the configured admin token by default),
    /// on the admin listener.
    HttpResult admin(const std::string& method, const std::string& path, const std::string& body = {},
                     const std::string& token = kAdminToken) const;

    /// Admin helpers; each asserts success and returns the created object's id or key.
    void put_business(const std::string& id, const std::string& body = "{}");
    void put_phone_number(const std::string& id, const std::string& business_id);
    std::string create_key(const std::vector<std::string>& phone_number_ids);
    /// Records an inbound message from `wa_id` to `phone_number_id` at `unix_seconds` (what the
    /// webhook ingest will do), which opens the customer service window for 24 hours from then.
    void open_window(const std::string& phone_number_id, const std::string& wa_id, std::int64_t unix_seconds);

private:
    std::unique_ptr<app::Gateway> gateway_;
};

/// A fresh database and a gateway on a ManualClock (`clock_`) with business "biz1", phone numbers
/// 1001 and 1002, an API key (`key_`) scoped to 1001, and an open customer service window between
/// 1001 and kWindowUser (the recipient of most send tests). Skips (or fails under
/// WAGATE_REQUIRE_PG) without a database.
class GatewayTest : public ::testing::Test {
protected:
    void SetUp() override { start(TestGateway::base_config()); }
    void start(app::Config config);

    /// Sends a text from 1001 to kWindowUser and gives it Meta's `wamid`, as the relay would;
    /// returns the gateway's id ("wagate." + hex).
    std::string sent_message(const std::string& wamid);

    static constexpr const char* kWindowUser = "15551234567";

    std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
    std::unique_ptr<TestGateway> gateway_;
    std::string key_;
};

}  // namespace wagate::test
