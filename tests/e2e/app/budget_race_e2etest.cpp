// The messaging limit is exact across instances (policy §3: "two requests racing for the last
// unit of a budget must not both win"): two real `wagate serve` processes on one database share
// one business's budget under a burst of concurrent business-initiated templates.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int kUsers = 1000;
constexpr int kLimit = 250;  // TIER_250
constexpr int kClientThreads = 16;

std::map<std::string, std::string> serve_env(unsigned short port) {
    return {{"WAGATE_DATABASE_URL", test_database_url()},
            {"WAGATE_LISTEN", "127.0.0.1:" + std::to_string(port)},
            {"WAGATE_ADMIN_TOKEN", kAdminToken},
            {"WAGATE_LOG_LEVEL", "warn"},
            {"WAGATE_AUTH_CACHE_TTL_MS", "0"},
            // No background upgrade may change the tier while the test counts.
            {"WAGATE_MAINTENANCE_INTERVAL_MS", "0"},
            {"WAGATE_RELAY", "false"}};
}

std::string user(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "1666%07d", n);
    return buf;
}

std::string template_to(const std::string& wa_id) {
    return json{
        {"messaging_product", "whatsapp"},
        {"to", "+" + wa_id},
        {"type", "template"},
        {"template",
         {{"name", "hello"},
          {"language", {{"code", "en_US"}}},
          {"components",
           json::array({{{"type", "body"},
                         {"parameters", json::array({{{"type", "text"}, {"text", "Ann"}}})}}})}}}}
        .dump();
}

class BudgetRaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        WAGATE_REQUIRE_DATABASE();
        reset_database();
        ports_[0] = free_port();
        first_ = std::make_unique<Process>(WAGATE_BINARY, std::vector<std::string>{"serve"},
                                           serve_env(ports_[0]));
        ASSERT_TRUE(wait_until_ready(ports_[0], milliseconds(15000))) << first_->output();

        // Everything is set up through the first process before the second starts, so the second
        // reads it all from the database (no per-instance cache can be stale).
        admin_ok("PUT", "/admin/v1/businesses/race",
                 R"({"messaging_limit_tier":"TIER_250","auto_upgrade":false})");
        admin_ok("PUT", "/admin/v1/phone-numbers/2001",
                 R"({"business_id":"race","waba_id":"waba_race","require_opt_in":false})");
        admin_ok(
            "PUT", "/admin/v1/templates/waba_race/hello/en_US",
            R"({"category":"MARKETING","status":"APPROVED","components":[{"type":"BODY","text":"Hello {{1}}"}]})");
        auto created =
            admin("POST", "/admin/v1/api-keys", R"({"name":"race","phone_number_ids":["2001"]})");
        ASSERT_EQ(created.status, 201) << created.body;
        key_ = json::parse(created.body)["key"];

        ports_[1] = free_port();
        second_ = std::make_unique<Process>(WAGATE_BINARY, std::vector<std::string>{"serve"},
                                            serve_env(ports_[1]));
        ASSERT_TRUE(wait_until_ready(ports_[1], milliseconds(15000))) << second_->output();
    }

    void TearDown() override {
        for (auto* p : {first_.get(), second_.get()}) {
            if (p != nullptr) {
                p->signal(SIGTERM);
                EXPECT_EQ(p->wait(milliseconds(15000)), 0) << p->output();
            }
        }
    }

    HttpResult admin(const std::string& method,
                     const std::string& path,
                     const std::string& body = {},
                     unsigned short port = 0) {
        HttpClient client(port == 0 ? ports_[0] : port);
        return client.request(method, path, body,
                              {{"Authorization", std::string("Bearer ") + kAdminToken},
                               {"Content-Type", "application/json"}});
    }
    void admin_ok(const std::string& method, const std::string& path, const std::string& body) {
        auto r = admin(method, path, body);
        ASSERT_EQ(r.status, 200) << method << " " << path << " → " << r.body;
    }
    json limits(unsigned short port) {
        auto r = admin("GET", "/admin/v1/businesses/race/limits", {}, port);
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body, nullptr, false);
    }

    /// One template to each of `users`, request i to process i % 2, from kClientThreads threads
    /// that each hold a connection to both processes and start together. Answers in the order of
    /// `users`.
    std::vector<HttpResult> send_round_robin(const std::vector<std::string>& users) {
        std::vector<HttpResult> answers(users.size());
        std::atomic<std::size_t> next{0};
        std::latch start(kClientThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kClientThreads; ++t) {
            threads.emplace_back([&] {
                HttpClient clients[2] = {HttpClient(ports_[0]), HttpClient(ports_[1])};
                start.arrive_and_wait();
                for (std::size_t i = next++; i < users.size(); i = next++) {
                    try {
                        answers[i] = clients[i % 2].post_json("/v23.0/2001/messages",
                                                              template_to(users[i]), key_);
                    } catch (const std::exception& e) {
                        answers[i].status = -1;  // shows up in the tally as a status of its own
                        answers[i].body = e.what();
                    }
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        return answers;
    }

    unsigned short ports_[2] = {0, 0};
    std::unique_ptr<Process> first_;
    std::unique_ptr<Process> second_;
    std::string key_;
};

TEST_F(BudgetRaceTest, TwoProcessesAdmitExactlyTheLimitBetweenThem) {
    std::vector<std::string> users;
    for (int i = 0; i < kUsers; ++i) {
        users.push_back(user(i));
    }
    const auto answers = send_round_robin(users);

    std::map<int, int> by_status;
    std::vector<std::string> counted;
    int accepted_by[2] = {0, 0};
    for (std::size_t i = 0; i < answers.size(); ++i) {
        const auto& r = answers[i];
        ++by_status[r.status];
        if (r.status == 200) {
            counted.push_back(users[i]);
            ++accepted_by[i % 2];
        } else if (r.status == 429) {
            EXPECT_EQ(json::parse(r.body, nullptr, false)["error"]["code"], 900100) << r.body;
            EXPECT_TRUE(r.headers.contains("retry-after")) << r.body;
        } else {
            ADD_FAILURE() << users[i] << ": " << r.status << " " << r.body;
        }
    }
    EXPECT_EQ(by_status, (std::map<int, int>{{200, kLimit}, {429, kUsers - kLimit}}));
    RecordProperty("accepted_by_first_process", accepted_by[0]);
    RecordProperty("accepted_by_second_process", accepted_by[1]);

    // Both processes read the same state.
    for (unsigned short port : ports_) {
        auto l = limits(port);
        EXPECT_EQ(l["used"], kLimit) << l.dump();
        EXPECT_EQ(l["remaining"], 0) << l.dump();
    }
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), std::to_string(kLimit));

    // The counted users again: each is already counted in the moving 24 hours, so all are admitted
    // and nothing more is consumed.
    const auto again = send_round_robin(counted);
    for (std::size_t i = 0; i < again.size(); ++i) {
        EXPECT_EQ(again[i].status, 200) << counted[i] << ": " << again[i].body;
    }
    EXPECT_EQ(limits(ports_[1])["used"], kLimit);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.messages"), std::to_string(2 * kLimit));
}

TEST_F(BudgetRaceTest, FiftyRacingForTheLastUnitAcrossTwoProcessesHaveOneWinner) {
    // 249 of 250 taken, one by one, alternating between the processes.
    std::vector<std::string> first;
    for (int i = 0; i < kLimit - 1; ++i) {
        first.push_back(user(i));
    }
    for (const auto& r : send_round_robin(first)) {
        ASSERT_EQ(r.status, 200) << r.body;
    }
    std::vector<std::string> racers;
    for (int i = 0; i < 50; ++i) {
        racers.push_back(user(5000 + i));
    }
    int won = 0;
    for (const auto& r : send_round_robin(racers)) {
        ASSERT_TRUE(r.status == 200 || r.status == 429) << r.status << " " << r.body;
        won += r.status == 200 ? 1 : 0;
    }
    EXPECT_EQ(won, 1);
    EXPECT_EQ(limits(ports_[0])["used"], kLimit);
    EXPECT_EQ(sql("SELECT count(*) FROM wagate.limit_counts"), std::to_string(kLimit));
}

}  // namespace
}  // namespace wagate::test
