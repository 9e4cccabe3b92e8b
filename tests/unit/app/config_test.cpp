#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <wagate/app/config.hpp>

namespace wagate::app {
namespace {

std::string write_file(const std::string& text) {
    const std::string path = "/tmp/wagate-config-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonc";
    std::ofstream(path) << text;
    return path;
}

TEST(LoadConfig, DefaultsMatchTheContract) {
    auto load = load_config(std::nullopt, {{"WAGATE_DATABASE_URL", "postgresql:///x"}}, true);
    ASSERT_TRUE(load.errors.empty());
    EXPECT_EQ(load.config.listen, "127.0.0.1:8080");
    EXPECT_EQ(load.config.upstream_url, "https://graph.facebook.com");
    EXPECT_EQ(load.config.upstream_version, "v23.0");
    EXPECT_EQ(load.config.key_rate_limit, 0);
    EXPECT_EQ(load.config.log_format, "json");
    EXPECT_EQ(load.config.max_body_bytes, 1024u * 1024u);
}

TEST(LoadConfig, EnvironmentWinsOverTheFile) {
    const auto file = write_file(R"({ // comments are allowed
        "listen": "0.0.0.0:9000", "threads": 4, "log_format": "text", "auto_migrate": false })");
    auto load = load_config(file, {{"WAGATE_THREADS", "3"}, {"WAGATE_DATABASE_URL", "postgresql:///x"},
                                   {"WAGATE_META_APP_SECRETS", "s1,s2"}},
                            true);
    ASSERT_TRUE(load.errors.empty()) << load.errors.front();
    EXPECT_EQ(load.config.listen, "0.0.0.0:9000");
    EXPECT_EQ(load.config.threads, 3);
    EXPECT_EQ(load.config.log_format, "text");
    EXPECT_FALSE(load.config.auto_migrate);
    EXPECT_EQ(load.config.meta_app_secrets, (std::vector<std::string>{"s1", "s2"}));
    std::remove(file.c_str());
}

TEST(LoadConfig, EveryProblemIsReportedAtOnce) {
    const auto file = write_file(R"({"threads": "many", "admin_token": "in-a-file", "colour": "blue",
                                     "db_pool": 0})");
    auto load = load_config(file,
                            {{"WAGATE_LOG_LEVEL", "loud"}, {"WAGATE_MAX_BODY_BYTES", "12x"},
                             {"WAGATE_TLS_CERT", "/c.pem"}, {"WAGATE_UPSTREAM_URL", "ftp://meta"},
                             {"WAGATE_LISTEN", "8080"}, {"WAGATE_TYPO", "1"}},
                            true);
    const std::vector<std::string> expected = {"\"threads\"", "\"admin_token\" is a secret", "\"colour\"",
                                               "\"db_pool\"", "WAGATE_LOG_LEVEL", "WAGATE_MAX_BODY_BYTES",
                                               "WAGATE_TLS_CERT", "WAGATE_UPSTREAM_URL", "WAGATE_LISTEN",
                                               "WAGATE_DATABASE_URL"};
    for (const auto& e : expected) {
        bool found = false;
        for (const auto& err : load.errors) {
            found = found || err.find(e) != std::string::npos;
        }
        EXPECT_TRUE(found) << e;
    }
    EXPECT_EQ(load.errors.size(), expected.size());
    ASSERT_EQ(load.warnings.size(), 1u);
    EXPECT_NE(load.warnings[0].find("WAGATE_TYPO"), std::string::npos);
    std::remove(file.c_str());
}

