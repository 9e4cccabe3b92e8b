#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <wagate/app/gateway.hpp>

#include "support/http_client.hpp"

namespace wagate::test {

inline constexpr const char* kAdminToken = "test-admin-token-0123456789";

/// A whole gateway on 127.0.0.1:0 over the test database, with an admin token set.
class TestGateway {
public:
    explicit TestGateway(app::Config overrides = base_config());
    ~TestGateway();

    /// Defaults for tests: the test database, port 0, two threads, quiet logs.
    static app::Config base_config();

    unsigned short port() const { return gateway_->port(); }
    HttpClient client() const { return HttpClient(port()); }
    void stop() { gateway_->stop(); }

    /// An admin API request with the given Bearer token (the configured admin token by default).
    HttpResult admin(const std::string& method, const std::string& path, const std::string& body = {},
                     const std::string& token = kAdminToken) const;

    /// Admin helpers; each asserts success and returns the created object's id or key.
    void put_business(const std::string& id, const std::string& body = "{}");
    void put_phone_number(const std::string& id, const std::string& business_id);
    std::string create_key(const std::vector<std::string>& phone_number_ids);

private:
    std::unique_ptr<app::Gateway> gateway_;
};

/// A fresh database and a gateway with business "biz1", phone numbers 1001 and 1002, and an API
/// key (`key_`) scoped to 1001. Skips (or fails under WAGATE_REQUIRE_PG) without a database.
class GatewayTest : public ::testing::Test {
protected:
    void SetUp() override { start(TestGateway::base_config()); }
    void start(app::Config config);

    std::unique_ptr<TestGateway> gateway_;
    std::string key_;
};

}  // namespace wagate::test