TEST(LoadConfig, BusinessRuleSettingsHaveSafeDefaultsAndAreChecked) {
    auto load = load_config(std::nullopt, {{"WAGATE_DATABASE_URL", "postgresql:///x"}}, true);
    ASSERT_TRUE(load.errors.empty());
    EXPECT_EQ(load.config.unknown_templates, "reject");
    EXPECT_EQ(load.config.pair_queue_cap, 0);
    EXPECT_EQ(load.config.maintenance_interval_ms, 60'000);

    load = load_config(std::nullopt,
                       {{"WAGATE_DATABASE_URL", "postgresql:///x"}, {"WAGATE_UNKNOWN_TEMPLATES", "pass"},
                        {"WAGATE_PAIR_QUEUE_CAP", "45"}},
                       true);
    ASSERT_TRUE(load.errors.empty());
    EXPECT_EQ(load.config.unknown_templates, "pass");
    EXPECT_EQ(load.config.pair_queue_cap, 45);

    load = load_config(std::nullopt,
                       {{"WAGATE_DATABASE_URL", "postgresql:///x"}, {"WAGATE_UNKNOWN_TEMPLATES", "allow"},
                        {"WAGATE_PAIR_QUEUE_CAP", "-1"}},
                       true);
    ASSERT_EQ(load.errors.size(), 2u);
    EXPECT_NE(load.errors[0].find("WAGATE_PAIR_QUEUE_CAP"), std::string::npos);
    EXPECT_NE(load.errors[1].find("WAGATE_UNKNOWN_TEMPLATES"), std::string::npos);
}

TEST(LoadConfig, APlainHttpUpstreamNeedsToBeAllowed) {
    auto refused = load_config(std::nullopt, {{"WAGATE_UPSTREAM_URL", "http://127.0.0.1:8090"}}, false);
    ASSERT_EQ(refused.errors.size(), 1u);
    EXPECT_NE(refused.errors[0].find("WAGATE_UPSTREAM_ALLOW_HTTP"), std::string::npos);
    auto allowed = load_config(
        std::nullopt, {{"WAGATE_UPSTREAM_URL", "http://127.0.0.1:8090"}, {"WAGATE_UPSTREAM_ALLOW_HTTP", "true"}}, false);
    EXPECT_TRUE(allowed.errors.empty()) << allowed.errors.front();
    auto slash = load_config(std::nullopt, {{"WAGATE_UPSTREAM_URL", "https://graph.facebook.com/"}}, false);
    ASSERT_EQ(slash.errors.size(), 1u);
    EXPECT_NE(slash.errors[0].find("trailing slash"), std::string::npos);
}

TEST(LoadConfig, TheRelayLeaseMustOutlastASend) {
    auto load = load_config(std::nullopt,
                            {{"WAGATE_RELAY_LEASE_MS", "20000"}, {"WAGATE_UPSTREAM_TIMEOUT_MS", "30000"},
                             {"WAGATE_RETRY_BASE_MS", "5000"}, {"WAGATE_RETRY_MAX_MS", "1000"}},
                            false);
    ASSERT_EQ(load.errors.size(), 2u);
    EXPECT_NE(load.errors[0].find("WAGATE_RETRY_MAX_MS"), std::string::npos);
    EXPECT_NE(load.errors[1].find("WAGATE_RELAY_LEASE_MS"), std::string::npos);
}

TEST(LoadConfig, AnUnreadableCaFileIsReportedAtStart) {
    auto load = load_config(std::nullopt, {{"WAGATE_UPSTREAM_CA_FILE", "/no/such/ca.pem"}}, false);
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("WAGATE_UPSTREAM_CA_FILE"), std::string::npos);
}

TEST(LoadConfig, SandboxRatesAreShares) {
    auto load = load_config(std::nullopt, {{"WAGATE_SANDBOX_FAIL_RATE", "1.5"}, {"WAGATE_SANDBOX_DUPLICATE_RATE", "0.25"}},
                            false);
    ASSERT_EQ(load.errors.size(), 1u);
    EXPECT_NE(load.errors[0].find("WAGATE_SANDBOX_FAIL_RATE"), std::string::npos);
    EXPECT_DOUBLE_EQ(load.config.sandbox_duplicate_rate, 0.25);
}

TEST(LoadConfig, TheExampleFileLoads) {
    auto load = load_config(std::string(WAGATE_SOURCE_DIR) + "/config/wagate.example.jsonc", {}, false);
    EXPECT_TRUE(load.errors.empty()) << (load.errors.empty() ? "" : load.errors.front());
}

TEST(LoadConfig, ListenAddressesNeedAHostAndAPortInRange) {
    auto listen_error = [](const char* name, const char* value) {
        auto load = load_config(std::nullopt, {{"WAGATE_DATABASE_URL", "postgresql:///x"}, {name, value}}, true);
        for (const auto& e : load.errors) {
            if (e.starts_with(std::string(name) + ": ")) {
                return true;
            }
        }
        return false;
    };
    for (const char* good : {"127.0.0.1:8080", "0.0.0.0:0", "localhost:65535", "[::1]:8443", "[::]:80"}) {
        EXPECT_FALSE(listen_error("WAGATE_LISTEN", good)) << good;
        EXPECT_FALSE(listen_error("WAGATE_ADMIN_LISTEN", good)) << good;
    }
    for (const char* bad : {"", ":", "8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
                            "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:000080"}) {
        EXPECT_TRUE(listen_error("WAGATE_LISTEN", bad)) << '"' << bad << '"';
    }
    EXPECT_FALSE(listen_error("WAGATE_ADMIN_LISTEN", ""));  // optional: served on the main listener
    EXPECT_TRUE(listen_error("WAGATE_ADMIN_LISTEN", ":"));
}

}  // namespace
}  // namespace wagate::app
